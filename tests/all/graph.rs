//! `stagegate graph` in every format.

use crate::support::{Sandbox, run, run_json};

fn graph(format: &str) -> String {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["graph", "--format", format]);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn text_lists_environments_in_promotion_order() {
    let out = graph("text");
    let first: Vec<&str> = out.lines().skip(1).map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(first, ["dev-int", "future", "active", "uat", "staging", "prod"]);
    assert!(out.contains("→ uat, staging"));
}

#[test]
fn mermaid_and_dot_have_every_edge() {
    let m = graph("mermaid");
    assert!(m.starts_with("flowchart LR\n"));
    assert_eq!(m.matches(" --> ").count(), 7, "{m}");
    assert!(m.contains("dev_int --> future"));
    assert!(m.contains("prod[\"prod<br/>2 approval(s)\"]"));
    let d = graph("dot");
    assert!(d.starts_with("digraph stagegate {"));
    assert_eq!(d.matches(" -> ").count(), 7, "{d}");
    assert!(d.contains("\"staging\" -> \"prod\";"));
}

#[test]
fn json_is_the_graph_as_data() {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.arg("graph");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0);
    assert_eq!(json["promotions"].as_array().unwrap().len(), 7);
    assert_eq!(json["environments"][0]["name"], "dev-int");
    assert_eq!(json["environments"][0]["promotes_to"], serde_json::json!(["future", "active"]));
}
