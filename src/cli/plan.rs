//! `stagegate plan --from A --to B`: is the promotion allowed, and what would
//! run. Checks everything that can be known before anyone approves, on the
//! forge: the release and what the source runs, its ref, freeze windows, soak,
//! the ServiceNow change, another run in progress; and counts the approvals
//! still pending.

use serde::Serialize;

use super::{Ctx, FreezeOverride, Who, known_env};
use crate::actions;
use crate::checks::{self, ApprovalsFact, ChangeFact, Facts, RefFact, Source, Surface};
use crate::config::Purpose;
use crate::error::{Error, Exit, InputError, check_release_id};
use crate::output::{Annotation, Level, Out, Output, Render, output, table};
use crate::plan::{self, Plan};
use crate::policy::{GitRef, Policy};
use crate::run::lock;
use crate::run::preflight::gate_verdict;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source environment
    #[arg(long)]
    from: String,
    /// Target environment
    #[arg(long)]
    to: String,
    /// Release to promote (tag or version): checked on the forge — it must be
    /// what the source runs, and its recorded ref must be allowed in the target
    #[arg(long)]
    release: Option<String>,
    /// Git ref to check against the target's branch rules [default: the
    /// release's recorded ref]
    #[arg(long = "ref", value_name = "REF")]
    git_ref: Option<String>,
    /// ServiceNow change request for targets with `change: required`
    #[arg(long, value_name = "CHG")]
    change: Option<String>,
    #[command(flatten)]
    who: Who,
    #[command(flatten)]
    freeze: FreezeOverride,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let from = known_env(&policy, &args.from)?;
    let target = known_env(&policy, &args.to)?;
    if let Some(r) = &args.release {
        check_release_id(r)?;
    }
    let given = args.git_ref.as_deref().map(GitRef::parse).transpose().map_err(InputError::BadRef)?;
    let override_reason = args.freeze.reason()?;
    let mut facts = Facts {
        source: Source::Env(from),
        release: args.release.as_deref(),
        git_ref: match (&given, &args.release) {
            (Some(r), _) => RefFact::Given(Ok(r.clone())),
            (None, Some(_)) => RefFact::Recorded,
            (None, None) => RefFact::NotYet,
        },
        override_reason: override_reason.as_deref(),
        ..Facts::new(&policy, target, ctx.now())
    };
    let forge = ctx.forge()?;
    let from_deps = match &args.release {
        Some(_) => Some(forge.deployments(&args.from).await?),
        None => None,
    };
    let to_deps = forge.recent_deployments(&args.to).await?;
    let change = match (&args.change, target.change_required) {
        (Some(n), true) => {
            let instance = cfg.servicenow.as_ref().map(|s| s.instance.as_str());
            ChangeFact::Checked(
                crate::gates::servicenow::change_state(instance, n, ctx.now(), cfg.change_match(target)).await?,
            )
        }
        _ => ChangeFact::Missing,
    };
    // Team membership may not be readable with the plan job's token: then
    // every approval is still pending.
    let verdict = match target.approvals.required {
        0 => None,
        _ => gate_verdict(
            forge.as_ref(),
            target,
            &args.who.run_id,
            &args.who.actors()?,
            &to_deps,
            ctx.now(),
            Purpose::Promotion,
        )
        .await
        .ok(),
    };
    let unblock = crate::gates::unblock::approvals(target, &args.who.run_id, forge.kind());
    facts.from_deployments = from_deps.as_deref();
    facts.to_deployments = &to_deps;
    facts.lock_busy =
        lock::inspect(&ctx.state, &args.to).map(|b| b.describe(&args.to, &lock::path(&ctx.state, &args.to)));
    facts.change = change;
    let hold = crate::forge::hold::current(forge.as_ref(), &args.to, ctx.now()).await?;
    facts.hold = hold.as_ref();
    facts.approvals = verdict.as_ref().map(|verdict| ApprovalsFact { verdict, unblock: unblock.clone() });
    // Without --ref, the ref the release was built from.
    let recorded = match &given {
        Some(_) => None,
        None => {
            facts.source_deployment().and_then(|d| d.request.git_ref.as_deref()).and_then(|r| GitRef::parse(r).ok())
        }
    };
    let evaluated = checks::evaluate(Surface::Plan, &facts);
    let counted = verdict.as_ref().map_or(0, |v| v.counted as u32);
    let shown = given.as_ref().or(recorded.as_ref());
    let mut plan = plan::build(&policy, &from.name, target, args.release.as_deref(), shown, &evaluated, counted);
    plan.name_next_open(target, facts.now);
    let unblock = (plan.approvals_pending > 0).then_some(unblock);
    report(ctx, &policy, &plan, unblock.as_deref())
}

