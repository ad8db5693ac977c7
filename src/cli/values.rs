//! Parsers of command-line values (`value_parser = …`): durations, `--now`,
//! the token. Each refuses with an [`ArgError`], which clap prints with the
//! option's name.

use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use secrecy::SecretString;

use crate::config::duration;
use crate::run::waiting::MAX_WAIT;

/// Why a command-line value was refused.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ArgError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Duration(#[from] duration::ParseError),
    #[error("`{given}` is not between 1s and 6h (a GitHub-hosted job runs at most 6 hours)")]
    #[diagnostic(help("wait at most 6h, e.g. --wait 30m"))]
    Wait { given: String },
    #[error("{reason}: write RFC 3339, e.g. 2026-11-21T10:00:00Z")]
    #[diagnostic(help("e.g. 2026-11-21T10:00:00Z"))]
    Time { reason: chrono::ParseError },
    #[error("the time must be between 1970 and 9999")]
    #[diagnostic(help("e.g. 2026-11-21T10:00:00Z"))]
    TimeOutOfRange,
    #[error("`{given}` is not a KV location: use file://DIR or consul://HOST:PORT")]
    Kv { given: String },
    #[error("`{given}` is too short: at least {min} ({why})")]
    TooShort { given: String, min: String, why: &'static str },
}

/// A duration of at least `min` (`why` says what a shorter one would break):
/// a zero interval would spin, a stale timeout shorter than the claim's
/// heartbeat would take over live imports.
pub fn at_least(
    min: Duration,
    why: &'static str,
) -> impl Fn(&str) -> Result<Duration, ArgError> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let d = duration(s)?;
        if d < min {
            let min =
                if min < Duration::from_secs(1) { format!("{}ms", min.as_millis()) } else { duration::format(min) };
            return Err(ArgError::TooShort { given: s.to_owned(), min, why });
        }
        Ok(d)
    }
}

/// `file://DIR` or `consul://HOST:PORT`: where `serve` keeps its records.
pub fn kv_location(s: &str) -> Result<crate::config::KvLocation, ArgError> {
    crate::config::KvLocation::parse(s).map_err(|_| ArgError::Kv { given: s.to_owned() })
}

/// `250ms`, `30s`, `5m`, `1h` (and the other durations config takes).
pub fn duration(s: &str) -> Result<Duration, ArgError> {
    match s.strip_suffix("ms").map(str::parse::<u64>) {
        Some(Ok(ms)) => Ok(Duration::from_millis(ms)),
        _ => Ok(duration::parse(s)?),
    }
}

/// `promote --wait`: from 1s up to the longest a hosted job runs.
pub fn wait_duration(s: &str) -> Result<Duration, ArgError> {
    let d = duration(s)?;
    if d < Duration::from_secs(1) || d > MAX_WAIT {
        return Err(ArgError::Wait { given: s.to_owned() });
    }
    Ok(d)
}

/// `--now`: RFC 3339, between 1970 and 9999, so that every date computed from
/// it (freeze windows, wait timers, soak) stays representable.
pub fn instant(s: &str) -> Result<DateTime<Utc>, ArgError> {
    let t: DateTime<Utc> = s.parse().map_err(|reason| ArgError::Time { reason })?;
    if (1970..=9999).contains(&t.year()) { Ok(t) } else { Err(ArgError::TimeOutOfRange) }
}

/// `--since`/`--until`: a time (RFC 3339), a day (`2026-12-01`, its start
/// in UTC) or a span back from now (`30d`, `12h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    At(DateTime<Utc>),
    Ago(Duration),
}

impl Moment {
    /// The time it names, `now` being now.
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Moment::At(t) => t,
            Moment::Ago(d) => chrono::Duration::from_std(d)
                .ok()
                .and_then(|d| now.checked_sub_signed(d))
                .filter(|t| t.year() >= 1970)
                .unwrap_or(DateTime::UNIX_EPOCH),
        }
    }
}

/// Parses a [`Moment`].
pub fn moment(s: &str) -> Result<Moment, ArgError> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        return if (1970..=9999).contains(&t.year()) { Ok(Moment::At(t)) } else { Err(ArgError::TimeOutOfRange) };
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) && !s.contains(['-', ':']) {
        return Ok(Moment::Ago(duration(s)?));
    }
    instant(s).map(Moment::At)
}

/// The token, kept out of `Debug` output from the moment it is read.
pub fn secret(s: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_milliseconds_and_config_forms() {
        assert_eq!(duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(duration("30").unwrap_err().to_string(), "a number needs a unit: s, m, h or d");
    }

    #[test]
    fn waits_are_bounded_by_a_hosted_job() {
        assert_eq!(wait_duration("6h").unwrap(), MAX_WAIT);
        for bad in ["0s", "500ms", "7h"] {
            let e = wait_duration(bad).unwrap_err().to_string();
            assert_eq!(e, format!("`{bad}` is not between 1s and 6h (a GitHub-hosted job runs at most 6 hours)"));
        }
    }

    #[test]
    fn times_are_rfc3339_in_range() {
        assert!(instant("2026-11-21T10:00:00Z").is_ok());
        assert!(instant("tomorrow").unwrap_err().to_string().ends_with(": write RFC 3339, e.g. 2026-11-21T10:00:00Z"));
        assert_eq!(instant("0100-01-01T00:00:00Z").unwrap_err().to_string(), "the time must be between 1970 and 9999");
    }

    #[test]
    fn moments_are_times_days_or_spans_back() {
        let now: DateTime<Utc> = "2026-12-08T12:00:00Z".parse().unwrap();
        let at = |s: &str| moment(s).unwrap().resolve(now).to_rfc3339();
        assert_eq!(at("2026-12-01"), "2026-12-01T00:00:00+00:00");
        assert_eq!(at("2026-12-01T09:30:00Z"), "2026-12-01T09:30:00+00:00");
        assert_eq!(at("7d"), "2026-12-01T12:00:00+00:00");
        assert_eq!(at("1h30m"), "2026-12-08T10:30:00+00:00");
        assert!(moment("last week").is_err() && moment("30").is_err() && moment("0001-01-01").is_err());
        assert!(moment("99999999999d").is_err());
    }
}
