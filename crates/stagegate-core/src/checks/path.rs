//! The promotion path: `from → to` is an edge of the promotion graph. The App
//! asks it of the environment whose current deployment is the deployed commit.

use super::{Facts, Outcome, Rule, Source, Surface};
use crate::config::Purpose;
use crate::refusal::{Kind, Refusal};
use crate::step::{Check, StepName};

pub struct Path;

impl Rule for Path {
    fn name(&self) -> &'static str {
        "path"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Path.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote | Surface::App | Surface::Plan | Surface::Compare => true,
            Surface::Deploy | Surface::Rollback | Surface::JournalPromote | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        15
    }
    fn check(&self, f: &Facts) -> Outcome {
        let to = &f.to.name;
        match &f.source {
            Source::Env(from) => match f.policy.edge_refusal(&from.name, to) {
                Some(why) => Outcome::Block(Refusal::new(Kind::Path, why)),
                None => Outcome::pass(format!("{} → {to} is an allowed promotion", from.name)),
            },
            Source::Direct if f.purpose == Purpose::Rollback => {
                Outcome::pass(format!("a rollback of {to}: it returns to a release that ran there before"))
            }
            Source::Direct => {
                let why = if f.to.auto_deploy { "auto-deploy" } else { "nothing promotes to it" };
                Outcome::pass(format!("{to} is deployed to directly ({why})"))
            }
            Source::NotFound(why) => Outcome::Block(Refusal::new(Kind::Path, why.clone())),
        }
    }
}
