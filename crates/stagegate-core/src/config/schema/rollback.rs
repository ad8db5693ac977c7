//! An environment's `rollback:` policy: fewer approvals, no wait timer.

use super::*;

impl Walker<'_> {
    pub(super) fn rollback(&mut self, node: &Node, env: &str) -> RollbackPolicy {
        let mut r = RollbackPolicy { pos: Some(node.pos), ..RollbackPolicy::default() };
        let Some(f) = self.fields(node, &format!("{env}.rollback"), &keys::ROLLBACK) else { return r };
        r.approvals = self.uint(&f, "approvals").map(|(n, _)| n as u32);
        r.skip_wait_timer = !self.boolean(&f, "wait_timer", true);
        r
    }
}
