//! `stagegate init`: write a starter config and the workflow templates into a
//! repository; `init --check` reports drift between the config and the
//! workflows. Files that differ from what init renders are never overwritten
//! without `--force`, and a refusal writes nothing at all.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Ctx;
use crate::config::{self, Location};
use crate::effects::Done as Seam;
use crate::error::{Error, Exit};
use crate::init;
use crate::output::{Annotation, Format, Level, Out, Render};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repository root to write into
    #[arg(long, default_value = ".", value_name = "DIR")]
    dir: PathBuf,
    /// Overwrite files that differ from what init renders
    #[arg(long)]
    force: bool,
    /// Only compare: exit 3 when a workflow is missing or differs from the config
    #[arg(long, conflicts_with = "force")]
    check: bool,
    /// The stagegate action, pinned to a commit: OWNER/REPO@SHA [default: this build's]
    #[arg(long, value_name = "OWNER/REPO@SHA")]
    action: Option<String>,
    /// Only these workflows (file names, with or without `.yml`)
    #[arg(long, value_name = "NAME", num_args = 1.., conflicts_with = "skip")]
    only: Vec<String>,
    /// Leave these workflows alone, e.g. a `release.yml` of your own
    #[arg(long, value_name = "NAME", num_args = 1..)]
    skip: Vec<String>,
}

/// `release` and `release.yml` name the same workflow.
fn workflow_name(s: &str) -> &str {
    s.strip_suffix(".yml").unwrap_or(s)
}

/// Keeps the workflows `--only`/`--skip` select; a name that is not one of
/// the workflows this config implies is an input error, with the list.
fn select(rendered: Vec<init::File>, only: &[String], skip: &[String]) -> Result<Vec<init::File>, Error> {
    let names: Vec<String> =
        rendered.iter().map(|f| workflow_name(f.path.rsplit('/').next().unwrap_or("")).to_string()).collect();
    for n in only.iter().chain(skip) {
        if !names.iter().any(|x| x == workflow_name(n)) {
            let guess = crate::config::names::closest(workflow_name(n), names.iter().map(String::as_str));
            return Err(Error::invalid(
                format!(
                    "`{}` is not a workflow init writes for this config{}",
                    n.escape_debug(),
                    guess.map(|g| format!(" (did you mean `{g}`?)")).unwrap_or_default()
                ),
                format!("choose from: {}", names.join(", ")),
            ));
        }
    }
    let keep = |name: &str| {
        (only.is_empty() || only.iter().any(|n| workflow_name(n) == name))
            && !skip.iter().any(|n| workflow_name(n) == name)
    };
    Ok(rendered.into_iter().zip(names).filter(|(_, n)| keep(n)).map(|(f, _)| f).collect())
}

/// The stagegate action the existing workflows are pinned to, so that
/// `init --check` and `init --force` without `--action` keep the pin a user
/// chose (or Renovate/Dependabot bumped) instead of calling it drift. Only a
/// well-formed `OWNER/REPO@SHA`, with at most a version comment, is taken.
fn existing_pin(dir: &Path, files: &[PathBuf]) -> Option<String> {
    let third_party = [init::CHECKOUT, init::AWS_CREDENTIALS].map(|a| a.split('@').next().unwrap_or(a));
    for path in files {
        let Ok(Some(text)) = existing(dir, path) else { continue };
        for line in text.lines() {
            let Some(value) = line.trim_start().trim_start_matches("- ").strip_prefix("uses: ") else { continue };
            let (reference, comment) = match value.split_once(" # ") {
                Some((r, c)) => (r, Some(c)),
                None => (value, None),
            };
            if third_party.iter().any(|t| reference.starts_with(&format!("{t}@"))) || check_action(reference).is_err() {
                continue;
            }
            let version_like = |c: &str| {
                !c.is_empty() && c.len() <= 40 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b".+-_".contains(&b))
            };
            return Some(match comment {
                Some(c) if version_like(c) => format!("{reference} # {c}"),
                _ => reference.to_string(),
            });
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum State {
    Missing,
    Same,
    Differs,
}

fn state(old: Option<&str>, text: &str) -> State {
    match old {
        Some(old) if old == text => State::Same,
        Some(_) => State::Differs,
        None => State::Missing,
    }
}

/// What is at `path` (in the repository at `dir`) now: its text, `None`
/// when it is absent. The repository controls these paths, so a symbolic
/// link, FIFO or other special file there (or on the way) is refused, never
/// followed or waited on; so is a file too large to be a workflow.
fn existing(dir: &Path, path: &Path) -> Result<Option<String>, Error> {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    match stagegate_core::statefs::read(dir, rel) {
        Ok(bytes) => Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned())),
        Err((p, e)) => Err(Error::invalid(
            format!("cannot read {}: {e}", p.display()),
            "init reads and writes regular files only: remove what is there, then run init again",
        )),
    }
}

