//! The command line: global options, one file per command.

mod approve;
mod can_deploy;
mod check;
mod completions;
mod graph;
mod journal;
mod plan;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::config::{self, Config, Location};
use crate::effects::EffectLog;
use crate::error::{EXIT_CODES_HELP, Error, Exit, InputError};
use crate::forge::dry_run::DryRun;
use crate::forge::local::LocalForge;
use crate::forge::state::StateDir;
use crate::forge::{Forge, ForgeError, ForgeKind};
use crate::output::{Format, Out};
use crate::policy::Policy;

#[derive(Debug, Parser)]
#[command(
    name = "stagegate",
    version,
    about = "Safe release promotion for GitHub Actions: paths, approvals, calver releases, rollbacks, journals",
    after_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// Config file [default: .github/stagegate.yml, else the embedded default]
    #[arg(short = 'c', long, global = true, env = "STAGEGATE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output for people (text) or programs (one JSON document on stdout)
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub output: Format,

    /// Plan only: print what would change and change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Where tags, releases, deployments and approvals live
    /// [default: github under GitHub Actions, else local]
    #[arg(long, global = true, value_enum)]
    pub forge: Option<ForgeKind>,

    /// Local state directory (local forge, locks, audit trail)
    #[arg(long, global = true, env = "STAGEGATE_STATE_DIR", value_name = "DIR", default_value = ".stagegate")]
    pub state_dir: PathBuf,

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
    /// Record an approval or rejection (local forge: for dry runs, demos and tests)
    Approve(approve::Args),
    /// The journal pipeline: upload, versions, seed, watch, promote, status
    Journal(journal::Args),
    /// Print shell completions
    Completions(completions::Args),
}

/// What every command gets: output, config location, effects.
pub struct Ctx {
    pub out: Out,
    pub config: Location,
    pub dry_run: bool,
    pub forge_kind: ForgeKind,
    pub state: StateDir,
    pub log: EffectLog,
}

impl Ctx {
    pub fn new(cli: &Cli) -> Ctx {
        let forge_kind =
            cli.forge.unwrap_or(if crate::actions::active() { ForgeKind::Github } else { ForgeKind::Local });
        Ctx {
            out: Out::new(cli.output),
            config: cli.config.clone().map_or(Location::Default, Location::Explicit),
            dry_run: cli.dry_run,
            forge_kind,
            state: StateDir::new(&cli.state_dir),
            log: EffectLog::default(),
        }
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
        let inner: Arc<dyn Forge> = match self.forge_kind {
            ForgeKind::Local => Arc::new(LocalForge::new(self.state.clone())),
            ForgeKind::Github => return Err(ForgeError::Unavailable.into()),
        };
        Ok(if self.dry_run { Arc::new(DryRun::new(inner, self.log.clone())) } else { inner })
    }
}

/// An environment name that must exist in the config (exit 2 otherwise).
pub fn known_env<'p>(policy: &'p Policy, name: &str) -> Result<&'p config::Environment, Error> {
    policy.env(name).ok_or_else(|| {
        let mut help = "environments are the keys under `environments:` in the config".to_string();
        let names: Vec<&str> = policy.config.environments.iter().map(|e| e.name.as_str()).collect();
        if let Some(close) = names.iter().find(|n| strsim::damerau_levenshtein(n, name) <= 2) {
            help = format!("did you mean `{close}`?");
        }
        Error::Input(InputError::UnknownEnvironment { message: policy.unknown_env(name), help })
    })
}

pub async fn run(cli: Cli) -> Result<Exit, Error> {
    let ctx = Ctx::new(&cli);
    match cli.command {
        Command::Check(a) => check::run(&ctx, a),
        Command::Graph(a) => graph::run(&ctx, a),
        Command::CanDeploy(a) => can_deploy::run(&ctx, a),
        Command::Plan(a) => plan::run(&ctx, a),
        Command::Approve(a) => approve::run(&ctx, a).await,
        Command::Journal(a) => journal::run(&ctx, a).await,
        Command::Completions(a) => completions::run(a),
    }
}
