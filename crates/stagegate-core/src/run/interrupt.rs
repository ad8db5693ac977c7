//! SIGINT and SIGTERM during a run. GitHub cancels a job with SIGINT, then
//! SIGTERM a few seconds later, then kills it. From the moment a run starts
//! changing things both signals are caught and handled alike: a signal stops
//! the hook (or health wait) under way, with the hook's whole process group,
//! and the run fails the way any failed step fails (the deployment recorded
//! as failed, rolled back if the deploy had started, the audit line written,
//! exit 1). A second signal stops the rollback too, and no hook starts after it.

use std::sync::OnceLock;

use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT (Ctrl-C)",
            Signal::Term => "SIGTERM",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    /// Signals received so far.
    received: u32,
    /// Of those, the ones a step has acted on.
    handled: u32,
    last: Option<Signal>,
}

static STATE: OnceLock<watch::Sender<Seen>> = OnceLock::new();

/// Catches SIGINT and SIGTERM from now on (once per process; needs the runtime).
pub fn install() {
    STATE.get_or_init(|| {
        use tokio::signal::unix::{SignalKind, signal};
        let (tx, _) = watch::channel(Seen::default());
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        let sender = tx.clone();
        tokio::spawn(async move {
            let (Ok(mut int), Ok(mut term)) = (int, term) else { return };
            loop {
                let got = tokio::select! {
                    Some(()) = int.recv() => Signal::Int,
                    Some(()) = term.recv() => Signal::Term,
                    else => return,
                };
                sender.send_modify(|s| {
                    s.received += 1;
                    s.last = Some(got);
                });
            }
        });
        tx
    });
}

fn seen() -> Seen {
    STATE.get().map(|tx| *tx.borrow()).unwrap_or_default()
}

/// A signal received that no step has acted on yet.
pub fn pending() -> Option<Signal> {
    let s = seen();
    (s.received > s.handled).then_some(s.last).flatten()
}

/// Marks the signals received so far as acted on.
pub fn handled() {
    if let Some(tx) = STATE.get() {
        tx.send_modify(|s| s.handled = s.received);
    }
}

/// Two signals or more: stop everything, start nothing.
pub fn stopping() -> bool {
    seen().received >= 2
}

/// Resolves once a signal is pending (at once if one is), and marks it handled.
pub async fn wait() -> Signal {
    let Some(tx) = STATE.get() else { return std::future::pending().await };
    let mut rx = tx.subscribe();
    let got = match rx.wait_for(|s| s.received > s.handled).await {
        Ok(s) => s.last.unwrap_or(Signal::Term),
        Err(_) => return std::future::pending().await,
    };
    handled();
    got
}
