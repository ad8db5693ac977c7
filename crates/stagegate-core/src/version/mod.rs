//! Release versions: calver formats (calver.org tokens plus a per-day `BUILD`)
//! and semver, and the next version given the tags that already exist.

pub use crate::values::calver;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::{Release, Scheme};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bump {
    Major,
    Minor,
    Patch,
}

/// The next release: the git tag and the version it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Next {
    pub tag: String,
    pub version: String,
}

/// The tag-name prefix under which every tag of `date` starts, for
/// `git/matching-refs` (`26.11.21.` for `YY.0M.0D.BUILD`); for semver, the
/// configured tag prefix.
pub fn search_prefix(release: &Release, date: NaiveDate) -> String {
    match release.scheme {
        Scheme::Calver => format!("{}{}", release.tag_prefix, release.format.day_affixes(date).0),
        Scheme::Semver => release.tag_prefix.clone(),
    }
}

/// Why there is no next version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum NextError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Date(#[from] calver::DateError),
    #[error("the build counter overflowed")]
    #[diagnostic(help("a day has at most 4294967295 builds: delete stray tags of that day or use another date"))]
    BuildOverflow,
    #[error("the tag `{tag}` has the largest {field} version a semver field can hold: there is no next one")]
    #[diagnostic(help("delete the stray tag, or bump another field (--bump major|minor|patch)"))]
    SemverOverflow { tag: String, field: &'static str },
}

/// The next version after `existing` tags (names without `refs/tags/`).
/// Calver: `BUILD` = 1 + the highest build of the same day. Semver: the highest
/// valid semver tag (pre-releases ignored) bumped; `0.1.0` when there is none.
pub fn next(release: &Release, date: NaiveDate, bump: Bump, existing: &[String]) -> Result<Next, NextError> {
    let versions = existing.iter().filter_map(|t| t.strip_prefix(release.tag_prefix.as_str()));
    let version = match release.scheme {
        Scheme::Calver => {
            let f = &release.format;
            f.check_date(date)?;
            let build = versions.filter_map(|v| f.build_of(v, date)).max().unwrap_or(0);
            f.render(date, build.checked_add(1).ok_or(NextError::BuildOverflow)?)
        }
        Scheme::Semver => {
            let highest = versions.filter_map(|v| semver::Version::parse(v).ok()).filter(|v| v.pre.is_empty()).max();
            match highest {
                None => "0.1.0".to_string(),
                Some(v) => bumped(&release.tag_prefix, &v, bump)?,
            }
        }
    };
    Ok(Next { tag: format!("{}{version}", release.tag_prefix), version })
}

/// The newest of `existing` tags by version order (calver: the highest
/// `BUILD` of `date`, so `.10` is newer than `.9`; semver: the highest
/// release, pre-releases ignored); `None` when no tag is of that scheme
/// (and, for calver, of that day).
pub fn latest<'a>(release: &Release, date: NaiveDate, existing: &'a [String]) -> Option<&'a String> {
    let version = |t: &'a String| t.strip_prefix(release.tag_prefix.as_str()).map(|v| (t, v));
    match release.scheme {
        Scheme::Calver => existing
            .iter()
            .filter_map(version)
            .filter_map(|(t, v)| release.format.build_of(v, date).map(|b| (b, t)))
            .max()
            .map(|(_, t)| t),
        Scheme::Semver => existing
            .iter()
            .filter_map(version)
            .filter_map(|(t, v)| semver::Version::parse(v).ok().filter(|v| v.pre.is_empty()).map(|v| (v, t)))
            .max()
            .map(|(_, t)| t),
    }
}

/// `v` with one field raised by one and the lower ones zeroed; a field
/// already at `u64::MAX` (a tag anyone can push) has no next value.
fn bumped(prefix: &str, v: &semver::Version, bump: Bump) -> Result<String, NextError> {
    let overflow = |field| NextError::SemverOverflow { tag: format!("{prefix}{v}"), field };
    let (ma, mi, pa) = match bump {
        Bump::Major => (v.major.checked_add(1).ok_or_else(|| overflow("major"))?, 0, 0),
        Bump::Minor => (v.major, v.minor.checked_add(1).ok_or_else(|| overflow("minor"))?, 0),
        Bump::Patch => (v.major, v.minor, v.patch.checked_add(1).ok_or_else(|| overflow("patch"))?),
    };
    Ok(format!("{ma}.{mi}.{pa}"))
}

