//! Freeze gates: whether a run into an environment may go ahead now, given
//! its calendar — freeze windows and deploy windows (parsed at load, see
//! [`window`] and [`calendar`](crate::values::calendar)) — and
//! `--override-freeze --reason`.

pub use crate::values::freeze as window;

use chrono::{DateTime, Utc};

use crate::config::Environment;
use crate::refusal::{self, Refusal};
use crate::values::calendar::{Calendar, Cause, ClosedPeriod, Freeze};
pub use window::{Frozen, Kind, ParseError, Window, parse};

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

/// The environment's calendar: its freeze windows and deploy windows.
pub fn calendar(env: &Environment) -> Calendar {
    Calendar {
        freezes: env.freeze.iter().map(|f| f.value.clone()).collect(),
        deploy_windows: env.deploy_windows.iter().map(|w| w.value.clone()).collect(),
    }
}

/// The closed period `env` is in at `now`, whole (merged across windows).
pub fn closed(env: &Environment, now: DateTime<Utc>) -> Option<ClosedPeriod> {
    if env.freeze.is_empty() && env.deploy_windows.is_empty() {
        return None;
    }
    calendar(env).closed_at(now)
}

/// `prod is frozen (`FRI 16:00 - MON 08:00 Europe/London`; `12-24 … UTC`:
/// Christmas) and outside its deploy windows (…) until Mon … (… UTC)`.
fn closed_text(env: &str, period: &ClosedPeriod) -> String {
    let mut frozen = Vec::new();
    let mut outside = Vec::new();
    for cause in period.causes() {
        match cause {
            Cause::Freeze(Freeze { window, reason: Some(r), .. }) => frozen.push(format!("`{window}`: {r}")),
            Cause::Freeze(f) => frozen.push(format!("`{}`", f.window)),
            Cause::OutsideDeployWindows(ws) => outside.extend(ws.iter().map(|w| format!("`{w}`"))),
        }
    }
    let mut what = Vec::new();
    if !frozen.is_empty() {
        what.push(format!("frozen ({})", frozen.join("; ")));
    }
    if !outside.is_empty() {
        what.push(format!("outside its deploy windows ({})", outside.join("; ")));
    }
    let at_least = if period.open_ended { "at least " } else { "" };
    format!("{env} is {} until {at_least}{}", what.join(" and "), period.until_text())
}

/// Decides for `env` at `now`; `override_reason` is `--override-freeze --reason`.
pub fn decide(env: &Environment, now: DateTime<Utc>, override_reason: Option<&str>) -> Decision {
    let Some(period) = closed(env, now) else { return Decision::Clear };
    let why = closed_text(&env.name, &period);
    let until = (!period.open_ended).then_some(period.until);
    let frozen = |message: String| Refusal::new(refusal::Kind::Frozen, message).until(until);
    let never = period.at(now).find_map(|p| match &p.cause {
        Cause::Freeze(f) if f.never_override => Some(f),
        _ => None,
    });
    match (override_reason, never) {
        (Some(_), _) if !env.freeze_override => {
            Decision::Frozen(frozen(format!("{why}, and does not allow overrides (freeze_override)")))
        }
        (Some(_), Some(f)) => Decision::Frozen(frozen(format!(
            "{why}; {} may not be overridden (override: never)",
            Cause::Freeze(f.clone()).describe()
        ))),
        (Some(reason), None) => {
            let now: Vec<String> = period.at(now).map(|p| p.cause.describe()).collect();
            Decision::Overridden { window: now.join("; "), reason: reason.to_owned() }
        }
        (None, None) if env.freeze_override => {
            let how = "override with --override-freeze --reason TEXT";
            Decision::Frozen(frozen(format!("{why}; {how}")).unblock(how))
        }
        (None, _) => Decision::Frozen(frozen(why)),
    }
}

/// When `env` is next open, for a refusal: `Mon 2026-10-26 08:00 GMT
/// (2026-10-26 08:00 UTC)`; `None` when it is open at `now`.
pub fn next_open_text(env: &Environment, now: DateTime<Utc>) -> Option<String> {
    closed(env, now).map(|p| match p.open_ended {
        false => p.until_text(),
        true => format!("not before {}", p.until_text()),
    })
}
