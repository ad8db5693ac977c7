//! `stagegate graph`: environments and promotion paths as a table, Mermaid or DOT.

use serde_json::json;

use super::Ctx;
use crate::error::{Error, Exit};
use crate::output::table;
use crate::policy::Policy;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Text,
    Mermaid,
    Dot,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Drawing format (with --output json, the graph as data)
    #[arg(long, value_enum, default_value = "text")]
    format: GraphFormat,
}

fn approvals_label(required: u32, auto: bool) -> String {
    match (required, auto) {
        (0, true) => "auto".into(),
        (0, false) => "none".into(),
        (n, _) => format!("{n}"),
    }
}

/// Mermaid node ids may not contain `-` or `.`.
fn mermaid_id(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// A Mermaid flowchart of the whole graph, with `highlight` edges drawn thick.
pub fn mermaid(policy: &Policy, highlight: &[(&str, &str)]) -> String {
    let mut s = String::from("flowchart LR\n");
    for name in policy.graph.ordered() {
        let env = policy.env(name).expect("graph names come from the config");
        let a = env.approvals.required;
        let label = if a > 0 { format!("{name}<br/>{a} approval(s)") } else { name.to_string() };
        s.push_str(&format!("  {}[\"{label}\"]\n", mermaid_id(name)));
    }
    for e in &policy.config.promotions {
        let arrow = if highlight.contains(&(e.from.value.as_str(), e.to.value.as_str())) { "==>" } else { "-->" };
        s.push_str(&format!("  {} {arrow} {}\n", mermaid_id(&e.from.value), mermaid_id(&e.to.value)));
    }
    for (from, to) in highlight {
        if !policy.graph.allows(from, to) {
            s.push_str(&format!("  {} -. refused .-> {}\n", mermaid_id(from), mermaid_id(to)));
        }
    }
    s
}

fn dot(policy: &Policy) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut s = String::from("digraph stagegate {\n  rankdir=LR;\n  node [shape=box];\n");
    for name in policy.graph.ordered() {
        let a = policy.env(name).map_or(0, |e| e.approvals.required);
        let label = if a > 0 { format!("{name}\\n{a} approval(s)") } else { name.to_string() };
        s.push_str(&format!("  {} [label={}];\n", q(name), q(&label).replace("\\\\n", "\\n")));
    }
    for e in &policy.config.promotions {
        s.push_str(&format!("  {} -> {};\n", q(&e.from.value), q(&e.to.value)));
    }
    s.push_str("}\n");
    s
}

pub fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    if ctx.out.json() {
        let envs: Vec<_> = policy
            .graph
            .ordered()
            .into_iter()
            .filter_map(|n| policy.env(n))
            .map(|e| {
                json!({
                    "name": e.name,
                    "branches": e.branches.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
                    "tags": e.tags.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
                    "auto_deploy": e.auto_deploy,
                    "approvals_required": e.approvals.required,
                    "promotes_to": policy.graph.successors(&e.name),
                })
            })
            .collect();
        let edges: Vec<_> = cfg.promotions.iter().map(|e| json!({"from": e.from.value, "to": e.to.value})).collect();
        ctx.out.emit(&json!({"environments": envs, "promotions": edges}));
        return Ok(Exit::Success);
    }
    match args.format {
        GraphFormat::Mermaid => print!("{}", mermaid(&policy, &[])),
        GraphFormat::Dot => print!("{}", dot(&policy)),
        GraphFormat::Text => {
            let rows: Vec<Vec<String>> = policy
                .graph
                .ordered()
                .into_iter()
                .filter_map(|n| policy.env(n))
                .map(|e| {
                    let mut refs: Vec<String> = e.branches.iter().map(|b| b.to_string()).collect();
                    refs.extend(e.tags.iter().map(|t| format!("tag:{t}")));
                    let next = policy.graph.successors(&e.name);
                    vec![
                        ctx.out.bold(&e.name),
                        if refs.is_empty() { "any".into() } else { refs.join(", ") },
                        approvals_label(e.approvals.required, e.auto_deploy),
                        if next.is_empty() { ctx.out.dim("—") } else { format!("→ {}", next.join(", ")) },
                    ]
                })
                .collect();
            println!("{}", table(&["ENVIRONMENT", "REFS", "APPROVALS", "PROMOTES TO"], &rows));
        }
    }
    Ok(Exit::Success)
}
