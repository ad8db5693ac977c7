//! `stagegate init`: write a starter config and the workflow templates into a
//! repository; `init --check` reports drift between the config and the
//! workflows. Files that differ from what init renders are never overwritten
//! without `--force`, and a refusal writes nothing at all.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::Ctx;
use crate::config::{self, Location};
use crate::error::{Error, Exit};
use crate::init;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repository root to write into
    #[arg(long, default_value = ".", value_name = "DIR")]
    dir: PathBuf,
    /// Overwrite files that differ from what init renders
    #[arg(long)]
    force: bool,
    /// Only compare: exit 3 when a workflow is missing or differs from the config
    #[arg(long)]
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
fn existing_pin(files: &[(PathBuf, String)]) -> Option<String> {
    let third_party = [init::CHECKOUT, init::AWS_CREDENTIALS].map(|a| a.split('@').next().unwrap_or(a));
    for (path, _) in files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
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

fn state(path: &Path, text: &str) -> State {
    match std::fs::read(path) {
        Ok(bytes) if bytes == text.as_bytes() => State::Same,
        Ok(_) => State::Differs,
        Err(_) => State::Missing,
    }
}

/// What writing `text` to `path` would change, as a unified diff (`git diff`'s
/// form; a missing file is all additions), coloured like git's on a terminal.
/// Files are named relative to `dir` (`--dir`), as in the repository.
fn diff(out: &crate::output::Out, dir: &Path, path: &Path, text: &str) -> String {
    let old = std::fs::read_to_string(path).ok();
    let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
    let before = if old.is_some() { format!("a/{name}") } else { "/dev/null".to_string() };
    let old = old.unwrap_or_default();
    let d = similar::TextDiff::from_lines(old.as_str(), text);
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

fn write(path: &Path, text: &str) -> Result<(), Error> {
    let io = |e: std::io::Error| {
        Error::invalid(format!("cannot write {}: {e}", path.display()), "check that the directory is writable")
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
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
    // The config: -c FILE, else the repository's, else the starter one (written too).
    let (config_rel, config_path, mut files) = match &ctx.config {
        Location::Explicit(p) => (p.display().to_string(), p.clone(), Vec::new()),
        Location::Default => {
            let p = args.dir.join(config::DEFAULT_PATH);
            let starter = (!p.exists()).then(|| (p.clone(), config::STARTER.to_string(), "starter config"));
            (config::DEFAULT_PATH.to_string(), p, starter.into_iter().collect())
        }
    };
    let loaded = if files.is_empty() {
        config::load(&Location::Explicit(config_path.clone()))
            .map_err(|source| Error::ConfigRead { path: config_path.display().to_string(), source })?
    } else {
        config::parse_bytes(&config_rel, config::STARTER.as_bytes())
    };
    let Some(cfg) = loaded.config.as_ref() else {
        super::check::print_diagnostics(&loaded, true);
        return Err(Error::ConfigInvalid { file: loaded.source.name.clone(), errors: loaded.errors() });
    };
    // The pin: --action, else the one the existing workflows use, else this build's.
    let paths: Vec<(PathBuf, String)> = init::render(cfg, &config_rel, &init::default_action())
        .into_iter()
        .map(|f| (args.dir.join(&f.path), f.text))
        .collect();
    let action = match &args.action {
        Some(a) => a.clone(),
        None => existing_pin(&paths).unwrap_or_else(init::default_action),
    };
    let action = if action.contains('#') || !init::is_pinned(&action) {
        action
    } else {
        format!("{action} # v{}", env!("CARGO_PKG_VERSION"))
    };
    if !init::is_pinned(&action) {
        eprintln!(
            "{} `{action}` is not pinned to a commit; pass --action OWNER/REPO@SHA so the workflows cannot change under you",
            ctx.out.warn("warning:")
        );
    }
    for f in select(init::render(cfg, &config_rel, &action), &args.only, &args.skip)? {
        files.push((args.dir.join(&f.path), f.text, "workflow"));
    }

    let states: Vec<(PathBuf, String, &str, State)> =
        files.into_iter().map(|(p, text, kind)| (p.clone(), text.clone(), kind, state(&p, &text))).collect();
    let differing: Vec<&PathBuf> = states.iter().filter(|s| s.3 == State::Differs).map(|s| &s.0).collect();
    let drift = states.iter().any(|s| s.3 != State::Same);
    let plain = crate::output::Out { color: false, ..ctx.out };
    let report: Vec<_> = states
        .iter()
        .map(|(p, text, kind, st)| {
            let mut f = json!({"path": p.display().to_string(), "kind": kind, "state": st});
            if *st != State::Same {
                f["diff"] = json!(diff(&plain, &args.dir, p, text));
            }
            f
        })
        .collect();

    if args.check {
        if ctx.out.json() {
            ctx.out.emit(&json!({"drift": drift, "files": report}));
        } else {
            for (p, text, _, st) in &states {
                match st {
                    State::Same => continue,
                    State::Missing => println!("{} {} is missing", ctx.out.bad("✗"), p.display()),
                    State::Differs => {
                        println!("{} {} differs from what the config implies", ctx.out.bad("✗"), p.display())
                    }
                }
                print!("{}", diff(&ctx.out, &args.dir, p, text));
            }
            if drift {
                println!("`stagegate init` writes missing files; `--force` replaces the ones that differ");
            } else {
                println!("{} {} files match the config", ctx.out.good("✓"), states.len());
            }
        }
        return Ok(if drift { Exit::Refused } else { Exit::Success });
    }

    if !differing.is_empty() && !args.force {
        if ctx.out.json() {
            ctx.out.emit(&json!({"written": false, "refused": differing.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(), "files": report}));
        }
        for (p, text, _, _) in states.iter().filter(|s| s.3 == State::Differs) {
            eprintln!("{} {} has changes init would overwrite", ctx.out.bad("✗"), p.display());
            if ctx.dry_run && !ctx.out.json() {
                print!("{}", diff(&ctx.out, &args.dir, p, text));
            }
        }
        eprintln!("nothing was written; review the changes, then run `stagegate init --force` to replace them");
        return Ok(Exit::Refused);
    }
    for (p, text, kind, st) in &states {
        if *st == State::Same {
            if !ctx.out.json() {
                println!("= {} is up to date", p.display());
            }
            continue;
        }
        if ctx.dry_run {
            ctx.log.push(format!("write {} ({kind})", p.display()));
            continue;
        }
        write(p, text)?;
        if !ctx.out.json() {
            let verb = if *st == State::Missing { "wrote" } else { "replaced" };
            println!("{} {verb} {} ({kind})", ctx.out.good("✓"), p.display());
        }
    }
    if ctx.out.json() {
        ctx.out.emit(&json!({"written": !ctx.dry_run, "files": report, "effects": ctx.log.entries()}));
    } else {
        for e in ctx.log.entries() {
            println!("would {e}");
        }
        for (p, text, _, _) in states.iter().filter(|s| ctx.dry_run && s.3 != State::Same) {
            print!("{}", diff(&ctx.out, &args.dir, p, text));
        }
    }
    Ok(Exit::Success)
}
