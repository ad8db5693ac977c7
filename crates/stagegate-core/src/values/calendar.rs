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
    /// its windows ends, `from` when the first began (both as far as
    /// [`LOOK_AHEAD`]).
    pub fn closed_at(&self, now: DateTime<Utc>) -> Option<ClosedPeriod> {
        let (mut back, mut ahead) = (MARGIN, MARGIN);
        loop {
            let (start, end) = (now - back, now + ahead);
            let period = self.merged(start, end).into_iter().find(|p| p.from <= now && now < p.until)?;
            let (more_back, more_ahead) =
                (period.from <= start && back < LOOK_AHEAD, period.until >= end && ahead < LOOK_AHEAD);
            if !more_back && !more_ahead {
                return Some(ClosedPeriod { open_ended: period.until >= end, ..period });
            }
            if more_back {
                back = (back * 4).min(LOOK_AHEAD);
            }
            if more_ahead {
                ahead = (ahead * 4).min(LOOK_AHEAD);
            }
        }
    }

    /// The closed periods overlapping `[from, to)`, whole (one that began
    /// before `from` or goes on past `to` is shown from its start to its end).
    pub fn periods(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<ClosedPeriod> {
        let (start, end) = (from - MARGIN, to + MARGIN);
        let mut out: Vec<ClosedPeriod> =
            self.merged(start, end).into_iter().filter(|p| p.from < to && p.until > from).collect();
        if let Some(first) = out.first_mut().filter(|p| p.from <= start)
            && let Some(whole) = self.closed_at(from)
        {
            *first = whole;
        }
        if let Some(last) = out.last_mut().filter(|p| p.until >= end)
            && let Some(whole) = self.closed_at(to.max(last.from))
        {
            *last = whole;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::freeze::parse;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn calendar(freezes: &[&str], deploy: &[&str]) -> Calendar {
        Calendar {
            freezes: freezes.iter().map(|w| Freeze::new(parse(w).unwrap())).collect(),
            deploy_windows: deploy.iter().map(|w| parse(w).unwrap()).collect(),
        }
    }

    #[test]
    fn overlapping_windows_close_until_the_last_one_ends() {
        // Friday 20 Nov 2026, 17:00: only the first window has started, but
        // the second starts before it ends, so nothing opens until Monday.
        let c = calendar(&["FRI 16:00 - SAT 08:00 UTC", "FRI 18:00 - MON 08:00 UTC"], &[]);
        let p = c.closed_at(at("2026-11-20T17:00:00Z")).unwrap();
        assert_eq!((p.from, p.until), (at("2026-11-20T16:00:00Z"), at("2026-11-23T08:00:00Z")));
        assert_eq!(p.at(at("2026-11-20T17:00:00Z")).count(), 1);
        assert_eq!(c.next_open(at("2026-11-20T17:00:00Z")), Some(at("2026-11-23T08:00:00Z")));
        assert_eq!(c.next_open(at("2026-11-23T08:00:00Z")), Some(at("2026-11-23T08:00:00Z")));
    }

    #[test]
    fn a_weekly_window_and_a_holiday_that_touch_are_one_period() {
        let c = calendar(&["FRI 16:00 - MON 08:00 UTC", "2026-12-21 08:00 - 2026-12-23 00:00 UTC"], &[]);
        let p = c.closed_at(at("2026-12-19T12:00:00Z")).unwrap();
        assert_eq!(p.until, at("2026-12-23T00:00:00Z"));
        assert_eq!(p.reasons(), ["FRI 16:00 - MON 08:00 UTC", "2026-12-21 08:00 - 2026-12-23 00:00 UTC"]);
        // A yearly window across the year end, chained to the weekends on both sides.
        let c = calendar(&["FRI 16:00 - MON 08:00 UTC", "12-21 08:00 - 01-04 08:00 UTC"], &[]);
        assert_eq!(c.closed_at(at("2026-12-31T12:00:00Z")).unwrap().from, at("2026-12-18T16:00:00Z"));
        assert_eq!(c.next_open(at("2026-12-31T12:00:00Z")), Some(at("2027-01-04T08:00:00Z")));
    }

    #[test]
    fn outside_deploy_windows_is_closed_and_merges_with_freezes() {
        let c = calendar(&["2026-12-10 12:00 - 2026-12-10 18:00 UTC"], &["MON-THU 09:00 - 16:00 UTC"]);
        assert!(c.closed_at(at("2026-12-08T10:00:00Z")).is_none());
        // Thursday 10 Dec: frozen from 12:00, then outside the windows until Monday.
        let p = c.closed_at(at("2026-12-10T13:00:00Z")).unwrap();
        assert_eq!((p.from, p.until), (at("2026-12-10T12:00:00Z"), at("2026-12-14T09:00:00Z")));
        assert_eq!(p.reasons().len(), 2);
        assert!(p.reasons()[1].starts_with("outside its deploy windows"), "{:?}", p.reasons());
        let week = c.periods(at("2026-12-07T00:00:00Z"), at("2026-12-14T00:00:00Z"));
        let spans: Vec<_> = week.iter().map(|p| (p.from, p.until)).collect();
        assert_eq!(spans.len(), 5, "{spans:?}");
        // The first began before the range, the last ends after it: both whole.
        assert_eq!(spans[0], (at("2026-12-03T16:00:00Z"), at("2026-12-07T09:00:00Z")));
        assert_eq!(spans[4], (at("2026-12-10T12:00:00Z"), at("2026-12-14T09:00:00Z")));
    }

    #[test]
    fn a_calendar_closed_for_good_says_how_far_it_looked() {
        let c = calendar(&["WED 10:00 - WED 09:00 UTC", "WED 09:00 - WED 10:00 UTC"], &[]);
        let p = c.closed_at(at("2026-12-08T10:00:00Z")).unwrap();
        assert!(p.open_ended);
        assert!(p.until >= at("2026-12-08T10:00:00Z") + LOOK_AHEAD);
        assert_eq!(c.next_open(at("2026-12-08T10:00:00Z")), None);
    }
}
