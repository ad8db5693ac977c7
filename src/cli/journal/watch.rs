//! `stagegate journal watch --lane L --exec CMD [--once]`: the lane's importer.
//!
//! Blocks on the lane key (Consul blocking queries, or the file KV's index) and
//! on every answer hands the assigned version to the [`Importer`]. As a daemon
//! it survives KV outages with backoff and stops on Ctrl-C/SIGTERM, printing
//! what it did; with `--once` it handles the current assignment and exits.

use std::time::Duration;

use serde::Serialize;

use super::{Common, Ctx, open_kv, open_store};
use crate::actions::inline;
use crate::effects::Done;
use crate::error::{Error, Exit, InputError};
use crate::journal::JournalError;
use crate::journal::import::{Importer, Outcome};
use crate::journal::kv::Watch;
use crate::journal::lanes::Lanes;
use crate::journal::retry::backoff;
use crate::output::{Format, Out, Output, Render, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lane to import for (one of journal.lanes)
    #[arg(long)]
    lane: String,
    /// Import command, run as `sh -c CMD` with STAGEGATE_JOURNAL_FILE,
    /// STAGEGATE_JOURNAL_VERSION and STAGEGATE_LANE [default: journal.import]
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,
    /// Handle the current assignment and exit (for scheduled workflows)
    #[arg(long)]
    once: bool,
    /// A claim of an importer on another host that has not been refreshed for
    /// this long is stale: taken over if its import command never started,
    /// else marked interrupted (never imported again without --retry-failed)
    #[arg(long, value_parser = crate::cli::values::at_least(Duration::from_secs(10), "a live importer refreshes its claim every third of this; shorter, and its claim would look stale while it imports"), default_value = "30m")]
    stale_after: Duration,
    /// Import again a version whose import failed, or was interrupted (its
    /// watcher died while the import command ran)
    #[arg(long)]
    retry_failed: bool,
    /// Longest a blocking query waits before asking again
    #[arg(long, value_parser = crate::cli::values::at_least(Duration::from_secs(1), "Consul waits in whole seconds"), default_value = "5m")]
    wait: Duration,
}

/// One line of the watch log, timestamped (`--now` fixes the time): what
/// the watcher did for the lane's current assignment.
fn line(ctx: &Ctx, lane: &str, o: &Outcome) {
    say(ctx, &describe(&ctx.out, lane, o, &ctx.done()));
}

/// What the watcher did, in words (painted through `out`).
fn describe(out: &Out, lane: &str, o: &Outcome, done: &Done) -> String {
    match o {
        Outcome::Unassigned => format!("{lane}: no version assigned yet"),
        Outcome::Imported { version } if done.is_described() => format!("{lane}: would import {version}"),
        Outcome::Imported { version } => format!("{lane}: {} {version}", out.good("imported")),
        Outcome::AlreadyImported { version } => format!("{lane}: {version} already imported"),
        Outcome::PreviouslyFailed { version } => {
            format!("{lane}: {version} {} before; not retried (use --retry-failed)", out.bad("failed"))
        }
        Outcome::Busy { version, owner } => format!("{lane}: {version} is being imported by {owner}"),
        Outcome::Failed { version, detail } => {
            let (head, tail) = detail.split_once('\n').unwrap_or((detail, ""));
            let tail: String = tail.lines().map(|l| format!("\n    │ {l}")).collect();
            format!(
                "{lane}: {} {version}: {head}{tail}\n  to import it again once fixed: stagegate journal watch --lane {lane} --once --retry-failed",
                out.bad("failed")
            )
        }
        Outcome::Interrupted { version, detail } => format!(
            "{lane}: {version} {}: {detail}; not imported again: check the import, then run `stagegate journal watch --lane {lane} --once --retry-failed` to import it again",
            out.bad("needs attention")
        ),
    }
}

/// An import that ran, in the store's audit trail.
async fn trail(ctx: &Ctx, importer: &Importer, o: &Outcome) {
    let (version, outcome, detail) = match o {
        Outcome::Imported { version } => (version, "succeeded", None),
        Outcome::Failed { version, detail } => (version, "failed", Some(detail.clone())),
        Outcome::Interrupted { version, detail } => (version, "interrupted", Some(detail.clone())),
        _ => return,
    };
    let detail = detail.map(|d| d.chars().take(500).collect());
    let op =
        super::trail::Op { operation: "import", lane: Some(&importer.lane), version: Some(version), outcome, detail };
    super::trail::record(ctx, importer.store.as_ref(), op).await;
}

/// A line of the watch log, after the time.
fn say(ctx: &Ctx, text: &str) {
    ctx.out.stream(&format!("{} {text}", ctx.out.dim(&crate::human::timestamp(ctx.now()))));
}

/// What the watcher did, for `--output json` and the step summary.
#[derive(Debug, Serialize)]
struct Watched {
    lane: String,
    outcomes: Vec<Outcome>,
    #[serde(flatten)]
    done: Done,
}

impl Render for Watched {
    fn text(&self, _: &Out) -> String {
        self.done.would().unwrap_or_default()
    }

