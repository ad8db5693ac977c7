//! The check registry, every surface at once: generated configs × forge
//! states (freeze, soak, missing or self approvals, a rejection, an illegal
//! path, an unknown or superseded release, an unhealthy source, a busy target,
//! change states, holds: none, in force, ending later, run out, cleared). Each surface gathers its facts as its adapter does and
//! renders its answer with its own code — `plan`'s plan, the runner's
//! blockers (`promote`, `deploy`), `compare`'s verdict, `gate`, the App's
//! verdict, `journal promote` — and they must name the same blockers with the
//! same codes. In-process against the library, so thousands of cases stay
//! fast; `a_frozen_unsoaked_unapproved_promotion_reads_the_same_everywhere`
//! runs one such case through the binary.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use stagegate::checks::{self, ApprovalsFact, ChangeFact, Evaluated, Facts, Health, RefFact, Source, Surface, verdict};
use stagegate::config::{self, Config};
use stagegate::forge::{Approval, ApprovalState, Cleared, Deployment, Hold, NewHold, UserType};
use stagegate::gates::approvals;
use stagegate::plan;
use stagegate::policy::{GitRef, Policy};
use stagegate::refusal::{Kind, Refusal};
use stagegate::run::readiness::Verdict as Readiness;

use crate::support::{Sandbox, run, run_json};

/// One generated situation: a promotion of release 1.0 from staging to prod.
#[derive(Debug, Clone)]
struct Case {
    /// staging → prod is a promotion of the config.
    path: bool,
    /// prod takes `main` as well as `release/*`.
    prod_takes_main: bool,
    /// prod has a weekend freeze window; `saturday` puts now inside it.
    freeze_window: bool,
    saturday: bool,
    /// prod asks for a soak of 1h; `soaked` says the release ran 2h (else 10m).
    soak: bool,
    soaked: bool,
    required: u32,
    change_required: bool,
    /// 0: no change named, 1: approved, 2: not approved yet, 3: does not exist.
    change: u8,
    /// 0: staging never ran 1.0, 1: runs it now, 2: ran it, runs 1.1 now.
    release: u8,
    /// The release was built from `main` (else `release/1.0`).
    from_main: bool,
    unhealthy: bool,
    /// 0: free, 1: a deployment to prod is in progress, 2: another run holds the lock.
    busy: u8,
    /// (reviewer, environment index, rejected): alice, bob, mallory (the actor), a bot.
    reviews: Vec<(usize, usize, bool)>,
    /// 0: prod not held, 1: held until cleared, 2: held until 30m from now,
    /// 3: held until 30m ago (run out), 4: held, then cleared.
    hold: u8,
    /// The hold holds rollbacks too.
    rollbacks_too: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let flags = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    let more = (0u32..=2, any::<bool>(), 0u8..=3, 0u8..=2, any::<bool>(), any::<bool>(), 0u8..=2);
    let reviews = prop::collection::vec((0usize..4, 0usize..2, prop::bool::weighted(0.15)), 0..4);
    (flags, more, reviews, (0u8..=4, any::<bool>())).prop_map(
        |(
            (path, prod_takes_main, freeze_window, saturday, soak, soaked),
            (required, change_required, change, release, from_main, unhealthy, busy),
            reviews,
            (hold, rollbacks_too),
        )| Case {
            path,
            prod_takes_main,
            freeze_window,
            saturday,
            soak,
            soaked,
            required,
            change_required,
            change,
            release,
            from_main,
            unhealthy,
            busy,
            reviews,
            hold,
            rollbacks_too,
        },
    )
}

/// prod's newest hold, as the forge reads it.
fn hold(c: &Case, now: DateTime<Utc>) -> Option<Hold> {
    let until = match c.hold {
        0 => return None,
        2 => Some(now + Duration::minutes(30)),
        3 => Some(now - Duration::minutes(30)),
        _ => None,
    };
    let cleared =
        (c.hold == 4).then(|| Cleared { at: now - Duration::minutes(5), description: "cleared by bob".into() });
    let set = NewHold {
        environment: "prod".into(),
        reason: "INC-1".into(),
        by: "alice".into(),
        until,
        rollbacks_too: c.rollbacks_too,
        at: now - Duration::hours(1),
    };
    Some(Hold { id: 1, set, cleared })
}

