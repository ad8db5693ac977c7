//! Branch and tag policies mean what GitHub enforces: Ruby's
//! `File.fnmatch(pattern, ref, File::FNM_PATHNAME)` is the oracle for
//! thousands of generated (pattern, ref) pairs and the hand-picked corners;
//! `can-deploy` and `check` show the user the same rule.

use std::io::Write;
use std::process::{Command, Stdio};

use stagegate::policy::fnmatch::fnmatch;

use crate::support::{Sandbox, run, run_json};

/// Generated pairs; with the hand-picked ones, what one Ruby process checks.
const GENERATED: usize = 4000;

/// Ruby's verdict for each pair, from one `ruby` process fed on stdin.
fn ruby(pairs: &[(String, String)]) -> Vec<bool> {
    let script = "STDOUT.sync = false\nSTDIN.each_line { |l| p, s = l.chomp.split(\"\\t\", 2); puts(File.fnmatch(p, s, File::FNM_PATHNAME) ? 1 : 0) }";
    let mut child = Command::new("ruby")
        .args(["-EUTF-8:UTF-8", "-e", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("ruby is the glob oracle and is not installed ({e}): `bash scripts/test.sh` installs it")
        });
    let mut input = String::new();
    for (p, s) in pairs {
        assert!(!p.contains(['\t', '\n']) && !s.contains(['\t', '\n']));
        input.push_str(&format!("{p}\t{s}\n"));
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "ruby failed");
    let verdicts: Vec<bool> = String::from_utf8(out.stdout).unwrap().lines().map(|l| l == "1").collect();
    assert_eq!(verdicts.len(), pairs.len());
    verdicts
}

/// xorshift64*: the same pairs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

const PATTERN_TOKENS: &[&str] = &[
    "a", "b", "c", ".", "-", "/", "/", "*", "*", "?", "**", "**/", "[", "]", "!", "^", "\\", "{", "}", ",", "[a-c]",
    "[!a]", "[^b/]", "é", "release", "v1",
];
const NAME_TOKENS: &[&str] =
    &["a", "b", "c", ".", "-", "/", "/", "{", "}", ",", "]", "!", "^", "é", "release", "v1", "*"];

fn generated(seed: u64, n: usize) -> Vec<(String, String)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let plen = 1 + rng.next() % 7;
            let pattern: String = (0..plen).map(|_| rng.pick(PATTERN_TOKENS)).collect();
            // Half the names are the pattern with its wildcards filled in, so
            // that many pairs match and the edges of each rule are exercised.
            let name: String = if rng.next().is_multiple_of(2) {
                pattern
                    .replace("**/", rng.pick(&["", "a/", "a/b/", ".a/"]))
                    .replace(['*', '?'], rng.pick(&["", "a", "b/c", "."]))
                    .replace(['[', ']', '\\'], rng.pick(&["", "a", "b"]))
            } else {
                let nlen = 1 + rng.next() % 6;
                (0..nlen).map(|_| rng.pick(NAME_TOKENS)).collect()
            };
            (pattern, name)
        })
        .collect()
}

/// The corners GitHub users meet, and the ones the matcher's code has.
const HAND_PICKED: &[(&str, &str)] = &[
    ("release/*", "release/v1.2.3"),
    ("release/*", "release/a/b"),
    ("release/*", "release"),
    ("release/**", "release/a"),
    ("release/**", "release/a/b"),
    ("release/**/*", "release/a/b"),
    ("release/**/*", "release/a"),
    ("release/**/*", "release/"),
    ("**", "a/b"),
    ("**/*", "a/b"),
    ("**/b", "b"),
    ("**/b", "a/x/b"),
    ("**/**/b", "a/b"),
    ("a/**/b", "a/b"),
    ("a/**/b", "a/x/y/b"),
    ("a/**/b", "a/.x/b"),
    ("a**/b", "ax/b"),
    ("a**/b", "ax/y/b"),
    ("{a,b}", "a"),
    ("{a,b}", "{a,b}"),
    ("release/{v1,v2}", "release/v1"),
    ("v[0-9]*", "v1.2"),
    ("v[!0-9]*", "v1.2"),
    ("v[^0-9]*", "vx"),
    ("[a-]", "-"),
    ("[]-a]", "]"),
    ("[!]", "x"),
    ("[]", "]"),
    ("[/]", "/"),
    ("a[/]b", "a/b"),
    ("[a/b]", "a"),
    ("release/[", "release/["),
    ("\\*", "*"),
    ("\\*", "a"),
    ("a\\", "a"),
    ("\\[a]", "[a]"),
    ("[\\]]", "]"),
    ("[a\\-c]", "b"),
    ("*\\/x", "a/x"),
    ("*", ".hidden"),
    (".*", ".hidden"),
    ("a/*", "a/.b"),
    ("?", "."),
    ("\\.*", ".x"),
    ("[.]*", ".x"),
    ("*", ""),
    ("", ""),
    ("é?", "éü"),
    ("[é-ü]", "ö"),
    ("?", "é"),
    ("Main", "main"),
    ("main", "main"),
    ("*/*", "a/b"),
    ("*/", "a/"),
    ("a/", "a"),
    ("a//b", "a//b"),
    ("**/", "a/"),
];

