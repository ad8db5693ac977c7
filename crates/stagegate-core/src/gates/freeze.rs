//! Freeze gates: whether a run into an environment may go ahead now, given
//! the environment's freeze windows (parsed at load, see [`window`]) and
//! `--override-freeze --reason`.

pub use crate::values::freeze as window;

use chrono::{DateTime, Utc};

use crate::refusal::{self, Refusal};

pub use window::{Frozen, Kind, ParseError, Window, frozen, parse};

/// What a freeze means for a run into an environment now.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Not inside any window.
    Clear,
    /// Inside `window`, overridden (where allowed) for `reason`.
    Overridden { window: String, reason: String },
    /// Inside a window: the refusal, saying when it ends.
    Frozen(Refusal),
}

/// Decides for `env` at `now`; `override_reason` is `--override-freeze --reason`.
pub fn decide(env: &crate::config::Environment, now: DateTime<Utc>, override_reason: Option<&str>) -> Decision {
    let Some(f) = frozen(env.freeze.iter().map(|w| &w.value), now) else { return Decision::Clear };
    let ends = format!("{} ({})", f.ends_local, f.ends.format("%Y-%m-%d %H:%M UTC"));
    let until = Some(f.ends);
    match override_reason {
        Some(reason) if env.freeze_override => Decision::Overridden { window: f.window, reason: reason.to_owned() },
        Some(_) => Decision::Frozen(
            Refusal::new(
                refusal::Kind::Frozen,
                format!(
                    "{} is frozen (`{}`) until {ends}, and does not allow overrides (freeze_override)",
                    env.name, f.window
                ),
            )
            .until(until),
        ),
        None if env.freeze_override => {
            let how = "override with --override-freeze --reason TEXT";
            let why = format!("{} is frozen (`{}`) until {ends}; {how}", env.name, f.window);
            Decision::Frozen(Refusal::new(refusal::Kind::Frozen, why).until(until).unblock(how))
        }
        None => Decision::Frozen(
            Refusal::new(refusal::Kind::Frozen, format!("{} is frozen (`{}`) until {ends}", env.name, f.window))
                .until(until),
        ),
    }
}
