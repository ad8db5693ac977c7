//! `stagegate compare A B`: what A has that B has not, how their configs
//! differ, health now, and a readiness score for promoting A's release to B
//! (weights in `run::readiness`): ≥ 90 ready, 75–89 caution, < 75 not ready (exit 3).

use serde_json::json;

use super::{Ctx, known_env};
use crate::actions;
use crate::config::{Environment, duration};
use crate::error::{Error, Exit};
use crate::forge::Deployment;
use crate::output::table;
use crate::policy::Policy;
use crate::run::readiness::{self, Verdict};
use crate::run::{health, history};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment a release would come from
    from: String,
    /// The environment it would go to
    to: String,
}

/// The settings that decide what may run where, side by side where they differ.
fn config_diff(a: &Environment, b: &Environment) -> Vec<(String, String, String)> {
    let list = |v: Vec<String>| if v.is_empty() { "—".to_string() } else { v.join(", ") };
    let fields = |e: &Environment| {
        [
            ("branches", list(e.branches.iter().map(ToString::to_string).collect())),
            ("tags", list(e.tags.iter().map(ToString::to_string).collect())),
            ("approvals", e.approvals.required.to_string()),
            ("reviewers", list(e.approvals.reviewers.iter().map(ToString::to_string).collect())),
            ("wait_timer", e.approvals.wait_timer.map_or("—".into(), duration::format)),
            ("freeze", list(e.freeze.iter().map(ToString::to_string).collect())),
            ("soak", e.soak.map_or("—".into(), duration::format)),
            ("health checks", e.health.len().to_string()),
        ]
    };
    fields(a)
        .into_iter()
        .zip(fields(b))
        .filter(|((_, x), (_, y))| x != y)
        .map(|((k, x), (_, y))| (k.to_string(), x, y))
        .collect()
}