fn config(c: &Case) -> Config {
    let mut prod = String::from("  prod:\n");
    let branches = if c.prod_takes_main { r#"[main, "release/*"]"# } else { r#"["release/*"]"# };
    prod.push_str(&format!("    branches: {branches}\n"));
    if c.freeze_window {
        prod.push_str("    freeze: [\"SAT 00:00 - MON 00:00 UTC\"]\n");
    }
    if c.soak {
        prod.push_str("    soak: 1h\n");
    }
    if c.change_required {
        prod.push_str("    change: required\n");
    }
    if c.required > 0 {
        prod.push_str(&format!(
            "    approvals: {{ required: {}, reviewers: [\"@alice\", \"@bob\", \"@mallory\"], prevent_self_review: true }}\n",
            c.required
        ));
    }
    let promotions = if c.path { "  - { from: staging, to: prod }\n" } else { "  - { from: prod, to: staging }\n" };
    let yaml = format!(
        "version: 1\nenvironments:\n  staging:\n    branches: [main, \"release/*\"]\n    health: [{{ http: \"http://127.0.0.1:9/healthz\", expect: 200 }}]\n{prod}promotions:\n{promotions}servicenow: {{ instance: https://acme.service-now.com }}\n"
    );
    let loaded = config::parse_bytes("generated", yaml.as_bytes());
    let errors: Vec<String> = loaded.diagnostics.iter().map(|d| d.message.clone()).collect();
    loaded.config.unwrap_or_else(|| panic!("{yaml}\n{errors:?}"))
}

fn now(c: &Case) -> DateTime<Utc> {
    let at = if c.saturday { "2026-12-05T10:00:00Z" } else { "2026-12-02T10:00:00Z" };
    at.parse().unwrap()
}

fn deployment(id: u64, env: &str, release: &str, git_ref: &str, state: &str, at: DateTime<Utc>) -> Deployment {
    serde_json::from_value(serde_json::json!({
        "id": id, "environment": env, "release": release, "ref": git_ref, "sha": format!("{id:040x}"),
        "creator": "ci", "description": "", "run_id": "1", "from": null, "rollback_of": null, "at": at,
        "statuses": [{ "state": state, "description": "", "created_at": at }],
    }))
    .unwrap()
}

/// Staging's and prod's deployment records, newest first.
fn records(c: &Case, now: DateTime<Utc>) -> (Vec<Deployment>, Vec<Deployment>) {
    let git_ref = if c.from_main { "refs/heads/main" } else { "refs/heads/release/1.0" };
    let ran = now - if c.soaked { Duration::hours(2) } else { Duration::minutes(10) };
    let staging = match c.release {
        0 => vec![deployment(1, "staging", "0.9", git_ref, "success", ran)],
        1 => vec![deployment(2, "staging", "1.0", git_ref, "success", ran)],
        _ => vec![
            deployment(3, "staging", "1.1", git_ref, "success", ran),
            deployment(2, "staging", "1.0", git_ref, "inactive", ran - Duration::hours(1)),
        ],
    };
    let state = if c.busy == 1 { "in_progress" } else { "success" };
    (staging, vec![deployment(9, "prod", "0.8", "refs/heads/release/0.8", state, now - Duration::days(3))])
}

fn reviews(c: &Case, now: DateTime<Utc>) -> Vec<Approval> {
    let users = ["alice", "bob", "mallory", "deploy[bot]"];
    c.reviews
        .iter()
        .enumerate()
        .map(|(i, (u, e, rejected))| Approval {
            run_id: "7".into(),
            environment: if *e == 0 { "prod".into() } else { "prod-approval-1".into() },
            user: users[*u].into(),
            user_type: if *u == 3 { UserType::Bot } else { UserType::User },
            state: if *rejected { ApprovalState::Rejected } else { ApprovalState::Approved },
            comment: None,
            at: now - Duration::minutes(30 - i as i64),
        })
        .collect()
}

fn change(c: &Case) -> ChangeFact {
    match c.change {
        0 => ChangeFact::Missing,
        1 => ChangeFact::Checked(Ok("CHG0030001 approved; window open".into())),
        2 => ChangeFact::Checked(Err(Refusal::new(Kind::Change, "change CHG0030001 is not approved"))),
        _ => ChangeFact::Checked(Err(Refusal::new(Kind::Change, "change CHG0030001 does not exist"))),
    }
}

/// Each rule's code on a surface (`None`: it passed).
type Codes = BTreeMap<&'static str, Option<&'static str>>;

fn codes(evaluated: &[Evaluated]) -> Codes {
    evaluated.iter().map(|e| (e.rule.name(), e.outcome.refusal().map(Refusal::code))).collect()
}

fn blocked(evaluated: &[Evaluated]) -> Vec<&'static str> {
    checks::blockers(evaluated).iter().map(Refusal::code).collect()
}

