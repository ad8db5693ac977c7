//! When a window is in force, as instants.
//!
//! Wall-clock times that a DST change makes ambiguous or skips are resolved so
//! that closed time is never shorter than written. For a window that closes
//! (a freeze): a start that happens twice is the earlier instant, an end that
//! happens twice the later one. For a window that opens (a deploy window) it
//! is the other way round: the later start, the earlier end. A time the clocks
//! jump over is the moment they jump, either way.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Kind, Window};

/// The occurrence of a window a moment falls in.
#[derive(Debug, Clone, PartialEq)]
pub struct Frozen {
    pub window: String,
    pub started: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    /// The end on the window's own wall clock, e.g. `Mon 2026-10-26 08:00 GMT`.
    pub ends_local: String,
}

/// How a window's wall-clock times become instants (see the module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    /// A freeze: closed time is never shorter than written.
    Closes,
    /// A deploy window: open time is never longer than written.
    Opens,
}

/// The instant of a wall-clock time in `tz`: of two, the earlier when
/// `earliest`; of none, the moment the clocks jump.
fn instant(tz: &Tz, t: NaiveDateTime, earliest: bool) -> DateTime<Utc> {
    let mut probe = t;
    for _ in 0..=24 * 60 {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(d) => return d.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => {
                let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                return if earliest { a.min(b) } else { a.max(b) };
            }
            // Skipped by the clocks: the first wall-clock minute that exists is the jump.
            LocalResult::None => probe += Duration::minutes(1),
        }
    }
    t.and_utc()
}

/// Local dates from `days_before` days before `from`'s date to `to`'s date.
fn dates(tz: &Tz, from: DateTime<Utc>, to: DateTime<Utc>, days_before: i64) -> impl Iterator<Item = NaiveDate> {
    let first = from.with_timezone(tz).date_naive() - Duration::days(days_before);
    let last = to.with_timezone(tz).date_naive();
    first.iter_days().take_while(move |d| *d <= last)
}

impl Window {
    /// The wall-clock starts and ends of every occurrence that may overlap
    /// `[from, to)` (and a few that do not).
    fn local_occurrences(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(NaiveDateTime, NaiveDateTime)> {
        let tz = &self.tz;
        match &self.kind {
            Kind::Once { start, end } => vec![(*start, *end)],
            Kind::Weekly { start: (sd, st), end: (ed, et) } => {
                let mut days = (ed.num_days_from_monday() as i64 - sd.num_days_from_monday() as i64).rem_euclid(7);
                if days == 0 && et <= st {
                    days = 7;
                }
                dates(tz, from, to, 7)
                    .filter(|d| d.weekday() == *sd)
                    .map(|d| (d.and_time(*st), (d + Duration::days(days)).and_time(*et)))
                    .collect()
            }
            Kind::Daily { days, start, end } => {
                let next = if end > start { 0 } else { 1 };
                dates(tz, from, to, 1)
                    .filter(|d| days.contains(&d.weekday()))
                    .map(|d| (d.and_time(*start), (d + Duration::days(next)).and_time(*end)))
                    .collect()
            }
            Kind::Yearly { start: (sd, st), end: (ed, et) } => {
                let wraps = (ed, et) <= (sd, st);
                let (y0, y1) = (from.with_timezone(tz).year() - 1, to.with_timezone(tz).year());
                (y0..=y1)
                    .filter_map(|y| {
                        let s = NaiveDate::from_ymd_opt(y, sd.month, sd.day)?;
                        let e = NaiveDate::from_ymd_opt(if wraps { y + 1 } else { y }, ed.month, ed.day)?;
                        Some((s.and_time(*st), e.and_time(*et)))
                    })
                    .collect()
            }
        }
    }

    /// Every occurrence overlapping `[from, to)`, as instants, in order.
    pub fn occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        sense: Sense,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let closes = sense == Sense::Closes;
        let mut out: Vec<_> = self
            .local_occurrences(from, to)
            .into_iter()
            .map(|(s, e)| (instant(&self.tz, s, closes), instant(&self.tz, e, !closes)))
            .filter(|(s, e)| s < e && *s < to && *e > from)
            .collect();
        out.sort();
        out
    }

    /// The occurrence (as a freeze) `now` falls in, if any.
    pub fn frozen_at(&self, now: DateTime<Utc>) -> Option<Frozen> {
        let (started, ends) = self.occurrences(now, now + Duration::seconds(1), Sense::Closes).pop()?;
        (started <= now).then(|| Frozen { window: self.text.clone(), started, ends, ends_local: self.local(ends) })
    }

