//! Property tests: calver versions and the promotion graph.

use chrono::NaiveDate;
use proptest::prelude::*;
use stagegate::config::{self, Release, Spanned};
use stagegate::version::{self, Bump, calver::Format};

fn date() -> impl Strategy<Value = NaiveDate> {
    (2001i32..2099, 1u32..=12, 1u32..=31).prop_filter_map("a real day", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

fn format() -> impl Strategy<Value = String> {
    let year = prop::sample::select(vec!["YYYY", "YY", "0Y"]);
    let month = prop::sample::select(vec!["MM", "0M"]);
    let day = prop::sample::select(vec!["DD", "0D"]);
    let sep = prop::sample::select(vec![".", "-", "_", ""]);
    (year, sep.clone(), month, sep.clone(), day, prop::sample::select(vec![".", "-", "+"]))
        .prop_map(|(y, s1, m, s2, d, s3)| format!("{y}{s1}{m}{s2}{d}{s3}BUILD"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every version a valid format renders reads back as the same build of the
    /// same day, and never as a build of another day.
    #[test]
    fn calver_versions_identify_their_day_and_build(f in format(), d1 in date(), d2 in date(), build in 1u32..100_000) {
        let Ok(fmt) = Format::parse(&f) else { return Ok(()) }; // ambiguous formats are refused
        let v = fmt.render(d1, build);
        prop_assert_eq!(fmt.build_of(&v, d1), Some(build));
        if d1 != d2 {
            prop_assert_eq!(fmt.build_of(&v, d2), None, "{} on {} read as a build of {}", v, d1, d2);
        }
    }

    /// The same, against every other day of the year: the days an ambiguous
    /// format confuses (1/11 and 11/1) are specific, so search them all.
    #[test]
    fn no_two_days_of_a_year_share_a_version(f in format(), d1 in date(), build in 1u32..30) {
        let Ok(fmt) = Format::parse(&f) else { return Ok(()) };
        let v = fmt.render(d1, build);
        let mut d2 = NaiveDate::from_ymd_opt(chrono::Datelike::year(&d1), 1, 1).unwrap();
        while chrono::Datelike::year(&d2) == chrono::Datelike::year(&d1) {
            if d2 != d1 {
                prop_assert_eq!(fmt.build_of(&v, d2), None, "{} on {} read as a build of {}", v, d1, d2);
            }
            d2 = d2.succ_opt().unwrap();
        }
    }

    /// The next tag is new, and one above the day's highest build.
    #[test]
    fn next_build_is_fresh(f in format(), day in date(), builds in prop::collection::vec(1u32..500, 0..20), prefix in "(v|rel-)?") {
        let Ok(fmt) = Format::parse(&f) else { return Ok(()) };
        let release = Release { format: Spanned::unplaced(fmt.clone()), tag_prefix: prefix.clone(), ..Release::default() };
        let existing: Vec<String> = builds.iter().map(|b| format!("{prefix}{}", fmt.render(day, *b))).collect();
        let next = version::next(&release, day, Bump::Patch, &existing).unwrap();
        prop_assert!(!existing.contains(&next.tag));
        prop_assert_eq!(fmt.build_of(&next.version, day), Some(builds.iter().max().copied().unwrap_or(0) + 1));
    }

    /// `check` finds a cycle exactly when the promotion graph has one, and any
    /// config text whatsoever is answered with diagnostics, never a panic.
    #[test]
    fn cycles_are_found_exactly_when_present(n in 2usize..9, edges in prop::collection::vec((0usize..9, 0usize..9), 0..24)) {
        let edges: Vec<(usize, usize)> = edges.into_iter().filter(|(a, b)| a < &n && b < &n && a != b).collect();
        let mut dedup = edges.clone();
        dedup.sort();
        dedup.dedup();
        let mut yaml = String::from("version: 1\nenvironments:\n");
        for i in 0..n {
            yaml.push_str(&format!("  e{i}: {{ auto_deploy: true }}\n"));
        }
        yaml.push_str("promotions:\n");
        for (a, b) in &dedup {
            yaml.push_str(&format!("  - {{ from: e{a}, to: e{b} }}\n"));
        }
        let loaded = config::parse_bytes("p.yml", yaml.as_bytes());
        let reported = loaded.diagnostics.iter().any(|d| d.message.contains("cycle"));
        // Kahn's algorithm: a cycle exists iff not every node can be removed.
        let mut indeg = vec![0; n];
        for (_, b) in &dedup { indeg[*b] += 1; }
        let mut ready: Vec<usize> = (0..n).filter(|i| indeg[*i] == 0).collect();
        let mut removed = 0;
        while let Some(v) = ready.pop() {
            removed += 1;
            for (a, b) in &dedup {
                if *a == v { indeg[*b] -= 1; if indeg[*b] == 0 { ready.push(*b); } }
            }
        }
        prop_assert_eq!(reported, removed < n, "{}", yaml);
    }

    #[test]
    fn any_text_gets_diagnostics_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let loaded = config::parse_bytes("fuzz.yml", &bytes);
        prop_assert!(loaded.config.is_some() || !loaded.diagnostics.is_empty());
    }
}
