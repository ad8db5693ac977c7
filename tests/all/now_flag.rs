//! `--now` is for questions: the commands that read take it and show it in
//! their `--help`; a command that writes records refuses it as a flag (exit 2,
//! nothing written). `STAGEGATE_NOW` still moves the clock for every command.

use crate::support::{Sandbox, run, run_json};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write(
        "stagegate.yml",
        "version: 1\nenvironments:\n  dev:\n    auto_deploy: true\n  prod:\n    deploy_windows: [\"MON-THU 09:00 - 16:00 UTC\"]\npromotions:\n  - { from: dev, to: prod }\nsteps:\n  deploy: echo \"deploy $STAGEGATE_ENV\" >> hooks.log\n",
    );
    sb
}

/// `plan` answers for the moment asked: closed on Saturday, open on Thursday.
#[test]
fn a_read_command_answers_for_the_time_asked() {
    let sb = sandbox();
    let plan = |now: &str| run(sb.sg(&["plan", "--from", "dev", "--to", "prod", "--now", now]));
    let (code, out, err) = plan("2026-03-28T12:00:00Z");
    assert_eq!(code, 3, "{out}{err}");
    assert!((out.clone() + &err).contains("outside its deploy windows"), "{out}{err}");
    let (code, out, err) = plan("2026-03-26T12:00:00Z");
    assert_eq!(code, 0, "{out}{err}");
    // Shown in the help of the commands that read, not of those that write.
    for cmd in ["plan", "compare", "gate", "calendar", "status"] {
        let (_, help, _) = run(sb.sg(&[cmd, "--help"]));
        assert!(help.contains("--now <TIME>"), "`{cmd} --help` shows --now:\n{help}");
        assert!(!help.contains("STAGEGATE_NOW"), "`{cmd} --help` keeps the tests' variable to itself");
    }
    let (_, help, _) = run(sb.sg(&["promote", "--help"]));
    assert!(!help.contains("--now"), "{help}");
}

/// `release tag --now`, before or after the command: exit 2, a message that
/// says why, in JSON too, and no tag in the local forge.
#[test]
fn a_writing_command_refuses_the_flag_and_writes_nothing() {
    let sb = sandbox();
    for args in [
        &["release", "tag", "--sha", SHA, "--now", "2027-03-04T12:00:00Z"][..],
        &["--now", "2027-03-04T12:00:00Z", "release", "tag", "--sha", SHA][..],
    ] {
        let (code, out, err) = run(sb.sg(args));
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains("`--now` only asks questions"), "{err}");
        assert!(err.contains("STAGEGATE_NOW"), "{err}");
    }
    let (code, json, _) = run_json(sb.sg(&[
        "promote",
        "--from",
        "dev",
        "--to",
        "prod",
        "--release",
        "26.03.26.1",
        "--now",
        "2026-03-26T12:00:00Z",
    ]));
    assert_eq!(code, 2);
    assert_eq!(json["error"]["code"], "stagegate::input::arguments");
    assert!(json["error"]["message"].as_str().unwrap().contains("`--now` only asks questions"), "{json}");
    assert!(!sb.path().join(".stagegate").exists(), "nothing was written");
    assert!(!sb.path().join("hooks.log").exists(), "no hook ran");
}

/// The tests' clock still moves for a command that writes: the tag's calver
/// date follows `STAGEGATE_NOW`.
#[test]
fn the_environment_variable_still_moves_the_clock_of_a_writing_command() {
    let sb = sandbox();
    let mut c = sb.sg(&["release", "tag", "--sha", SHA]);
    c.env("STAGEGATE_NOW", "2027-03-04T12:00:00Z");
    let (code, json, err) = run_json(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["tag"], "27.03.04.1");
}