/// The plan as a command's answer: its JSON document is the plan itself; the
/// text and the step summary add how to get the pending approvals, and the
/// summary the promotion graph.
#[derive(Serialize)]
#[serde(transparent)]
struct Planned<'a> {
    plan: &'a Plan,
    #[serde(skip)]
    unblock: Option<&'a str>,
    #[serde(skip)]
    graph: String,
}

fn report(ctx: &Ctx, policy: &Policy, plan: &Plan, unblock: Option<&str>) -> Result<Exit, Error> {
    let graph = super::graph::mermaid(policy, &[(plan.from.as_str(), plan.to.as_str())]);
    ctx.out.print(&Planned { plan, unblock, graph });
    Ok(if plan.allowed { Exit::Success } else { Exit::Refused })
}

impl Render for Planned<'_> {
    fn text(&self, o: &Out) -> String {
        let plan = self.plan;
        let mut what = Vec::new();
        if let Some(r) = &plan.release {
            what.push(format!("release {r}"));
        }
        if let Some(r) = &plan.git_ref {
            what.push(r.clone());
        }
        let what = if what.is_empty() { String::new() } else { format!("  ({})", what.join(", ")) };
        if !plan.allowed {
            let mut s = format!("{} {} → {} is refused{what}\n", o.bad("✗"), plan.from, plan.to);
            for r in &plan.reasons {
                s.push_str(&format!("  - {r}\n"));
            }
            if let Some(open) = &plan.next_open_text {
                s.push_str(&format!("  next open: {open}\n"));
            }
            return s;
        }
        let mut s =
            format!("{} {} → {} is {}{what}\n", o.good("✓"), o.bold(&plan.from), o.bold(&plan.to), plan.verdict());
        match plan.approvals_required {
            0 => s.push_str("  approvals required: none\n"),
            n => s.push_str(&format!("  approvals required: {n}\n")),
        }
        if let Some(how) = self.unblock {
            s.push_str(&format!("  {how}\n"));
        }
        s.push('\n');
        s.push_str(&table(&["#", "STEP", "WHAT"], &step_rows(plan, o)));
        s
    }

    /// The verdict in words, the approvals still pending, each blocker with
    /// its code, the graph and the steps: what a reviewer reads first.
    fn summary(&self) -> Option<String> {
        let plan = self.plan;
        let icon = if plan.allowed { "✅" } else { "❌" };
        let (from, to, verdict) = (actions::inline(&plan.from), actions::inline(&plan.to), plan.verdict());
        let mut md = format!("### stagegate plan: {from} → {to} — {icon} {}\n\n", actions::inline(&verdict));
        if plan.approvals_required > 0 {
            md.push_str(&format!(
                "Approvals: {} required, {} pending.\n\n",
                plan.approvals_required, plan.approvals_pending
            ));
        }
        for b in &plan.blockers {
            md.push_str(&format!("- `{}` {}\n", b.code(), actions::inline(&b.to_string())));
        }
        if let Some(how) = self.unblock.filter(|_| plan.allowed) {
            md.push_str(&format!("{}\n", actions::inline(how)));
        }
        md.push_str(&format!("\n```mermaid\n{}```\n\n| # | step | what |\n|---|---|---|\n", self.graph));
        for (i, s) in plan.steps.iter().enumerate() {
            md.push_str(&format!(
                "| {} | {} | {} |\n",
                i + 1,
                actions::cell(&s.name.to_string()),
                actions::cell(&s.description)
            ));
        }
        Some(md)
    }

    fn outputs(&self) -> Vec<Output> {
        vec![output("allowed", if self.plan.allowed { "true" } else { "false" })]
    }

    fn annotations(&self) -> Vec<Annotation> {
        let plan = self.plan;
        if plan.allowed {
            return Vec::new();
        }
        vec![Annotation {
            level: Level::Error,
            title: format!("stagegate plan: {} → {} refused", plan.from, plan.to),
            message: plan.reasons.join("\n"),
        }]
    }
}

/// The steps as table rows: numbered, the rollback steps marked "on failure".
fn step_rows(plan: &Plan, o: &Out) -> Vec<Vec<String>> {
    plan.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (n, name) = if s.when == plan::When::OnFailure {
                (String::new(), format!("{} {}", s.name, o.dim("(on failure)")))
            } else {
                ((i + 1).to_string(), s.name.to_string())
            };
            let mut d = s.description.clone();
            if let Some(c) = &s.command {
                d.push_str(&format!(": {}", o.dim(c)));
            }
            vec![n, name, d]
        })
        .collect()
}
