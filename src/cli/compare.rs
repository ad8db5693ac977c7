//! `stagegate compare A B`: what A has that B has not (releases and commits),
//! how their configs differ, health now, and a readiness score for promoting
//! A's release to B from the check registry (weights in `run::readiness`):
//! any refusal — the same `plan` would give — is "not ready" (exit 3); else
//! ≥ 90 ready, 75–89 caution, < 75 not ready. When B already runs A's release
//! there is nothing to promote, and `compare` says so instead of scoring.

use serde::Serialize;

use super::{Ctx, resolve_env};
use crate::actions::{cell, inline};
use crate::checks::{self, Evaluated, Facts, RefFact, Source, Surface};
use crate::config::{Environment, duration};
use crate::error::{Error, Exit};
use crate::forge::history;
use crate::forge::{CommitSummary, Deployment};
use crate::gates::freeze;
use crate::human;
use crate::output::{Out, Output, Render, output, table};
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::run::health;
use crate::run::health::Probe;
use crate::run::lock;
use crate::run::readiness::{self, Verdict};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment a release would come from
    from: String,
    /// The environment it would go to
    to: String,
}

/// What `compare` answers.
#[derive(Debug, Serialize)]
struct Comparison {
    from: String,
    to: String,
    releases: Sides<Option<Current>>,
    /// Releases that ran in A since B's current one, and never in B.
    pending: Vec<String>,
    /// The commits A's release has that B's lacks (`null`: the forge cannot tell).
    commits: Option<Vec<CommitSummary>>,
    config: Vec<Difference>,
    health: Sides<Vec<Probe>>,
    score: u32,
    verdict: Verdict,
    checks: Vec<Evaluated>,
    /// What refuses the promotion, each with its code (as `plan` says it).
    blockers: Vec<Refusal>,
    /// When B is closed (freeze or deploy windows): the next moment it is open.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::human::rfc3339_opt")]
    next_open: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip)]
    next_open_text: Option<String>,
}

#[derive(Debug, Serialize)]
struct Sides<T> {
    from: T,
    to: T,
}

/// The release an environment runs.
#[derive(Debug, Serialize)]
struct Current {
    release: String,
    sha: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    deployed_at: String,
}

/// A setting that differs between the two environments.
#[derive(Debug, Serialize)]
struct Difference {
    key: &'static str,
    from: String,
    to: String,
}

