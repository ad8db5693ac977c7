//! The command line: global options, one file per command.

mod app;
mod approve;
mod audit;
mod calendar;
mod can_deploy;
mod check;
mod compare;
mod completions;
mod config_schema;
mod deploy;
mod destroy;
mod environments;
mod gate;
mod graph;
mod help;
mod history;
mod hold;
mod init;
mod journal;
mod metrics;
mod now_flag;
mod plan;
mod promote;
mod release;
mod rollback;
mod serve;
mod status;
mod team;
mod values;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::config::{self, Config, Location};
use crate::effects::{Done, EffectLog, Writes};
use crate::error::{EXIT_CODES_HELP, Error, Exit, InputError};
use crate::forge::local::LocalForge;
use crate::forge::{Forge, ForgeKind};
use crate::output::{Format, Out};
use crate::policy::Policy;
use crate::run::Runner;
use crate::run::effects::Effects;
use crate::run::hooks::Sink;
use crate::state::StateDir;

#[derive(Debug, Parser)]
#[command(
    name = "stagegate",
    // The version and the commit it was built from (build.rs).
    version = env!("STAGEGATE_VERSION"),
    about = "Safe release promotion for GitHub Actions: paths, approvals, calver releases, rollbacks, journals",
    after_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// Config file [default: .github/stagegate.yml, else the embedded default]
    #[arg(
        help_heading = "Global options",
        short = 'c',
        long,
        global = true,
        env = "STAGEGATE_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Output for people (text) or programs (one JSON document on stdout)
    #[arg(help_heading = "Global options", long, global = true, value_enum, default_value = "text")]
    pub output: Format,

    /// Plan only: print what would change and change nothing
    #[arg(help_heading = "Global options", long, global = true)]
    pub dry_run: bool,

    /// Where tags, releases, deployments and approvals live
    /// [default: github under GitHub Actions, else local]
    #[arg(help_heading = "Global options", long, global = true, value_enum)]
    pub forge: Option<ForgeKind>,

    /// GitHub token (never printed; masked under Actions)
    #[arg(help_heading = "Global options", long, global = true, env = "GITHUB_TOKEN", hide_env_values = true, value_parser = values::secret, value_name = "TOKEN")]
    pub github_token: Option<SecretString>,

    /// Repository for the GitHub forge [default: $GITHUB_REPOSITORY]
    #[arg(help_heading = "Global options", long, global = true, value_name = "OWNER/REPO")]
    pub repo: Option<String>,

    /// Local state directory (local forge, locks, audit trail)
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        env = "STAGEGATE_STATE_DIR",
        value_name = "DIR",
        default_value = ".stagegate"
    )]
    pub state_dir: PathBuf,

    /// Ask as if it were this time (RFC 3339); shown and taken only by the
    /// commands that read (see `now_flag`); `STAGEGATE_NOW` sets it for every command
    #[arg(help_heading = "Global options", long, global = true, env = "STAGEGATE_NOW", hide = true, value_name = "TIME", value_parser = values::instant)]
    pub now: Option<DateTime<Utc>>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and validate the config; report every problem with file, line and column
    Check(check::Args),
    /// Draw the environments and promotion paths
    Graph(graph::Args),
    /// Does this git ref satisfy an environment's branch rules?
    CanDeploy(can_deploy::Args),
    /// Validate a promotion and print the ordered steps it would run
    Plan(plan::Args),
    /// Run a promotion: pre-flight, gate, backup, deploy, verify, record; roll back on failure
    Promote(promote::Args),
    /// Deploy a ref directly (auto DEV-INT on push; manual FUTURE/ACTIVE)
    Deploy(deploy::Args),
    /// Redeploy the previous good release of an environment (or the one given)
    Rollback(rollback::Args),
    /// Tear down a branch's instance of an ephemeral environment
    Destroy(destroy::Args),
    /// Destroy the instances of an ephemeral environment with no recent deployment
    Prune(destroy::PruneArgs),
    /// What is deployed where: release, sha, when, by whom, state, health
    Status(status::Args),
    /// Who deployed what, when, from where, what became of it, who approved it
    History(history::Args),
    /// Differences between two environments and a readiness score
    Compare(compare::Args),
    /// Check that the approvals of this run satisfy an environment's policy
    Gate(gate::Args),
    /// When an environment is closed (freeze and deploy windows) and next open
    Calendar(calendar::Args),
    /// Stop the line: hold an environment (set), end the hold (clear), list holds
    #[command(subcommand)]
    Hold(hold::Command),
    /// Record an approval or rejection (local forge: for dry runs, demos and tests)
    Approve(approve::Args),
    /// Calver/semver tags and the GitHub release lifecycle
    #[command(subcommand)]
    Release(release::Command),
    /// Compare or apply GitHub environment protection from the config
    #[command(subcommand)]
    Environments(environments::Command),
    /// Write a starter config and the workflow templates; --check reports drift
    Init(init::Args),
    /// Show or set a team's members (local forge: what `@org/team` reviewers resolve to)
    Team(team::Args),
    /// The journal pipeline: upload, versions, seed, watch, promote, status
    Journal(journal::Args),
    /// Evidence for auditors: `audit export` of promotions, deploys, rollbacks and journal operations
    #[command(subcommand)]
    Audit(audit::Command),
    /// DORA metrics per environment from the deployment records
    Metrics(metrics::Args),
    /// Print shell completions
    Completions(completions::Args),
    /// Run the GitHub App that decides deployment protection rules (webhooks)
    Serve(serve::Args),
    /// Set up the GitHub App: `app manifest` prints its manifest
    #[command(subcommand)]
    App(app::Command),
    /// The config's JSON Schema: `config schema` prints it
    #[command(subcommand, hide = true)]
    Config(config_schema::Command),
}