/// What writing `text` to `path` would change, as a unified diff (`git diff`'s
/// form; a missing file is all additions), coloured like git's on a terminal.
/// Files are named relative to `dir` (`--dir`), as in the repository.
fn diff(out: &Out, dir: &Path, path: &Path, old: Option<&str>, text: &str) -> String {
    let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
    let before = if old.is_some() { format!("a/{name}") } else { "/dev/null".to_string() };
    let d = similar::TextDiff::from_lines(old.unwrap_or_default(), text);
    let unified = d.unified_diff().context_radius(3).header(&before, &format!("b/{name}")).to_string();
    unified
        .lines()
        .map(|l| match l.as_bytes().first() {
            Some(b'+') if !l.starts_with("+++") => out.good(l),
            Some(b'-') if !l.starts_with("---") => out.bad(l),
            Some(b'@') => out.dim(l),
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect()
}

/// Writes `text` to `path` (in the repository at `dir`) whole or not at all;
/// every directory on the way must be a real one, not a link elsewhere.
fn write(dir: &Path, path: &Path, text: &str) -> Result<(), Error> {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    stagegate_core::statefs::write_atomic(dir, rel, text.as_bytes(), stagegate_core::statefs::Replace::Any).map_err(
        |(p, e)| {
            Error::invalid(
                format!("cannot write {}: {e}", p.display()),
                "check that the directory is writable and that no link or special file is in the way",
            )
        },
    )?;
    Ok(())
}

/// `OWNER/REPO@<40 hex>`: the only form `--action` accepts. The value is
/// written into every workflow's `uses:`, so anything else (a tag that can
/// move, a newline that adds YAML, a `#` that comments the pin away) is refused.
fn check_action(action: &str) -> Result<(), Error> {
    let owner_ok = |o: &str| {
        (1..=39).contains(&o.len()) && !o.starts_with('-') && o.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let repo_ok = |r: &str| {
        (1..=100).contains(&r.len())
            && r != "."
            && r != ".."
            && r.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let ok = action.split_once('@').is_some_and(|(path, sha)| {
        sha.len() == 40
            && sha.bytes().all(|b| b.is_ascii_hexdigit())
            && path.split_once('/').is_some_and(|(o, r)| owner_ok(o) && repo_ok(r))
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("`{}` is not OWNER/REPO@SHA", action.escape_debug()),
            "pin the action to a full 40-hex-digit commit, e.g. --action acme/stagegate@0123456789abcdef0123456789abcdef01234567",
        ))
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    if let Some(a) = &args.action {
        check_action(a)?;
    }
    let (config_rel, loaded, starter) = load_config(ctx, &args)?;
    let Some(cfg) = loaded.config.as_ref() else {
        super::check::print_diagnostics(&loaded, true);
        return Err(Error::ConfigInvalid { file: loaded.source.name.clone(), errors: loaded.errors() });
    };
    let action = pin(cfg, &config_rel, &args);
    let mut files: Vec<File> =
        starter.map(|path| (path, init::starter(&action), "starter config")).into_iter().collect();
    for f in select(init::render(cfg, &config_rel, &action), &args.only, &args.skip)? {
        files.push((args.dir.join(&f.path), f.text, "workflow"));
    }
    let targets = Targets {
        files: files
            .into_iter()
            .map(|(path, text, kind)| {
                let old = existing(&args.dir, &path)?;
                Ok(Target { state: state(old.as_deref(), &text), old, path, text, kind })
            })
            .collect::<Result<_, Error>>()?,
        dir: args.dir.clone(),
        unpinned: (!init::is_pinned(&action)).then_some(action),
    };
    if args.check {
        let drift = targets.files.iter().any(|t| t.state != State::Same);
        ctx.out.print(&Checked { drift, files: targets.report(), targets: &targets });
        return Ok(if drift { Exit::Refused } else { Exit::Success });
    }
    let differing: Vec<&Target> = targets.files.iter().filter(|t| t.state == State::Differs).collect();
    if !differing.is_empty() && !args.force {
        let refused = differing.iter().map(|t| t.path.display().to_string()).collect();
        ctx.out.print(&Refused {
            written: false,
            refused,
            files: targets.report(),
            targets: &targets,
            seam: ctx.done(),
        });
        let o = &ctx.out;
        for t in &differing {
            let line = format!("{} {} has changes init would overwrite", o.bad("✗"), t.path.display());
            crate::console::print(crate::console::Stream::Err, &line);
        }
        crate::console::print(
            crate::console::Stream::Err,
            "nothing was written; review the changes, then run `stagegate init --force` to replace them",
        );
        return Ok(Exit::Refused);
    }
    let done = write_all(ctx, &targets)?;
    let seam = ctx.done();
    ctx.out.print(&Written { written: !seam.is_described(), files: targets.report(), seam, done, targets: &targets });
    Ok(Exit::Success)
}

/// A file to write: where, its text, and what kind of file it is.
type File = (PathBuf, String, &'static str);

/// The config's name as the workflows cite it, the config (`-c FILE`, else
/// the repository's, else the starter one), and where the starter config
/// goes when the repository has none.
fn load_config(ctx: &Ctx, args: &Args) -> Result<(String, config::Loaded, Option<PathBuf>), Error> {
    let (config_rel, config_path) = match &ctx.config {
        Location::Explicit(p) => (p.display().to_string(), p.clone()),
        Location::Default => (config::DEFAULT_PATH.to_string(), args.dir.join(config::DEFAULT_PATH)),
    };
    if matches!(ctx.config, Location::Default) && !config_path.exists() {
        let loaded = config::parse_bytes(&config_rel, config::STARTER.as_bytes());
        return Ok((config_rel, loaded, Some(config_path)));
    }
    let loaded = config::load(&Location::Explicit(config_path.clone()))
        .map_err(|source| Error::ConfigRead { path: config_path.display().to_string(), source })?;
    Ok((config_rel, loaded, None))
}

/// The pin: `--action`, else the one the existing workflows use, else this
/// build's; a commit pin gets this version as its comment.
fn pin(cfg: &config::Config, config_rel: &str, args: &Args) -> String {
    let paths: Vec<PathBuf> =
        init::render(cfg, config_rel, &init::default_action()).into_iter().map(|f| args.dir.join(&f.path)).collect();
    let action = match &args.action {
        Some(a) => a.clone(),
        None => existing_pin(&args.dir, &paths).unwrap_or_else(init::default_action),
    };
    if action.contains('#') || !init::is_pinned(&action) {
        action
    } else {
        format!("{action} # v{}", env!("CARGO_PKG_VERSION"))
    }
}

/// Writes every file that is missing or differs (with `--dry-run`, logs it
/// instead), and says what became of each file.
fn write_all(ctx: &Ctx, targets: &Targets) -> Result<Vec<Done>, Error> {
    let mut done = Vec::new();
    for t in &targets.files {
        done.push(match t.state {
            State::Same => Done::UpToDate,
            _ if ctx.writes().is_dry_run() => {
                ctx.log.push(format!("write {} ({})", t.path.display(), t.kind));
                Done::Planned
            }
            State::Missing => {
                write(&targets.dir, &t.path, &t.text)?;
                Done::Wrote
            }
            State::Differs => {
                write(&targets.dir, &t.path, &t.text)?;
                Done::Replaced
            }
        });
    }
    Ok(done)
}

/// A file init manages: where it goes, what init renders for it, and how
/// that compares with what is there.
struct Target {
    path: PathBuf,
    /// What is there now (`None`: nothing).
    old: Option<String>,
    text: String,
    kind: &'static str,
    state: State,
}

/// The files of this run, the repository root they are named from, and the
/// action pin when it is not a commit.
struct Targets {
    files: Vec<Target>,
    dir: PathBuf,
    unpinned: Option<String>,
}

/// One file in the JSON document; `diff` (uncoloured) unless it is up to date.
#[derive(Serialize)]
struct FileReport {
    path: String,
    kind: &'static str,
    state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<String>,
}

/// What `write_all` did with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    UpToDate,
    Planned,
    Wrote,
    Replaced,
}

impl Targets {
    fn report(&self) -> Vec<FileReport> {
        let plain = Out { format: Format::Text, color: false };
        self.files
            .iter()
            .map(|t| FileReport {
                path: t.path.display().to_string(),
                kind: t.kind,
                state: t.state,
                diff: (t.state != State::Same).then(|| diff(&plain, &self.dir, &t.path, t.old.as_deref(), &t.text)),
            })
            .collect()
    }

    /// The diffs of the files `which` picks, coloured through `o`.
    fn diffs(&self, o: &Out, which: impl Fn(&Target) -> bool) -> String {
        self.files.iter().filter(|t| which(t)).map(|t| diff(o, &self.dir, &t.path, t.old.as_deref(), &t.text)).collect()
    }

    fn annotations(&self) -> Vec<Annotation> {
        self.unpinned
            .iter()
            .map(|a| Annotation {
                level: Level::Warning,
                title: "stagegate init: the action is not pinned".into(),
                message: format!(
                    "`{a}` is not pinned to a commit; pass --action OWNER/REPO@SHA so the workflows cannot change under you"
                ),
            })
            .collect()
    }
}

/// `init --check`: whether any workflow is missing or differs, and how.
#[derive(Serialize)]
struct Checked<'a> {
    drift: bool,
    files: Vec<FileReport>,
    #[serde(skip)]
    targets: &'a Targets,
}

impl Render for Checked<'_> {
    fn text(&self, o: &Out) -> String {
        let mut s = String::new();
        for t in &self.targets.files {
            match t.state {
                State::Same => continue,
                State::Missing => s.push_str(&format!("{} {} is missing\n", o.bad("✗"), t.path.display())),
                State::Differs => {
                    s.push_str(&format!("{} {} differs from what the config implies\n", o.bad("✗"), t.path.display()))
                }
            }
            s.push_str(&diff(o, &self.targets.dir, &t.path, t.old.as_deref(), &t.text));
        }
        if self.drift {
            s.push_str("`stagegate init` writes missing files; `--force` replaces the ones that differ\n");
        } else {
            s.push_str(&format!("{} {} files match the config\n", o.good("✓"), self.targets.files.len()));
        }
        s
    }

    fn annotations(&self) -> Vec<Annotation> {
        self.targets.annotations()
    }
}

/// Files differ and `--force` was not given: nothing is written.
#[derive(Serialize)]
struct Refused<'a> {
    written: bool,
    refused: Vec<String>,
    files: Vec<FileReport>,
    #[serde(skip)]
    targets: &'a Targets,
    /// What the seam did: nothing written either way, but a dry run shows the changes.
    #[serde(skip)]
    seam: Seam,
}

impl Render for Refused<'_> {
    /// With `--dry-run`, the changes init would have made.
    fn text(&self, o: &Out) -> String {
        if !self.seam.is_described() {
            return String::new();
        }
        self.targets.diffs(o, |t| t.state == State::Differs)
    }

    fn annotations(&self) -> Vec<Annotation> {
        self.targets.annotations()
    }
}

