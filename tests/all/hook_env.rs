//! What hooks and the import command see: the environment of a workflow step
//! minus the credentials stagegate was handed (unless `pass_env` names them),
//! and output streamed in bounded lines however it is written.

use std::process::Stdio;

use crate::support::journal::{Backend, Options, Pipeline};
use crate::support::{Sandbox, run};

const GITHUB: &str = "ghs_SENTINEL_github_0001";
const CONSUL: &str = "SENTINEL-consul-0002";
const SNOW_PASSWORD: &str = "SENTINEL-snow-password-0003";
const SNOW_TOKEN: &str = "SENTINEL-snow-token-0004";
const FLAG_TOKEN: &str = "ghp_SENTINEL_flag_0005";
const AWS_SESSION: &str = "SENTINEL-aws-session-0006";

/// A deploy into dev whose deploy hook dumps its environment to `env.dump`.
fn hook_env(pass_env: &str) -> String {
    let sb = Sandbox::new();
    let pass = if pass_env.is_empty() { String::new() } else { format!("  pass_env: {pass_env}\n") };
    sb.write(
        "stagegate.yml",
        format!("version: 1\nenvironments:\n  dev: {{ auto_deploy: true }}\nsteps:\n  deploy: env > env.dump\n{pass}"),
    );
    let mut c = sb.sg(&["--github-token", FLAG_TOKEN, "deploy", "--env", "dev", "--ref", "main", "--release", "1.0.0"]);
    c.env("GITHUB_TOKEN", GITHUB)
        .env("GH_TOKEN", GITHUB)
        .env("CONSUL_HTTP_TOKEN", CONSUL)
        .env("SERVICENOW_USER", "svc-stagegate")
        .env("SERVICENOW_PASSWORD", SNOW_PASSWORD)
        .env("SERVICENOW_TOKEN", SNOW_TOKEN)
        .env("MY_PAT", FLAG_TOKEN)
        .env("AWS_SESSION_TOKEN", AWS_SESSION)
        .env("DEPLOY_TARGET", "blue");
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}\n{err}");
    std::fs::read_to_string(sb.path().join("env.dump")).unwrap()
}

#[test]
fn hooks_never_see_the_credentials_stagegate_was_handed() {
    let env = hook_env("");
    for secret in [GITHUB, CONSUL, SNOW_PASSWORD, SNOW_TOKEN, FLAG_TOKEN] {
        assert!(!env.contains(secret), "{secret} reached the hook:\n{env}");
    }
    assert!(!env.contains("SERVICENOW_USER="), "{env}");
    // What a workflow step sees otherwise is there, and the context.
    for want in ["DEPLOY_TARGET=blue", "STAGEGATE_ENV=dev", "STAGEGATE_RELEASE=1.0.0", "PATH="] {
        assert!(env.lines().any(|l| l.starts_with(want)), "{want} missing:\n{env}");
    }
    // A hook deploys: the job's cloud credentials stay.
    assert!(env.contains(&format!("AWS_SESSION_TOKEN={AWS_SESSION}")), "{env}");
}

#[test]
fn pass_env_passes_credentials_on_purpose() {
    let env = hook_env("[CONSUL_HTTP_TOKEN, \"SERVICENOW_*\"]");
    assert!(env.contains(&format!("CONSUL_HTTP_TOKEN={CONSUL}")), "{env}");
    assert!(env.contains(&format!("SERVICENOW_PASSWORD={SNOW_PASSWORD}")), "{env}");
    assert!(env.contains("SERVICENOW_USER=svc-stagegate"), "{env}");
    assert!(!env.contains(GITHUB) && !env.contains(FLAG_TOKEN), "{env}");
}

#[test]
fn pass_env_entries_must_be_variable_names() {
    let sb = Sandbox::new();
    sb.write(
        "stagegate.yml",
        "version: 1\nenvironments:\n  dev: { auto_deploy: true }\nsteps:\n  pass_env: [\"FOO=bar\"]\n",
    );
    let (code, _, err) = run(sb.sg(&["check"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not an environment variable name or glob"), "{err}");
}

fn import_env(extra: &str) -> String {
    let p = Pipeline::with(Backend::Files, Options { extra: extra.into(), ..Options::default() });
    p.upload("one.jnl", "1", "dev-modelling");
    assert_eq!(p.run(&["journal", "seed"]).0, 0);
    let dump = p.path().join("import.env");
    let mut c = p.cmd();
    c.env("AWS_SESSION_TOKEN", AWS_SESSION).env("GITHUB_TOKEN", GITHUB).env("CONSUL_HTTP_TOKEN", CONSUL).args([
        "journal",
        "watch",
        "--lane",
        "dev",
        "--once",
        "--exec",
        &format!("env > {}", dump.display()),
    ]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}\n{err}");
    std::fs::read_to_string(dump).unwrap()
}

#[test]
fn the_import_command_never_sees_the_journal_store_credentials() {
    let env = import_env("");
    for secret in [AWS_SESSION, crate::support::s3::SECRET_KEY, GITHUB, CONSUL] {
        assert!(!env.contains(secret), "{secret} reached the import command:\n{env}");
    }
    for name in ["AWS_ACCESS_KEY_ID=", "AWS_SHARED_CREDENTIALS_FILE=", "AWS_CONFIG_FILE="] {
        assert!(!env.contains(name), "{name} reached the import command:\n{env}");
    }
    assert!(env.contains("STAGEGATE_JOURNAL_VERSION=") && env.contains("STAGEGATE_LANE=dev"), "{env}");
    let passed = import_env("  pass_env: [AWS_SESSION_TOKEN]\n");
    assert!(passed.contains(&format!("AWS_SESSION_TOKEN={AWS_SESSION}")), "{passed}");
    assert!(!passed.contains(crate::support::s3::SECRET_KEY), "{passed}");
}

#[test]
fn hook_output_without_newlines_is_streamed_in_bounded_memory() {
    let sb = Sandbox::new();
    // 200 MB on one line; then the hook notes stagegate's peak RSS (its
    // parent's VmHWM), with all but a pipe's worth of the output through it.
    sb.write(
        "stagegate.yml",
        "version: 1\nenvironments:\n  dev: { auto_deploy: true }\nsteps:\n  deploy: head -c 200000000 /dev/zero | tr '\\0' x; grep VmHWM /proc/$PPID/status > hwm.txt\n",
    );
    let mut child = sb
        .sg_spawnable(&["deploy", "--env", "dev", "--ref", "main", "--release", "1.0.0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read as it comes, line by line, keeping nothing but counts.
    let (mut longest, mut xs) = (0, 0);
    for line in std::io::BufRead::split(std::io::BufReader::new(child.stdout.take().unwrap()), b'\n') {
        let line = line.unwrap();
        longest = longest.max(line.len());
        if let Some(piece) = line.strip_prefix("    │ ".as_bytes()) {
            xs += piece.iter().filter(|b| **b == b'x').count();
        }
    }
    assert!(child.wait().unwrap().success());
    let hwm = std::fs::read_to_string(sb.path().join("hwm.txt")).unwrap();
    let rss_kib: u64 = hwm.split_whitespace().nth(1).and_then(|k| k.parse().ok()).unwrap_or_else(|| panic!("{hwm}"));
    assert!(rss_kib < 64 * 1024, "peak RSS {rss_kib} KiB for 200 MB of output");
    assert!(longest <= 16 * 1024 + 16, "lines are cut: the longest has {longest} bytes");
    assert_eq!(xs, 200_000_000, "nothing is lost");
}
