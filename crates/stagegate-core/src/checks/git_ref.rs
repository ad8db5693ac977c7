//! The ref: the release's git ref (named, or recorded with its deployment in
//! the source) matches the target's branch and tag rules.

use super::{Facts, Outcome, RefFact, Rule, Surface};
use crate::policy::{GitRef, RefVerdict};
use crate::refusal::{Kind, Refusal};
use crate::step::{Check, StepName};

pub struct Ref;

impl Rule for Ref {
    fn name(&self) -> &'static str {
        "ref"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Ref.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote | Surface::Deploy | Surface::App | Surface::Plan | Surface::Compare => true,
            Surface::Rollback | Surface::JournalPromote | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        15
    }
    fn check(&self, f: &Facts) -> Outcome {
        let to = &f.to.name;
        let git_ref = match &f.git_ref {
            RefFact::Given(Ok(r)) => r.clone(),
            RefFact::Given(Err(why)) => return Outcome::Block(Refusal::new(Kind::Ref, why.clone())),
            RefFact::Recorded => match recorded(f) {
                Ok(r) => r,
                Err(outcome) => return outcome,
            },
            RefFact::NotYet => {
                return Outcome::skip(format!(
                    "the release's ref must match {to}'s branch rules (checked when it runs)"
                ));
            }
        };
        match f.policy.ref_verdict(to, &git_ref) {
            RefVerdict::Allowed(p) => Outcome::pass(format!("{git_ref} may deploy to {to} (matches `{p}`)")),
            RefVerdict::Refused(refusal) => Outcome::Block(refusal),
        }
    }
}

/// The ref recorded for the release in the source, or the outcome without one.
fn recorded(f: &Facts) -> Result<GitRef, Outcome> {
    let Some(release) = f.release else {
        return Err(Outcome::skip("no release runs in the source: no ref to check"));
    };
    let Some(source) = f.source_deployment() else {
        return Err(Outcome::skip(format!("release {release} is not known in the source: no ref to check")));
    };
    match source.request.git_ref.as_deref().map(GitRef::parse) {
        Some(Ok(r)) => Ok(r),
        Some(Err(e)) => Err(Outcome::Block(Refusal::new(
            Kind::Ref,
            format!("the git ref recorded for release {release} is refused: {e}"),
        ))),
        None => {
            Err(Outcome::Block(Refusal::new(Kind::Ref, format!("the git ref of release {release} is not recorded"))))
        }
    }
}
