//! Soak: a release must have been healthy in the source environment for a
//! while before it moves on. "Healthy" is read from deployment history: the
//! time its deployment there became `success`, while it still is the current one.

use chrono::{DateTime, Utc};

use crate::config::duration;
use crate::forge::Deployment;
use crate::refusal::{Kind, Refusal};

/// `Ok(detail)` when the release has soaked long enough, a soak refusal
/// saying when it may move on when not.
pub fn check(
    current: &Deployment,
    env: &str,
    soak: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<String, Refusal> {
    let since = current.succeeded_at().unwrap_or(current.request.at);
    let need = chrono::Duration::from_std(soak).unwrap_or(chrono::Duration::MAX);
    let healthy = now - since;
    let release = &current.request.release;
    let for_how_long = duration::format(healthy.to_std().unwrap_or_default());
    if healthy >= need {
        Ok(format!("{release} has been healthy in {env} for {for_how_long} (soak {})", duration::format(soak)))
    } else {
        let at = since.checked_add_signed(need).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let why = format!(
            "{release} has been healthy in {env} for {for_how_long}; the soak time is {}, so it may move on at {}",
            duration::format(soak),
            at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        Err(Refusal::new(Kind::Soak, why).until(Some(at)))
    }
}
