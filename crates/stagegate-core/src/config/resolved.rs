//! An environment name from the command line or a record, resolved once
//! against the config into what it names: an environment the config
//! declares, an approval environment stagegate generates in front of one, or
//! an instance of an ephemeral template. Policy comes from [`Resolved::rules`]
//! (a template's for its instances); records, locks and history from
//! [`Resolved::name`].
//!
//! An instance is named after its branch, the GitHub way: branch
//! `feature/login` of template `feature` is environment `feature/login`
//! (GitHub allows `/` in environment names; its REST paths carry it as
//! `%2F`). A branch whose name is a declared environment's, or longer than
//! GitHub's 255 bytes, has no instance.

use miette::Diagnostic;
use thiserror::Error;

use super::names::approval_env;
use super::{Config, Environment};
use crate::values::refname;
use crate::values::refs::GitRef;

/// GitHub caps an environment name at 255 bytes.
const MAX_NAME: usize = 255;

#[derive(Debug, Clone, Copy)]
pub enum Resolved<'c> {
    Declared(&'c Environment),
    /// `prod-approval-1` of `prod` (which needs more than one approval).
    Approval {
        of: &'c Environment,
        index: u32,
    },
    /// One branch's instance of an ephemeral template; its name is the branch.
    Instance {
        template: &'c Environment,
        branch: &'c str,
    },
}

#[derive(Debug, Error, Diagnostic)]
pub enum ResolveError {
    #[error("{message}")]
    #[diagnostic(code(stagegate::input::unknown_environment), help("{help}"))]
    Unknown { message: String, help: String },

    #[error("branch `{branch}` would be an instance of `{template}`, but `{branch}` is an environment of its own")]
    #[diagnostic(
        code(stagegate::input::instance_collides),
        help("an instance is named after its branch: rename the branch, or narrow the template's `branches`")
    )]
    Collides { template: String, branch: String },

    #[error("branch `{branch}` cannot name an environment: {why}")]
    #[diagnostic(
        code(stagegate::input::instance_name),
        help("an instance is named after its branch, and GitHub environment names are at most 255 bytes")
    )]
    BadName { branch: String, why: String },

    #[error("`{instance}` is the instance of branch `{instance}`, not of `{given}`")]
    #[diagnostic(
        code(stagegate::input::instance_ref),
        help("deploy a branch to its own instance: `--env TEMPLATE --ref BRANCH`")
    )]
    OtherBranch { instance: String, given: String },
}

impl<'c> Resolved<'c> {
    /// The environment's name: the one records, locks and history use.
    pub fn name(&self) -> String {
        match self {
            Resolved::Declared(e) => e.name.clone(),
            Resolved::Approval { of, index } => approval_env(&of.name, *index),
            Resolved::Instance { branch, .. } => (*branch).to_owned(),
        }
    }

    /// The environment whose rules apply (branches, approvals, freeze, hooks).
    pub fn rules(&self) -> &'c Environment {
        match self {
            Resolved::Declared(e) => e,
            Resolved::Approval { of, .. } => of,
            Resolved::Instance { template, .. } => template,
        }
    }

    /// The template of an instance.
    pub fn template(&self) -> Option<&'c Environment> {
        match self {
            Resolved::Instance { template, .. } => Some(template),
            Resolved::Declared(_) | Resolved::Approval { .. } => None,
        }
    }
}

impl Config {
    /// What `name` names. A template's own name resolves to the template
    /// (`status`, `prune` list its instances; `deploy` with a ref picks one).
    pub fn resolve<'c>(&'c self, name: &'c str) -> Result<Resolved<'c>, ResolveError> {
        if let Some(e) = self.env(name) {
            return Ok(Resolved::Declared(e));
        }
        if let Some((base, i)) = name.rsplit_once("-approval-")
            && let (Some(of), Ok(index)) = (self.env(base), i.parse::<u32>())
            && index >= 1
            && index < of.approvals.required
            && i == index.to_string()
        {
            return Ok(Resolved::Approval { of, index });
        }
        if let Some(template) = self.template_of(name) {
            return self.instance(template, name);
        }
        let names: Vec<&str> = self.environments.iter().map(|e| e.name.as_str()).collect();
        let mut help = format!("environments are the keys under `environments:` in the config: {}", names.join(", "));
        let templates: Vec<&str> = self.templates().map(|t| t.name.as_str()).collect();
        if !templates.is_empty() {
            help.push_str(&format!("; and the branches of the ephemeral ones ({})", templates.join(", ")));
        }
        Err(ResolveError::Unknown { message: self.unknown_env(name), help })
    }

