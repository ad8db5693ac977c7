//! Calendar windows, as written in a config: weekly
//! (`"FRI 16:00 - MON 08:00 Europe/London"`), once
//! (`"2026-12-24 00:00 - 2026-12-27 00:00 Europe/London"`), yearly
//! (`"12-24 00:00 - 12-27 00:00 Europe/London"`, may wrap the year end) and
//! daily on some weekdays (`"MON-THU 09:00 - 16:00 Europe/London"`, ends the
//! next day when it ends before it starts). Each is evaluated in its own time
//! zone, so "Friday 16:00" stays 16:00 on the wall clock across
//! daylight-saving changes (see [`occurs`] for gaps and folds).
//!
//! February 29 is refused in a yearly window: three years in four it does not
//! exist, and any day chosen for it instead would be a guess.
//!
//! A leaf: this module imports nothing from the rest of the crate, so the
//! config holds parsed windows (`config::Environment::freeze`).

mod occurs;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use chrono_tz::Tz;

pub use occurs::{Frozen, Sense};

/// A parsed window.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub text: String,
    pub tz: Tz,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Weekly {
        start: (Weekday, NaiveTime),
        end: (Weekday, NaiveTime),
    },
    Once {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    Yearly {
        start: (MonthDay, NaiveTime),
        end: (MonthDay, NaiveTime),
    },
    /// From `start` to `end` on each of `days` (to `end` the next day when
    /// `end` is not after `start`).
    Daily {
        days: Vec<Weekday>,
        start: NaiveTime,
        end: NaiveTime,
    },
}

/// A day of every year (never February 29).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
}

/// A problem in a window's text, at a byte range of it (for a config span).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

const SHAPE: &str = "write `DAY HH:MM - DAY HH:MM ZONE` (weekly), `YYYY-MM-DD HH:MM - YYYY-MM-DD HH:MM ZONE` (once), `MM-DD HH:MM - MM-DD HH:MM ZONE` (yearly) or `MON-THU HH:MM - HH:MM ZONE` (daily on those days)";

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

/// `MON`, `MON-THU` (a range, which may wrap the week: `FRI-MON`),
/// `MON,WED,FRI`, a mix of both, or `DAILY`.
fn weekdays((offset, word): (usize, &str)) -> Result<Vec<Weekday>, ParseError> {
    if word.eq_ignore_ascii_case("daily") {
        return Ok((0..7).map(|i| Weekday::try_from(i).expect("0..7 is a weekday")).collect());
    }
    let mut days = Vec::new();
    let mut at = offset;
    for part in word.split(',') {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (weekday((at, a))?, weekday((at + a.len() + 1, b))?),
            None => {
                let d = weekday((at, part))?;
                (d, d)
            }
        };
        let mut d = first;
        loop {
            if !days.contains(&d) {
                days.push(d);
            }
            if d == last {
                break;
            }
            d = d.succ();
        }
        at += part.len() + 1;
    }
    Ok(days)
}

fn time(w: (usize, &str)) -> Result<NaiveTime, ParseError> {
    NaiveTime::parse_from_str(w.1, "%H:%M").map_err(|_| err(w, format!("`{}` is not a time: use HH:MM (24 h)", w.1)))
}

fn date(w: (usize, &str)) -> Result<NaiveDate, ParseError> {
    NaiveDate::parse_from_str(w.1, "%Y-%m-%d").map_err(|_| err(w, format!("`{}` is not a date: use YYYY-MM-DD", w.1)))
}

fn month_day(w: (usize, &str)) -> Result<MonthDay, ParseError> {
    let bad = || err(w, format!("`{}` is not a month and day: use MM-DD, e.g. 12-24", w.1));
    let (m, d) = w.1.split_once('-').ok_or_else(bad)?;
    let number = |s: &str| (1..=2).contains(&s.len()).then(|| s.parse::<u32>().ok()).flatten();
    let (month, day) = (number(m).ok_or_else(bad)?, number(d).ok_or_else(bad)?);
    if (month, day) == (2, 29) {
        return Err(err(
            w,
            "a yearly window cannot start or end on 02-29, which most years do not have: use 02-28 or 03-01, or a one-off window (YYYY-MM-DD) in a leap year",
        ));
    }
    // 2001 has no February 29, so this also refuses it.
    NaiveDate::from_ymd_opt(2001, month, day).ok_or_else(bad)?;
    Ok(MonthDay { month, day })
}

fn zone(w: (usize, &str)) -> Result<Tz, ParseError> {
    w.1.parse()
        .map_err(|_| err(w, format!("unknown time zone `{}`: use an IANA name such as Europe/London or UTC", w.1)))
}

enum Point {
    Day(Weekday, NaiveTime),
    At(NaiveDateTime),
    Yearly(MonthDay, NaiveTime),
}

