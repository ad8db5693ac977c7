//! Transfer progress: a bar on a terminal, a log line every ~10 % elsewhere
//! (CI logs keep no carriage returns), nothing for small documents.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};

use crate::notes::Notes;

pub struct Progress {
    label: String,
    bar: Option<ProgressBar>,
    total: AtomicU64,
    done: AtomicU64,
    /// Last tenth reported in log mode, and where; `None` when silent.
    logged: Option<(Mutex<u64>, Arc<dyn Notes>)>,
}

impl Progress {
    /// Silent: for small documents and dry runs.
    pub fn hidden() -> Progress {
        Progress { label: String::new(), bar: None, total: AtomicU64::new(0), done: AtomicU64::new(0), logged: None }
    }

    /// A bar on a terminal stderr, else log lines; `quiet` keeps both away, and
    /// transfers under 1 MiB are over before either would help.
    pub fn new(label: impl Into<String>, total: u64, quiet: bool, notes: &Arc<dyn Notes>) -> Progress {
        let label = label.into();
        let mut p = Progress::hidden();
        p.total.store(total, Ordering::Relaxed);
        if quiet || total < 1 << 20 {
            return p;
        }
        // The bar draws itself on the terminal (indicatif's own writes, only
        // ever on a terminal, never in a CI log); its label is escaped as the
        // one writer would show it.
        if stagegate_core::console::is_terminal(stagegate_core::console::Stream::Err) {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(stagegate_core::console::shown(&label, false).into_owned());
            p.bar = Some(bar);
        } else {
            p.logged = Some((Mutex::new(0), notes.clone()));
        }
        p.label = label;
        p
    }

    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    pub fn inc(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
        if let Some((logged, notes)) = &self.logged {
            let total = self.total.load(Ordering::Relaxed).max(1);
            let tenth = (done.min(total) * 10) / total;
            let mut last = logged.lock().unwrap_or_else(|p| p.into_inner());
            if tenth > *last {
                *last = tenth;
                notes.progress(&format!(
                    "{}: {}% ({} of {})",
                    self.label,
                    tenth * 10,
                    stagegate_core::human::size(done),
                    stagegate_core::human::size(total)
                ));
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
