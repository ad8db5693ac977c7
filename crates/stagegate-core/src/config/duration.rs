//! Durations as people write them in config: `30s`, `5m`, `1h`, `1h30m`, `2d`.

use std::time::Duration;

/// The longest duration any setting may have (ten years): beyond it, time
/// arithmetic on dates would overflow. Each setting has a tighter bound, see
/// [`Bound`].
pub const MAX: Duration = Duration::from_secs(3650 * 86_400);

/// How long one setting may be, and whether zero makes sense for it.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub max: Duration,
    pub zero_ok: bool,
}

/// Wait timers: GitHub caps them at 30 days; zero means none.
pub const WAIT_TIMER: Bound = Bound { max: Duration::from_secs(30 * 86_400), zero_ok: true };
/// Soak: at most a year; zero means none.
pub const SOAK: Bound = Bound { max: Duration::from_secs(365 * 86_400), zero_ok: true };
/// Timeouts (startup, health check, hook): more than zero (a zero timeout
/// fails every run), at most a day.
pub const TIMEOUT: Bound = Bound { max: Duration::from_secs(86_400), zero_ok: false };

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum ParseError {
    #[error("empty duration")]
    #[diagnostic(help("write a number with a unit, e.g. 30s, 5m, 1h or 1h30m"))]
    Empty,
    #[error("unexpected `{0}`")]
    #[diagnostic(help("units are s, m, h and d, e.g. 1h30m"))]
    Unexpected(char),
    #[error("`{0}` has no number before it")]
    #[diagnostic(help("write the number before its unit, e.g. 5m"))]
    NoNumber(char),
    #[error("number too large")]
    #[diagnostic(help("durations are at most {}", format(MAX)))]
    NumberTooLarge,
    #[error("duration too large")]
    #[diagnostic(help("durations are at most {}", format(MAX)))]
    TooLarge,
    #[error("`{0}` at the end has no unit")]
    #[diagnostic(help("end with a unit: s, m, h or d"))]
    TrailingNumber(String),
    #[error("a number needs a unit: s, m, h or d")]
    #[diagnostic(help("`30` could mean seconds or minutes: write 30s or 30m"))]
    NoUnit,
    #[error("longer than the longest duration stagegate accepts ({})", format(MAX))]
    #[diagnostic(help("durations are at most {}", format(MAX)))]
    OverMax,
}

/// Parses `30s`, `5m`, `1h30m`, `2d`. A bare number is refused: `30` could mean
/// seconds or minutes, and guessing wrong on a wait timer is not harmless.
pub fn parse(text: &str) -> Result<Duration, ParseError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut saw_unit = false;
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            ' ' if digits.is_empty() => continue,
            _ => return Err(ParseError::Unexpected(c)),
        };
        if digits.is_empty() {
            return Err(ParseError::NoNumber(c));
        }
        let n: u64 = digits.parse().map_err(|_| ParseError::NumberTooLarge)?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or(ParseError::TooLarge)?;
        digits.clear();
        saw_unit = true;
    }
    if !digits.is_empty() {
        return Err(if saw_unit { ParseError::TrailingNumber(digits) } else { ParseError::NoUnit });
    }
    let d = Duration::from_secs(total);
    if d > MAX {
        return Err(ParseError::OverMax);
    }
    Ok(d)
}

/// The shortest form that parses back to the same value (`90s` → `1m30s`).
pub fn format(d: Duration) -> String {
    let mut s = d.as_secs();
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= len {
            out.push_str(&format!("{}{unit}", s / len));
            s %= len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_people_write() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_ambiguous_or_broken_ones() {
        for bad in ["", "30", "m", "5x", "1h30", "-5m", "5 m m", "99999999999999999999s", "99999999d", "3651d"] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn says_what_is_wrong() {
        let msg = |s| parse(s).unwrap_err().to_string();
        assert_eq!(msg(" "), "empty duration");
        assert_eq!(msg("5x"), "unexpected `x`");
        assert_eq!(msg("m"), "`m` has no number before it");
        assert_eq!(msg("1h30"), "`30` at the end has no unit");
        assert_eq!(msg("30"), "a number needs a unit: s, m, h or d");
        assert_eq!(msg("99999999999999999999s"), "number too large");
        assert_eq!(msg("3651d"), "longer than the longest duration stagegate accepts (3650d)");
    }

    #[test]
    fn formats_round_trip() {
        for s in ["30s", "5m", "1h30m", "2d", "1d1h1m1s"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }
}