/// Whether a version has a zero-padded numeric field, which semver forbids.
pub fn not_semver(version: &str) -> bool {
    version
        .split(['.', '-', '+', '_'])
        .any(|p| p.len() > 1 && p.starts_with('0') && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Spanned;

    fn cal(format: &str, prefix: &str) -> Release {
        let format = Spanned::unplaced(calver::Format::parse(format).unwrap());
        Release { format, tag_prefix: prefix.into(), ..Release::default() }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_latest_tag_is_the_highest_version_not_the_last_string() {
        let r = cal("YY.0M.0D.BUILD", "");
        let t = tags(&["26.11.21.9", "26.11.21.10", "26.11.20.99", "other"]);
        assert_eq!(latest(&r, d(2026, 11, 21), &t).map(String::as_str), Some("26.11.21.10"));
        assert_eq!(latest(&r, d(2026, 11, 22), &t), None);
        let s = Release { scheme: Scheme::Semver, tag_prefix: "v".into(), ..Release::default() };
        let t = tags(&["v1.9.0", "v1.10.0", "v2.0.0-rc.1", "1.99.0"]);
        assert_eq!(latest(&s, d(2026, 11, 21), &t).map(String::as_str), Some("v1.10.0"));
    }

    #[test]
    fn calver_build_counts_per_day() {
        let r = cal("YY.0M.0D.BUILD", "");
        let day = d(2026, 11, 21);
        assert_eq!(next(&r, day, Bump::Patch, &[]).unwrap().tag, "26.11.21.1");
        let existing = tags(&["26.11.21.1", "26.11.21.2", "26.11.21.10", "26.11.20.44", "v26.11.21.99", "26.11.21.x"]);
        assert_eq!(next(&r, day, Bump::Patch, &existing).unwrap().tag, "26.11.21.11");
        assert_eq!(next(&r, d(2026, 11, 22), Bump::Patch, &existing).unwrap().tag, "26.11.22.1");
    }

    #[test]
    fn calver_crosses_month_and_year_boundaries() {
        let r = cal("YY.0M.0D.BUILD", "");
        let existing = tags(&["26.12.31.3"]);
        assert_eq!(next(&r, d(2026, 12, 31), Bump::Patch, &existing).unwrap().tag, "26.12.31.4");
        assert_eq!(next(&r, d(2027, 1, 1), Bump::Patch, &existing).unwrap().tag, "27.01.01.1");
        assert_eq!(next(&r, d(2028, 2, 29), Bump::Patch, &[]).unwrap().tag, "28.02.29.1");
    }

    #[test]
    fn prefixes_are_kept_apart() {
        let r = cal("YYYY.MM.DD.BUILD", "v");
        let day = d(2026, 3, 4);
        let existing = tags(&["v2026.3.4.1", "2026.3.4.7", "v2026.3.4.2"]);
        let n = next(&r, day, Bump::Patch, &existing).unwrap();
        assert_eq!((n.tag.as_str(), n.version.as_str()), ("v2026.3.4.3", "2026.3.4.3"));
        assert_eq!(search_prefix(&r, day), "v2026.3.4.");
        assert!(!not_semver(&n.version));
        assert!(not_semver("26.01.05.1"));
    }

    #[test]
    fn dates_a_format_cannot_write_are_refused() {
        let r = cal("YY.0M.0D.BUILD", "");
        let e = next(&r, d(1999, 12, 31), Bump::Patch, &[]).unwrap_err();
        assert_eq!(e.to_string(), "1999-12-31 is before 2000, which a `YY` or `0Y` year cannot represent");
        assert!(next(&cal("0Y.0M.BUILD", ""), d(1999, 1, 1), Bump::Patch, &[]).is_err());
        assert_eq!(next(&cal("YYYY.0M.BUILD", ""), d(1999, 1, 1), Bump::Patch, &[]).unwrap().tag, "1999.01.1");
        assert!(next(&r, d(2000, 1, 1), Bump::Patch, &[]).is_ok());
    }

    #[test]
    fn a_full_build_counter_is_refused() {
        let r = cal("YY.0M.0D.BUILD", "");
        let e = next(&r, d(2026, 11, 21), Bump::Patch, &tags(&["26.11.21.4294967295"])).unwrap_err();
        assert_eq!(e, NextError::BuildOverflow);
        assert_eq!(e.to_string(), "the build counter overflowed");
    }

    #[test]
    fn semver_bumps_the_highest_release() {
        let r = Release { scheme: Scheme::Semver, tag_prefix: "v".into(), ..Release::default() };
        let day = d(2026, 1, 1);
        assert_eq!(next(&r, day, Bump::Patch, &[]).unwrap().tag, "v0.1.0");
        let existing = tags(&["v1.2.3", "v1.10.0", "v2.0.0-rc.1", "1.99.0", "vbad"]);
        assert_eq!(next(&r, day, Bump::Patch, &existing).unwrap().tag, "v1.10.1");
        assert_eq!(next(&r, day, Bump::Minor, &existing).unwrap().tag, "v1.11.0");
        assert_eq!(next(&r, day, Bump::Major, &existing).unwrap().tag, "v2.0.0");
    }

    #[test]
    fn a_semver_field_at_its_largest_has_no_next_version() {
        let r = Release { scheme: Scheme::Semver, tag_prefix: "v".into(), ..Release::default() };
        let day = d(2026, 1, 1);
        let max = u64::MAX;
        let existing = tags(&[&format!("v{max}.{max}.{max}")]);
        for (bump, field) in [(Bump::Major, "major"), (Bump::Minor, "minor"), (Bump::Patch, "patch")] {
            let e = next(&r, day, bump, &existing).unwrap_err();
            assert_eq!(e, NextError::SemverOverflow { tag: format!("v{max}.{max}.{max}"), field });
        }
        let e = next(&r, day, Bump::Major, &tags(&[&format!("v{max}.0.0")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the tag `v18446744073709551615.0.0` has the largest major version a semver field can hold: there is no next one"
        );
        assert_eq!(next(&r, day, Bump::Minor, &tags(&[&format!("v{max}.0.0")])).unwrap().tag, format!("v{max}.1.0"));
    }
}
