//! Freeze windows: `"FRI 16:00 - MON 08:00 Europe/London"` (every week) and
//! `"2026-12-24 00:00 - 2026-12-27 00:00 Europe/London"` (once), evaluated in
//! their own time zone, so "Friday 16:00" stays 16:00 on the wall clock across
//! daylight-saving changes.
//!
//! Wall-clock times that a DST change makes ambiguous or skips are resolved so
//! that the freeze is never shorter than written: a start that happens twice
//! is the earlier instant, an end that happens twice the later one, and a time
//! the clocks jump over is the moment they jump.
//!
//! A leaf: this module imports nothing from the rest of the crate, so the
//! config holds parsed windows (`config::Environment::freeze`).

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// A parsed freeze window.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub text: String,
    pub tz: Tz,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Weekly { start: (Weekday, NaiveTime), end: (Weekday, NaiveTime) },
    Once { start: NaiveDateTime, end: NaiveDateTime },
}

/// A problem in a window's text, at a byte range of it (for a config span).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

/// The window a moment falls in, and when it ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Frozen {
    pub window: String,
    pub started: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    /// The end on the window's own wall clock, e.g. `Mon 2026-10-26 08:00 GMT`.
    pub ends_local: String,
}

const SHAPE: &str = "write `DAY HH:MM - DAY HH:MM ZONE` (weekly) or `YYYY-MM-DD HH:MM - YYYY-MM-DD HH:MM ZONE` (once)";

/// Whitespace-separated words with their byte offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

fn err((offset, word): (usize, &str), message: impl Into<String>) -> ParseError {
    ParseError { offset, len: word.len().max(1), message: message.into() }
}

fn weekday(w: (usize, &str)) -> Result<Weekday, ParseError> {
    let lower = w.1.to_ascii_lowercase();
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let full = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    days.iter()
        .zip(full)
        .position(|(d, f)| lower == *d || lower == f)
        .map(|i| Weekday::try_from(i as u8).expect("0..7 is a weekday"))
        .ok_or_else(|| err(w, format!("`{}` is not a day: use MON, TUE, WED, THU, FRI, SAT or SUN", w.1)))
}

fn time(w: (usize, &str)) -> Result<NaiveTime, ParseError> {
    NaiveTime::parse_from_str(w.1, "%H:%M").map_err(|_| err(w, format!("`{}` is not a time: use HH:MM (24 h)", w.1)))
}

fn date(w: (usize, &str)) -> Result<NaiveDate, ParseError> {
    NaiveDate::parse_from_str(w.1, "%Y-%m-%d").map_err(|_| err(w, format!("`{}` is not a date: use YYYY-MM-DD", w.1)))
}

enum Point {
    Day(Weekday, NaiveTime),
    At(NaiveDateTime),
}

fn point(day: (usize, &str), at: (usize, &str)) -> Result<Point, ParseError> {
    let t = time(at)?;
    if day.1.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        Ok(Point::At(date(day)?.and_time(t)))
    } else {
        Ok(Point::Day(weekday(day)?, t))
    }
}

/// Parses one window; the error points at the word that is wrong.
pub fn parse(text: &str) -> Result<Window, ParseError> {
    let w = words(text);
    let whole = ParseError { offset: 0, len: text.len().max(1), message: String::new() };
    if w.len() == 5 && w[2].1 == "-" && w[4].1.contains(':') {
        return Err(ParseError { message: format!("the window has no time zone; {SHAPE}"), ..whole });
    }
    if w.len() != 6 || !matches!(w[2].1, "-" | "–") {
        return Err(ParseError { message: format!("`{text}` is not a freeze window; {SHAPE}"), ..whole });
    }
    let tz: Tz = w[5].1.parse().map_err(|_| {
        err(w[5], format!("unknown time zone `{}`: use an IANA name such as Europe/London or UTC", w[5].1))
    })?;
    let kind = match (point(w[0], w[1])?, point(w[3], w[4])?) {
        (Point::Day(sd, st), Point::Day(ed, et)) => {
            if sd == ed && st == et {
                return Err(err(w[3], "the window ends when it starts"));
            }
            Kind::Weekly { start: (sd, st), end: (ed, et) }
        }
        (Point::At(start), Point::At(end)) => {
            if end <= start {
                return Err(err(w[3], "the window ends before it starts"));
            }
            Kind::Once { start, end }
        }
        _ => {
            return Err(err(w[3], format!("a window is either weekly (days) or once (dates), not both; {SHAPE}")));
        }
    };
    Ok(Window { text: text.to_owned(), tz, kind })
}

