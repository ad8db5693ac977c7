//! The hold workflow: stop the line from the Actions tab. Dispatched with an
//! environment, set or clear, a reason, and optionally an end time and
//! whether rollbacks are held too. Every input reaches stagegate through a
//! step's `env:`; the job asks for no environment, so a hold is never
//! waiting on the approvals of the environment it stops.

use super::workflows::Ctx;

pub(super) fn hold(c: &Ctx) -> String {
    let options = c.options(c.envs().iter().map(|e| e.name.clone()));
    let reason = [("ENV", "${{ inputs.environment }}"), ("REASON", "${{ inputs.reason }}")];
    let set =
        [("ENV", "${{ inputs.environment }}"), ("REASON", "${{ inputs.reason }}"), ("UNTIL", "${{ inputs.until }}")];
    format!(
        r#"{header}name: Hold
run-name: Hold ${{{{ inputs.action }}}} ${{{{ inputs.environment }}}}

on:
  workflow_dispatch:
    inputs:
      environment:
        description: Environment to hold or release
        required: true
        type: choice
        options:
{options}      action:
        description: Set the hold (stop promotions and deploys) or clear it
        required: true
        type: choice
        options:
          - set
          - clear
      reason:
        description: Why (shown in every refusal, the audit trail and history)
        required: true
        type: string
      until:
        description: Set only - it ends by itself at this time (RFC 3339, e.g. 2027-01-04T08:00:00Z; empty = until cleared)
        required: false
        type: string
      rollbacks_too:
        description: Set only - hold rollbacks too (by default they still run)
        required: false
        type: boolean
        default: false

permissions: {{}}

concurrency:
  group: stagegate-hold-${{{{ inputs.environment }}}}
  cancel-in-progress: false

jobs:
  hold:
    name: Hold ${{{{ inputs.action }}}}
    runs-on: ubuntu-latest
    permissions:
      contents: read
      deployments: write
    steps:
{checkout}{set}{set_all}{clear}{list}"#,
        header = c.header(
            "Stop the line: hold an environment (no promotion, deploy or journal promotion) or clear the hold."
        ),
        checkout = c.checkout("      "),
        set = with_if(
            c.step("      ", "Set the hold", None, "hold set", &set, &[]),
            "inputs.action == 'set' && !inputs.rollbacks_too"
        ),
        set_all = with_if(
            c.step("      ", "Set the hold (rollbacks too)", None, "hold set", &set, &[("args", "--rollbacks-too")]),
            "inputs.action == 'set' && inputs.rollbacks_too"
        ),
        clear =
            with_if(c.step("      ", "Clear the hold", None, "hold clear", &reason, &[]), "inputs.action == 'clear'"),
        list = c.step("      ", "What is held now", None, "hold list", &[], &[]),
    )
}

/// A step that runs only when `condition` holds.
fn with_if(step: String, condition: &str) -> String {
    let mut lines = step.lines();
    let first = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines.collect();
    format!("{first}\n        if: ${{{{ {condition} }}}}\n{}\n", rest.join("\n"))
}