/// What every command gets: output, config location, effects.
pub struct Ctx {
    pub out: Out,
    pub config: Location,
    pub forge_kind: ForgeKind,
    pub state: StateDir,
    pub log: EffectLog,
    /// `--dry-run` or not, decided here once: every write of the command
    /// goes through it.
    writes: Writes,
    token: Option<SecretString>,
    repo: Option<String>,
    pub clock: crate::clock::Clock,
    /// Built on first use (commands without a forge never build one).
    effects: std::sync::OnceLock<Effects>,
}

impl Ctx {
    pub fn new(cli: &Cli) -> Ctx {
        if let Some(token) = &cli.github_token {
            crate::run::child_env::handed(token);
        }
        let clock = crate::clock::Clock::new(cli.now);
        crate::clock::install(clock);
        let forge_kind =
            cli.forge.unwrap_or(if crate::actions::active() { ForgeKind::Github } else { ForgeKind::Local });
        let log = EffectLog::default();
        Ctx {
            out: Out::new(cli.output),
            config: cli.config.clone().map_or(Location::Default, Location::Explicit),
            forge_kind,
            state: StateDir::new(&cli.state_dir),
            writes: Writes::new(cli.dry_run, &log),
            log,
            token: cli.github_token.clone(),
            repo: cli.repo.clone(),
            clock,
            effects: std::sync::OnceLock::new(),
        }
    }

    /// The time: `--now`/`STAGEGATE_NOW` when given, else the system clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Whether this command's writes happen (`--dry-run` describes them in the log).
    pub fn writes(&self) -> Writes {
        self.writes.clone()
    }

    /// What this command's writes came to so far, as the seam recorded them:
    /// what an answer renders its "would …" lines and `dry_run` from.
    pub fn done(&self) -> Done {
        self.writes.done()
    }

    /// The command's effects: the forge `--forge` names (wrapped for
    /// `--dry-run`), its writes, hooks, state dir, clock and sink. Built once.
    pub fn effects(&self) -> Result<&Effects, Error> {
        if let Some(fx) = self.effects.get() {
            return Ok(fx);
        }
        let forge: Arc<dyn Forge> = match self.forge_kind {
            ForgeKind::Local => Arc::new(LocalForge::new(self.state.clone())),
            ForgeKind::Github => {
                let ctx = self.github_context()?;
                Arc::new(crate::github::GitHubForge::new(ctx, self.token.clone())?)
            }
        };
        let sink = Sink::beside(self.out);
        let fx = Effects::new(forge, &self.writes, self.state.clone(), self.clock, sink);
        Ok(self.effects.get_or_init(|| fx))
    }

