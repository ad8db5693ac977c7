//! An environment's calendar: when it is closed, and why. Closed are its
//! freeze windows (each with an optional reason, and `override: never` where
//! `--override-freeze` may not pass it) and, when it has deploy windows,
//! every moment outside them.
//!
//! Closed times of every kind merge: windows that overlap or touch are one
//! closed period, and the period ends when the last of them does — that is
//! the next moment the environment is open.
//!
//! A leaf like [`freeze`](super::freeze): pure functions of the windows and
//! the time.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::freeze::{Sense, Window};

/// A freeze entry: `"FRI 16:00 - MON 08:00 Europe/London"` or
/// `{window: "...", reason: "year-end close", override: never}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Freeze {
    pub window: Window,
    pub reason: Option<String>,
    /// `override: never`: `--override-freeze` does not pass this window even
    /// where the environment allows overrides.
    pub never_override: bool,
}

impl Freeze {
    pub fn new(window: Window) -> Freeze {
        Freeze { window, reason: None, never_override: false }
    }
}

impl std::fmt::Display for Freeze {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.window.fmt(f)
    }
}

/// The calendar of one environment.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    pub freezes: Vec<Freeze>,
    /// Empty: open whenever no freeze closes it.
    pub deploy_windows: Vec<Window>,
}

/// Why part of a period is closed.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    Freeze(Freeze),
    /// Outside every one of the deploy windows (their texts).
    OutsideDeployWindows(Vec<String>),
}

impl Cause {
    /// For people and JSON: `FRI 16:00 - MON 08:00 Europe/London`,
    /// `year-end close (12-20 00:00 - 01-04 08:00 UTC)`, `outside its deploy
    /// windows (MON-THU 09:00 - 16:00 Europe/London)`.
    pub fn describe(&self) -> String {
        match self {
            Cause::Freeze(Freeze { window, reason: Some(r), .. }) => format!("{r} ({window})"),
            Cause::Freeze(f) => f.window.text.clone(),
            Cause::OutsideDeployWindows(ws) => format!("outside its deploy windows ({})", ws.join("; ")),
        }
    }
}

/// One closed stretch and its cause.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The zone whose wall clock ends it (for people).
    pub tz: Tz,
    pub cause: Cause,
}

/// A merged closed period: its parts overlap or touch.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedPeriod {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Still closed at `until`, as far as the calendar looks ahead
    /// ([`LOOK_AHEAD`]): `until` is a lower bound.
    pub open_ended: bool,
    /// In order of their start.
    pub parts: Vec<Part>,
}

/// How far ahead the calendar looks for the end of a closed period.
pub const LOOK_AHEAD: Duration = Duration::days(800);

/// Margin before and after a range: a weekly or daily window that overlaps
/// the range starts at most a week before it.
const MARGIN: Duration = Duration::days(8);

impl ClosedPeriod {
    /// Each cause once, in order of first appearance.
    pub fn causes(&self) -> Vec<&Cause> {
        let mut out: Vec<&Cause> = Vec::new();
        for p in &self.parts {
            if !out.contains(&&p.cause) {
                out.push(&p.cause);
            }
        }
        out
    }

    /// [`Cause::describe`] of each cause.
    pub fn reasons(&self) -> Vec<String> {
        self.causes().into_iter().map(Cause::describe).collect()
    }

    /// The parts in force at `now`.
    pub fn at(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Part> {
        self.parts.iter().filter(move |p| p.from <= now && now < p.until)
    }

    /// The start on the wall clock of the part that starts the period:
    /// `Fri 2026-10-23 16:00 BST`.
    pub fn from_text(&self) -> String {
        let tz = self.parts.first().map_or(Tz::UTC, |p| p.tz);
        self.from.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z").to_string()
    }

    /// The end on the wall clock of the part that ends the period:
    /// `Mon 2026-10-26 08:00 GMT (2026-10-26 08:00 UTC)`.
    pub fn until_text(&self) -> String {
        let tz = self.parts.iter().max_by_key(|p| p.until).map_or(Tz::UTC, |p| p.tz);
        let local = self.until.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z");
        format!("{local} ({})", self.until.format("%Y-%m-%d %H:%M UTC"))
    }
}

impl Calendar {
    pub fn is_empty(&self) -> bool {
        self.freezes.is_empty() && self.deploy_windows.is_empty()
    }