/// The codes of `a` for the rules `b` also decided, and `b`'s.
fn shared(a: &Codes, b: &Codes) -> (Codes, Codes) {
    let a2 = a.iter().filter(|(k, _)| b.contains_key(*k)).map(|(k, v)| (*k, *v)).collect();
    let b2 = b.iter().filter(|(k, _)| a.contains_key(*k)).map(|(k, v)| (*k, *v)).collect();
    (a2, b2)
}

fn check_case(c: &Case) -> Result<(), TestCaseError> {
    let cfg = config(c);
    let policy = Policy::new(&cfg);
    let (staging, prod) = (cfg.env("staging").unwrap(), cfg.env("prod").unwrap());
    let now = now(c);
    let (from_deps, to_deps) = records(c, now);
    let probed = match c.unhealthy {
        true => Health::Failing("GET http://127.0.0.1:9/healthz → 503 (expected 200)".into()),
        false => Health::Passing(1),
    };
    let list = reviews(c, now);
    let teams = approvals::Teams::new();
    let actors = ["mallory".to_string()];
    let v = approvals::evaluate(&approvals::Input {
        env: "prod",
        policy: &prod.approvals,
        approvals: &list,
        actors: &actors,
        teams: &teams,
        now,
    });
    let fact = || (c.required > 0).then(|| ApprovalsFact { verdict: &v, unblock: "approve it".into() });
    let lock = (c.busy == 2).then(|| "prod is locked by another run".to_string());
    // What staging runs now (`records`).
    let current: Option<&'static str> = Some(["0.9", "1.0", "1.1"][c.release as usize]);
    let runs_it = current == Some("1.0");
    let held = hold(c, now);
    let held_now = matches!(c.hold, 1 | 2);
    // `promote`: the requested release, probes while staging runs it.
    let promote_facts = |release: Option<&'static str>, health: bool| Facts {
        source: Source::Env(staging),
        release,
        git_ref: RefFact::Recorded,
        from_deployments: Some(&from_deps),
        to_deployments: &to_deps,
        source_health: health.then(|| probed.clone()),
        lock_busy: lock.clone(),
        change: change(c),
        approvals: fact(),
        hold: held.as_ref(),
        ..Facts::new(&policy, prod, now)
    };
    let promote = checks::evaluate(Surface::Promote, &promote_facts(Some("1.0"), runs_it));
    // `plan`: the same, without probes; missing approvals are pending.
    let planned = checks::evaluate(Surface::Plan, &promote_facts(Some("1.0"), false));
    let the_plan = plan::build(&policy, "staging", prod, Some("1.0"), None, &planned, v.counted as u32);
    let (p, pl) = (codes(&promote), codes(&planned));
    prop_assert_eq!(shared(&p, &pl).0, shared(&p, &pl).1, "promote and plan disagree");
    let pending = |r: &&Refusal| r.kind == Kind::Approvals && !r.is_final;
    let expected: Vec<&str> = checks::blockers(&planned).iter().filter(|r| !pending(r)).map(Refusal::code).collect();
    prop_assert_eq!(the_plan.codes.clone(), expected);
    prop_assert_eq!(the_plan.allowed, the_plan.codes.is_empty());
    let health_or_pending = |r: &Refusal| r.kind == Kind::Unhealthy || pending(&r);
    let promote_cut: Vec<&str> =
        checks::blockers(&promote).into_iter().filter(|r| !health_or_pending(r)).map(|r| r.code()).collect();
    prop_assert_eq!(&the_plan.codes, &promote_cut, "plan's blockers are promote's, less health and pending approvals");

    // `compare`: staging's current release, as `plan --release <it>` sees it.
    let compared = checks::evaluate(Surface::Compare, &promote_facts(current, true));
    let plan_current = checks::evaluate(Surface::Plan, &promote_facts(current, false));
    let (cm, pc) = (codes(&compared), codes(&plan_current));
    let (cm_shared, pc_shared) = shared(&cm, &pc);
    prop_assert_eq!(&cm_shared, &pc_shared, "compare and plan disagree");
    let readiness = Readiness::judge(&compared);
    prop_assert_eq!(
        readiness == Readiness::NotReady,
        !blocked(&compared).is_empty()
            || Readiness::of(stagegate::run::readiness::score(&compared)) == Readiness::NotReady
    );
    // Whatever `plan` refuses — but the change and the approvals, which are a
    // run's, not the release's — `compare` does not call ready.
    let per_run = |r: &Refusal| matches!(r.kind, Kind::Change | Kind::Approvals);
    if checks::blockers(&plan_current).iter().any(|r| !per_run(r)) {
        prop_assert_eq!(readiness, Readiness::NotReady, "plan refuses what compare calls ready");
    }

    // The App: the deployed commit is what staging runs now.
    let app_facts = Facts {
        source: if c.path && current.is_some() { Source::Env(staging) } else { Source::NotFound("elsewhere".into()) },
        release: current,
        git_ref: RefFact::Given(Ok(GitRef::parse(if c.from_main { "main" } else { "release/1.0" }).unwrap())),
        from_deployments: Some(&from_deps),
        to_deployments: &to_deps,
        change: change(c),
        approvals: fact(),
        hold: held.as_ref(),
        ..Facts::new(&policy, prod, now)
    };
    let app = checks::evaluate(Surface::App, &app_facts);
    if c.path && runs_it {
        let (a, pr) = shared(&codes(&app), &p);
        prop_assert_eq!(a, pr, "the App and promote disagree");
    }
    let answer = verdict::of(&app);
    let refusals = checks::blockers(&app);
    match answer {
        verdict::Verdict::Approve => prop_assert!(refusals.is_empty()),
        verdict::Verdict::Reject => prop_assert!(refusals.iter().any(|r| r.is_final)),
        verdict::Verdict::Pending { .. } => prop_assert!(!refusals.is_empty() && refusals.iter().all(|r| !r.is_final)),
    }
    if held_now && refusals.iter().all(|r| r.kind == Kind::Held) {
        let until = held.as_ref().and_then(|h| h.set.until);
        prop_assert_eq!(answer, verdict::Verdict::Pending { until }, "held: pending until the hold ends or is cleared");
    }
    if c.freeze_window && c.saturday && refusals.iter().all(|r| r.kind == Kind::Frozen) {
        let monday: DateTime<Utc> = "2026-12-07T00:00:00Z".parse().unwrap();
        prop_assert_eq!(answer, verdict::Verdict::Pending { until: Some(monday) }, "a freeze ends");
    }

    // `gate`: refuses exactly when promote's approvals do.
    let gate = checks::evaluate(
        Surface::Gate,
        &Facts { approvals: fact(), hold: held.as_ref(), ..Facts::new(&policy, prod, now) },
    );
    let approvals_of = |e: &[Evaluated]| -> Vec<&str> {
        let gated = |r: &&Refusal| matches!(r.kind, Kind::Held | Kind::Approvals);
        checks::blockers(e).iter().filter(gated).map(Refusal::code).collect()
    };
    prop_assert_eq!(blocked(&gate), approvals_of(&promote));

    // A hold in force refuses on every surface that takes a release in; one
    // run out or cleared on none. A rollback only when it holds rollbacks too.
    let held_code = |e: &[Evaluated]| blocked(e).contains(&"stagegate::refused::held");
    for (surface, e) in
        [("promote", &promote), ("plan", &planned), ("compare", &compared), ("app", &app), ("gate", &gate)]
    {
        prop_assert_eq!(held_code(e), held_now, "{} and the hold disagree", surface);
    }
    if held_now {
        prop_assert_eq!(readiness, Readiness::NotReady, "compare calls a held target ready");
        prop_assert!(!the_plan.allowed, "plan allows a promotion into a held target");
    }
    let rollback = checks::evaluate(
        Surface::Rollback,
        &Facts {
            to_deployments: &to_deps,
            rollback: Some(Ok(&to_deps[0])),
            hold: held.as_ref(),
            ..Facts::new(&policy, prod, now)
        },
    );
    prop_assert_eq!(held_code(&rollback), held_now && c.rollbacks_too, "a rollback and the hold disagree");

    // `journal promote` into prod: freeze, change and approvals as promote has them.
    let journal = checks::evaluate(
        Surface::JournalPromote,
        &Facts { change: change(c), approvals: fact(), hold: held.as_ref(), ..Facts::new(&policy, prod, now) },
    );
    let (j, pr) = shared(&codes(&journal), &p);
    prop_assert_eq!(j, pr, "journal promote and promote disagree");

    // `deploy` straight into prod: never into an approval environment; else
    // the ref, the lock, freeze and change as promote has them.
    let deploy = checks::evaluate(
        Surface::Deploy,
        &Facts {
            git_ref: RefFact::Given(Ok(GitRef::parse(if c.from_main { "main" } else { "release/1.0" }).unwrap())),
            to_deployments: &to_deps,
            lock_busy: lock.clone(),
            change: change(c),
            hold: held.as_ref(),
            ..Facts::new(&policy, prod, now)
        },
    );
    let deploy = checks::until_decisive(&deploy);
    if c.required > 0 {
        prop_assert_eq!(blocked(deploy), vec!["stagegate::refused::promotion_only"]);
    } else if current.is_some() {
        let (d, pr) = shared(&codes(deploy), &p);
        let d: Codes = d.into_iter().filter(|(k, _)| *k != "ref" || runs_it).collect();
        let pr: Codes = pr.into_iter().filter(|(k, _)| *k != "ref" || runs_it).collect();
        prop_assert_eq!(d, pr, "deploy and promote disagree");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Every surface names the same blockers with the same codes.
    #[test]
    fn every_surface_names_the_same_blockers(c in case()) {
        check_case(&c)?;
    }
}