    fn summary(&self) -> Option<String> {
        let plain = Out { format: Format::Text, color: false };
        let lines: String = self
            .outcomes
            .iter()
            .map(|o| format!("- {}\n", inline(&describe(&plain, &self.lane, o, &self.done))))
            .collect();
        Some(format!("### Journal lane {}\n\n{lines}", inline(&self.lane)))
    }

    fn outputs(&self) -> Vec<Output> {
        match self.outcomes.last() {
            Some(Outcome::Imported { version }) => vec![output("version", version)],
            _ => Vec::new(),
        }
    }
}

pub async fn run(ctx: &Ctx, common: &Common, args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let (importer, watch) = importer(ctx, &cfg, &args).await?;
    let outcomes = watch_lane(ctx, &importer, watch, &args).await?;
    let failed = outcomes.iter().any(|o| matches!(o, Outcome::Failed { .. } | Outcome::Interrupted { .. }));
    ctx.out.print(&Watched { lane: args.lane, outcomes, done: ctx.done() });
    Ok(if failed && args.once { Exit::Failed } else { Exit::Success })
}

/// The lane's importer and the watch of its key, once the lane, the import
/// command and the download directory are known to be usable; says so.
async fn importer(ctx: &Ctx, cfg: &crate::config::Config, args: &Args) -> Result<(Importer, Watch), Error> {
    let Some(command) = args.exec.clone().or_else(|| cfg.journal.import.clone()) else {
        return Err(InputError::Invalid {
            message: "no import command".into(),
            help: Some("pass --exec CMD or set journal.import in the config".into()),
        }
        .into());
    };
    let kv = open_kv(ctx, cfg)?;
    let lanes = Lanes::new(kv.clone(), &cfg.journal);
    lanes.check(&args.lane)?;
    let key = lanes.key(&args.lane);
    // Downloads land under the state dir: no link on the way (the rest is checked as it is created).
    crate::statefs::dirs(ctx.state.root(), std::path::Path::new("journal-downloads"), false)
        .map_err(|(p, e)| JournalError::io("use", &p)(e))?;
    let importer = Importer {
        lanes,
        store: open_store(ctx, cfg).await?,
        lane: args.lane.clone(),
        command,
        // Absolute, so the import command may change directory.
        work_dir: std::path::absolute(ctx.state.root().join("journal-downloads"))
            .map_err(JournalError::io("resolve", ctx.state.root()))?,
        stale_after: args.stale_after,
        retry_failed: args.retry_failed,
        pass_env: cfg.journal.pass_env.clone(),
        writes: ctx.writes(),
        quiet: false,
        notes: std::sync::Arc::new(crate::notes::Stderr),
    };
    say(
        ctx,
        &format!(
            "watching lane {} (key {key} in {}) for versions from {}; importing with `{}`{}",
            args.lane,
            kv.describe(),
            importer.store.describe(),
            importer.command,
            if args.once { ", once" } else { " until Ctrl-C" }
        ),
    );
    Ok((importer, Watch::new(kv, key, args.wait)))
}

/// Hands every answer of the lane key to the importer until Ctrl-C/SIGTERM
/// (or once), riding out KV outages with backoff; what it did, each outcome
/// once in a row.
async fn watch_lane(ctx: &Ctx, importer: &Importer, mut watch: Watch, args: &Args) -> Result<Vec<Outcome>, Error> {
    let mut outcomes = Vec::new();
    let mut errors = 0u32;
    let mut stop = std::pin::pin!(shutdown());
    loop {
        // Stop only between steps: an import under way is finished and recorded.
        let read = tokio::select! {
            r = watch.next() => r,
            () = &mut stop => break,
        };
        let result = match read {
            Ok(read) => {
                let version = read.entry.map(|e| String::from_utf8_lossy(&e.value).trim().to_string());
                importer.handle(version.filter(|v| !v.is_empty())).await
            }
            Err(e) => Err(JournalError::from(e)),
        };
        let pause = match result {
            Ok(o) => {
                errors = 0;
                line(ctx, &args.lane, &o);
                trail(ctx, importer, &o).await;
                let busy = matches!(o, Outcome::Busy { .. });
                if outcomes.last() != Some(&o) {
                    outcomes.push(o);
                }
                if args.once {
                    break;
                }
                // A live claim elsewhere does not change the lane key: look again soon.
                if !busy {
                    continue;
                }
                Duration::from_secs(5)
            }
            Err(e) if args.once || e.is_permanent() => return Err(e.into()),
            Err(e) => {
                errors += 1;
                let wait = backoff(errors).max(Duration::from_secs(1));
                crate::console::print(crate::console::Stream::Err, &format!("{:?}", miette::Report::new(e)));
                say(ctx, &format!("{}: retrying in {}s", args.lane, wait.as_secs()));
                wait
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => watch.refresh(),
            () = &mut stop => break,
        }
    }
    Ok(outcomes)
}

/// Ctrl-C or SIGTERM: stop between two steps.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