    /// `t` on the window's own wall clock: `Mon 2026-10-26 08:00 GMT`.
    pub fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%a %Y-%m-%d %H:%M %Z").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn inside(window: &str, now: &str) -> bool {
        parse(window).unwrap().frozen_at(at(now)).is_some()
    }

    #[test]
    fn weekly_window_follows_london_wall_clock_across_the_october_change() {
        let w = "FRI 16:00 - MON 08:00 Europe/London";
        // Friday 23 Oct 2026 is still BST (UTC+1): 16:00 local is 15:00 UTC.
        assert!(!inside(w, "2026-10-23T14:59:59Z"));
        assert!(inside(w, "2026-10-23T15:00:00Z"));
        // Clocks go back on Sunday 25 Oct; Monday 08:00 GMT is 08:00 UTC.
        assert!(inside(w, "2026-10-26T07:59:59Z"));
        assert!(!inside(w, "2026-10-26T08:00:00Z"));
        // A week earlier, all in BST: Monday 08:00 local is 07:00 UTC.
        assert!(!inside(w, "2026-10-19T07:30:00Z"));
        let f = parse(w).unwrap().frozen_at(at("2026-10-24T12:00:00Z")).unwrap();
        assert_eq!(f.ends, at("2026-10-26T08:00:00Z"));
        assert_eq!(f.ends_local, "Mon 2026-10-26 08:00 GMT");
        assert_eq!(f.started, at("2026-10-23T15:00:00Z"));
    }

    #[test]
    fn an_end_the_clocks_skip_is_the_moment_they_jump() {
        // 29 Mar 2026: London jumps from 01:00 GMT to 02:00 BST (01:00 UTC).
        let w = "SAT 22:00 - SUN 01:30 Europe/London";
        assert!(inside(w, "2026-03-29T00:59:59Z"));
        assert!(!inside(w, "2026-03-29T01:00:00Z"));
    }

    #[test]
    fn an_ambiguous_start_is_the_earlier_instant_and_end_the_later() {
        // 25 Oct 2026: 01:00–02:00 London happens twice (00:xx UTC BST, 01:xx UTC GMT).
        let w = "SUN 01:30 - SUN 01:45 Europe/London";
        assert!(!inside(w, "2026-10-25T00:29:59Z"));
        assert!(inside(w, "2026-10-25T00:30:00Z"));
        assert!(inside(w, "2026-10-25T01:44:59Z"));
        assert!(!inside(w, "2026-10-25T01:45:00Z"));
    }

    #[test]
    fn an_opening_window_resolves_a_fold_the_other_way() {
        // As a deploy window, 01:30–01:45 on the day London repeats 01:xx is
        // open only while both readings agree it is: 01:30 GMT to 01:45 BST,
        // which is no time at all, so there is no occurrence.
        let w = parse("SUN 01:30 - SUN 01:45 Europe/London").unwrap();
        let day = (at("2026-10-25T00:00:00Z"), at("2026-10-25T03:00:00Z"));
        assert!(w.occurrences(day.0, day.1, Sense::Opens).is_empty());
        // An end in the fold: the earlier reading when opening, the later when closing.
        let w = parse("SUN 00:30 - SUN 01:30 Europe/London").unwrap();
        let (opens, closes) = (w.occurrences(day.0, day.1, Sense::Opens), w.occurrences(day.0, day.1, Sense::Closes));
        assert_eq!(opens, [(at("2026-10-24T23:30:00Z"), at("2026-10-25T00:30:00Z"))]);
        assert_eq!(closes, [(at("2026-10-24T23:30:00Z"), at("2026-10-25T01:30:00Z"))]);
    }

    #[test]
    fn new_york_spring_forward() {
        // 8 Mar 2026: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        let w = "sat 20:00 - sun 02:30 America/New_York";
        assert!(inside(w, "2026-03-08T06:59:00Z"));
        assert!(!inside(w, "2026-03-08T07:00:00Z"));
    }

    #[test]
    fn one_off_window() {
        let w = "2026-12-24 00:00 - 2026-12-27 00:00 Europe/London";
        assert!(!inside(w, "2026-12-23T23:59:59Z"));
        assert!(inside(w, "2026-12-24T00:00:00Z"));
        assert!(!inside(w, "2026-12-27T00:00:00Z"));
        assert!(!inside(w, "2027-12-25T00:00:00Z"));
    }

    #[test]
    fn a_window_within_one_day_and_a_whole_week_wrap() {
        assert!(inside("WED 09:00 - WED 10:00 UTC", "2026-11-18T09:30:00Z"));
        assert!(!inside("WED 09:00 - WED 10:00 UTC", "2026-11-25T10:30:00Z"));
        // Ends before it starts on the same day: it wraps around the week.
        assert!(inside("WED 10:00 - WED 09:00 UTC", "2026-11-21T12:00:00Z"));
        assert!(!inside("WED 10:00 - WED 09:00 UTC", "2026-11-25T09:30:00Z"));
    }

    #[test]
    fn yearly_windows_recur_and_may_wrap_the_year_end() {
        let w = "12-20 00:00 - 01-04 08:00 UTC";
        assert!(inside(w, "2026-12-31T23:59:59Z"));
        assert!(inside(w, "2027-01-04T07:59:59Z"));
        assert!(!inside(w, "2027-01-04T08:00:00Z"));
        assert!(inside(w, "2031-01-01T00:00:00Z"));
        assert!(!inside(w, "2027-12-19T23:59:59Z"));
        let f = parse(w).unwrap().frozen_at(at("2027-01-02T00:00:00Z")).unwrap();
        assert_eq!(f.started, at("2026-12-20T00:00:00Z"));
        // In its own zone: 24 Dec London is GMT, 24 Jun would be BST.
        assert!(inside("06-24 00:00 - 06-25 00:00 Europe/London", "2027-06-23T23:30:00Z"));
    }

    #[test]
    fn daily_windows_hold_on_their_days_and_may_run_past_midnight() {
        let w = "MON-THU 09:00 - 16:00 UTC";
        assert!(inside(w, "2026-12-10T15:59:59Z")); // Thursday
        assert!(!inside(w, "2026-12-11T10:00:00Z")); // Friday
        assert!(inside("FRI 22:00 - 06:00 UTC", "2026-12-12T05:00:00Z"));
        assert!(!inside("FRI 22:00 - 06:00 UTC", "2026-12-13T05:00:00Z"));
    }
}