/// The settings that decide what may run where, side by side where they differ.
fn config_diff(a: &Environment, b: &Environment) -> Vec<Difference> {
    let list = |v: Vec<String>| if v.is_empty() { "—".to_string() } else { v.join(", ") };
    let fields = |e: &Environment| {
        [
            ("branches", list(e.branches.iter().map(ToString::to_string).collect())),
            ("tags", list(e.tags.iter().map(ToString::to_string).collect())),
            ("approvals", e.approvals.required.to_string()),
            ("reviewers", list(e.approvals.reviewers.iter().map(ToString::to_string).collect())),
            ("wait_timer", e.approvals.wait_timer.map_or("—".into(), duration::format)),
            ("freeze", list(e.freeze.iter().map(ToString::to_string).collect())),
            ("deploy windows", list(e.deploy_windows.iter().map(ToString::to_string).collect())),
            ("soak", e.soak.map_or("—".into(), duration::format)),
            ("health checks", e.health.len().to_string()),
            ("url", e.url.clone().unwrap_or_else(|| "—".into())),
        ]
    };
    fields(a)
        .into_iter()
        .zip(fields(b))
        .filter(|((_, x), (_, y))| x != y)
        .map(|((key, from), (_, to))| Difference { key, from, to })
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

fn current(d: Option<&Deployment>) -> Option<Current> {
    d.map(|d| Current {
        release: d.request.release.clone(),
        sha: d.request.sha.clone(),
        git_ref: d.request.git_ref.clone(),
        deployed_at: human::timestamp(d.updated_at()),
    })
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    // Instances compare under their templates' rules, by their own records.
    let (ra, rb) = (resolve_env(&policy, &args.from)?, resolve_env(&policy, &args.to)?);
    let (a, b, a_name, b_name) = (ra.rules(), rb.rules(), ra.name(), rb.name());
    if a_name == b_name {
        return Err(Error::invalid(
            format!("`compare {a_name} {b_name}` compares an environment with itself"),
            "name two different environments, e.g. `stagegate compare staging prod`",
        ));
    }
    let forge = ctx.forge()?;
    let (a_deps, b_deps) = (forge.deployments(&a_name).await?, forge.deployments(&b_name).await?);
    let (a_cur, b_cur) = (history::current(&a_deps), history::current(&b_deps));
    let t = cfg.steps.health_check_timeout;
    let (a_health, b_health) = (health::probe_all(&a.health, t, t).await, health::probe_all(&b.health, t, t).await);

    let hold = crate::forge::hold::current(forge.as_ref(), &b.name, ctx.now()).await?;
    let facts = Facts {
        hold: hold.as_ref(),
        source: Source::Env(a),
        release: a_cur.map(|d| d.request.release.as_str()),
        git_ref: RefFact::Recorded,
        from_deployments: Some(&a_deps),
        to_deployments: &b_deps,
        source_health: Some(health::summary(&a_health)),
        lock_busy: lock::inspect(&ctx.state, &b_name).map(|l| l.describe(&b_name, &lock::path(&ctx.state, &b_name))),
        instance: rb.template().map(|_| b_name.as_str()),
        ..Facts::new(&policy, b, ctx.now())
    };
    let checks = checks::evaluate(Surface::Compare, &facts);
    let score = readiness::score(&checks);
    let same = |x: &Deployment, y: &Deployment| x.request.release == y.request.release;
    let up_to_date = a_cur.zip(b_cur).is_some_and(|(x, y)| same(x, y));
    // The commits A's release brings, when both environments name a commit and
    // the forge knows commits (GitHub's compare API; offline: unknown).
    let sha = |d: Option<&Deployment>| d.and_then(|d| d.request.sha.clone());
    let commits = match (sha(a_cur), sha(b_cur)) {
        (Some(x), Some(y)) if x == y => Some(Vec::new()),
        (Some(x), Some(y)) => forge.commits_between(&y, &x).await?,
        _ => None,
    };
    let answer = Comparison {
        from: a_name.clone(),
        to: b_name.clone(),
        releases: Sides { from: current(a_cur), to: current(b_cur) },
        pending: pending(&a_deps, &b_deps),
        commits,
        config: config_diff(a, b),
        health: Sides { from: a_health, to: b_health },
        score,
        verdict: if up_to_date { Verdict::UpToDate } else { Verdict::judge(&checks) },
        blockers: checks::blockers(&checks),
        checks,
        next_open: freeze::closed(b, ctx.now()).filter(|p| !p.open_ended).map(|p| p.until),
        next_open_text: freeze::next_open_text(b, ctx.now()),
    };
    ctx.out.print(&answer);
    Ok(if answer.verdict == Verdict::NotReady { Exit::Refused } else { Exit::Success })
}

impl Comparison {
    /// `staging already runs 1.0.0: nothing to promote`, or the score in words.
    fn conclusion(&self) -> String {
        match (&self.verdict, &self.releases.to) {
            (Verdict::UpToDate, Some(c)) => format!("{} already runs {}: nothing to promote", self.to, c.release),
            (v, _) => {
                let blocked: Vec<&str> =
                    self.checks.iter().filter(|c| c.outcome.is_block()).map(|c| c.rule.name()).collect();
                let why =
                    if blocked.is_empty() { String::new() } else { format!(" (refused: {})", blocked.join(", ")) };
                format!("readiness {}/100: {}{why}", self.score, v.describe())
            }
        }
    }
}

impl Render for Comparison {
    fn text(&self, o: &Out) -> String {
        let name = |c: &Option<Current>| c.as_ref().map_or(o.dim("—"), |c| c.release.clone());
        let mut t = format!(
            "{}  {}   {}  {}\n",
            o.bold(&self.from),
            name(&self.releases.from),
            o.bold(&self.to),
            name(&self.releases.to)
        );
        if !self.pending.is_empty() {
            t.push_str(&format!("in {} but not in {}: {}\n", self.from, self.to, self.pending.join(", ")));
        }
        if let Some(c) = self.commits.as_ref().filter(|c| !c.is_empty()) {
            t.push_str(&format!("{} commit(s) in {} that {} does not have:\n", c.len(), self.from, self.to));
            for commit in c.iter().take(10) {
                t.push_str(&format!(
                    "  {} {}\n",
                    o.dim(crate::values::sha::ShortSha::with_len(&commit.sha, 7).as_str()),
                    commit.title
                ));
            }
            if c.len() > 10 {
                t.push_str(&format!("  … and {} more\n", c.len() - 10));
            }
        }
        if !self.config.is_empty() {
            let rows: Vec<Vec<String>> =
                self.config.iter().map(|d| vec![d.key.to_string(), d.from.clone(), d.to.clone()]).collect();
            let (a, b) = (self.from.to_uppercase(), self.to.to_uppercase());
            t.push_str(&format!("\n{}\n", table(&["SETTING", &a, &b], &rows)));
        }
        let health = |name: &str, probes: &[Probe]| match probes.iter().find(|p| !p.ok) {
            _ if probes.is_empty() => format!("{name} has no health checks"),
            None => format!("{name} {}", o.good("healthy")),
            Some(p) => format!("{name} {}", o.bad(&format!("down: {}", p.describe()))),
        };
        t.push_str(&format!(
            "health now: {}; {}\n\n",
            health(&self.from, &self.health.from),
            health(&self.to, &self.health.to)
        ));
        if self.verdict != Verdict::UpToDate {
            let rows: Vec<Vec<String>> = self
                .checks
                .iter()
                .map(|c| {
                    let pts = format!("{}/{}", c.points(), c.rule.weight());
                    let mark = match &c.outcome {
                        o2 if o2.is_block() => o.bad("✗"),
                        o2 if o2.scores() => o.good("✓"),
                        _ => o.warn("!"),
                    };
                    vec![mark, c.rule.name().to_string(), pts, c.outcome.detail().to_string()]
                })
                .collect();
            t.push_str(&format!("{}\n\n", table(&["", "CHECK", "POINTS", "DETAIL"], &rows)));
        }
        if let Some(open) = &self.next_open_text {
            t.push_str(&format!("{} is closed; next open: {open}\n", self.to));
        }
        let line = self.conclusion();
        t.push_str(&match self.verdict {
            Verdict::Ready | Verdict::UpToDate => o.good(&line),
            Verdict::Caution => o.warn(&line),
            Verdict::NotReady => o.bad(&line),
        });
        t
    }

    fn summary(&self) -> Option<String> {
        let icon = match self.verdict {
            Verdict::Ready | Verdict::UpToDate => "✅",
            Verdict::Caution => "⚠️",
            Verdict::NotReady => "❌",
        };
        let (from, to) = (inline(&self.from), inline(&self.to));
        let mut md = format!("### stagegate compare: {from} → {to}\n\n{icon} {}\n\n", inline(&self.conclusion()));
        if !self.pending.is_empty() {
            md.push_str(&format!("Releases in {from} not yet in {to}: {}\n\n", inline(&self.pending.join(", "))));
        }
        if self.verdict == Verdict::UpToDate {
            return Some(md);
        }
        md.push_str("| | check | points | detail |\n|---|---|---|---|\n");
        for c in &self.checks {
            let mark = match &c.outcome {
                o if o.is_block() => "❌",
                o if o.scores() => "✅",
                _ => "⚠️",
            };
            let (name, pts, weight) = (c.rule.name(), c.points(), c.rule.weight());
            md.push_str(&format!("| {mark} | {name} | {pts}/{weight} | {} |\n", cell(c.outcome.detail())));
        }
        Some(md)
    }

    /// The score, unless there is nothing to promote (then no score is set,
    /// so a workflow that promotes on a good score does not run a no-op).
    fn outputs(&self) -> Vec<Output> {
        if self.verdict == Verdict::UpToDate { Vec::new() } else { vec![output("score", self.score.to_string())] }
    }
}
