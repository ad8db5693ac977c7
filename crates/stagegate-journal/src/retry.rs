//! Retries with exponential backoff for transfers (`journal.retries`).

use std::future::Future;
use std::time::Duration;

/// Backoff before retry `attempt` (1-based): 250 ms doubling, at most 8 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << attempt.saturating_sub(1).min(5))).min(Duration::from_secs(8))
}

/// An error that says whether another attempt may succeed.
pub trait Transient: std::fmt::Display {
    fn is_transient(&self) -> bool;
}

/// Runs `op` up to `retries + 1` times while it fails with a transient error;
/// the error is the last one, with the number of attempts made.
pub async fn with_retries<T, E, F, Fut>(retries: u32, what: &str, mut op: F) -> Result<T, (u32, E)>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Transient,
{
    let mut attempt = 1;
    loop {
        match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(e) if attempt > retries || !e.is_transient() => return Err((attempt, e)),
            Err(e) => {
                let wait = backoff(attempt);
                eprintln!("{what}: attempt {attempt} failed ({e}); retrying in {} ms", wait.as_millis());
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
    }
}
