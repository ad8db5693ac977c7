//! Freeze gates: whether a run into an environment may go ahead now, given
//! the environment's freeze windows (parsed at load, see [`window`]) and
//! `--override-freeze --reason`.

pub use crate::values::freeze as window;

use chrono::{DateTime, Utc};

pub use window::{Frozen, Kind, ParseError, Window, frozen, parse};

/// What a freeze means for a run into an environment now.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Not inside any window.
    Clear,
    /// Inside `window`, overridden (where allowed) for `reason`.
    Overridden { window: String, reason: String },
    /// Inside a window: the refusal, saying when it ends.
    Refused(String),
}

/// Decides for `env` at `now`; `override_reason` is `--override-freeze --reason`.
pub fn decide(env: &crate::config::Environment, now: DateTime<Utc>, override_reason: Option<&str>) -> Decision {
    let Some(f) = frozen(env.freeze.iter().map(|w| &w.value), now) else { return Decision::Clear };
    let ends = format!("{} ({})", f.ends_local, f.ends.format("%Y-%m-%d %H:%M UTC"));
    match override_reason {
        Some(reason) if env.freeze_override => Decision::Overridden { window: f.window, reason: reason.to_owned() },
        Some(_) => Decision::Refused(format!(
            "{} is frozen (`{}`) until {ends}, and does not allow overrides (freeze_override)",
            env.name, f.window
        )),
        None => {
            let hint = if env.freeze_override { "; override with --override-freeze --reason TEXT" } else { "" };
            Decision::Refused(format!("{} is frozen (`{}`) until {ends}{hint}", env.name, f.window))
        }
    }
}
