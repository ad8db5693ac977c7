//! One request's failure never stops the App answering the others. Each
//! decision runs as a task of its own; a panic in it (a record no check
//! expected) ends that task only — the release build unwinds (`panic =
//! "unwind"`) — and the request is rejected with a comment saying so, so it is
//! not decided again: a stored request that crashed cannot crash-loop the App
//! at start. Panics are logged as JSON (escaped, whatever text they carry),
//! never printed raw.

use super::decide::Outcome;
use super::server::{Shared, decide_key, settle};
use crate::github::app::RuleState;

/// What GitHub shows on a request whose decision failed.
pub const CRASHED: &str = "stagegate rejected this deployment: deciding it failed with an internal error \
(the App's log has the details). Re-run the job to ask again; if it fails the same way, report it.";

/// Decides the request `key` in a task of its own (see the module).
pub async fn decide(svc: Shared, key: String) {
    let task = tokio::spawn(decide_key(svc.clone(), key.clone()));
    let Err(e) = task.await else { return };
    if !e.is_panic() {
        return;
    }
    tracing::error!(request = %key, "deciding the request failed (a panic); rejecting it");
    let outcome = Outcome::Answer { state: RuleState::Rejected, comment: CRASHED.to_owned() };
    let fallback = tokio::spawn(settle(svc.clone(), key.clone(), outcome));
    if let Err(e) = fallback.await
        && e.is_panic()
    {
        tracing::error!(request = %key, "answering the failed request failed too; forgetting it");
        if let Err(e) = svc.store.done(&key).await {
            tracing::error!(request = %key, error = %e, "the KV store cannot be written");
        }
    }
}

/// Logs panics through the service's JSON log (one escaped line) instead of
/// the default hook's raw text.
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = panic_message(info);
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!(panic = %message, at = %at, "panic");
    }));
}

/// A panic's message, when it has one as text.
pub fn panic_message<'a>(info: &'a std::panic::PanicHookInfo<'_>) -> &'a str {
    let p = info.payload();
    p.downcast_ref::<String>().map(String::as_str).or_else(|| p.downcast_ref::<&str>().copied()).unwrap_or("")
}