    /// The GitHub repository and API this command works on.
    pub fn github_context(&self) -> Result<crate::github::Context, Error> {
        Ok(crate::github::Context::from_env(self.repo.as_deref())?)
    }

    /// A runner for deploy, promote and rollback.
    pub fn runner<'c>(&self, cfg: &'c Config) -> Result<Runner<'c>, Error> {
        // Hooks write under it, locks and the audit trail live in it: a link
        // there is refused before anything runs.
        crate::run::audit::check(&self.state)?;
        Ok(Runner::new(cfg, self.effects()?.clone(), self.out))
    }

    /// Reads and validates the config, whatever its diagnostics.
    pub fn load(&self) -> Result<config::Loaded, Error> {
        let loaded = config::load(&self.config).map_err(|source| Error::ConfigRead {
            path: match &self.config {
                Location::Explicit(p) => p.display().to_string(),
                Location::Default => config::DEFAULT_PATH.into(),
            },
            source,
        })?;
        if matches!(self.config, Location::Default) && config::default_is_embedded() {
            tracing::info!("no {} here: using the embedded default config", config::DEFAULT_PATH);
        }
        Ok(loaded)
    }

    /// Loads the config; on errors prints every diagnostic and fails with exit 2.
    pub fn load_config(&self) -> Result<Config, Error> {
        let loaded = self.load()?;
        match loaded.config {
            Some(c) => Ok(c),
            None => {
                check::print_diagnostics(&loaded, true);
                Err(Error::ConfigInvalid { file: loaded.source.name.clone(), errors: loaded.errors() })
            }
        }
    }

    /// The forge, wrapped for `--dry-run`.
    pub fn forge(&self) -> Result<Arc<dyn Forge>, Error> {
        Ok(self.effects()?.forge.clone())
    }
}

/// Whether the command line asks for `--output json`, read from the raw
/// arguments: when they do not parse, the answer must still be JSON.
fn wants_json(args: &[String]) -> bool {
    args.iter()
        .enumerate()
        .any(|(i, a)| a == "--output=json" || (a == "--output" && args.get(i + 1).is_some_and(|v| v == "json")))
}

/// Reports a command line clap could not parse: with `--output json`, one
/// JSON document on stdout (`stagegate::input::arguments`, exit 2); the usage
/// message on stderr either way. `--help` and `--version` print as usual.
/// Parses the process's arguments with the full help (examples and exit
/// codes under every command).
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// [`parse`] over the given arguments (the first is the program name).
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let mut cmd = help::command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    now_flag::check(&mut cmd, &matches)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

pub use completions::command as completion_command;
pub use help::EPILOGUES;

pub fn argument_error(e: clap::Error) -> Exit {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // Help and version on stdout, through the one writer; in colour where
        // stdout is coloured (the writer keeps colour only there).
        let styled = e.render();
        let text = if crate::output::Out::new(crate::output::Format::Text).color {
            styled.ansi().to_string()
        } else {
            styled.to_string()
        };
        crate::console::answer(crate::console::Stream::Out, &text);
        return Exit::Success;
    }
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let rendered = e.render().to_string();
    if wants_json(&args) {
        let message = rendered.lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
        let doc = serde_json::json!({
            "error": {
                "code": "stagegate::input::arguments",
                "message": crate::github::redact::redact(&message),
                "help": "run `stagegate --help`, or the command with --help, for its flags",
                "exit": Exit::Invalid as u8,
            }
        });
        crate::console::json(crate::console::Stream::Out, &serde_json::to_string_pretty(&doc).expect("serializes"));
    }
    crate::console::print(crate::console::Stream::Err, &rendered);
    Exit::Invalid
}

/// An environment a run or a read may name: one the config declares, or an
/// instance of an ephemeral template (`feature/login`). Exit 2 otherwise.
pub fn resolve_env<'p>(policy: &'p Policy, name: &'p str) -> Result<config::Resolved<'p>, Error> {
    crate::error::check_text("environment", name)?;
    match policy.config.resolve(name).map_err(InputError::from)? {
        config::Resolved::Approval { .. } => known_env(policy, name).map(config::Resolved::Declared),
        r => Ok(r),
    }
}