/// Releases that ran successfully in A since B's current one, and never in B.
fn pending(a: &[Deployment], b: &[Deployment]) -> Vec<String> {
    let b_current = history::current(b).map(|d| d.request.release.as_str());
    let mut out: Vec<String> = Vec::new();
    for d in a.iter().filter(|d| d.succeeded_at().is_some()) {
        if Some(d.request.release.as_str()) == b_current {
            break;
        }
        if history::good_of_release(b, &d.request.release).is_none() && !out.contains(&d.request.release) {
            out.push(d.request.release.clone());
        }
    }
    out
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let a = known_env(&policy, &args.from)?;
    let b = known_env(&policy, &args.to)?;
    if a.name == b.name {
        return Err(Error::invalid(
            format!("`compare {} {}` compares an environment with itself", a.name, b.name),
            "name two different environments, e.g. `stagegate compare staging prod`",
        ));
    }
    let forge = ctx.forge()?;
    let (a_deps, b_deps) = (forge.deployments(&a.name).await?, forge.deployments(&b.name).await?);
    let (a_cur, b_cur) = (history::current(&a_deps), history::current(&b_deps));
    let t = cfg.steps.health_check_timeout;
    let (a_health, b_health) = (health::probe_all(&a.health, t, t).await, health::probe_all(&b.health, t, t).await);

    let checks = readiness::assess(&readiness::Input {
        policy: &policy,
        from: a,
        to: b,
        from_deployments: &a_deps,
        to_deployments: &b_deps,
        from_health: &a_health,
        now: ctx.now(),
    });
    let score = readiness::score(&checks);
    let verdict = Verdict::of(score);
    let pending = pending(&a_deps, &b_deps);
    let diff = config_diff(a, b);
    // The commits A's release brings, when both environments name a commit and
    // the forge knows commits (GitHub's compare API; offline: unknown).
    let sha = |d: Option<&Deployment>| d.and_then(|d| d.request.sha.clone());
    let commits = match (sha(a_cur), sha(b_cur)) {
        (Some(x), Some(y)) if x == y => Some(Vec::new()),
        (Some(x), Some(y)) => forge.commits_between(&y, &x).await?,
        _ => None,
    };

    actions::set_output("score", &score.to_string());
    actions::summary(&summary_markdown(a, b, score, verdict, &checks));
    if ctx.out.json() {
        let rel = |d: Option<&Deployment>| {
            d.map(|d| json!({"release": d.request.release, "sha": d.request.sha, "ref": d.request.git_ref, "deployed_at": crate::human::timestamp(d.updated_at())}))
        };
        ctx.out.emit(&json!({
            "from": a.name, "to": b.name,
            "releases": { "from": rel(a_cur), "to": rel(b_cur) },
            "pending": pending,
            "commits": commits,
            "config": diff.iter().map(|(k, x, y)| json!({"key": k, "from": x, "to": y})).collect::<Vec<_>>(),
            "health": { "from": a_health, "to": b_health },
            "score": score, "verdict": verdict, "checks": checks,
        }));
    } else {
        let o = &ctx.out;
        let name = |d: Option<&Deployment>| d.map_or(o.dim("—"), |d| d.request.release.clone());
        println!("{}  {}   {}  {}", o.bold(&a.name), name(a_cur), o.bold(&b.name), name(b_cur));
        if !pending.is_empty() {
            println!("in {} but not in {}: {}", a.name, b.name, pending.join(", "));
        }
        if let Some(c) = commits.as_ref().filter(|c| !c.is_empty()) {
            println!("{} commit(s) in {} that {} does not have:", c.len(), a.name, b.name);
            for commit in c.iter().take(10) {
                println!("  {} {}", o.dim(&commit.sha[..commit.sha.len().min(7)]), commit.title);
            }
            if c.len() > 10 {
                println!("  … and {} more", c.len() - 10);
            }
        }
        if !diff.is_empty() {
            println!();
            let rows: Vec<Vec<String>> = diff.iter().map(|(k, x, y)| vec![k.clone(), x.clone(), y.clone()]).collect();
            println!("{}", table(&["SETTING", &a.name.to_uppercase(), &b.name.to_uppercase()], &rows));
        }
        let health = |name: &str, probes: &[health::Probe]| match probes.iter().find(|p| !p.ok) {
            _ if probes.is_empty() => format!("{name} has no health checks"),
            None => format!("{name} {}", o.good("healthy")),
            Some(p) => format!("{name} {}", o.bad(&format!("down: {}", p.describe()))),
        };
        println!("health now: {}; {}", health(&a.name, &a_health), health(&b.name, &b_health));
        println!();
        let rows: Vec<Vec<String>> = checks
            .iter()
            .map(|c| {
                let pts = if c.passed { format!("{}/{}", c.weight, c.weight) } else { format!("0/{}", c.weight) };
                vec![if c.passed { o.good("✓") } else { o.bad("✗") }, c.name.to_string(), pts, c.detail.clone()]
            })
            .collect();
        println!("{}", table(&["", "CHECK", "POINTS", "DETAIL"], &rows));
        println!();
        let line = format!("readiness {score}/100: {}", verdict.describe());
        println!(
            "{}",
            match verdict {
                Verdict::Ready => o.good(&line),
                Verdict::Caution => o.warn(&line),
                Verdict::NotReady => o.bad(&line),
            }
        );
    }
    Ok(if verdict == Verdict::NotReady { Exit::Refused } else { Exit::Success })
}

fn summary_markdown(
    a: &Environment,
    b: &Environment,
    score: u32,
    verdict: Verdict,
    checks: &[readiness::Check],
) -> String {
    let icon = match verdict {
        Verdict::Ready => "✅",
        Verdict::Caution => "⚠️",
        Verdict::NotReady => "❌",
    };
    let mut md = format!(
        "### stagegate compare: {} → {}\n\n{icon} readiness {score}/100: {}\n\n| | check | points | detail |\n|---|---|---|---|\n",
        a.name,
        b.name,
        verdict.describe()
    );
    for c in checks {
        let pts = if c.passed { c.weight } else { 0 };
        let mark = if c.passed { "✅" } else { "❌" };
        md.push_str(&format!("| {mark} | {} | {pts}/{} | {} |\n", c.name, c.weight, actions::cell(&c.detail)));
    }
    md
}
