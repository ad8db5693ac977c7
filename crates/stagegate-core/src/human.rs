//! Values in the units people read: times in RFC 3339 UTC with `Z`, ages
//! ("2 h ago"), sizes ("200 MiB"). A leaf module.

use chrono::{DateTime, SecondsFormat, Utc};

/// `2026-12-01T14:03:07Z`: the one way stagegate writes a time.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// [`timestamp`] for `#[serde(serialize_with = "…")]`.
pub fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&timestamp(*t))
}

/// [`timestamp`] of an optional time (`null` when absent), for serde.
pub fn rfc3339_opt<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&timestamp(*t)),
        None => s.serialize_none(),
    }
}

/// How long before `now` `t` was: `just now`, `42 s ago`, `5 min ago`,
/// `3 h ago`, `2 d ago`; a time after `now` is `in 5 min`.
pub fn age(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let secs = now.signed_duration_since(t).num_seconds();
    let span = span(secs.unsigned_abs());
    match secs {
        -4..=4 => "just now".to_string(),
        s if s < 0 => format!("in {span}"),
        _ => format!("{span} ago"),
    }
}

fn span(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// A time for a table: `2026-12-01 14:03Z (2 h ago)`.
pub fn when(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    format!("{} ({})", t.format("%Y-%m-%d %H:%MZ"), age(now, t))
}

/// Bytes in binary units: `812 B`, `1.5 KiB`, `200 MiB`, `1.0 GiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ages_read_as_people_say_them() {
        let now = t("2026-12-01T16:00:00Z");
        assert_eq!(age(now, t("2026-12-01T16:00:02Z")), "just now");
        assert_eq!(age(now, t("2026-12-01T15:59:18Z")), "42 s ago");
        assert_eq!(age(now, t("2026-12-01T15:55:00Z")), "5 min ago");
        assert_eq!(age(now, t("2026-12-01T13:30:00Z")), "2 h ago");
        assert_eq!(age(now, t("2026-11-28T16:00:00Z")), "3 d ago");
        assert_eq!(age(now, t("2026-12-01T16:05:00Z")), "in 5 min");
        assert_eq!(when(now, t("2026-12-01T14:03:07Z")), "2026-12-01 14:03Z (1 h ago)");
        assert_eq!(timestamp(t("2026-12-01T14:03:07.5+01:00")), "2026-12-01T13:03:07Z");
    }

    #[test]
    fn documents_carry_times_to_the_second_in_utc() {
        #[derive(serde::Serialize)]
        struct Doc {
            #[serde(serialize_with = "rfc3339")]
            at: DateTime<Utc>,
            #[serde(serialize_with = "rfc3339_opt")]
            opens_at: Option<DateTime<Utc>>,
        }
        let doc = Doc { at: t("2026-12-01T14:03:07.123456+01:00"), opens_at: None };
        assert_eq!(serde_json::to_string(&doc).unwrap(), r#"{"at":"2026-12-01T13:03:07Z","opens_at":null}"#);
    }

    #[test]
    fn sizes_are_in_binary_units() {
        assert_eq!(size(812), "812 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(200 * 1024 * 1024), "200 MiB");
        assert_eq!(size(1024 * 1024 * 1024), "1 GiB");
        assert_eq!(size(1_610_612_736), "1.5 GiB");
    }
}
