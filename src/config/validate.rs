//! Checks that need the whole config in view: edges, cycles, globs, approvals,
//! the release format. Every problem is a diagnostic at its own span.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::policy::{graph::Graph, refs};
use crate::version::calver;

/// GitHub lets an environment name at most six required reviewers.
const GITHUB_MAX_REVIEWERS: usize = 6;

pub(super) fn check(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    environments(cfg, diags);
    edges(cfg, diags);
    release(cfg, diags);
    super::feasible::check(cfg, diags);
}

fn environments(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, Pos> = HashMap::new();
    for env in &cfg.environments {
        if let Some(first) = seen.insert(&env.name, env.pos) {
            diags.push(
                Diagnostic::error(env.pos, format!("environment `{}` is defined twice", env.name))
                    .help(format!("it is first defined on line {}; keep one", first.line)),
            );
        }
        for (what, pats) in [("branch", &env.branches), ("tag", &env.tags)] {
            for p in pats.iter() {
                if let Err(why) = refs::check(&p.value) {
                    diags.push(
                        Diagnostic::error(p.pos, format!("invalid {what} pattern `{}`: {why}", p.value)).help(
                            "patterns are GitHub's File.fnmatch globs: `*` and `?` never match `/`, `**/` matches directories, `[a-z]` one character",
                        ),
                    );
                }
            }
        }
        surprising_patterns(env, diags);
        for w in &env.freeze {
            if let Err(e) = crate::gates::freeze::parse(&w.value) {
                diags.push(
                    Diagnostic::error(inner_span(w, e.offset, e.len), format!("invalid freeze window: {}", e.message))
                        .help("e.g. \"FRI 16:00 - MON 08:00 Europe/London\" or \"2026-12-24 00:00 - 2026-12-27 00:00 UTC\""),
                );
            }
        }
        if env.freeze_override && env.freeze.is_empty() {
            diags.push(
                Diagnostic::warning(
                    env.pos,
                    format!("`{}` allows freeze overrides but has no freeze windows", env.name),
                )
                .help("add `freeze: [\"FRI 16:00 - MON 08:00 Europe/London\"]`, or drop `freeze_override`"),
            );
        }
        let a = &env.approvals;
        // Distinct people: GitHub logins are case-insensitive, `@` is already stripped.
        let users = a
            .reviewers
            .iter()
            .filter_map(|r| match r {
                Reviewer::User(u) => Some(u.to_lowercase()),
                Reviewer::Team { .. } => None,
            })
            .collect::<HashSet<_>>()
            .len();
        let has_team = a.reviewers.iter().any(|r| matches!(r, Reviewer::Team { .. }));
        if a.required > 0 && a.reviewers.is_empty() {
            diags.push(
                Diagnostic::error(
                    a.required_pos,
                    format!("`{}` requires {} approval(s) but lists no reviewers", env.name, a.required),
                )
                .help("add `reviewers: [\"@org/team\", \"@user\"]`, or set `required: 0`"),
            );
        } else if !has_team && a.required as usize > users {
            diags.push(
                Diagnostic::error(
                    a.required_pos,
                    format!(
                        "`{}` requires {} approvals but lists only {users} reviewer(s) and no team (a login counts once, in any case)",
                        env.name, a.required
                    ),
                )
                .help("the gate could never pass: list more reviewers, add a team, or lower `required`"),
            );
        }
        if a.reviewers.len() > GITHUB_MAX_REVIEWERS {
            diags.push(
                Diagnostic::warning(
                    a.pos,
                    format!(
                        "`{}` lists {} reviewers; GitHub allows at most {GITHUB_MAX_REVIEWERS} per environment",
                        env.name,
                        a.reviewers.len()
                    ),
                )
                .help("`environments sync` will set the first six; prefer a team"),
            );
        }
    }
}

