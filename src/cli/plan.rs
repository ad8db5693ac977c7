//! `stagegate plan --from A --to B`: is the promotion allowed, and what would run.

use super::{Ctx, FreezeOverride, known_env};
use crate::actions;
use crate::error::{Error, Exit, InputError, check_release_id};
use crate::output::table;
use crate::plan::{self, Plan};
use crate::policy::{GitRef, Policy};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source environment
    #[arg(long)]
    from: String,
    /// Target environment
    #[arg(long)]
    to: String,
    /// Release to promote (tag or version)
    #[arg(long)]
    release: Option<String>,
    /// Git ref to check against the target's branch rules
    #[arg(long = "ref", value_name = "REF")]
    git_ref: Option<String>,
    #[command(flatten)]
    freeze: FreezeOverride,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    known_env(&policy, &args.from)?;
    known_env(&policy, &args.to)?;
    if let Some(r) = &args.release {
        check_release_id(r)?;
    }
    let git_ref = args.git_ref.as_deref().map(GitRef::parse).transpose().map_err(InputError::BadRef)?;
    let mut plan = plan::build(&policy, &args.from, &args.to, args.release.as_deref(), git_ref.as_ref());
    plan.check_freeze(&policy, ctx.now(), args.freeze.reason()?.as_deref());

    actions::set_output("allowed", if plan.allowed { "true" } else { "false" });
    actions::summary(&summary_markdown(&policy, &plan));
    if !plan.allowed {
        let title = format!("stagegate plan: {} → {} refused", plan.from, plan.to);
        actions::alert("error", &title, &plan.reasons.join("\n"));
    }
    if ctx.out.json() {
        ctx.out.emit(&plan);
    } else {
        print_text(ctx, &plan);
    }
    Ok(if plan.allowed { Exit::Success } else { Exit::Refused })
}

fn print_text(ctx: &Ctx, plan: &Plan) {
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
    println!("{} {} → {} is allowed{what}", o.good("✓"), o.bold(&plan.from), o.bold(&plan.to));
    match plan.approvals_required {
        0 => println!("  approvals required: none"),
        n => println!("  approvals required: {n}"),
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

fn summary_markdown(policy: &Policy, plan: &Plan) -> String {
    let verdict = if plan.allowed { "✅ allowed" } else { "❌ refused" };
    let mut md = format!("### stagegate plan: {} → {} — {verdict}\n\n", plan.from, plan.to);
    for r in &plan.reasons {
        md.push_str(&format!("- {}\n", actions::inline(r)));
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
