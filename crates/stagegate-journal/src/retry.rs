//! Retries with exponential backoff for transfers (`journal.retries`).

use std::future::Future;
use std::time::Duration;

use crate::notes::Notes;

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
pub async fn with_retries<T, E, F, Fut>(retries: u32, what: &str, notes: &dyn Notes, mut op: F) -> Result<T, (u32, E)>
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
                notes.progress(&format!("{what}: attempt {attempt} failed ({e}); retrying in {} ms", wait.as_millis()));
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::{Transient, with_retries};
    use crate::notes::Memory;

    #[derive(Debug)]
    struct Failure(bool);

    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(if self.0 { "503 SlowDown" } else { "403 AccessDenied" })
        }
    }

    impl Transient for Failure {
        fn is_transient(&self) -> bool {
            self.0
        }
    }

    #[tokio::test]
    async fn a_permanent_failure_is_not_tried_again() {
        let (notes, calls) = (Memory::default(), Cell::new(0));
        let r: Result<(), _> = with_retries(3, "upload x", &notes, |_| {
            calls.set(calls.get() + 1);
            async { Err(Failure(false)) }
        })
        .await;
        assert_eq!(r.unwrap_err().0, 1);
        assert_eq!(calls.get(), 1);
        assert!(notes.lines().is_empty());
    }

    #[tokio::test]
    async fn a_transient_failure_is_tried_again_and_told() {
        let notes = Memory::default();
        let r = with_retries(2, "upload x", &notes, |attempt| async move {
            if attempt < 2 { Err(Failure(true)) } else { Ok(attempt) }
        })
        .await;
        assert_eq!(r.unwrap(), 2);
        assert_eq!(notes.lines(), ["upload x: attempt 1 failed (503 SlowDown); retrying in 250 ms"]);
    }
}
