//! Ephemeral environments: `ephemeral: true` makes an environment a template
//! with one instance per branch its `branches` match. What a template must be
//! to have instances: branch patterns, no tags (a tag has no branch to follow),
//! and no promotion edge (each branch deploys its own instance; a merge makes a
//! new commit of the branch the next environment follows).

use super::diag::Diagnostic;
use super::{Config, Environment};

impl Environment {
    /// Whether this environment is a template of per-branch instances.
    pub fn is_template(&self) -> bool {
        self.ephemeral
    }
}

impl Config {
    /// The templates, in config order.
    pub fn templates(&self) -> impl Iterator<Item = &Environment> {
        self.environments.iter().filter(|e| e.is_template())
    }
}

pub(super) fn check(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    for env in cfg.templates() {
        let name = &env.name;
        if env.branches.is_empty() {
            diags.push(
                Diagnostic::error(env.pos, format!("`{name}` is ephemeral but names no `branches`"))
                    .help("an ephemeral environment gets one instance per branch it matches: add e.g. `branches: [\"feature/*\"]`"),
            );
        }
        if let Some(t) = env.tags.first() {
            diags.push(
                Diagnostic::error(t.pos, format!("`{name}` is ephemeral, so it takes branches only"))
                    .help("an instance is named after and follows its branch; deploy tags to an environment that is not ephemeral"),
            );
        }
        for e in cfg.promotions.iter().filter(|e| e.from.value == *name || e.to.value == *name) {
            diags.push(
                Diagnostic::error(e.pos, format!("`{name}` is ephemeral: promotion {} → {} has no one instance to move", e.from.value, e.to.value))
                    .help("each branch deploys its own instance (`deploy --env TEMPLATE --ref BRANCH`); the next environment follows the branch the work is merged into"),
            );
        }
    }
}