/// The files written (or, with `--dry-run`, that would be).
#[derive(Serialize)]
struct Written<'a> {
    written: bool,
    files: Vec<FileReport>,
    /// The writes a dry run described (in JSON: `effects`).
    #[serde(rename = "effects", serialize_with = "described")]
    seam: Seam,
    #[serde(skip)]
    done: Vec<Done>,
    #[serde(skip)]
    targets: &'a Targets,
}

fn described<S: serde::Serializer>(seam: &Seam, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(seam.effects(), s)
}

impl Render for Written<'_> {
    fn text(&self, o: &Out) -> String {
        let mut s = String::new();
        for (t, done) in self.targets.files.iter().zip(&self.done) {
            let verb = match done {
                Done::UpToDate => {
                    s.push_str(&format!("= {} is up to date\n", t.path.display()));
                    continue;
                }
                Done::Planned => continue,
                Done::Wrote => "wrote",
                Done::Replaced => "replaced",
            };
            s.push_str(&format!("{} {verb} {} ({})\n", o.good("✓"), t.path.display(), t.kind));
        }
        if let Some(would) = self.seam.would() {
            s.push_str(&would);
            s.push_str(&self.targets.diffs(o, |t| t.state != State::Same));
        }
        s
    }

    fn annotations(&self) -> Vec<Annotation> {
        self.targets.annotations()
    }
}
