//! Policy: what the config allows — promotion edges, branch rules, approvals.
//! Pure functions of the config; no I/O, so `plan` answers in milliseconds.

pub mod environments;
pub use crate::config::{graph, overlap};
pub use crate::values::{fnmatch, refname, refs};

use crate::config::{Config, Environment};
use crate::refusal::{Kind, Refusal};
pub use graph::Graph;
pub use refs::GitRef;

/// A config with its promotion graph built (its patterns were parsed at load).
pub struct Policy<'c> {
    pub config: &'c Config,
    pub graph: Graph,
}

/// Whether a ref may deploy to an environment, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefVerdict {
    /// Allowed by this pattern.
    Allowed(String),
    /// Refused, with the reason.
    Refused(Refusal),
}

impl<'c> Policy<'c> {
    pub fn new(config: &'c Config) -> Self {
        Policy { config, graph: Graph::new(config) }
    }

    pub fn env(&self, name: &str) -> Option<&'c Environment> {
        self.config.env(name)
    }

    /// The "unknown environment" message, with the names that exist.
    pub fn unknown_env(&self, name: &str) -> String {
        self.config.unknown_env(name)
    }

    /// Does `git_ref` satisfy the deployment branch/tag policy of `env`?
    /// An environment with no `branches` and no `tags` accepts any ref, as a
    /// GitHub environment without a deployment branch policy does.
    pub fn ref_verdict(&self, env: &str, git_ref: &GitRef) -> RefVerdict {
        let Some(rules) = self.env(env) else {
            return RefVerdict::Refused(Refusal::new(Kind::Ref, self.unknown_env(env)));
        };
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
        let list: Vec<&str> = pats.iter().map(|p| p.as_str()).collect();
        let why = if list.is_empty() {
            format!("{git_ref} is not allowed to deploy to {env}: it allows no {other}")
        } else {
            format!("{git_ref} is not allowed to deploy to {env}: its {other} are {}", list.join(", "))
        };
        RefVerdict::Refused(Refusal::new(Kind::Ref, why))
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
