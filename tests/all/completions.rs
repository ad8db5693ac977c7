//! Dynamic completions (`COMPLETE=bash stagegate`): environment names and
//! lanes from the config, release ids from the local forge; nothing at all,
//! quietly, when the config is absent or broken.

use crate::support::{Sandbox, example, run};

/// What bash would offer for the last word of `words` (after `stagegate`).
fn complete(sb: &Sandbox, vars: &[(&str, &str)], words: &[&str]) -> Vec<String> {
    let mut c = sb.cmd();
    c.env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", words.len().to_string())
        .args(["--", "stagegate"])
        .args(words);
    for (k, v) in vars {
        c.env(k, v);
    }
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "completion is quiet: {err}");
    out.split(['\u{b}', '\n']).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[test]
fn environments_lanes_and_releases_complete() {
    let sb = Sandbox::new();
    let seed = example("seed-environments.yml");
    let cfg = [("STAGEGATE_CONFIG", seed.to_str().unwrap())];
    assert_eq!(complete(&sb, &cfg, &["plan", "--from", ""]), ["dev-int", "future", "active", "uat", "staging", "prod"]);
    assert_eq!(complete(&sb, &cfg, &["promote", "--to", "st"]), ["staging"]);
    assert_eq!(complete(&sb, &cfg, &["history", "--env", "p"]), ["prod"]);
    let lanes = complete(&sb, &cfg, &["journal", "promote", "--from", ""]);
    assert_eq!(lanes, ["dev", "qa", "dit"], "journal lanes, not environments");

    let simple = sb.write("simple.yml", "version: 1\nenvironments:\n  dev: { branches: [main] }\n");
    let cfg = [("STAGEGATE_CONFIG", simple.to_str().unwrap())];
    assert!(complete(&sb, &cfg, &["promote", "--release", ""]).is_empty(), "no forge records yet");
    for release in ["26.12.01.1", "26.12.01.2"] {
        let mut c = sb.cmd();
        c.arg("-c").arg(&simple).args(["deploy", "--env", "dev", "--ref", "main", "--release", release]);
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "{out}{err}");
    }
    assert_eq!(complete(&sb, &cfg, &["promote", "--release", ""]), ["26.12.01.2", "26.12.01.1"]);
    assert_eq!(complete(&sb, &cfg, &["plan", "--release", "26.12.01.1"]), ["26.12.01.1"]);
}

#[test]
fn a_missing_or_broken_config_completes_nothing_quietly() {
    let sb = Sandbox::new();
    let broken = sb.write("broken.yml", "version: 1\nenvironments: [\n");
    for config in [broken.to_str().unwrap(), "/nonexistent/stagegate.yml"] {
        assert!(complete(&sb, &[("STAGEGATE_CONFIG", config)], &["plan", "--from", ""]).is_empty(), "{config}");
    }
    // Subcommands still complete.
    let subcommands = complete(&sb, &[("STAGEGATE_CONFIG", "/nonexistent/stagegate.yml")], &["pl"]);
    assert_eq!(subcommands, ["plan"]);
}
