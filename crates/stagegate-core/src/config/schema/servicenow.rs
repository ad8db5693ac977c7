//! The `servicenow:` section and an environment's `change_match:`: which
//! instance, and the fields a change must carry to count for an environment.

use super::*;
use crate::config::keys::MAX_FIELD;

impl Walker<'_> {
    pub(super) fn servicenow(&mut self, n: &Node) -> Option<ServiceNow> {
        let g = self.fields(n, "servicenow", &keys::SERVICENOW)?;
        let matching = g
            .of("match", |k| matches!(k, Kind::Fields(_)))
            .map(|m| self.change_match(m, "servicenow.match"))
            .unwrap_or_default();
        match g.get("instance") {
            Some(_) => self.text(&g, "instance").map(|t| ServiceNow { instance: t.value, matching }),
            None => {
                self.error(n.pos, "`servicenow` needs `instance`", "e.g. instance: https://acme.service-now.com");
                None
            }
        }
    }

    /// `{ FIELD: VALUE, … }`: ServiceNow field names (`cmdb_ci.name`,
    /// `assignment_group`) and the value each must have.
    pub(super) fn change_match(&mut self, node: &Node, what: &str) -> Vec<(String, String)> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, what, "a mapping of ServiceNow fields to values, e.g. { cmdb_ci.name: payments }");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            let Some(field) = self.string(k, what) else { continue };
            let ok = !field.value.is_empty()
                && field.value.len() <= MAX_FIELD
                && field.value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'));
            if !ok {
                self.error(
                    field.pos,
                    format!("`{}` is not a ServiceNow field name", field.value.escape_debug()),
                    format!("use the field's column name, e.g. cmdb_ci.name or assignment_group (letters, digits, `_`, `.`; at most {MAX_FIELD})"),
                );
                continue;
            }
            if let Some(value) = self.string(v, &field.value) {
                out.push((field.value, value.value));
            }
        }
        if out.is_empty() && entries.is_empty() {
            self.error(
                node.pos,
                format!("`{what}` is empty"),
                "name at least one field, e.g. { cmdb_ci.name: payments }",
            );
        }
        out
    }
}
