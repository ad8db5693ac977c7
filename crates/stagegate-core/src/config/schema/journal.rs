//! The `journal:` section and `pass_env` lists.

use super::*;

impl Walker<'_> {
    /// `pass_env: [NAME, GLOB*]`: environment variable names, `*` and `?` allowed.
    pub(super) fn pass_env(&mut self, f: &Fields) -> Vec<String> {
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
        const KEYS: &[&str] = &[
            "store",
            "s3",
            "kv",
            "key_prefix",
            "status_prefix",
            "lanes",
            "writers",
            "import",
            "retries",
            "change_approval",
            "pass_env",
        ];
        let mut j = Journal::default();
        let Some(f) = self.fields(node, "journal", KEYS) else { return j };
        j.declared = true;
        for (key, slot) in [("store", &mut j.store), ("kv", &mut j.kv)] {
            if let Some(t) = f.get(key).and_then(|n| self.string(n, key)) {
                let ok = match key {
                    "store" => t.value.starts_with("s3://") || t.value.starts_with("file://"),
                    _ => t.value.starts_with("consul://") || t.value.starts_with("file://"),
                };
                let path = t.value.split_once("://").map_or("", |(_, p)| p);
                if ok && path.trim().is_empty() {
                    let scheme = t.value.split_once("://").map_or("", |(s, _)| s);
                    let help = match scheme {
                        "file" => format!("name a directory, e.g. {key}: file://.stagegate/{key}"),
                        "s3" => "name the bucket, e.g. store: s3://my-bucket/journals".to_string(),
                        _ => "name the server, e.g. kv: consul://127.0.0.1:8500".to_string(),
                    };
                    self.error(t.pos, format!("journal {key} `{}` names no location", t.value), help);
                } else if !ok {
                    let help = if key == "store" {
                        "use s3://BUCKET/PREFIX or file://DIR"
                    } else {
                        "use consul://HOST:PORT or file://DIR"
                    };
                    self.error(t.pos, format!("unsupported journal {key} `{}`", t.value), help);
                }
                *slot = t.value;
            }
        }
        if let Some(n) = f.get("s3")
            && let Some(g) = self.fields(n, "journal.s3", &["endpoint", "path_style", "region"])
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
        if let Some(n) = f.get("lanes") {
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
            j.lanes = lanes.into_iter().map(|t| t.value).collect();
        }
        if let Some(n) = f.get("writers") {
            if let Value::Map(entries) = &n.value {
                for (k, v) in entries {
                    let Some(cluster) = self.string(k, "writer cluster") else { continue };
                    let mut mandators = Vec::new();
                    if !matches!(v.value, Value::Null)
                        && let Some(g) = self.fields(v, &format!("writers.{}", cluster.value), &["mandators"])
                        && let Some(m) = g.get("mandators")
                    {
                        mandators = self.strings(m, "mandators").into_iter().map(|t| t.value).collect();
                    }
                    j.writers.push(Writer { cluster: cluster.value, mandators });
                }
            } else {
                self.wrong_type(n, "writers", "a mapping of cluster names");
            }
        }
        j.import = self.command(&f, "import");
        j.pass_env = self.pass_env(&f);
        if let Some((n, _)) = self.uint(&f, "retries", 100) {
            j.retries = n as u32;
        }
        if let Some(n) = f.get("change_approval") {
            match self.string(n, "change_approval").map(|t| t.value).as_deref() {
                Some("servicenow") => j.change_approval = Some("servicenow".into()),
                Some("none") => {}
                Some(other) => {
                    self.error(n.pos, format!("unknown change approval `{other}`"), "use `servicenow` or `none`")
                }
                None => {}
            }
        }
        j
    }
}
