//! How a run's [`Report`] reads: the text line, the step summary (outcome in
//! words, what was deployed, by whom, approved by whom, links to the run, the
//! commit and the release), the `outcome`/`refusal` outputs and the error
//! annotation of a run that did not succeed.

use super::StepStatus;
use super::report::{Outcome, Report};
use crate::actions::{cell, fields, inline, link};
use crate::output::{Annotation, Level, Out, Output, Render, output};

impl Report {
    /// The outcome in words, for the summary's heading.
    pub fn headline(&self) -> String {
        let t = &self.target;
        let previous = t.previous_release.as_deref().unwrap_or("the previous release");
        match self.outcome {
            Outcome::Succeeded if self.command == "rollback" => {
                format!("{} is rolled back to {} (from {previous})", t.env, t.release)
            }
            Outcome::Succeeded => format!("{} is live in {}", t.release, t.env),
            Outcome::Planned => format!("{} to {} would be allowed (dry run: nothing changed)", t.release, t.env),
            Outcome::Refused => format!("{} of {} to {} was refused: nothing changed", self.command, t.release, t.env),
            Outcome::RolledBack => format!("{} failed in {}, which is back on {previous}", t.release, t.env),
            Outcome::Failed => format!("{} failed in {} and needs a person", t.release, t.env),
        }
    }

    /// Who approved the run, as the gate counted them.
    pub fn approvers(&self) -> Vec<&str> {
        self.gate.iter().flat_map(|g| g.reviews.iter().filter(|r| r.counted).map(|r| r.user.as_str())).collect()
    }

    fn icon(&self) -> &'static str {
        match self.outcome {
            Outcome::Succeeded | Outcome::Planned => "✅",
            Outcome::RolledBack => "↩️",
            Outcome::Refused => "⛔",
            Outcome::Failed => "❌",
        }
    }
}

impl Render for Report {
    fn text(&self, o: &Out) -> String {
        let mark = match self.outcome {
            Outcome::Succeeded | Outcome::Planned => o.good("✓"),
            _ => o.bad("✗"),
        };
        let mut text = format!("\n{mark} {}\n", self.message);
        if let Some(url) = self.url.as_deref().filter(|_| self.outcome == Outcome::Succeeded) {
            text.push_str(&format!("  {} {url}\n", o.dim("url:")));
        }
        for e in self.done.effects() {
            text.push_str(&format!("  would {e}\n"));
        }
        text
    }

    fn summary(&self) -> Option<String> {
        let t = &self.target;
        let l = &self.links;
        let dash = || "—".to_string();
        let approvers = self.approvers();
        let mut rows = vec![
            ("Release", link(&t.release, l.release.as_deref())),
            ("Environment", link(&t.env, self.url.as_deref())),
            (
                "Sha",
                t.sha
                    .as_deref()
                    .map_or_else(dash, |s| link(crate::values::sha::ShortSha::new(s).as_str(), l.commit.as_deref())),
            ),
            ("Ref", t.git_ref.as_deref().map_or_else(dash, cell)),
            ("Actor", cell(&t.actor)),
            ("Approved by", if approvers.is_empty() { dash() } else { cell(&approvers.join(", ")) }),
            ("Previous release", t.previous_release.as_deref().map_or_else(dash, cell)),
            ("Run", link(&t.run_id, l.run.as_deref())),
        ];
        if let Some(from) = &t.from {
            rows.insert(1, ("From", cell(from)));
        }
        if let Some(r) = &self.refusal {
            rows.push(("Refusal", format!("`{}`", r.code())));
        }
        let headline = self.headline();
        let mut md = format!("### {} {}\n\n", self.icon(), inline(&headline));
        if !self.message.starts_with(&headline) {
            md.push_str(&format!("{}\n\n", inline(&self.message)));
        }
        md.push_str(&fields(&rows));
        md.push_str("\n| step | outcome | time | detail |\n|---|---|---|---|\n");
        for s in &self.steps {
            md.push_str(&format!(
                "| {} | {} | {:.1}s | {} |\n",
                cell(s.name.as_str()),
                step_words(s.status),
                s.seconds,
                cell(&s.detail)
            ));
        }
        Some(md)
    }

    fn outputs(&self) -> Vec<Output> {
        let mut out = vec![output("outcome", self.outcome.as_str())];
        if let Some(r) = &self.refusal {
            out.push(output("refusal", r.code()));
        }
        out
    }

    fn annotations(&self) -> Vec<Annotation> {
        let verb = match self.outcome {
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "failed and was rolled back",
            Outcome::Succeeded | Outcome::Planned => return Vec::new(),
        };
        let t = &self.target;
        let title = format!("stagegate {}: {} to {} {verb}", self.command, t.release, t.env);
        vec![Annotation { level: Level::Error, title, message: self.message.clone() }]
    }
}

/// A step's outcome in words, for the summary.
fn step_words(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Ok => "✓ passed",
        StepStatus::Failed => "✗ failed",
        StepStatus::Refused => "⛔ refused",
        StepStatus::Skipped => "– skipped",
        StepStatus::Planned => "would run",
    }
}