/// The instant of a wall-clock time in `tz`, resolved as the module says.
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

impl Window {
    /// The freeze `now` falls in, if any.
    pub fn frozen_at(&self, now: DateTime<Utc>) -> Option<Frozen> {
        let (start, end) = match &self.kind {
            Kind::Once { start, end } => (instant(&self.tz, *start, true), instant(&self.tz, *end, false)),
            Kind::Weekly { start: (sd, st), end: (ed, et) } => {
                let today = now.with_timezone(&self.tz).date_naive();
                // The latest start at or before now, then the first end after it.
                let (start_day, start) = (0..=7)
                    .map(|back| today - Duration::days(back))
                    .filter(|d| d.weekday() == *sd)
                    .map(|d| (d, instant(&self.tz, d.and_time(*st), true)))
                    .find(|(_, s)| *s <= now)?;
                let mut days = (ed.num_days_from_monday() as i64 - sd.num_days_from_monday() as i64).rem_euclid(7);
                if days == 0 && et <= st {
                    days = 7;
                }
                (start, instant(&self.tz, (start_day + Duration::days(days)).and_time(*et), false))
            }
        };
        (start <= now && now < end).then(|| Frozen {
            window: self.text.clone(),
            started: start,
            ends: end,
            ends_local: end.with_timezone(&self.tz).format("%a %Y-%m-%d %H:%M %Z").to_string(),
        })
    }
}

/// The freeze (of several windows) `now` falls in; when windows overlap, the
/// one that ends last, since that is when promotions may resume.
pub fn frozen<'w>(windows: impl IntoIterator<Item = &'w Window>, now: DateTime<Utc>) -> Option<Frozen> {
    windows.into_iter().filter_map(|w| w.frozen_at(now)).max_by_key(|f| f.ends)
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
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
    fn overlapping_windows_report_the_last_end() {
        let ws: Vec<Window> =
            ["FRI 16:00 - SAT 08:00 UTC", "FRI 18:00 - MON 08:00 UTC"].iter().map(|w| parse(w).unwrap()).collect();
        assert_eq!(frozen(&ws, at("2026-11-20T19:00:00Z")).unwrap().ends, at("2026-11-23T08:00:00Z"));
    }

    #[test]
    fn errors_point_at_the_wrong_word() {
        let e = parse("FRY 16:00 - MON 08:00 Europe/London").unwrap_err();
        assert_eq!((e.offset, e.len), (0, 3));
        let e = parse("FRI 16:00 - MON 8h Europe/London").unwrap_err();
        assert_eq!((e.offset, e.len), (16, 2));
        let e = parse("FRI 16:00 - MON 08:00 Europe/Lundon").unwrap_err();
        assert!(e.message.contains("unknown time zone"), "{}", e.message);
        assert_eq!(e.offset, 22);
        assert!(parse("FRI 16:00 - MON 08:00").unwrap_err().message.contains("no time zone"));
        assert!(parse("2026-12-27 00:00 - 2026-12-24 00:00 UTC").unwrap_err().message.contains("before it starts"));
        assert!(parse("FRI 16:00 - 2026-12-24 00:00 UTC").unwrap_err().message.contains("not both"));
        assert!(parse("whenever").is_err());
        assert!(parse("2026-02-30 00:00 - 2026-03-01 00:00 UTC").unwrap_err().message.contains("not a date"));
    }
}
