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

    /// The arguments a plan or promote step adds from the dispatch: the
    /// freeze override's reason and the change, where the config needs them.
    pub(super) fn promotion_args(&self) -> Vec<(&'static str, &'static str)> {
        let mut args = Vec::new();
        if self.promotions_may_override_a_freeze() {
            args.push(("REASON", "${{ inputs.freeze_override_reason }}"));
        }
        if self.promotions_need_a_change() {
            args.push(("CHANGE", "${{ inputs.change }}"));
        }
        args
    }

    /// The change an upload step passes where uploads need one: the dispatch
    /// input, else (on schedule) the `STAGEGATE_JOURNAL_CHANGE` variable.
    pub(super) fn upload_args(&self) -> Vec<(&'static str, &'static str)> {
        if self.uploads_need_a_change() {
            vec![("CHANGE", "${{ inputs.change || vars.STAGEGATE_JOURNAL_CHANGE }}")]
        } else {
            Vec::new()
        }
    }

    /// Whether a promotion may override a freeze window (an environment
    /// with freeze or deploy windows and `freeze_override: allowed`).
    pub(super) fn promotions_may_override_a_freeze(&self) -> bool {
        self.cfg.environments.iter().any(|e| e.freeze_override && !(e.freeze.is_empty() && e.deploy_windows.is_empty()))
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
