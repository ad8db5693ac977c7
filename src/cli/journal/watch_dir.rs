//! `stagegate journal watch-dir DIR --cluster C`: the watch script of the modelling clusters.
//!
//! A journal is uploaded once it is stable (same size and modification time
//! over one interval), so a file still being exported is never sent half
//! written. What was uploaded is remembered in the state dir, keyed by path and
//! (size, mtime), so a restart does not upload again; a changed file is uploaded
//! as a new version. A failed upload leaves the file where it is and is tried
//! again on a later scan. The source directory is only ever read.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::upload::{Writer, approve_change};
use super::{Common, Ctx, open_store};
use crate::actions::{inline, markdown_table};
use crate::config::Config;
use crate::effects::Done;
use crate::error::{Error, Exit};
use crate::journal::JournalError;
use crate::journal::layout::valid_name;
use crate::journal::progress::Progress;
use crate::journal::store::Store;
use crate::journal::upload::{Request, authorize, hash_file, upload};
use crate::output::{Out, Output, Render, output};
use crate::state::Document;

const REGISTRY: &str = "journal-uploads.json";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory the modelling cluster exports journals to
    dir: PathBuf,
    #[command(flatten)]
    writer: Writer,
    /// How long a file must stay unchanged before it is uploaded
    #[arg(long, value_parser = crate::cli::values::at_least(std::time::Duration::from_millis(10), "a file must stay unchanged for some time to count as written"), default_value = "2s")]
    interval: Duration,
    /// Scan twice (one interval apart), upload what is stable, and exit
    #[arg(long)]
    once: bool,
}

/// Size and modification time (ns): what "unchanged" means here.
type Signature = (u64, u128);

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Registry {
    files: BTreeMap<String, Uploaded>,
}

impl Document for Registry {
    type Damage = std::convert::Infallible;
    fn check(&self) -> Result<(), Self::Damage> {
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Uploaded {
    size: u64,
    mtime_ns: u128,
    sha256: String,
    version: String,
}

/// What a scan found: candidate journals by signature, and what it skipped, with why.
struct Scan {
    files: HashMap<PathBuf, Signature>,
    skipped: BTreeMap<PathBuf, String>,
}

/// Why an entry of the export directory is not a journal to upload.
fn skip_reason(name: &str, kind: std::fs::FileType) -> Option<&'static str> {
    Some(if kind.is_symlink() {
        "a symbolic link (only regular files are uploaded)"
    } else if kind.is_dir() {
        "a directory (watch-dir does not descend)"
    } else if !kind.is_file() {
        "not a regular file"
    } else if name.starts_with('.') {
        "a hidden file (the exporter's, not a journal yet)"
    } else if name.ends_with(".tmp") || name.ends_with(".part") {
        "a partial file (.tmp or .part: still being exported)"
    } else if !valid_name(name) {
        "not a valid journal file name (letters, digits, `-`, `_`, `.`; at most 128)"
    } else {
        return None;
    })
}

fn scan(dir: &Path) -> Result<Scan, JournalError> {
    let mut out = Scan { files: HashMap::new(), skipped: BTreeMap::new() };
    for entry in std::fs::read_dir(dir).map_err(JournalError::io("read", dir))? {
        let entry = entry.map_err(JournalError::io("read", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                out.skipped.insert(path, format!("cannot be read: {e}"));
                continue;
            }
        };
        if let Some(why) = skip_reason(&name, meta.file_type()) {
            out.skipped.insert(path, why.to_string());
            continue;
        }
        let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        out.files.insert(path, (meta.len(), mtime));
    }
    Ok(out)
}

pub async fn run(ctx: &Ctx, common: &Common, args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let mandators = authorize(&cfg.journal, &args.writer.cluster, &args.writer.mandators)?;
    if !args.dir.is_dir() {
        return Err(JournalError::BadFile(args.dir.display().to_string()).into());
    }
    let store = open_store(ctx, &cfg).await?;
    let notes = std::sync::Arc::new(crate::notes::Stderr);
    let req = Request { cluster: args.writer.cluster.clone(), change: args.writer.change.clone(), quiet: false, notes };
    let (uploaded, failed, skipped) = (Vec::new(), BTreeMap::new(), BTreeMap::new());
    let mut w = Watcher { ctx, cfg: &cfg, args: &args, store, req, mandators, uploaded, failed, skipped };
    let mut previous = scan(&args.dir)?.files;
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            () = tokio::time::sleep(args.interval) => {},
            _ = &mut stop => break,
        }
        let Scan { files: now, skipped } = scan(&args.dir)?;
        for (path, why) in skipped {
            w.skip(&path, why);
        }
        w.pass(&now, &previous).await?;
        // A failed file that is gone is no longer this watcher's to report.
        w.failed.retain(|k, _| now.contains_key(Path::new(k)));
        w.skipped.retain(|p, _| p.symlink_metadata().is_ok());
        previous = now;
        if args.once {
            break;
        }
    }
    let report = DirReport {
        directory: args.dir.display().to_string(),
        failed: w.failed.into_iter().map(|(file, error)| Failure { file, error }).collect(),
        skipped: w.skipped.into_iter().map(|(f, reason)| Skip { file: f.display().to_string(), reason }).collect(),
        uploaded: w.uploaded,
        done: ctx.done(),
    };
    ctx.out.print(&report);
    Ok(if report.failed.is_empty() { Exit::Success } else { Exit::Failed })
}

/// The watch of one directory: how to upload, and what it did so far.
struct Watcher<'a> {
    ctx: &'a Ctx,
    cfg: &'a Config,
    args: &'a Args,
    store: Arc<dyn Store>,
    req: Request,
    mandators: Vec<String>,
    uploaded: Vec<Sent>,
    /// By file: why its last upload failed.
    failed: BTreeMap<String, String>,
    /// Said once per file and reason, and in the final report.
    skipped: BTreeMap<PathBuf, String>,
}

