//! Journal lanes under the same policy as deployments: `journal seed` on
//! lanes that hold versions moves a lane only to what the lane before it
//! imported successfully, and `journal promote` into a lane obeys the
//! environment of the same name (approvals, change, freeze), on both backends.

use chrono::{Duration, Utc};

use crate::support::journal::{Backend, Pipeline};
use crate::support::servicenow::{ServiceNow, change};

fn watch_once(p: &Pipeline, lane: &str) {
    let (code, out, err) = p.run(&["journal", "watch", "--lane", lane, "--exec", &p.import_cmd(), "--once"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// (lane, version, moved, reason) of each lane, as `journal seed` answered.
fn seeded(p: &Pipeline) -> Vec<(String, Option<String>, bool, String)> {
    let (code, v, err) = p.json(&["journal", "seed"]);
    assert_eq!(code, 0, "{err}");
    v["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lane"].as_str().unwrap().to_string(),
                l["version"].as_str().map(str::to_string),
                l["moved"].as_bool().unwrap(),
                l["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn seeding_again_moves_a_lane_only_to_what_the_lane_before_imported() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let v: Vec<String> = (1..=3).map(|i| p.upload(&format!("{i}.jnl"), &i.to_string(), "dev-modelling")).collect();
        let s = |i: usize| Some(v[i].clone());
        let lane = |name: &str, version: Option<String>, moved: bool, reason: &str| {
            (name.to_string(), version, moved, reason.to_string())
        };
        // A first seeding of empty lanes: dev = V3, qa = V2, dit = V1.
        assert_eq!(
            seeded(&p),
            [
                lane("dev", s(2), true, "first_seeding"),
                lane("qa", s(1), true, "first_seeding"),
                lane("dit", s(0), true, "first_seeding")
            ],
            "{backend:?}"
        );
        watch_once(&p, "dev");
        let v4 = p.upload("4.jnl", "4", "dev-modelling");
        let v5 = p.upload("5.jnl", "5", "dev-modelling");
        // dev takes the newest; qa what dev imported (V3); dit stays, for qa
        // imported nothing — neither V4 nor V3 was ever validated in qa.
        assert_eq!(
            seeded(&p),
            [
                lane("dev", Some(v5.clone()), true, "newest"),
                lane("qa", s(2), true, "imported_before"),
                lane("dit", s(0), false, "not_imported_before")
            ],
            "{backend:?}"
        );
        assert!(!p.lanes().iter().any(|(_, version, _)| version.as_deref() == Some(v4.as_str())), "{backend:?}");
        watch_once(&p, "qa");
        let (code, out, err) = p.run(&["journal", "seed"]);
        assert_eq!(code, 0, "{err}");
        let said: Vec<&str> = out.lines().map(str::trim_end).collect();
        assert_eq!(said.len(), 4, "{out}");
        assert!(said[1].starts_with("dev") && said[1].contains(&format!("stays at {v5}")), "{out}");
        assert!(said[2].contains(&format!("stays at {}", v[2])) && said[2].ends_with("holds it already"), "{out}");
        assert!(
            said[3].contains(&format!("moves to {} (was {})", v[2], v[0]))
                && said[3].ends_with("qa imported it successfully"),
            "{out}"
        );
    }
}

#[test]
fn a_failed_import_is_not_passed_on_by_seeding() {
    let p = Pipeline::new(Backend::Files);
    let v1 = p.upload("1.jnl", "1", "dev-modelling");
    p.upload("2.jnl", "2", "dev-modelling");
    assert_eq!(p.run(&["journal", "seed"]).0, 0);
    let (code, _, _) = p.run(&["journal", "watch", "--lane", "dev", "--exec", "exit 7", "--once"]);
    assert_eq!(code, 1);
    let (code, out, _) = p.run(&["journal", "seed"]);
    assert_eq!(code, 0);
    let qa = out.lines().find(|l| l.starts_with("qa")).unwrap();
    assert!(qa.contains(&format!("stays at {v1}")) && qa.contains("is failed"), "{out}");
}

/// A pipeline whose `dit` lane is an environment that needs one approval from
/// vera and an approved change, and whose `qa` is frozen at weekends.
fn governed(backend: Backend, servicenow: &str) -> Pipeline {
    let p = Pipeline::new(backend);
    let text = std::fs::read_to_string(&p.config).unwrap();
    let envs = "environments:\n  dev: { auto_deploy: true }\n  qa:\n    freeze: [\"SAT 00:00 - SUN 23:00 UTC\"]\n  dit:\n    approvals: { required: 1, reviewers: [\"@vera\"] }\n    change: required\n";
    let text = text.replace("environments:\n  dev: { auto_deploy: true }\n", envs);
    let extra = format!(
        "promotions:\n  - {{ from: dev, to: qa }}\n  - {{ from: qa, to: dit }}\nservicenow:\n  instance: {servicenow}\n"
    );
    std::fs::write(&p.config, format!("{text}{extra}")).unwrap();
    p
}

#[test]
fn journal_promote_into_a_lane_obeys_the_environment_of_the_same_name() {
    let fmt = |d: chrono::DateTime<Utc>| d.format("%Y-%m-%d %H:%M:%S").to_string();
    let (before, after) = (fmt(Utc::now() - Duration::hours(1)), fmt(Utc::now() + Duration::hours(1)));
    let sn = ServiceNow::start(vec![change("CHG0000002", "approved", "-1", &before, &after)]);
    let Some(chg) = sn.number("approved", "CHG0000002") else { return };
    for backend in Backend::ALL {
        let p = governed(backend, &sn.url);
        let v1 = p.upload("1.jnl", "1", "dev-modelling");
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        watch_once(&p, "dev");
        let journal = |args: &[&str], now: Option<&str>| {
            let mut c = p.cmd();
            c.env("SERVICENOW_USER", &sn.user).env("SERVICENOW_PASSWORD", &sn.password);
            if let Some(now) = now {
                c.env("STAGEGATE_NOW", now);
            }
            c.args(["--output", "json", "journal"]).args(args).args(["--actor", "mallory"]);
            crate::support::run_json(c)
        };
        // qa is frozen on Saturdays: refused, with the freeze's code.
        let (code, v, err) = journal(&["promote", "--from", "dev", "--to", "qa"], Some("2026-12-05T12:00:00Z"));
        assert_eq!(code, 3, "{v:#}{err}");
        assert_eq!(v["refusal"]["code"], "stagegate::refused::frozen", "{v:#}");
        assert_eq!(p.lanes()[1].1, None, "{backend:?}: qa did not move");
        let (code, v, err) = journal(&["promote", "--from", "dev", "--to", "qa"], Some("2026-12-07T12:00:00Z"));
        assert_eq!(code, 0, "{v:#}{err}");
        assert_eq!(v["checks"][0]["check"], "not-frozen", "{v:#}");
        watch_once(&p, "qa");

        // dit needs an approval and a change: neither given, both said.
        let promote = ["promote", "--from", "qa", "--to", "dit"];
        let (code, v, err) = journal(&promote, None);
        assert_eq!(code, 3, "{v:#}{err}");
        let codes: Vec<&str> = v["blockers"].as_array().unwrap().iter().map(|b| b["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["stagegate::refused::change", "stagegate::refused::approvals"], "{v:#}");
        // The actor's own approval does not count; with the change, approvals still block.
        let approve = |who: &str| {
            let mut c = p.cmd();
            c.args(["approve", "--env", "dit", "--as", who, "--actor", "mallory"]);
            assert_eq!(crate::support::run(c).0, 0);
        };
        approve("mallory");
        let (code, v, _) = journal(&[&promote[..], &["--change", &chg]].concat(), None);
        assert_eq!(code, 3, "{v:#}");
        assert_eq!(v["blockers"][0]["code"], "stagegate::refused::approvals", "{v:#}");
        assert_eq!(p.lanes()[2].1, None, "{backend:?}: dit did not move");
        approve("vera");
        let (code, v, err) = journal(&[&promote[..], &["--change", &chg]].concat(), None);
        assert_eq!(code, 0, "{v:#}{err}");
        let checks: Vec<&str> = v["checks"].as_array().unwrap().iter().map(|c| c["check"].as_str().unwrap()).collect();
        assert_eq!(checks, ["change", "approvals"], "{v:#}");
        assert!(v["checks"][1]["detail"].as_str().unwrap().contains("vera"), "{v:#}");
        assert_eq!(p.lanes()[2].1, Some(v1.clone()), "{backend:?}");
    }
}

#[test]
fn journal_promote_into_a_held_lane_is_refused_until_the_hold_is_cleared() {
    let p = governed(Backend::Files, "https://acme.service-now.com");
    let v1 = p.upload("1.jnl", "1", "dev-modelling");
    assert_eq!(p.run(&["journal", "seed"]).0, 0);
    watch_once(&p, "dev");
    let at_wednesday = |args: &[&str]| {
        let mut c = p.cmd();
        c.env("STAGEGATE_NOW", "2026-12-09T12:00:00Z").args(args);
        crate::support::run_json(c)
    };
    let (code, _, err) =
        at_wednesday(&["hold", "set", "--env", "qa", "--reason", "INC-5 bad journal", "--actor", "vera"]);
    assert_eq!(code, 0, "{err}");
    let promote = ["--output", "json", "journal", "promote", "--from", "dev", "--to", "qa", "--actor", "mallory"];
    let (code, v, err) = at_wednesday(&promote);
    assert_eq!(code, 3, "{v:#}{err}");
    assert_eq!(v["refusal"]["code"], "stagegate::refused::held", "{v:#}");
    assert!(v["refusal"]["message"].as_str().unwrap().contains("qa is held by vera"), "{v:#}");
    assert_eq!(p.lanes()[1].1, None, "qa did not move");
    assert_eq!(at_wednesday(&["hold", "clear", "--env", "qa"]).0, 0);
    let (code, v, err) = at_wednesday(&promote);
    assert_eq!(code, 0, "{v:#}{err}");
    assert_eq!(p.lanes()[1].1, Some(v1));
}
