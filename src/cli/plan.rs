//! `stagegate plan --from A --to B`: is the promotion allowed, and what would
//! run. Checks everything that can be known before anyone approves, on the
//! forge: the release and what the source runs, its ref, freeze windows, soak,
//! the ServiceNow change, another run in progress; and counts the approvals
//! still pending.

use super::{Ctx, FreezeOverride, Who, known_env};
use crate::actions;
use crate::error::{Error, Exit, InputError, check_release_id};
use crate::output::table;
use crate::plan::{self, Check, Plan, known};
use crate::policy::{GitRef, Policy};
use crate::refusal::Refusal;
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
    known_env(&policy, &args.from)?;
    let target = known_env(&policy, &args.to)?;
    if let Some(r) = &args.release {
        check_release_id(r)?;
    }
    let git_ref = args.git_ref.as_deref().map(GitRef::parse).transpose().map_err(InputError::BadRef)?;
    let forge = ctx.forge()?;
    let mut plan = plan::build(&policy, &args.from, &args.to, args.release.as_deref(), git_ref.as_ref());
    if policy.edge_refusal(&args.from, &args.to).is_some() {
        // An illegal path leaves nothing to check on the forge.
        return report(ctx, &policy, &plan, None);
    }
    let from_deps = match &args.release {
        Some(_) => forge.deployments(&args.from).await?,
        None => Vec::new(),
    };
    let to_deps = forge.recent_deployments(&args.to).await?;
    let source = args.release.as_deref().map(|r| known::source_release(&args.from, r, &from_deps));
    // Without --ref, the ref the release was built from.
    let recorded = match (&git_ref, &source) {
        (None, Some(Ok(d))) => d.request.git_ref.as_deref().and_then(|r| GitRef::parse(r).ok()),
        _ => None,
    };
    if recorded.is_some() {
        plan = plan::build(&policy, &args.from, &args.to, args.release.as_deref(), recorded.as_ref());
    }
    plan.check_freeze(&policy, ctx.now(), args.freeze.reason()?.as_deref());
    if let (Some(release), Some(source)) = (&args.release, source) {
        match source {
            Ok(d) if git_ref.is_none() && recorded.is_none() => {
                plan.settle(Check::Ref, known::release_ref(&policy, &args.to, release, d));
            }
            Ok(_) => {}
            Err(unknown) => plan.settle(Check::Ref, Err(unknown)),
        }
        plan.settle(Check::Source, known::source_current(&args.from, release, &from_deps));
        if let Some(soaked) = known::soaked(&policy, &args.from, &args.to, release, &from_deps, ctx.now()) {
            plan.settle(Check::Soak, soaked);
        }
    }
    plan.settle(Check::Target, target_free(ctx, &args.to, &to_deps));
    if target.change_required {
        let instance = cfg.servicenow.as_ref().map(|s| s.instance.as_str());
        let state = match &args.change {
            None => Err(known::change_missing(&args.to)),
            Some(n) => crate::gates::servicenow::change_state(instance, n, ctx.now()).await?,
        };
        plan.settle(Check::Change, state);
    }
    if target.approvals.required > 0 {
        let v = gate_verdict(forge.as_ref(), target, &args.who.run_id, &args.who.actors()?, &to_deps, ctx.now()).await;
        // Team membership may not be readable with the plan job's token: then
        // every approval is still pending.
        let counted = v.map_or(0, |v| v.counted as u32);
        plan.approvals_pending = target.approvals.required.saturating_sub(counted);
    }
    let unblock =
        (plan.approvals_pending > 0).then(|| crate::gates::unblock::approvals(target, &args.who.run_id, forge.kind()));
    report(ctx, &policy, &plan, unblock.as_deref())
}

/// Nothing deploys to the target, and no local run holds its lock.
fn target_free(ctx: &Ctx, to: &str, deps: &[crate::forge::Deployment]) -> known::Outcome {
    if let Some(busy) = lock::inspect(&ctx.state, to) {
        return Err(Refusal::Busy(busy.describe(to, &lock::path(&ctx.state, to))));
    }
    known::target_idle(to, deps)
}

fn report(ctx: &Ctx, policy: &Policy, plan: &Plan, unblock: Option<&str>) -> Result<Exit, Error> {
    actions::set_output("allowed", if plan.allowed { "true" } else { "false" });
    actions::summary(&summary_markdown(policy, plan, unblock));
    if !plan.allowed {
        let title = format!("stagegate plan: {} → {} refused", plan.from, plan.to);
        actions::alert("error", &title, &plan.reasons.join("\n"));
    }
    if ctx.out.json() {
        ctx.out.emit(plan);
    } else {
        print_text(ctx, plan, unblock);
    }
    Ok(if plan.allowed { Exit::Success } else { Exit::Refused })
}

fn print_text(ctx: &Ctx, plan: &Plan, unblock: Option<&str>) {
    let o = &ctx.out;
    let mut what = Vec::new();
    if let Some(r) = &plan.release {
        what.push(format!("release {r}"));
    }
    if let Some(r) = &plan.git_ref {
        what.push(r.clone());
    }
    let what = if what.is_empty() { String::new() } else { format!("  ({})", what.join(", ")) };
    if !plan.allowed {
        println!("{} {} → {} is refused{what}", o.bad("✗"), plan.from, plan.to);
        for r in &plan.reasons {
            println!("  - {r}");
        }
        return;
    }
    println!("{} {} → {} is {}{what}", o.good("✓"), o.bold(&plan.from), o.bold(&plan.to), plan.verdict());
    match plan.approvals_required {
        0 => println!("  approvals required: none"),
        n => println!("  approvals required: {n}"),
    }
    if let Some(how) = unblock {
        println!("  {how}");
    }
    println!();
    let rows: Vec<Vec<String>> = plan
        .steps
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
        .collect();
    println!("{}", table(&["#", "STEP", "WHAT"], &rows));
}

fn summary_markdown(policy: &Policy, plan: &Plan, unblock: Option<&str>) -> String {
    let icon = if plan.allowed { "✅" } else { "❌" };
    let mut md = format!("### stagegate plan: {} → {} — {icon} {}\n\n", plan.from, plan.to, plan.verdict());
    for r in &plan.reasons {
        md.push_str(&format!("- {}\n", actions::inline(r)));
    }
    if let Some(how) = unblock.filter(|_| plan.allowed) {
        md.push_str(&format!("{}\n", actions::inline(how)));
    }
    md.push_str(&format!(
        "\n```mermaid\n{}```\n\n| # | step | what |\n|---|---|---|\n",
        super::graph::mermaid(policy, &[(plan.from.as_str(), plan.to.as_str())])
    ));
    for (i, s) in plan.steps.iter().enumerate() {
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            i + 1,
            actions::cell(&s.name.to_string()),
            actions::cell(&s.description)
        ));
    }
    md
}
