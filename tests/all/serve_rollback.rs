//! The App judges a rollback run by the environment's `rollback` policy only
//! when the run is the rollback workflow exactly as the default branch has
//! it; a run's title or an edited workflow never lowers the bar.

use crate::serve::no_violations;
use crate::support::Sandbox;
use crate::support::github::github;
use crate::support::serve::{SHA, Service, answers, logged};

const ROLLBACK: &str = ".github/workflows/rollback.yml";

/// prod: two approvals to promote, one to roll back; `hotfix/*` may deploy too.
const CONFIG: &str = "version: 1\nenvironments:\n  staging: { branches: [main] }\n  prod:\n    branches: [main, \"hotfix/*\"]\n    protection_rule: app\n    approvals: { required: 2, reviewers: [\"@alice\", \"@bob\"] }\n    rollback: { approvals: 1 }\npromotions:\n  - { from: staging, to: prod }\n";

#[test]
fn only_the_default_branchs_rollback_workflow_gets_the_rollback_policy() {
    let h = github();
    let r = h.repo("serve-rollback");
    h.put_file(&r, "main", ".github/stagegate.yml", CONFIG);
    h.put_file(&r, "main", ROLLBACK, "name: Roll back\n");
    h.put_file(&r, "hotfix/x", ROLLBACK, "name: Roll back\n# edited: approvals lowered\n");
    h.seed_success(&r, "staging", SHA, "26.11.21.1", 3600);
    // 901: the rollback workflow as main has it. 902: a promotion titled like
    // a rollback. 903: the rollback workflow as a branch edited it.
    h.put_workflow_run(&r, 901, "Roll back prod to 26.11.20.1", "mallory", ROLLBACK, "main");
    h.put_workflow_run(&r, 902, "Roll back prod to 26.11.20.1", "mallory", ".github/workflows/deploy.yml", "main");
    h.put_workflow_run(&r, 903, "Roll back prod", "mallory", ROLLBACK, "hotfix/x");
    for run in ["901", "902", "903"] {
        h.review(&r, run, &["prod"], "alice", false, true);
    }
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    for (i, (run, git_ref)) in
        [(901, "refs/heads/main"), (902, "refs/heads/main"), (903, "refs/heads/hotfix/x")].into_iter().enumerate()
    {
        let body = h.rule_requested(&r, run, "prod", git_ref, SHA);
        assert_eq!(svc.deliver("deployment_protection_rule", &format!("d-{i}"), &body), 202);
    }
    logged(&svc, "pending", 2);
    let a = answers(&r, 1, &svc);
    assert_eq!(a.len(), 1, "only the rollback run is decided: {a:#?}");
    assert_eq!((a[0].0, a[0].2.as_str()), (901, "approved"), "{a:#?}");
    assert!(a[0].3.contains("a rollback of prod"), "{}", a[0].3);
    assert!(a[0].3.contains("1/1 approved: alice"), "{}", a[0].3);
    let logs = svc.logs();
    assert_eq!(logs.matches("needs 2 distinct approval(s)").count(), 2, "902 and 903 are promotions: {logs}");
    svc.stop();
    no_violations(&r);
}