    /// What `name` names for a run of `git_ref`: a template given with a
    /// branch it matches is that branch's instance. A ref the template does
    /// not match leaves the template, and the ref check refuses it.
    pub fn resolve_for_ref<'c>(&'c self, name: &'c str, git_ref: &'c GitRef) -> Result<Resolved<'c>, ResolveError> {
        let r = self.resolve(name)?;
        match (r, git_ref) {
            (Resolved::Declared(t), GitRef::Branch(b))
                if t.is_template() && t.branches.iter().any(|p| p.is_match(b)) =>
            {
                self.instance(t, b)
            }
            (Resolved::Instance { branch, .. }, GitRef::Branch(b)) if branch != b => {
                Err(ResolveError::OtherBranch { instance: branch.to_owned(), given: b.clone() })
            }
            (r, _) => Ok(r),
        }
    }

    /// The template whose branches match `branch`, if any (the first one).
    pub fn template_of(&self, branch: &str) -> Option<&Environment> {
        self.templates().find(|t| t.branches.iter().any(|p| p.is_match(branch)))
    }

    fn instance<'c>(&'c self, template: &'c Environment, branch: &'c str) -> Result<Resolved<'c>, ResolveError> {
        if self.env(branch).is_some() {
            return Err(ResolveError::Collides { template: template.name.clone(), branch: branch.to_owned() });
        }
        let bad = |why: String| ResolveError::BadName { branch: branch.escape_debug().to_string(), why };
        refname::check(branch).map_err(|e| bad(e.to_string()))?;
        if branch.len() > MAX_NAME {
            return Err(bad(format!("{} bytes, more than {MAX_NAME}", branch.len())));
        }
        Ok(Resolved::Instance { template, branch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "version: 1\nenvironments:\n  feature: { branches: [\"feature/**/*\"], ephemeral: true }\n  preview: { branches: [main] }\n  prod: { approvals: { required: 2, reviewers: [\"@a\", \"@b\"] } }\n";

    fn cfg() -> Config {
        crate::config::parse_bytes("t.yml", CFG.as_bytes()).config.unwrap()
    }

    #[test]
    fn a_branch_of_a_template_is_its_own_environment_under_the_templates_rules() {
        let c = cfg();
        let r = c.resolve("feature/login").unwrap();
        assert_eq!(r.name(), "feature/login");
        assert_eq!(r.rules().name, "feature");
        let main = GitRef::Branch("feature/pay".into());
        let r = c.resolve_for_ref("feature", &main).unwrap();
        assert_eq!((r.name(), r.template().map(|t| t.name.as_str())), ("feature/pay".into(), Some("feature")));
        let other = GitRef::Branch("main".into());
        assert_eq!(c.resolve_for_ref("feature", &other).unwrap().name(), "feature", "the ref check refuses it");
        assert!(matches!(c.resolve_for_ref("feature/login", &main), Err(ResolveError::OtherBranch { .. })));
    }

    #[test]
    fn approval_environments_and_unknown_names_resolve_as_before() {
        let c = cfg();
        assert!(matches!(c.resolve("prod-approval-1"), Ok(Resolved::Approval { index: 1, .. })));
        assert!(c.resolve("prod-approval-2").is_err());
        assert!(c.resolve("prod-approval-01").is_err());
        let Err(ResolveError::Unknown { message, help }) = c.resolve("previw") else { panic!() };
        assert!(message.contains("did you mean `preview`"), "{message}");
        assert!(help.contains("ephemeral ones (feature)"), "{help}");
        assert!(c.resolve("hotfix/x").is_err());
    }
}