fn edges(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    let names: HashSet<&str> = cfg.environments.iter().map(|e| e.name.as_str()).collect();
    let known = || {
        let mut v: Vec<&str> = cfg.environments.iter().map(|e| e.name.as_str()).collect();
        v.dedup();
        v.join(", ")
    };
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for e in &cfg.promotions {
        for end in [&e.from, &e.to] {
            if !names.contains(end.value.as_str()) {
                diags.push(
                    Diagnostic::error(end.pos, format!("unknown environment `{}` in promotion", end.value))
                        .help(format!("known environments: {}", known()))
                        .label("not defined under `environments`"),
                );
            }
        }
        if e.from.value == e.to.value {
            diags.push(
                Diagnostic::error(e.pos, format!("promotion from `{}` to itself", e.from.value))
                    .help("an environment cannot promote to itself; use `deploy` or `rollback`"),
            );
            continue;
        }
        if let Some(line) = seen.insert((&e.from.value, &e.to.value), e.pos.line) {
            diags.push(
                Diagnostic::error(e.pos, format!("duplicate promotion {} → {}", e.from.value, e.to.value))
                    .help(format!("the same path is already listed on line {line}; remove one")),
            );
        }
    }
    let graph = Graph::new(cfg);
    if let Some(cycle) = graph.find_cycle() {
        // Point at the edge that closes the cycle.
        let (a, b) = (&cycle[cycle.len() - 2], &cycle[cycle.len() - 1]);
        let pos =
            cfg.promotions.iter().find(|e| &e.from.value == a && &e.to.value == b).map_or(Pos::default(), |e| e.pos);
        diags.push(
            Diagnostic::error(pos, format!("promotion paths form a cycle: {}", cycle.join(" → ")))
                .help("promotions must flow one way toward production; remove one edge of the cycle")
                .label("closes the cycle"),
        );
    }
    let required: HashMap<&str, u32> =
        cfg.environments.iter().map(|e| (e.name.as_str(), e.approvals.required)).collect();
    for env in &cfg.environments {
        if !env.auto_deploy && graph.predecessors(&env.name).is_empty() && !cfg.promotions.is_empty() {
            diags.push(
                Diagnostic::warning(
                    env.pos,
                    format!("no promotion leads to `{}` and it is not `auto_deploy`", env.name),
                )
                .help("add a `{ from: …, to: … }` edge into it, or `auto_deploy: true` if pushes deploy it"),
            );
        }
        for up in graph.predecessors(&env.name) {
            let upstream = required.get(up).copied().unwrap_or(0);
            if env.approvals.required < upstream {
                diags.push(
                    Diagnostic::warning(
                        env.approvals.required_pos,
                        format!(
                            "`{}` requires {} approval(s), fewer than `{up}` before it ({upstream})",
                            env.name, env.approvals.required
                        ),
                    )
                    .help("environments closer to production usually demand at least as many approvals"),
                );
            }
        }
    }
}

fn release(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    let r = &cfg.release;
    if r.scheme != Scheme::Calver {
        return;
    }
    if let Err(e) = calver::Format::parse(&r.format.value) {
        let pos = inner_span(&r.format, e.offset, r.format.value.len().saturating_sub(e.offset));
        diags.push(
            Diagnostic::error(pos, format!("invalid calver format `{}`: {}", r.format.value, e.message))
                .help("use calver.org tokens YYYY YY 0Y MM 0M DD 0D plus BUILD, e.g. \"YY.0M.0D.BUILD\""),
        );
    }
}

/// The span of `len` bytes at `offset` inside a one-line string value, shifted
/// past its opening quote when it is quoted.
/// Warnings for patterns GitHub reads differently from what they suggest
/// (`release/**` is `release/*` there; braces are literal).
fn surprising_patterns(env: &Environment, diags: &mut Vec<Diagnostic>) {
    for p in env.branches.iter().chain(&env.tags).filter(|p| refs::check(&p.value).is_ok()) {
        for s in refs::surprises(&p.value) {
            diags.push(Diagnostic::warning(inner_span(p, s.offset, s.len), s.message).help(s.help));
        }
    }
}

fn inner_span(t: &Text, offset: usize, len: usize) -> Pos {
    let mut pos = t.pos;
    if t.pos.len > t.value.len() {
        pos.offset += 1;
        pos.column += 1;
    }
    pos.column += t.value.get(..offset).map_or(offset, |s| s.chars().count());
    pos.offset += offset;
    pos.len = len.max(1);
    pos
}
