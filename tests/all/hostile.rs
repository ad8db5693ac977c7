//! Hostile values — shell metacharacters, path traversal, oversized input —
//! are refused with exit 2 before anything is written.

use crate::support::{Sandbox, example, run};

#[test]
fn hostile_values_are_refused_with_exit_2_and_no_side_effect() {
    let cases: &[&[&str]] = &[
        &["deploy", "--env", "active", "--ref", "release/v1", "--release", "$(touch pwned)"],
        &["deploy", "--env", "active", "--ref", "release/v1;touch pwned", "--release", "1"],
        &["deploy", "--env", "active", "--ref", "`touch pwned`", "--release", "1"],
        &["promote", "--from", "active", "--to", "staging", "--release", "1 && touch pwned"],
        &["rollback", "--env", "staging", "--to", "../../etc/passwd"],
        &["plan", "--from", "active", "--to", "staging", "--release", &"9".repeat(129)],
        &["can-deploy", "--env", "prod", "--ref", &format!("release/{}", "x".repeat(300))],
        &["release", "draft", "--tag", "../x"],
        &["release", "publish", "1;touch pwned"],
        &["approve", "--env", "uat", "--as", "a;touch pwned"],
        &["team", "@acme/../x", "--add", "bob"],
        &["journal", "upload", "journal.bin", "--cluster", "../../etc"],
        &["journal", "upload", "journal.bin", "--cluster", "dev-modelling;touch pwned"],
        &["journal", "watch", "--lane", "../../x", "--once", "--exec", "touch pwned"],
    ];
    for args in cases {
        let sb = Sandbox::new();
        sb.write("journal.bin", "model");
        let mut c = sb.cmd();
        c.arg("-c").arg(example("seed-environments.yml")).args(*args);
        let (code, _, err) = run(c);
        assert_eq!(code, 2, "{args:?} should be invalid input: {err}");
        assert!(!sb.path().join("pwned").exists(), "{args:?} ran a shell");
        assert!(!sb.path().join(".stagegate").exists(), "{args:?} wrote state before refusing");
    }
}

#[test]
fn an_oversized_config_is_refused_without_reading_it_all() {
    let sb = Sandbox::new();
    let big = sb.path().join("big.yml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(64 << 20).unwrap(); // sparse: 64 MiB on paper, nothing on disk
    let mut c = sb.cmd();
    c.arg("-c").arg(&big).arg("check");
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("larger than 16 MiB"), "{err}");
}