/// The surfaces the binary renders, on one case: Saturday (prod frozen), ten
/// minutes into staging's soak, nobody approved. `plan` refuses for the
/// freeze and the soak (the approvals are pending), `promote --dry-run` for
/// those and the approvals, `compare` for the freeze and the soak, `gate`
/// for the approvals.
#[test]
fn a_frozen_unsoaked_unapproved_promotion_reads_the_same_everywhere() {
    let sb = Sandbox::new();
    sb.write(
        "stagegate.yml",
        r#"version: 1
environments:
  staging: { branches: ["release/*"] }
  prod:
    branches: ["release/*"]
    soak: 1h
    freeze: ["SAT 00:00 - MON 00:00 UTC"]
    approvals: { required: 1, reviewers: ["@alice"] }
promotions:
  - { from: staging, to: prod }
"#,
    );
    let at = |now: &str, args: &[&str]| {
        let mut c = sb.sg(args);
        c.env("STAGEGATE_NOW", now);
        c
    };
    let (code, out, err) =
        run(at("2026-12-04T23:50:00Z", &["deploy", "--env", "staging", "--ref", "release/1", "--release", "1.0"]));
    assert_eq!(code, 0, "{out}{err}");
    let saturday = "2026-12-05T00:00:00Z";
    let codes_of = |args: &[&str]| {
        let (code, json, _) = run_json(at(saturday, args));
        let codes: Vec<String> =
            json["blockers"].as_array().unwrap().iter().map(|b| b["code"].as_str().unwrap().to_owned()).collect();
        (code, codes)
    };
    let (frozen, soak, approvals) =
        ("stagegate::refused::frozen", "stagegate::refused::soak", "stagegate::refused::approvals");
    assert_eq!(
        codes_of(&["plan", "--from", "staging", "--to", "prod", "--release", "1.0"]),
        (3, vec![frozen.into(), soak.into()])
    );
    let promote = ["promote", "--from", "staging", "--to", "prod", "--release", "1.0", "--dry-run"];
    assert_eq!(codes_of(&promote), (3, vec![frozen.into(), soak.into(), approvals.into()]));
    assert_eq!(codes_of(&["compare", "staging", "prod"]), (3, vec![frozen.into(), soak.into()]));
    assert_eq!(codes_of(&["gate", "--env", "prod"]), (3, vec![approvals.into()]));
}
