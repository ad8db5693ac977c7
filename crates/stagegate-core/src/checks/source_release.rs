//! The source release: the release was deployed to the source environment,
//! and the source runs it now, successfully.

use super::{Facts, Outcome, Rule, Surface};
use crate::forge::history;
use crate::refusal::{Kind, Refusal};
use crate::step::{Check, StepName};

pub struct SourceRelease;

impl Rule for SourceRelease {
    fn name(&self) -> &'static str {
        "source-release"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Source.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote | Surface::Plan | Surface::Compare => true,
            Surface::Deploy | Surface::Rollback | Surface::JournalPromote | Surface::App | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        15
    }
    fn check(&self, f: &Facts) -> Outcome {
        let Some(from) = f.from().map(|e| e.name.as_str()) else {
            return Outcome::not_applicable("no source environment");
        };
        let Some(deps) = f.from_deployments else {
            return Outcome::skip(format!("{} is deployed and healthy in {from}", f.release_text()));
        };
        let current = history::current(deps);
        let Some(release) = f.release else {
            return match current {
                Some(d) => Outcome::pass(format!("{from} runs {}", d.request.release)),
                None => not_current(format!("nothing is deployed successfully in {from}")),
            };
        };
        if history::of_release(deps, release).is_none() {
            // Say what the source runs instead: most often the wrong id was typed.
            let runs = current.map_or(String::new(), |d| format!("; {from} runs {} now", d.request.release));
            return Outcome::Block(Refusal::new(
                Kind::UnknownRelease,
                format!(
                    "release {release} is unknown in {from}: it was never deployed there (deploy or promote it to {from} first){runs}"
                ),
            ));
        }
        match current {
            Some(d) if d.request.release == release => Outcome::pass(format!("{release} is live in {from}")),
            Some(d) => {
                not_current(format!("{from} runs {} now, not {release}: promote what {from} runs", d.request.release))
            }
            None => not_current(format!("nothing is deployed successfully in {from}")),
        }
    }
}

fn not_current(why: String) -> Outcome {
    Outcome::Block(Refusal::new(Kind::NotCurrent, why))
}