/// An environment name that must exist in the config (exit 2 otherwise).
pub fn known_env<'p>(policy: &'p Policy, name: &str) -> Result<&'p config::Environment, Error> {
    crate::error::check_text("environment", name)?;
    policy.env(name).ok_or_else(|| {
        let names: Vec<&str> = policy.config.environments.iter().map(|e| e.name.as_str()).collect();
        let help = format!("environments are the keys under `environments:` in the config: {}", names.join(", "));
        Error::Input(InputError::UnknownEnvironment { message: policy.unknown_env(name), help })
    })
}

pub async fn run(cli: Cli) -> Result<Exit, Error> {
    let ctx = Ctx::new(&cli);
    match cli.command {
        Command::Check(a) => check::run(&ctx, a),
        Command::Graph(a) => graph::run(&ctx, a),
        Command::CanDeploy(a) => can_deploy::run(&ctx, a),
        Command::Plan(a) => plan::run(&ctx, a).await,
        Command::Promote(a) => promote::run(&ctx, a).await,
        Command::Deploy(a) => deploy::run(&ctx, a).await,
        Command::Rollback(a) => rollback::run(&ctx, a).await,
        Command::Destroy(a) => destroy::run(&ctx, a).await,
        Command::Prune(a) => destroy::prune(&ctx, a).await,
        Command::Status(a) => status::run(&ctx, a).await,
        Command::History(a) => history::run(&ctx, a).await,
        Command::Compare(a) => compare::run(&ctx, a).await,
        Command::Gate(a) => gate::run(&ctx, a).await,
        Command::Calendar(a) => calendar::run(&ctx, a),
        Command::Hold(c) => hold::run(&ctx, c).await,
        Command::Approve(a) => approve::run(&ctx, a).await,
        Command::Release(c) => release::run(&ctx, c).await,
        Command::Environments(c) => environments::run(&ctx, c).await,
        Command::Init(a) => init::run(&ctx, a),
        Command::Team(a) => team::run(&ctx, a).await,
        Command::Journal(a) => journal::run(&ctx, a).await,
        Command::Audit(c) => audit::run(&ctx, c).await,
        Command::Metrics(a) => metrics::run(&ctx, a).await,
        Command::Completions(a) => completions::run(a),
        Command::Serve(a) => serve::run(&ctx, a).await,
        Command::App(c) => app::run(&ctx, c),
        Command::Config(c) => config_schema::run(c),
    }
}

/// Who runs a command, and in which workflow run.
#[derive(Debug, clap::Args)]
pub struct Who {
    /// Workflow run whose approvals count
    #[arg(long, env = "GITHUB_RUN_ID", default_value = "local")]
    pub run_id: String,
    /// Who runs this [default: $GITHUB_ACTOR, else $USER]
    #[arg(long, env = "GITHUB_ACTOR")]
    pub actor: Option<String>,
}

impl Who {
    pub fn actor(&self) -> Result<String, Error> {
        let actor = self
            .actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "unknown".into());
        crate::run::check_hook_safe("actor", &actor)?;
        crate::run::check_hook_safe("run id", &self.run_id)?;
        Ok(actor)
    }

    /// The actor and the triggering actor: neither may approve their own run.
    pub fn actors(&self) -> Result<Vec<String>, Error> {
        let mut v = vec![self.actor()?];
        if let Ok(t) = std::env::var("GITHUB_TRIGGERING_ACTOR")
            && !t.is_empty()
        {
            v.push(t);
        }
        Ok(v)
    }
}

/// `--override-freeze --reason TEXT`.
#[derive(Debug, clap::Args)]
pub struct FreezeOverride {
    /// Run inside a freeze window (only where `freeze_override: allowed`)
    #[arg(long)]
    pub override_freeze: bool,
    /// Why the freeze is overridden (recorded in the audit trail; needs --override-freeze)
    #[arg(long, value_name = "TEXT", requires = "override_freeze")]
    pub reason: Option<String>,
}

impl FreezeOverride {
    pub fn reason(&self) -> Result<Option<String>, Error> {
        match (&self.override_freeze, &self.reason) {
            (false, _) => Ok(None),
            (true, Some(r)) if !r.trim().is_empty() => {
                crate::error::check_text("--reason", r)?;
                Ok(Some(r.trim().to_string()))
            }
            (true, _) => Err(crate::gates::GateError::OverrideWithoutReason.into()),
        }
    }
}
