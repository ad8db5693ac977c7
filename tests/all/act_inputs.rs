//! The dispatch inputs `init` adds to *Promote release* where the config needs
//! them, run in nektos/act: a ServiceNow change (with the credentials from
//! repository secrets), checked against the ServiceNow Table API test server,
//! and a freeze override's reason. Without them the plan refuses; with them the
//! promotion runs, with one deployment.

use chrono::{Duration, Utc};

use crate::act_templates::{Repo, job_name, ok};
use crate::support::act;
use crate::support::servicenow::{ServiceNow, change};

#[test]
fn a_change_controlled_promotion_takes_its_change_from_the_workflow_input() {
    let Some(bin) = act::act_bin() else { return };
    let fmt = |d: chrono::DateTime<Utc>| d.format("%Y-%m-%d %H:%M:%S").to_string();
    let (before, after) = (fmt(Utc::now() - Duration::hours(1)), fmt(Utc::now() + Duration::hours(2)));
    let sn = ServiceNow::start(vec![
        change("CHG0000001", "requested", "-3", &before, &after),
        change("CHG0000002", "approved", "-1", &before, &after),
    ]);
    let config = format!(
        r#"version: 1
environments:
  dev-int: {{ branches: [main], auto_deploy: true }}
  staging: {{ branches: [main], change: required }}
promotions:
  - {{ from: dev-int, to: staging }}
steps:
  deploy: echo "hook deploy $STAGEGATE_ENV $STAGEGATE_RELEASE"
servicenow:
  instance: {}
"#,
        sn.url
    );
    let r = Repo::with(bin, &config, "act-change");
    let deploy = r.workflow("deploy-dev-int.yml");
    ok(&r.act("push", "deploy-dev-int.yml", "6001").run(), &[(&job_name(&deploy, "deploy"), true)]);
    let release = r.deployments()[0].0["payload"]["stagegate"]["release"].as_str().unwrap().to_owned();

    let promote = r.workflow("promote-release.yml");
    let (plan, promote_job) = (job_name(&promote, "plan"), job_name(&promote, "promote"));
    let promote_run = |run_id: &str, change: Option<&str>| {
        let mut a = r
            .act("workflow_dispatch", "promote-release.yml", run_id)
            .input("release", &release)
            .input("source", "dev-int")
            .input("target", "staging")
            .secret("SERVICENOW_USER", &sn.user)
            .secret("SERVICENOW_PASSWORD", &sn.password);
        if let Some(c) = change {
            a = a.input("change", c);
        }
        a.run()
    };
    for (run_id, change, says) in
        [("6002", None, "requires an approved ServiceNow change"), ("6003", Some("CHG0000001"), "not approved")]
    {
        let run = promote_run(run_id, change);
        ok(&run, &[(&plan, false)]);
        assert!(!run.jobs().contains_key(&promote_job), "{change:?}: promote ran:\n{}", run.tail());
        assert!(run.log.contains(says), "{change:?}: {}", run.tail());
        assert_eq!(r.deployments().len(), 1, "{change:?}: deployed without an approved change");
    }
    let run = promote_run("6004", Some("CHG0000002"));
    ok(&run, &[(&plan, true), (&promote_job, true)]);
    assert!(run.printed().iter().any(|l| l.contains(&format!("hook deploy staging {release}"))), "{}", run.tail());
    let deps = r.deployments();
    assert_eq!(deps.len(), 2, "one deployment per promotion: {deps:#?}");
    assert_eq!(deps[1].0["environment"], "staging");
    assert!(!run.log.contains(&sn.password), "the ServiceNow password leaked into the log");
}

#[test]
fn a_frozen_target_is_promoted_into_only_with_the_reason_given_as_input() {
    let Some(bin) = act::act_bin() else { return };
    let config = r#"version: 1
environments:
  dev-int: { branches: [main], auto_deploy: true }
  prod:
    branches: [main]
    freeze: ["FRI 16:00 - MON 08:00 Europe/London"]
    freeze_override: allowed
promotions:
  - { from: dev-int, to: prod }
steps:
  deploy: echo "hook deploy $STAGEGATE_ENV $STAGEGATE_RELEASE"
"#;
    let r = Repo::with(bin, config, "act-freeze");
    // A Saturday: prod is frozen.
    let saturday = "2026-11-21T12:00:00Z";
    let deploy = r.workflow("deploy-dev-int.yml");
    let run = r.act("push", "deploy-dev-int.yml", "6101").env("STAGEGATE_NOW", saturday).run();
    ok(&run, &[(&job_name(&deploy, "deploy"), true)]);
    let release = r.deployments()[0].0["payload"]["stagegate"]["release"].as_str().unwrap().to_owned();
    let promote = r.workflow("promote-release.yml");
    let (plan, promote_job) = (job_name(&promote, "plan"), job_name(&promote, "promote"));
    let promote_run = |run_id: &str, reason: Option<&str>| {
        let mut a = r
            .act("workflow_dispatch", "promote-release.yml", run_id)
            .env("STAGEGATE_NOW", saturday)
            .input("release", &release)
            .input("source", "dev-int")
            .input("target", "prod");
        if let Some(why) = reason {
            a = a.input("freeze_override_reason", why);
        }
        a.run()
    };
    let run = promote_run("6102", None);
    ok(&run, &[(&plan, false)]);
    assert!(run.log.contains("prod is frozen"), "{}", run.tail());
    assert_eq!(r.deployments().len(), 1, "deployed into a freeze");
    let run = promote_run("6103", Some("INC-42 payment outage hotfix"));
    ok(&run, &[(&plan, true), (&promote_job, true)]);
    assert!(run.log.contains("overridden: INC-42 payment outage hotfix"), "{}", run.tail());
    let deps = r.deployments();
    assert_eq!((deps.len(), deps[1].0["environment"].as_str()), (2, Some("prod")), "{deps:#?}");
}
