//! The dispatch inputs and step environment the workflows get where the
//! config needs them: a ServiceNow change (and its credentials, from
//! secrets) for change-controlled promotions and uploads, and a freeze
//! override's reason where a target allows overrides. Values reach stagegate
//! as `STAGEGATE_ARG_*` arguments, never through a shell.

use super::workflows::Ctx;

impl Ctx<'_> {
    /// Whether a promotion may need a ServiceNow change (an environment
    /// with `change: required`).
    pub(super) fn promotions_need_a_change(&self) -> bool {
        self.cfg.environments.iter().any(|e| e.change_required)
    }

    /// Whether a journal upload needs a ServiceNow change.
    pub(super) fn uploads_need_a_change(&self) -> bool {
        self.cfg.journal.change_approval == Some(crate::config::ChangeApproval::ServiceNow)
    }

    /// What a step that checks a ServiceNow change gets: the change (a
    /// dispatch input; for scheduled uploads the `STAGEGATE_JOURNAL_CHANGE`
    /// variable) and the credentials, from secrets; a plan or promotion that
    /// may override a freeze, the reason given.
    pub(super) fn step_env(&self, command: &str) -> Vec<(&'static str, &'static str)> {
        let mut env = Vec::new();
        if matches!(command, "plan" | "promote") && self.promotions_may_override_a_freeze() {
            env.push(("STAGEGATE_ARG_REASON", "${{ inputs.freeze_override_reason }}"));
        }
        let change = match command {
            "plan" | "promote" if self.promotions_need_a_change() => "${{ inputs.change }}",
            "journal watch-dir" | "journal upload" if self.uploads_need_a_change() => {
                "${{ inputs.change || vars.STAGEGATE_JOURNAL_CHANGE }}"
            }
            _ => return env,
        };
        env.extend([
            ("STAGEGATE_ARG_CHANGE", change),
            ("SERVICENOW_USER", "${{ secrets.SERVICENOW_USER }}"),
            ("SERVICENOW_PASSWORD", "${{ secrets.SERVICENOW_PASSWORD }}"),
            ("SERVICENOW_TOKEN", "${{ secrets.SERVICENOW_TOKEN }}"),
        ]);
        env
    }

    /// Whether a promotion may override a freeze window (an environment
    /// with windows and `freeze_override: allowed`).
    pub(super) fn promotions_may_override_a_freeze(&self) -> bool {
        self.cfg.environments.iter().any(|e| e.freeze_override && !e.freeze.is_empty())
    }

    /// The `with:` of a plan or promote step: `--override-freeze` exactly when
    /// the dispatch gave a reason (the reason itself goes as an argument).
    pub(super) fn freeze_override_with(&self) -> Vec<(&'static str, &'static str)> {
        if self.promotions_may_override_a_freeze() {
            vec![("args", "${{ inputs.freeze_override_reason != '' && '--override-freeze' || '' }}")]
        } else {
            Vec::new()
        }
    }

    /// The `change` dispatch input, when the steps take one.
    pub(super) fn change_input(&self, what: &str) -> String {
        format!(
            "      change:\n        description: ServiceNow change (CHG…) approving {what}\n        required: false\n        type: string\n"
        )
    }
}
