//! `stagegate graph`: environments and promotion paths as a table, Mermaid or DOT.

use serde::Serialize;

use super::Ctx;
use crate::error::{Error, Exit};
use crate::output::{Out, Render, table};
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
        let Some(env) = policy.env(name) else { continue };
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

/// The graph as data: environments in promotion order, and the paths.
#[derive(Debug, Serialize)]
struct Graph {
    environments: Vec<Node>,
    promotions: Vec<Edge>,
    /// `--format mermaid|dot`: the drawing, printed as the text.
    #[serde(skip)]
    drawing: Option<String>,
}

#[derive(Debug, Serialize)]
struct Node {
    name: String,
    branches: Vec<String>,
    tags: Vec<String>,
    auto_deploy: bool,
    approvals_required: u32,
    promotes_to: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Edge {
    from: String,
    to: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let environments = policy
        .graph
        .ordered()
        .into_iter()
        .filter_map(|n| policy.env(n))
        .map(|e| Node {
            name: e.name.clone(),
            branches: e.branches.iter().map(|b| b.as_str().to_owned()).collect(),
            tags: e.tags.iter().map(|b| b.as_str().to_owned()).collect(),
            auto_deploy: e.auto_deploy,
            approvals_required: e.approvals.required,
            promotes_to: policy.graph.successors(&e.name).into_iter().map(str::to_owned).collect(),
        })
        .collect();
    let promotions =
        cfg.promotions.iter().map(|e| Edge { from: e.from.value.clone(), to: e.to.value.clone() }).collect();
    let drawing = match args.format {
        GraphFormat::Mermaid => Some(mermaid(&policy, &[])),
        GraphFormat::Dot => Some(dot(&policy)),
        GraphFormat::Text => None,
    };
    ctx.out.print(&Graph { environments, promotions, drawing });
    Ok(Exit::Success)
}

impl Render for Graph {
    fn text(&self, o: &Out) -> String {
        if let Some(d) = &self.drawing {
            return d.clone();
        }
        let rows: Vec<Vec<String>> = self
            .environments
            .iter()
            .map(|e| {
                let mut refs = e.branches.clone();
                refs.extend(e.tags.iter().map(|t| format!("tag:{t}")));
                vec![
                    o.bold(&e.name),
                    if refs.is_empty() { "any".into() } else { refs.join(", ") },
                    approvals_label(e.approvals_required, e.auto_deploy),
                    if e.promotes_to.is_empty() { o.dim("—") } else { format!("→ {}", e.promotes_to.join(", ")) },
                ]
            })
            .collect();
        table(&["ENVIRONMENT", "REFS", "APPROVALS", "PROMOTES TO"], &rows)
    }
}
