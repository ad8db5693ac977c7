//! Gates: what must hold before a promotion may start, beyond the path and
//! branch rules — N distinct approvals (with self/bot/reviewer rules), the wait
//! timer, soak time in the source environment, freeze windows.
//!
//! Each gate is a pure function of data (approvals, team membership,
//! deployment history, the time) so any forge can feed it: the local forge
//! offline, GitHub's run approvals in Actions.

pub mod approvals;
pub mod freeze;
pub mod servicenow;
pub mod servicenow_instance;
pub mod soak;
pub mod unblock;

use miette::Diagnostic;
use thiserror::Error;

use crate::exit::Exit;

#[derive(Debug, Error, Diagnostic)]
pub enum GateError {
    #[error("{env} does not allow overriding its freeze windows")]
    #[diagnostic(
        code(stagegate::gate::override_not_allowed),
        help("wait until the window ends, or set `freeze_override: allowed` on {env} in the config")
    )]
    OverrideNotAllowed { env: String },

    #[error("--override-freeze needs --reason")]
    #[diagnostic(
        code(stagegate::gate::override_reason),
        help("say why, e.g. --override-freeze --reason \"hotfix for INC-1234\"; it goes into the audit trail")
    )]
    OverrideWithoutReason,
}

impl GateError {
    pub fn exit(&self) -> Exit {
        match self {
            GateError::OverrideNotAllowed { .. } => Exit::Refused,
            GateError::OverrideWithoutReason => Exit::Invalid,
        }
    }
}

use crate::output::{Out, table};
use approvals::Verdict;

/// The gate's verdict as a table for people: who counted and why each other
/// review did not.
pub fn render(out: &Out, v: &Verdict) -> String {
    let rows: Vec<Vec<String>> = v
        .reviews
        .iter()
        .map(|r| {
            let mark = if r.counted { out.good("✓") } else { out.bad("✗") };
            let state = format!("{:?}", r.state).to_lowercase();
            vec![mark, r.user.clone(), r.environment.clone(), state, r.why.clone()]
        })
        .collect();
    if rows.is_empty() {
        return format!("  no reviews recorded for {}", v.approval_environments.join(", "));
    }
    table(&["", "REVIEWER", "ENVIRONMENT", "REVIEW", "COUNTED?"], &rows)
}

/// The same table in Markdown, for the Actions step summary.
pub fn markdown(v: &Verdict) -> String {
    let verdict = if v.passed { "✅ passed" } else { "❌ not passed" };
    let env = crate::actions::inline(&v.env);
    let mut md = format!("### stagegate gate: {env} — {verdict} ({}/{} approvals)\n\n", v.counted, v.required);
    for r in &v.reasons {
        md.push_str(&format!("- {}\n", crate::actions::inline(r)));
    }
    md.push_str("\n| | reviewer | environment | review | counted? |\n|---|---|---|---|---|\n");
    for r in &v.reviews {
        let state = format!("{:?}", r.state).to_lowercase();
        md.push_str(&format!(
            "| {} | {} | {} | {state} | {} |\n",
            if r.counted { "✅" } else { "❌" },
            crate::actions::cell(&r.user),
            crate::actions::cell(&r.environment),
            crate::actions::cell(&r.why)
        ));
    }
    md
}