fn point(day: (usize, &str), at: (usize, &str)) -> Result<Point, ParseError> {
    let t = time(at)?;
    if !day.1.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        Ok(Point::Day(weekday(day)?, t))
    } else if day.1.matches('-').count() == 1 {
        Ok(Point::Yearly(month_day(day)?, t))
    } else {
        Ok(Point::At(date(day)?.and_time(t)))
    }
}

fn is_dash(w: Option<&(usize, &str)>) -> bool {
    w.is_some_and(|w| matches!(w.1, "-" | "–"))
}

/// `DAYS HH:MM - HH:MM ZONE`: daily on those days.
fn daily(text: &str, w: &[(usize, &str)]) -> Result<Window, ParseError> {
    let Some(&z) = w.get(4) else {
        let message = format!("the window has no time zone; {SHAPE}");
        return Err(ParseError { offset: 0, len: text.len().max(1), message });
    };
    let tz = zone(z)?;
    let (days, start, end) = (weekdays(w[0])?, time(w[1])?, time(w[3])?);
    if start == end {
        return Err(err(w[3], "the window ends when it starts"));
    }
    Ok(Window { text: text.to_owned(), tz, kind: Kind::Daily { days, start, end } })
}

/// Parses one window; the error points at the word that is wrong.
pub fn parse(text: &str) -> Result<Window, ParseError> {
    let w = words(text);
    let whole = ParseError { offset: 0, len: text.len().max(1), message: String::new() };
    if (4..=5).contains(&w.len()) && is_dash(w.get(2)) && time(w[3]).is_ok() {
        return daily(text, &w);
    }
    if w.len() == 5 && is_dash(w.get(2)) && w[4].1.contains(':') {
        return Err(ParseError { message: format!("the window has no time zone; {SHAPE}"), ..whole });
    }
    if w.len() != 6 || !is_dash(w.get(2)) {
        return Err(ParseError { message: format!("`{text}` is not a window; {SHAPE}"), ..whole });
    }
    let tz = zone(w[5])?;
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
        (Point::Yearly(sd, st), Point::Yearly(ed, et)) => {
            if sd == ed && st == et {
                return Err(err(w[3], "the window ends when it starts"));
            }
            Kind::Yearly { start: (sd, st), end: (ed, et) }
        }
        _ => {
            return Err(err(w[3], format!("a window starts and ends in the same form; {SHAPE}")));
        }
    };
    Ok(Window { text: text.to_owned(), tz, kind })
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_parse_into_their_kinds() {
        let kind = |t: &str| parse(t).unwrap().kind;
        assert!(matches!(kind("FRI 16:00 - MON 08:00 Europe/London"), Kind::Weekly { .. }));
        assert!(matches!(kind("2026-12-24 00:00 - 2026-12-27 00:00 UTC"), Kind::Once { .. }));
        let Kind::Yearly { start, end } = kind("12-20 00:00 - 01-04 08:00 UTC") else { panic!() };
        assert_eq!((start.0, end.0), (MonthDay { month: 12, day: 20 }, MonthDay { month: 1, day: 4 }));
        let Kind::Daily { days, .. } = kind("MON-THU 09:00 - 16:00 Europe/London") else { panic!() };
        assert_eq!(days, [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu]);
        let Kind::Daily { days, .. } = kind("fri-mon,wed 22:00 - 06:00 UTC") else { panic!() };
        assert_eq!(days, [Weekday::Fri, Weekday::Sat, Weekday::Sun, Weekday::Mon, Weekday::Wed]);
        let Kind::Daily { days, .. } = kind("daily 12:00 - 13:00 UTC") else { panic!() };
        assert_eq!(days.len(), 7);
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
        assert!(parse("MON-THU 09:00 - 16:00").unwrap_err().message.contains("no time zone"));
        assert!(parse("2026-12-27 00:00 - 2026-12-24 00:00 UTC").unwrap_err().message.contains("before it starts"));
        assert!(parse("FRI 16:00 - 2026-12-24 00:00 UTC").unwrap_err().message.contains("same form"));
        assert!(parse("12-24 00:00 - 2026-12-27 00:00 UTC").unwrap_err().message.contains("same form"));
        assert!(parse("whenever").is_err());
        assert!(parse("2026-02-30 00:00 - 2026-03-01 00:00 UTC").unwrap_err().message.contains("not a date"));
        let e = parse("MON-THX 09:00 - 16:00 UTC").unwrap_err();
        assert_eq!((e.offset, e.len), (4, 3));
        assert!(e.message.contains("`THX` is not a day"), "{}", e.message);
        let e = parse("12-24 00:00 - 13-01 00:00 UTC").unwrap_err();
        assert_eq!((e.offset, e.len), (14, 5));
        assert!(e.message.contains("not a month and day"), "{}", e.message);
        assert!(parse("02-29 00:00 - 03-01 00:00 UTC").unwrap_err().message.contains("02-29"));
        assert!(parse("12-24 10:00 - 12-24 10:00 UTC").unwrap_err().message.contains("ends when it starts"));
        assert!(parse("MON 10:00 - 10:00 UTC").unwrap_err().message.contains("ends when it starts"));
    }
}