#[test]
fn the_matcher_agrees_with_rubys_file_fnmatch_on_every_pair() {
    let mut pairs: Vec<(String, String)> = HAND_PICKED.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect();
    pairs.extend(generated(0x5EED_0012, GENERATED));
    let want = ruby(&pairs);
    let disagree: Vec<String> = pairs
        .iter()
        .zip(&want)
        .filter(|((p, s), w)| fnmatch(p, s) != **w)
        .map(|((p, s), w)| format!("File.fnmatch({p:?}, {s:?}, FNM_PATHNAME) is {w} in Ruby"))
        .collect();
    assert!(disagree.is_empty(), "{} of {} pairs disagree:\n{}", disagree.len(), pairs.len(), disagree.join("\n"));
    let matched = want.iter().filter(|w| **w).count();
    assert!(matched > pairs.len() / 10 && matched < pairs.len() * 9 / 10, "{matched} of {} match", pairs.len());
}

const DOUBLE_STAR: &str = "version: 1\nenvironments:\n  staging:\n    branches: [\"release/**\", \"hotfix/{a,b}\"]\n";

#[test]
fn can_deploy_says_no_where_github_says_no() {
    let sb = Sandbox::new();
    let cfg = sb.write("c.yml", DOUBLE_STAR);
    for (r, allowed) in [("release/v1", true), ("release/a/b", false), ("hotfix/a", false), ("hotfix/{a,b}", true)] {
        let mut c = sb.cmd();
        c.arg("-c").arg(&cfg).args(["can-deploy", "--env", "staging", "--ref", r]);
        let (code, json, _) = run_json(c);
        assert_eq!((code, json["allowed"].as_bool()), (if allowed { 0 } else { 3 }, Some(allowed)), "{r}: {json:#}");
    }
}

#[test]
fn check_warns_about_double_star_and_braces_with_a_span_and_a_help() {
    let sb = Sandbox::new();
    let cfg = sb.write("c.yml", DOUBLE_STAR);
    let mut c = sb.cmd();
    c.arg("-c").arg(&cfg).arg("check");
    let (code, json, _) = run_json(c);
    assert_eq!(code, 0, "warnings do not fail the check: {json:#}");
    let d = json["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 2, "{json:#}");
    assert!(d.iter().all(|d| d["severity"] == "warning"));
    assert_eq!((d[0]["line"].as_u64(), d[0]["column"].as_u64()), (Some(4), Some(25)), "{json:#}");
    assert!(d[0]["message"].as_str().unwrap().contains("matches like `*` on GitHub"), "{json:#}");
    assert!(d[0]["help"].as_str().unwrap().contains("did you mean `release/**/*`?"), "{json:#}");
    assert!(d[1]["message"].as_str().unwrap().contains("braces are not special on GitHub"), "{json:#}");
    assert!(d[1]["help"].as_str().unwrap().contains("`hotfix/a`, `hotfix/b`"), "{json:#}");

    let mut c = sb.cmd();
    c.arg("-c").arg(&cfg).arg("check");
    let (code, _, err) = run(c);
    assert_eq!(code, 0);
    assert!(err.contains("release/**") && err.contains("did you mean"), "{err}");
}