impl Watcher<'_> {
    /// Notes that `path` is not uploaded, and why: said on stderr once per reason.
    fn skip(&mut self, path: &Path, why: String) {
        if self.skipped.get(path) != Some(&why) {
            self.ctx.out.note(&format!("skipped {}: {why}", path.display()));
            self.skipped.insert(path.to_owned(), why);
        }
    }

    /// Uploads what is stable since the previous scan and not yet uploaded as it is.
    async fn pass(
        &mut self,
        now: &HashMap<PathBuf, Signature>,
        previous: &HashMap<PathBuf, Signature>,
    ) -> Result<(), Error> {
        let registry: Registry = self.ctx.state.read(REGISTRY)?;
        let mut paths: Vec<&PathBuf> = now.keys().collect();
        paths.sort();
        for path in paths {
            let sig = now[path];
            let known = registry.files.get(&path.display().to_string());
            if known.is_some_and(|u| (u.size, u.mtime_ns) == sig) {
                self.skipped.remove(path);
                continue; // already uploaded as it is
            }
            if previous.get(path) != Some(&sig) {
                let interval = self.args.interval;
                self.skip(
                    path,
                    format!(
                        "still changing (size or modification time moved within {interval:?}); uploaded once stable"
                    ),
                );
                continue;
            }
            self.skipped.remove(path);
            self.send(path, sig, known).await?;
        }
        Ok(())
    }

    /// Uploads one stable file as a new version, unless its content is what
    /// was uploaded before; a failure is kept for the report, the file stays.
    async fn send(&mut self, path: &Path, sig: Signature, known: Option<&Uploaded>) -> Result<(), Error> {
        let key = path.display().to_string();
        let sha = match hash_file(path, &Progress::hidden()).await {
            Ok(sha) => sha,
            Err(e) => {
                self.failed.insert(key, e.to_string());
                return Ok(());
            }
        };
        if let Some(u) = known.filter(|u| u.sha256 == sha.sha256) {
            // Touched but not changed: remember the new signature only.
            return remember(self.ctx, &key, Uploaded { size: sig.0, mtime_ns: sig.1, ..u.clone() });
        }
        if let Err(e) = approve_change(self.cfg, self.args.writer.change.as_deref()).await {
            self.failed.insert(key, e.to_string());
            return Ok(());
        }
        match upload(self.store.clone(), &self.cfg.journal, path, &self.req, self.mandators.clone()).await {
            Ok(m) => {
                self.ctx.out.note(&format!(
                    "uploaded {} as {} ({})",
                    path.display(),
                    m.version,
                    crate::human::size(m.size)
                ));
                let u = Uploaded { size: sig.0, mtime_ns: sig.1, sha256: m.sha256.clone(), version: m.version.clone() };
                remember(self.ctx, &key, u)?;
                self.failed.remove(&key);
                self.uploaded.push(Sent { file: key, version: m.version, sha256: m.sha256, size: m.size });
            }
            Err(e) => {
                let message = e.to_string();
                self.ctx.out.note(&format!("{:?}", miette::Report::new(e)));
                self.failed.insert(key, message);
            }
        }
        Ok(())
    }
}

fn remember(ctx: &Ctx, key: &str, u: Uploaded) -> Result<(), Error> {
    if ctx.writes().is_dry_run() {
        return Ok(());
    }
    ctx.state.update(REGISTRY, |r: &mut Registry| {
        r.files.insert(key.to_string(), u);
    })?;
    Ok(())
}

/// What one pass (or a watch until Ctrl-C) did with the directory.
#[derive(Debug, Serialize)]
struct DirReport {
    directory: String,
    uploaded: Vec<Sent>,
    failed: Vec<Failure>,
    skipped: Vec<Skip>,
    #[serde(flatten)]
    done: Done,
}

#[derive(Debug, Serialize)]
struct Sent {
    file: String,
    version: String,
    sha256: String,
    size: u64,
}

#[derive(Debug, Serialize)]
struct Failure {
    file: String,
    error: String,
}

#[derive(Debug, Serialize)]
struct Skip {
    file: String,
    reason: String,
}

impl Render for DirReport {
    fn text(&self, o: &Out) -> String {
        let mut text = self.done.would().unwrap_or_default();
        for f in &self.failed {
            text.push_str(&format!("{} {} (kept, tried again on the next scan)\n", o.bad("not uploaded:"), f.file));
        }
        if self.uploaded.is_empty() && self.failed.is_empty() && self.done.effects().is_empty() {
            let waiting =
                if self.skipped.is_empty() { String::new() } else { format!(" ({} skipped)", self.skipped.len()) };
            text.push_str(&format!("nothing new in {}{waiting}\n", self.directory));
        }
        text
    }

    fn summary(&self) -> Option<String> {
        if self.uploaded.is_empty() && self.failed.is_empty() {
            return None;
        }
        let mut rows: Vec<Vec<String>> = self
            .uploaded
            .iter()
            .map(|u| vec![u.file.clone(), u.version.clone(), crate::human::size(u.size), "uploaded".into()])
            .collect();
        rows.extend(self.failed.iter().map(|f| vec![f.file.clone(), "—".into(), "—".into(), f.error.clone()]));
        let table = markdown_table(&["File", "Version", "Size", "Outcome"], &rows);
        Some(format!("### Journals from {}\n\n{table}", inline(&self.directory)))
    }

    /// The newest upload's version and sha256.
    fn outputs(&self) -> Vec<Output> {
        match self.uploaded.last() {
            Some(u) => vec![output("version", &u.version), output("sha256", &u.sha256)],
            None => Vec::new(),
        }
    }
}
