//! Calver formats from calver.org tokens (`YYYY YY 0Y MM 0M DD 0D`) plus `BUILD`,
//! a per-day counter from 1. `YY.0M.0D.BUILD` on 2026-11-21, build 3 → `26.11.21.3`.
//!
//! A leaf: this module imports nothing from the rest of the crate, so the
//! config holds the parsed format (`config::Release::format`).

use chrono::{Datelike, NaiveDate};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Lit(String),
    /// `YYYY`: 2026
    FullYear,
    /// `YY`: 26 (years since 2000, no padding: 2006 → 6)
    ShortYear,
    /// `0Y`: 06
    PaddedYear,
    /// `MM`: 1..12
    Month,
    /// `0M`: 01..12
    PaddedMonth,
    /// `DD`: 1..31
    Day,
    /// `0D`: 01..31
    PaddedDay,
    Build,
}

impl Token {
    fn name(&self) -> &'static str {
        TOKENS.iter().find(|(_, t)| t == self).map_or("a literal", |(n, _)| n)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    tokens: Vec<Token>,
    /// The format as written, e.g. `YY.0M.0D.BUILD`.
    text: String,
}

/// The format stagegate uses when the config names none.
pub const DEFAULT: &str = "YY.0M.0D.BUILD";

impl Default for Format {
    fn default() -> Self {
        Format::parse(DEFAULT).expect("the default format parses")
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

const TOKENS: &[(&str, Token)] = &[
    ("YYYY", Token::FullYear),
    ("BUILD", Token::Build),
    ("YY", Token::ShortYear),
    ("0Y", Token::PaddedYear),
    ("MM", Token::Month),
    ("0M", Token::PaddedMonth),
    ("DD", Token::Day),
    ("0D", Token::PaddedDay),
];

/// Why a format was refused, and at which character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FormatError {
    pub message: String,
    pub offset: usize,
}

/// A date a format cannot write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum DateError {
    #[error("{0} is before 2000, which a `YY` or `0Y` year cannot represent")]
    #[diagnostic(help("use a date from 2000 on, or a `YYYY` year in `release.format` (stagegate check)"))]
    Before2000(NaiveDate),
    #[error("{0} is outside the years 1 to 9999")]
    #[diagnostic(help("use a date between the years 1 and 9999"))]
    OutOfRange(NaiveDate),
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, FormatError> {
        let mut tokens = Vec::new();
        let mut i = 0;
        'outer: while i < s.len() {
            for (text, tok) in TOKENS {
                if s[i..].starts_with(text) {
                    if *tok == Token::Build && tokens.contains(&Token::Build) {
                        return Err(FormatError { message: "`BUILD` appears twice".into(), offset: i });
                    }
                    tokens.push(tok.clone());
                    i += text.len();
                    continue 'outer;
                }
            }
            let c = s[i..].chars().next().unwrap_or('?');
            if c.is_alphanumeric() {
                return Err(FormatError { message: format!("unknown token at `{}`", &s[i..]), offset: i });
            }
            match tokens.last_mut() {
                Some(Token::Lit(l)) => l.push(c),
                _ => tokens.push(Token::Lit(c.to_string())),
            }
            i += c.len_utf8();
        }
        let f = Format { tokens, text: s.to_owned() };
        // A variable-width number next to another number without a separator is
        // ambiguous: `YYYYMMDD` renders 2026-1-11 and 2026-11-1 both as 2026111.
        for pair in f.tokens.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let numeric = |t: &Token| !matches!(t, Token::Lit(_));
            let variable = |t: &Token| matches!(t, Token::ShortYear | Token::Month | Token::Day | Token::Build);
            if numeric(a) && numeric(b) && (variable(a) || variable(b)) {
                return Err(FormatError {
                    message: format!(
                        "{} and {} touch without a separator, so different days can render the same version",
                        a.name(),
                        b.name()
                    ),
                    offset: 0,
                });
            }
        }
        if !f.tokens.contains(&Token::Build) {
            return Err(FormatError {
                message: "the format has no `BUILD`, so two releases on one day would get the same tag".into(),
                offset: 0,
            });
        }
        if !f.tokens.iter().any(|t| matches!(t, Token::FullYear | Token::ShortYear | Token::PaddedYear)) {
            return Err(FormatError { message: "the format has no year (YYYY, YY or 0Y)".into(), offset: 0 });
        }
        Ok(f)
    }

    /// Whether the format zero-pads a field, which semver forbids (`26.01.05` is
    /// not valid semver: numeric parts may not have leading zeros).
    pub fn is_zero_padded(&self) -> bool {
        self.tokens.iter().any(|t| matches!(t, Token::PaddedYear | Token::PaddedMonth | Token::PaddedDay))
    }

    /// Whether the format can write `date`: `YY` and `0Y` count years from
    /// 2000, so earlier dates have no version; no format goes past 9999.
    pub fn check_date(&self, date: NaiveDate) -> Result<(), DateError> {
        let short = self.tokens.iter().any(|t| matches!(t, Token::ShortYear | Token::PaddedYear));
        if short && date.year() < 2000 {
            return Err(DateError::Before2000(date));
        }
        if !(1..=9999).contains(&date.year()) {
            return Err(DateError::OutOfRange(date));
        }
        Ok(())
    }

    pub fn render(&self, date: NaiveDate, build: u32) -> String {
        let mut out = String::new();
        for t in &self.tokens {
            match t {
                Token::Lit(l) => out.push_str(l),
                Token::FullYear => out.push_str(&date.year().to_string()),
                Token::ShortYear => out.push_str(&(date.year() - 2000).to_string()),
                Token::PaddedYear => out.push_str(&format!("{:02}", date.year() - 2000)),
                Token::Month => out.push_str(&date.month().to_string()),
                Token::PaddedMonth => out.push_str(&format!("{:02}", date.month())),
                Token::Day => out.push_str(&date.day().to_string()),
                Token::PaddedDay => out.push_str(&format!("{:02}", date.day())),
                Token::Build => out.push_str(&build.to_string()),
            }
        }
        out
    }

    /// The text before and after `BUILD` on a given day: every version of that
    /// day is `prefix + build + suffix`.
    pub fn day_affixes(&self, date: NaiveDate) -> (String, String) {
        const MARK: u32 = u32::MAX;
        let whole = self.render(date, MARK);
        let mark = MARK.to_string();
        let at = whole.find(&mark).unwrap_or(whole.len());
        (whole[..at].to_string(), whole[at + mark.len()..].to_string())
    }

    /// The build number of `version` if it is a version of `date` in this format.
    pub fn build_of(&self, version: &str, date: NaiveDate) -> Option<u32> {
        let (pre, post) = self.day_affixes(date);
        let mid = version.strip_prefix(&pre)?.strip_suffix(&post)?;
        if mid.is_empty() || !mid.bytes().all(|b| b.is_ascii_digit()) || (mid.len() > 1 && mid.starts_with('0')) {
            return None;
        }
        mid.parse().ok().filter(|&b| b >= 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn renders_the_seed_format() {
        let f = Format::parse("YY.0M.0D.BUILD").unwrap();
        assert_eq!(f.render(d(2026, 11, 21), 1), "26.11.21.1");
        assert_eq!(f.render(d(2026, 1, 5), 12), "26.01.05.12");
        assert_eq!(f.render(d(2030, 12, 31), 3), "30.12.31.3");
        assert!(f.is_zero_padded());
    }

    #[test]
    fn renders_every_token() {
        let f = Format::parse("YYYY-MM-DD+0Y_BUILD").unwrap();
        assert_eq!(f.render(d(2006, 2, 3), 7), "2006-2-3+06_7");
        assert!(!Format::parse("YYYY.MM.DD.BUILD").unwrap().is_zero_padded());
    }

    #[test]
    fn refuses_formats_that_are_not_unique_or_unknown() {
        assert!(Format::parse("YY.0M.0D").unwrap_err().message.contains("BUILD"));
        assert!(Format::parse("YYY.0M.BUILD").is_err());
        assert!(Format::parse("0M.0D.BUILD").unwrap_err().message.contains("year"));
        assert!(Format::parse("YY.BUILD.BUILD").is_err());
        assert!(Format::parse("YY.0M.0D.build").is_err());
        assert!(Format::parse("YYYYMMDD.BUILD").unwrap_err().message.contains("without a separator"));
        assert!(Format::parse("YYYY0M0D.BUILD").is_ok(), "fixed-width tokens may touch");
        assert!(Format::parse("YY.0M.0DBUILD").is_err(), "BUILD is variable width");
    }

    #[test]
    fn errors_point_at_the_unknown_token_and_the_format_shows_as_written() {
        let e = Format::parse("YY.0M.XX.BUILD").unwrap_err();
        assert_eq!(e.offset, 6, "{e:?}");
        assert_eq!(Format::parse("YYYY.MM.BUILD").unwrap().to_string(), "YYYY.MM.BUILD");
        assert_eq!(Format::default().to_string(), DEFAULT);
    }

    #[test]
    fn finds_builds_of_the_same_day_only() {
        let f = Format::parse("YY.0M.0D.BUILD").unwrap();
        let day = d(2026, 11, 21);
        assert_eq!(f.build_of("26.11.21.1", day), Some(1));
        assert_eq!(f.build_of("26.11.21.12", day), Some(12));
        assert_eq!(f.build_of("26.11.20.9", day), None);
        assert_eq!(f.build_of("26.11.21.", day), None);
        assert_eq!(f.build_of("26.11.21.01", day), None);
        assert_eq!(f.build_of("26.11.21.1-rc", day), None);
        assert_eq!(f.build_of("26.11.21.0", day), None);
    }
}
