//! `--wait DURATION` on promote, deploy and rollback: instead of being refused
//! at once while another run (or a hook a dead run left behind) holds the
//! target, wait for it, at most that long, then run — every check is made
//! afresh, since the other run may have changed what is deployed.

use std::time::Duration;

use tokio::time::Instant;

use super::hooks::Sink;
use super::lock;
use super::report::Report;
use crate::effects::Writes;
use crate::refusal::Kind;
use crate::state::StateDir;

/// The longest `--wait` (a GitHub-hosted job runs at most 6 hours).
pub const MAX_WAIT: Duration = Duration::from_secs(6 * 3600);
/// How often a busy target is looked at again.
const POLL: Duration = Duration::from_secs(1);

pub struct Waiter {
    state: StateDir,
    env: String,
    wait: Duration,
    deadline: Option<Instant>,
    sink: Sink,
    said: bool,
}

impl Waiter {
    /// `wait: None` (or a dry run): never waits.
    pub fn new(state: &StateDir, env: &str, wait: Option<Duration>, writes: &Writes, sink: Sink) -> Waiter {
        let wait = if writes.is_dry_run() { None } else { wait };
        Waiter {
            state: state.clone(),
            env: env.to_owned(),
            wait: wait.unwrap_or_default(),
            deadline: wait.map(|w| Instant::now() + w),
            sink,
            said: false,
        }
    }

    fn time_left(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() < d)
    }

    /// Before a try: waits (within the deadline) until the target's lock looks free.
    pub async fn until_free(&mut self) {
        while self.time_left() {
            let Some(busy) = lock::inspect(&self.state, &self.env) else { return };
            if !self.said {
                self.said = true;
                let why = busy.describe(&self.env, &lock::path(&self.state, &self.env));
                let wait = crate::config::duration::format(self.wait);
                self.sink.line(&format!("waiting (up to {wait}) for {}: {why}", self.env));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// After a try: `true` when it was refused only because the target was
    /// busy and there is time left to try again (after a pause).
    pub async fn again(&mut self, report: &Report) -> bool {
        let busy = report.refusal.as_ref().is_some_and(|r| r.kind == Kind::Busy);
        if !busy || !self.time_left() {
            return false;
        }
        tokio::time::sleep(POLL * 2).await;
        self.time_left()
    }
}
