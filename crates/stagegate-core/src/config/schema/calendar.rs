//! An environment's calendar in the config: `freeze` entries (a window, or
//! `{window, reason, override: never|allowed}`) and `deploy_windows`.

use super::*;
use crate::config::spanned::inner_span;
use crate::config::{Freeze, FreezeWindow};
use crate::values::freeze;

const EXAMPLES: &str = "e.g. \"FRI 16:00 - MON 08:00 Europe/London\" (weekly), \"2026-12-24 00:00 - 2026-12-27 00:00 UTC\" (once), \"12-24 00:00 - 12-27 00:00 Europe/London\" (every year) or \"MON-THU 09:00 - 16:00 Europe/London\" (those days)";

impl Walker<'_> {
    /// A window's text at `t`, parsed; an error points into the string.
    fn window(&mut self, t: &Text, what: &str) -> Option<Spanned<FreezeWindow>> {
        match freeze::parse(&t.value) {
            Ok(w) => Some(Spanned::new(w, t.pos)),
            Err(e) => {
                self.error(inner_span(t.pos, &t.value, e.offset, e.len), format!("invalid {what}: {e}"), EXAMPLES);
                None
            }
        }
    }

    /// `freeze:` a window, or a list of windows and `{window, reason, override}`.
    pub(super) fn freezes(&mut self, node: &Node) -> Vec<Spanned<Freeze>> {
        let items = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        items.into_iter().filter_map(|item| self.freeze(item)).collect()
    }

    fn freeze(&mut self, item: &Node) -> Option<Spanned<Freeze>> {
        if !matches!(item.value, Value::Map(_)) {
            let t = self.string(item, "freeze")?;
            return self.window(&t, "freeze window").map(|w| w.map(Freeze::new));
        }
        let f = self.fields(item, "freeze entry", &keys::FREEZE_ENTRY)?;
        let Some(t) = self.text(&f, "window") else {
            if f.get("window").is_none() {
                self.error(
                    item.pos,
                    "a freeze entry needs `window`",
                    "e.g. { window: \"12-20 00:00 - 01-04 08:00 UTC\", reason: \"year-end close\", override: never }",
                );
            }
            return None;
        };
        let reason = self.text(&f, "reason");
        if let Some(r) = &reason
            && (r.value.trim().is_empty() || r.value.chars().any(char::is_control))
        {
            self.error(r.pos, "a freeze reason is one line of text", "say why in a few words, e.g. \"year-end close\"");
        }
        let never_override = self.switch(
            &f,
            "override",
            "use `never` (--override-freeze does not pass this window) or `allowed` (as the environment's `freeze_override` says)",
        );
        let window = self.window(&t, "freeze window")?;
        Some(Spanned::new(
            Freeze { window: window.value, reason: reason.map(|r| r.value.trim().to_owned()), never_override },
            item.pos,
        ))
    }

    /// `deploy_windows:` when the environment is open; never an empty list.
    pub(super) fn deploy_windows(&mut self, node: &Node) -> Vec<Spanned<FreezeWindow>> {
        if matches!(&node.value, Value::Seq(items) if items.is_empty()) {
            self.error(
                node.pos,
                "`deploy_windows` is empty: the environment would never be open",
                "list when deploys may run, e.g. [\"MON-THU 09:00 - 16:00 Europe/London\"], or leave `deploy_windows` out",
            );
            return Vec::new();
        }
        let texts = self.strings(node, "deploy_windows");
        texts.iter().filter_map(|t| self.window(t, "deploy window")).collect()
    }
}
