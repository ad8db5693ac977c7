//! Settings that would mean nothing are said or refused, never silently
//! dropped: an unreadable log setting, intervals too short to count, flags
//! that contradict each other or need another.

use crate::support::{Sandbox, run};

#[test]
fn an_unreadable_log_setting_is_said_not_silently_ignored() {
    let sb = Sandbox::new();
    for (setting, warned) in [("stagegate=loud", true), ("stagegate=verbose,warn", true), ("debug", false), ("", false)]
    {
        let mut c = sb.seed();
        c.env("STAGEGATE_LOG", setting).arg("check");
        let (code, _, err) = run(c);
        assert_eq!(code, 0, "{setting}: {err}");
        assert_eq!(err.contains("STAGEGATE_LOG"), warned, "{setting:?}: {err}");
        if warned {
            assert!(err.contains(setting) && err.contains("default level"), "{err}");
        }
    }
}

#[test]
fn intervals_too_short_to_mean_anything_are_refused() {
    let sb = Sandbox::new();
    for (args, min) in [
        (vec!["journal", "watch-dir", ".", "--cluster", "dev-modelling", "--once", "--interval", "0s"], "10ms"),
        (vec!["journal", "watch", "--lane", "dev", "--once", "--exec", "true", "--stale-after", "5s"], "10s"),
        (vec!["journal", "watch", "--lane", "dev", "--once", "--exec", "true", "--wait", "0ms"], "1s"),
        (vec!["serve", "--recheck", "0s"], "1s"),
    ] {
        let mut c = sb.seed();
        c.args(&args);
        let (code, _, err) = run(c);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(&format!("at least {min}")), "{args:?}: {err}");
    }
}

#[test]
fn flags_that_contradict_or_need_another_are_refused() {
    let sb = Sandbox::new();
    for (args, says) in [
        (vec!["init", "--check", "--force"], "cannot be used with"),
        (vec!["plan", "--from", "staging", "--to", "prod", "--reason", "hotfix"], "--override-freeze"),
    ] {
        let mut c = sb.seed();
        c.args(&args);
        let (code, _, err) = run(c);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!sb.path().join(".github").exists(), "init wrote despite the contradiction");
}
