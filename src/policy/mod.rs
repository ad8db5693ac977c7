//! Policy: what the config allows — promotion edges, branch rules, approvals.
//! Pure functions of the config; no I/O, so `plan` answers in milliseconds.

pub mod environments;
pub mod fnmatch;
pub mod graph;
pub mod refname;
pub mod refs;

use std::sync::OnceLock;

use refs::Pattern;

use crate::config::{Config, Environment};
pub use graph::Graph;
pub use refs::GitRef;

/// A config with its branch and tag patterns checked and its graph built.
pub struct Policy<'c> {
    pub config: &'c Config,
    pub graph: Graph,
    /// Compiled on first use: a plan asks about one environment, so a large
    /// config should not pay for compiling every other environment's globs.
    rules: Vec<OnceLock<RefRules>>,
}

struct RefRules {
    branches: Vec<Pattern>,
    tags: Vec<Pattern>,
}

/// Whether a ref may deploy to an environment, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefVerdict {
    /// Allowed by this pattern.
    Allowed(String),
    /// Refused, with the reason.
    Refused(String),
}

impl<'c> Policy<'c> {
    /// Builds the policy of a *validated* config (invalid globs are skipped here;
    /// `config::load` has already refused them).
    pub fn new(config: &'c Config) -> Self {
        let rules = config.environments.iter().map(|_| OnceLock::new()).collect();
        Policy { config, graph: Graph::new(config), rules }
    }

    fn rules(&self, i: usize) -> &RefRules {
        self.rules[i].get_or_init(|| {
            let compile =
                |pats: &[crate::config::Text]| pats.iter().filter_map(|p| refs::compile(&p.value).ok()).collect();
            let e = &self.config.environments[i];
            RefRules { branches: compile(&e.branches), tags: compile(&e.tags) }
        })
    }

    pub fn env(&self, name: &str) -> Option<&'c Environment> {
        self.config.env(name)
    }

    /// The "unknown environment" message, with the names that exist.
    pub fn unknown_env(&self, name: &str) -> String {
        let names: Vec<&str> = self.config.environments.iter().map(|e| e.name.as_str()).collect();
        format!("unknown environment `{name}` (known: {})", names.join(", "))
    }

    /// Does `git_ref` satisfy the deployment branch/tag policy of `env`?
    /// An environment with no `branches` and no `tags` accepts any ref, as a
    /// GitHub environment without a deployment branch policy does.
    pub fn ref_verdict(&self, env: &str, git_ref: &GitRef) -> RefVerdict {
        let Some(i) = self.config.environments.iter().position(|e| e.name == env) else {
            return RefVerdict::Refused(self.unknown_env(env));
        };
        let rules = self.rules(i);
        if rules.branches.is_empty() && rules.tags.is_empty() {
            return RefVerdict::Allowed("(no branch policy: any ref)".into());
        }
        let (pats, other) = match git_ref {
            GitRef::Branch(_) => (&rules.branches, "branches"),
            GitRef::Tag(_) => (&rules.tags, "tags"),
        };
        if let Some(p) = pats.iter().find(|p| p.is_match(git_ref.name())) {
            return RefVerdict::Allowed(p.as_str().to_owned());
        }
        let list: Vec<&str> = pats.iter().map(Pattern::as_str).collect();
        RefVerdict::Refused(if list.is_empty() {
            format!("{git_ref} is not allowed to deploy to {env}: it allows no {other}")
        } else {
            format!("{git_ref} is not allowed to deploy to {env}: its {other} are {}", list.join(", "))
        })
    }

    /// The reason a promotion edge is refused, or `None` when it is allowed.
    pub fn edge_refusal(&self, from: &str, to: &str) -> Option<String> {
        if self.graph.allows(from, to) {
            return None;
        }
        let next = self.graph.successors(from);
        let mut why = format!("promotion {from} → {to} is not an allowed path");
        if next.is_empty() {
            why.push_str(&format!("; {from} promotes nowhere"));
        } else {
            why.push_str(&format!("; {from} promotes to: {}", next.join(", ")));
        }
        let into = self.graph.predecessors(to);
        if !into.is_empty() {
            why.push_str(&format!("; {to} is reached only from: {}", into.join(", ")));
        }
        if let Some(route) = self.graph.route(from, to) {
            why.push_str(&format!(" (go step by step: {})", route.join(" → ")));
        }
        Some(why)
    }
}
