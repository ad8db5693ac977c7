//! Checks that need the whole config in view: edges, cycles, approvals,
//! surprising globs. Every problem is a diagnostic at its own span. (Values
//! with a syntax of their own were parsed, with their errors, by `schema`.)

use std::collections::{HashMap, HashSet};

use super::spanned::inner_span;
use super::*;
use super::{graph::Graph, overlap};
use crate::values::refs;

/// GitHub lets an environment name at most six required reviewers.
const GITHUB_MAX_REVIEWERS: usize = 6;

pub(super) fn check(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    environments(cfg, diags);
    changes(cfg, diags);
    edges(cfg, diags);
    dead_edges(cfg, diags);
    super::feasible::check(cfg, diags);
    super::template::check(cfg, diags);
}

/// A ServiceNow change no deploy (or upload) can give: warnings, since the
/// config is valid but every such run would be refused.
fn changes(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    for env in &cfg.environments {
        if env.auto_deploy && env.change_required {
            diags.push(
                Diagnostic::warning(
                    env.pos,
                    format!("`{}` deploys on push but requires a ServiceNow change", env.name),
                )
                .help("a push names no change, so every automatic deploy is refused: drop `auto_deploy` or `change: required`"),
            );
        }
        if env.change_required && cfg.servicenow.is_none() {
            diags.push(
                Diagnostic::warning(env.pos, format!("`{}` requires a ServiceNow change, but no `servicenow:` is configured", env.name))
                    .help("add `servicenow: { instance: https://YOUR.service-now.com }`: without it every deploy into it is refused"),
            );
        }
        if env.change_required && cfg.change_match(env).is_empty() {
            diags.push(
                Diagnostic::warning(
                    env.pos,
                    format!("`{}` requires a ServiceNow change but names no field the change must carry: any approved change counts, whatever it is about", env.name),
                )
                .help("add `match: { cmdb_ci.name: YOUR-SERVICE }` under `servicenow:`, or `change_match:` in the environment"),
            );
        }
    }
    if cfg.journal.change_approval.is_some() && cfg.servicenow.is_none() {
        diags.push(
            Diagnostic::warning(
                cfg.journal.change_approval_pos,
                "journal uploads require a ServiceNow change, but no `servicenow:` is configured",
            )
            .help("add `servicenow: { instance: https://YOUR.service-now.com }`: without it every upload is refused"),
        );
    }
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
        surprising_patterns(env, diags);
        if env.freeze_override && env.freeze.is_empty() && env.deploy_windows.is_empty() {
            diags.push(
                Diagnostic::warning(
                    env.pos,
                    format!("`{}` allows freeze overrides but has no freeze windows or deploy windows", env.name),
                )
                .help("add `freeze: [\"FRI 16:00 - MON 08:00 Europe/London\"]`, or drop `freeze_override`"),
            );
        }
        rollback_policy(env, diags);
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

/// A rollback asks at most what promoting asks (on GitHub the approval
/// environments exist for promoting's count only).
fn rollback_policy(env: &Environment, diags: &mut Vec<Diagnostic>) {
    let (Some(n), Some(pos)) = (env.rollback.approvals, env.rollback.pos) else { return };
    if n > env.approvals.required {
        diags.push(
            Diagnostic::error(
                pos,
                format!(
                    "`{}` asks {n} approval(s) for a rollback but {} for promoting; a rollback asks at most as many",
                    env.name, env.approvals.required
                ),
            )
            .help(format!("set `rollback: {{ approvals: {} }}` or less", env.approvals.required)),
        );
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
                    Diagnostic::error(end.pos, cfg.unknown_env(&end.value))
                        .help(format!("a promotion names environments defined under `environments`: {}", known()))
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
        // An environment that takes tags is reached by publishing a release.
        let released = !env.tags.is_empty();
        if !env.auto_deploy && !released && graph.predecessors(&env.name).is_empty() && !cfg.promotions.is_empty() {
            diags.push(
                Diagnostic::warning(
                    env.pos,
                    format!("no promotion leads to `{}` and it is not `auto_deploy`", env.name),
                )
                .help("add a `{ from: …, to: … }` edge into it, `auto_deploy: true` if pushes deploy it, or `tags:` if published releases do"),
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

/// Promotions that can never succeed: a release keeps the ref it was built
/// from, and no ref is allowed by the branch and tag rules of both ends.
fn dead_edges(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    // By name, first definition first (as `Config::env` finds them): a scan per
    // edge was most of `check`'s time on a 1,000-environment config.
    let mut by_name: HashMap<&str, &Environment> = HashMap::with_capacity(cfg.environments.len());
    for env in &cfg.environments {
        by_name.entry(env.name.as_str()).or_insert(env);
    }
    for e in &cfg.promotions {
        let (Some(&from), Some(&to)) = (by_name.get(e.from.as_str()), by_name.get(e.to.as_str())) else { continue };
        if from.name == to.name || !overlap::share_no_ref(from, to) {
            continue;
        }
        let (what, first) = match (from.branches.first(), from.tags.first()) {
            (Some(b), _) => ("branches", b),
            (None, Some(t)) => ("tags", t),
            (None, None) => continue, // any ref: never disjoint
        };
        diags.push(
            Diagnostic::warning(
                e.pos,
                format!(
                    "promotion {} → {} can never succeed: no ref is allowed by both `{}` ({}) and `{}` ({})",
                    from.name,
                    to.name,
                    from.name,
                    overlap::describe(from),
                    to.name,
                    overlap::describe(to)
                ),
            )
            .help(format!(
                "a promotion deploys a release from the ref it was built from, which must match both environments' rules: \
                 add a pattern they share (e.g. `{first}` to `{}`'s {what}), or remove the edge",
                to.name
            ))
            .label("no ref can take this path"),
        );
    }
}

/// Warnings for patterns GitHub reads differently from what they suggest
/// (`release/**` is `release/*` there; braces are literal).
fn surprising_patterns(env: &Environment, diags: &mut Vec<Diagnostic>) {
    for p in env.branches.iter().chain(&env.tags) {
        for s in refs::surprises(p.as_str()) {
            let pos = inner_span(p.pos, p.as_str(), s.offset, s.len);
            diags.push(Diagnostic::warning(pos, s.message).help(s.help));
        }
    }
}