    /// Every closed part overlapping `[from, to)`, unmerged.
    fn parts(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Part> {
        let mut parts: Vec<Part> = self
            .freezes
            .iter()
            .flat_map(|f| {
                f.window.occurrences(from, to, Sense::Closes).into_iter().map(|(s, e)| Part {
                    from: s,
                    until: e,
                    tz: f.window.tz,
                    cause: Cause::Freeze(f.clone()),
                })
            })
            .collect();
        parts.extend(self.outside_deploy_windows(from, to));
        parts.sort_by_key(|p| (p.from, p.until));
        parts
    }

    /// The gaps between deploy windows within `[from, to)`; a gap at either
    /// end of the range is cut there.
    fn outside_deploy_windows(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Part> {
        if self.deploy_windows.is_empty() {
            return Vec::new();
        }
        let mut opens: Vec<(DateTime<Utc>, DateTime<Utc>, Tz)> = self
            .deploy_windows
            .iter()
            .flat_map(|w| w.occurrences(from, to, Sense::Opens).into_iter().map(|(s, e)| (s, e, w.tz)))
            .collect();
        opens.sort_by_key(|o| o.0);
        let cause = Cause::OutsideDeployWindows(self.deploy_windows.iter().map(|w| w.text.clone()).collect());
        let mut gaps = Vec::new();
        let mut closed_since = Some(from);
        for (s, e, tz) in opens {
            if let Some(since) = closed_since.filter(|since| *since < s) {
                gaps.push(Part { from: since, until: s, tz, cause: cause.clone() });
            }
            closed_since = match closed_since {
                Some(since) if since > e => Some(since),
                _ => Some(e),
            };
        }
        if let Some(since) = closed_since.filter(|since| *since < to) {
            gaps.push(Part { from: since, until: to, tz: self.deploy_windows[0].tz, cause });
        }
        gaps
    }

    /// The closed parts overlapping `[from, to)`, merged where they overlap
    /// or touch; the first and last may reach beyond the range.
    fn merged(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<ClosedPeriod> {
        let mut out: Vec<ClosedPeriod> = Vec::new();
        for part in self.parts(from, to) {
            match out.last_mut() {
                Some(p) if part.from <= p.until => {
                    p.until = p.until.max(part.until);
                    p.parts.push(part);
                }
                _ => {
                    out.push(ClosedPeriod { from: part.from, until: part.until, open_ended: false, parts: vec![part] })
                }
            }
        }
        out
    }

    /// The closed period `now` falls in, whole: `until` is when the last of
    /// its windows ends.
    pub fn closed_at(&self, now: DateTime<Utc>) -> Option<ClosedPeriod> {
        let mut ahead = MARGIN;
        loop {
            let end = now + ahead;
            let period = self.merged(now - MARGIN, end).into_iter().find(|p| p.from <= now && now < p.until)?;
            if period.until < end {
                return Some(period);
            }
            if ahead >= LOOK_AHEAD {
                return Some(ClosedPeriod { open_ended: true, ..period });
            }
            ahead = (ahead * 4).min(LOOK_AHEAD);
        }
    }

    /// The closed periods overlapping `[from, to)`, whole (a period that
    /// goes on past `to` ends where it really ends).
    pub fn periods(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<ClosedPeriod> {
        let mut out: Vec<ClosedPeriod> =
            self.merged(from - MARGIN, to + MARGIN).into_iter().filter(|p| p.from < to && p.until > from).collect();
        if let Some(last) = out.last_mut()
            && last.until >= to + MARGIN
            && let Some(whole) = self.closed_at(to)
        {
            last.until = whole.until;
            last.open_ended = whole.open_ended;
            for part in whole.parts {
                if !last.parts.contains(&part) {
                    last.parts.push(part);
                }
            }
        }
        out
    }

    /// `now` when open; else the end of the closed period; `None` when it is
    /// closed for as far as the calendar looks.
    pub fn next_open(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.closed_at(now) {
            None => Some(now),
            Some(p) if p.open_ended => None,
            Some(p) => Some(p.until),
        }
    }
}
