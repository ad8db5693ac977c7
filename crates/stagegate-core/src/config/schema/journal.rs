//! The `journal:` section and `pass_env` lists.

use super::*;
use crate::config::{ChangeApproval, KvLocation, StoreLocation};
use crate::values::location::ParseError;

impl Walker<'_> {
    /// `pass_env: [NAME, GLOB*]`: environment variable names, `*` and `?` allowed.
    pub(super) fn pass_env(&mut self, f: &Fields) -> Vec<String> {
        f.kind("pass_env", |k| matches!(k, Kind::Strings(Some(keys::ENV_VAR_GLOB))));
        let Some(n) = f.get("pass_env") else { return Vec::new() };
        let names = self.strings(n, "pass_env");
        for t in &names {
            let ok = !t.value.is_empty()
                && !t.value.starts_with(|c: char| c.is_ascii_digit())
                && t.value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '?'));
            if !ok {
                self.error(
                    t.pos,
                    format!("`{}` is not an environment variable name or glob", t.value.escape_debug()),
                    "list names like CONSUL_HTTP_TOKEN or globs like AWS_*, using letters, digits, `_`, `*` and `?`",
                );
            }
        }
        names.into_iter().map(|t| t.value).collect()
    }

    pub(super) fn journal(&mut self, node: &Node) -> Journal {
        let mut j = Journal::default();
        let Some(f) = self.fields(node, "journal", &keys::JOURNAL) else { return j };
        j.declared = true;
        if let Some(l) = self.location(&f, "store", StoreLocation::parse) {
            j.store = l;
        }
        if let Some(l) = self.location(&f, "kv", KvLocation::parse) {
            j.kv = l;
        }
        if let Some(n) = f.of("s3", |k| matches!(k, Kind::Map(_)))
            && let Some(g) = self.fields(n, "journal.s3", &keys::S3)
        {
            j.s3 = Some(S3 {
                endpoint: self.opt_string(&g, "endpoint"),
                path_style: self.boolean(&g, "path_style", false),
                region: self.opt_string(&g, "region"),
            });
        }
        for (key, slot) in [("key_prefix", &mut j.key_prefix), ("status_prefix", &mut j.status_prefix)] {
            if let Some(v) = self.opt_string(&f, key) {
                *slot = v.trim_matches('/').to_string();
            }
        }
        if let Some(n) = f.of("lanes", |k| matches!(k, Kind::Strings(None))) {
            j.lanes = self.lanes(n);
        }
        if let Some(n) = f.of("writers", |k| matches!(k, Kind::Named { .. })) {
            j.writers = self.writers(n);
        }
        j.import = self.command(&f, "import");
        j.pass_env = self.pass_env(&f);
        if let Some((n, _)) = self.uint(&f, "retries") {
            j.retries = n as u32;
        }
        if let Some(n) = f.get("change_approval") {
            j.change_approval_pos = n.pos;
        }
        j.change_approval =
            self.switch(&f, "change_approval", "use `servicenow` or `none`").then_some(ChangeApproval::ServiceNow);
        j
    }

    /// `journal.store` or `journal.kv`, parsed; a refusal points at the value.
    fn location<L>(&mut self, f: &Fields, key: &str, parse: fn(&str) -> Result<L, ParseError>) -> Option<L> {
        let t = self.text(f, key)?;
        match parse(&t.value) {
            Ok(l) => Some(l),
            Err(e) => {
                self.error(t.pos, e.message, e.help);
                None
            }
        }
    }

    /// `lanes: [dev, qa, dit]`: newest first, none twice.
    fn lanes(&mut self, n: &Node) -> Vec<String> {
        let lanes = self.strings(n, "lanes");
        if lanes.is_empty() {
            self.error(n.pos, "`lanes` is empty", "list the lanes, newest first, e.g. [dev, qa, dit]");
        }
        for (i, l) in lanes.iter().enumerate() {
            if lanes[..i].iter().any(|p| p.value == l.value) {
                self.error(
                    l.pos,
                    format!("journal lane `{}` is listed twice", l.value),
                    "each lane holds one version; list each once",
                );
            }
        }
        lanes.into_iter().map(|t| t.value).collect()
    }

    /// `writers: {CLUSTER: {mandators: [...]}}`: who may upload which journals.
    fn writers(&mut self, n: &Node) -> Vec<Writer> {
        let Value::Map(entries) = &n.value else {
            self.wrong_type(n, "writers", "a mapping of cluster names");
            return Vec::new();
        };
        let mut writers = Vec::new();
        for (k, v) in entries {
            let Some(cluster) = self.string(k, "writer cluster") else { continue };
            let mut mandators = Vec::new();
            if !matches!(v.value, Value::Null)
                && let Some(g) = self.fields(v, &format!("writers.{}", cluster.value), &keys::WRITER)
                && let Some(m) = g.of("mandators", |k| matches!(k, Kind::Strings(None)))
            {
                mandators = self.strings(m, "mandators").into_iter().map(|t| t.value).collect();
            }
            writers.push(Writer { cluster: cluster.value, mandators });
        }
        writers
    }
}
