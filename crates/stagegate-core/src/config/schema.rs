//! From a YAML node tree to `Config`, collecting every unknown key and wrong type.
//!
//! A field with a problem gets a diagnostic and its default, and the walk goes on:
//! an environment with a misspelt key is still an environment, so its edges do
//! not turn into a cascade of "unknown environment" errors.

mod calendar;
mod journal;
mod rollback;
mod servicenow;
mod values;

use super::keys::{self, Kind, Section};
use super::node::{self, Node, Pos, Value};
use super::*;

pub(super) fn read(text: &str, diags: &mut Vec<Diagnostic>) -> Option<Config> {
    if text.trim().is_empty() || text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        diags.push(
            Diagnostic::error(Pos { line: 1, column: 1, ..Pos::default() }, "the config file is empty")
                .help("start from `stagegate init`, or see the configuration reference in docs/src/configuration.md"),
        );
        return None;
    }
    let root = match node::parse(text) {
        Ok((root, problems)) => {
            for p in problems {
                let help = p.help.unwrap_or("each key may appear once in a mapping; keep one");
                diags.push(Diagnostic::error(p.pos, p.message).help(help));
            }
            root
        }
        Err(e) => {
            let help = e.help.unwrap_or("fix the YAML syntax");
            diags.push(Diagnostic::error(e.pos, format!("invalid YAML: {}", e.message)).help(help));
            return None;
        }
    };
    let mut w = Walker { diags };
    w.config(&root)
}

struct Walker<'d> {
    diags: &'d mut Vec<Diagnostic>,
}

/// The entries of a mapping, with unknown keys already reported.
struct Fields<'n> {
    entries: &'n [(Node, Node)],
    section: &'static Section,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        debug_assert!(self.section.key(key).is_some(), "`{key}` is read but not declared in config::keys");
        self.entries.iter().find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key)).map(|(_, v)| v)
    }

    /// What config::keys declares `key` to hold: the walker reads each key
    /// as that kind (checked in debug builds, so the tests catch a drift).
    fn kind(&self, key: &str, is: fn(&Kind) -> bool) -> Kind {
        let kind = self.section.key(key).map(|k| k.kind);
        debug_assert!(kind.as_ref().is_some_and(is), "`{key}` is read as another kind than config::keys declares");
        kind.unwrap_or(Kind::Text)
    }

    /// The value of `key`, which config::keys declares as a kind `is` accepts.
    fn of(&self, key: &str, is: fn(&Kind) -> bool) -> Option<&'n Node> {
        self.kind(key, is);
        self.get(key)
    }
}

impl Walker<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>, help: impl Into<String>) {
        self.diags.push(Diagnostic::error(pos, message).help(help));
    }

    fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        self.error(
            node.pos,
            format!("`{what}` must be {expected}, found {}", node.value.kind()),
            format!("write {expected} here"),
        );
    }

    /// A mapping whose keys must all be in `section`.
    fn fields<'n>(&mut self, node: &'n Node, what: &str, section: &'static Section) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, what, "a mapping");
            return None;
        };
        let allowed: Vec<&str> = section.names().collect();
        for (k, _) in entries {
            match &k.value {
                Value::Str(key) if allowed.contains(&key.as_str()) => {}
                Value::Str(key) => {
                    let help = match names::closest(key, allowed.iter().copied()) {
                        Some(c) => format!("did you mean `{c}`? Allowed here: {}", allowed.join(", ")),
                        None => format!("allowed keys in `{what}`: {}", allowed.join(", ")),
                    };
                    self.diags.push(
                        Diagnostic::error(k.pos, format!("unknown key `{key}` in `{what}`"))
                            .help(help)
                            .label("unknown key"),
                    );
                }
                other => self.error(
                    k.pos,
                    format!("keys in `{what}` must be strings, found {}", other.kind()),
                    format!("allowed keys: {}", allowed.join(", ")),
                ),
            }
        }
        Some(Fields { entries, section })
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<Text> {
        match &node.value {
            Value::Str(s) => Some(Text::new(s.clone(), node.pos)),
            _ => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    /// A hook or import command: a string with something to run in it.
    fn command(&mut self, f: &Fields, key: &str) -> Option<String> {
        f.kind(key, |k| matches!(k, Kind::Command));
        let t = f.get(key).and_then(|n| self.string(n, key))?;
        if t.value.trim().is_empty() {
            self.error(
                t.pos,
                format!("`{key}` is empty: there is no command to run"),
                format!("write the command, or leave `{key}` out to skip it"),
            );
            return None;
        }
        Some(t.value)
    }

    fn opt_string(&mut self, f: &Fields, key: &str) -> Option<String> {
        self.text(f, key).map(|t| t.value)
    }

    /// A string key (any string, or a URL checked by its reader), with its place.
    fn text(&mut self, f: &Fields, key: &str) -> Option<Text> {
        f.kind(key, |k| matches!(k, Kind::Text | Kind::Url));
        f.get(key).and_then(|n| self.string(n, key))
    }

    fn boolean(&mut self, f: &Fields, key: &str, default: bool) -> bool {
        f.kind(key, |k| matches!(k, Kind::Bool));
        match f.get(key) {
            None => default,
            Some(Node { value: Value::Bool(b), .. }) => *b,
            Some(n) => {
                self.wrong_type(n, key, "true or false");
                default
            }
        }
    }

    /// A whole number in the range config::keys declares.
    fn uint(&mut self, f: &Fields, key: &str) -> Option<(i64, Pos)> {
        let Kind::Uint { min, max } = f.kind(key, |k| matches!(k, Kind::Uint { .. })) else { return None };
        let n = f.get(key)?;
        match &n.value {
            Value::Int(i) if (min..=max).contains(i) => Some((*i, n.pos)),
            Value::Int(i) => {
                self.error(
                    n.pos,
                    format!("`{key}` is {i}, out of range"),
                    format!("use a whole number from {min} to {max}"),
                );
                None
            }
            _ => {
                self.wrong_type(n, key, "a whole number");
                None
            }
        }
    }

    /// A list of strings; a single string is accepted as a list of one.
    fn strings(&mut self, node: &Node, what: &str) -> Vec<Text> {
        match &node.value {
            Value::Str(_) => self.string(node, what).into_iter().collect(),
            Value::Seq(items) => items.iter().filter_map(|i| self.string(i, what)).collect(),
            _ => {
                self.wrong_type(node, what, "a list of strings");
                Vec::new()
            }
        }
    }

    fn config(&mut self, root: &Node) -> Option<Config> {
        let f = self.fields(root, "the config file", &keys::CONFIG)?;
        let Kind::Version(want) = f.kind("version", |k| matches!(k, Kind::Version(_))) else { return None };
        let version = match f.get("version") {
            None => {
                self.error(
                    Pos { line: 1, column: 1, ..root.pos },
                    "missing `version`",
                    "add `version: 1` at the top of the file",
                );
                1
            }
            Some(n) => match n.value {
                Value::Int(v) if v == want => 1,
                _ => {
                    let found = match &n.value {
                        Value::Int(i) => i.to_string(),
                        Value::Str(s) => format!("\"{s}\""),
                        v => v.kind().to_string(),
                    };
                    self.error(
                        n.pos,
                        format!("unsupported config version {found}"),
                        format!("this stagegate reads `version: {want}`"),
                    );
                    1
                }
            },
        };
        let release = f.of("release", |k| matches!(k, Kind::Map(_))).map(|n| self.release(n)).unwrap_or_default();
        let environments = match f.of("environments", |k| matches!(k, Kind::Named { .. })) {
            Some(n) => self.environments(n),
            None => {
                self.error(
                    Pos { line: 1, column: 1, ..root.pos },
                    "missing `environments`",
                    "list your environments under `environments:`",
                );
                Vec::new()
            }
        };
        let promotions =
            f.of("promotions", |k| matches!(k, Kind::List(_))).map(|n| self.promotions(n)).unwrap_or_default();
        let steps = f.of("steps", |k| matches!(k, Kind::Map(_))).map(|n| self.steps(n)).unwrap_or_default();
        let journal = f.of("journal", |k| matches!(k, Kind::Map(_))).map(|n| self.journal(n)).unwrap_or_default();
        let servicenow = f.of("servicenow", |k| matches!(k, Kind::Map(_))).and_then(|n| self.servicenow(n));
        Some(Config { version, release, environments, promotions, steps, journal, servicenow })
    }

    fn release(&mut self, node: &Node) -> Release {
        let mut r = Release::default();
        let Some(f) = self.fields(node, "release", &keys::RELEASE) else { return r };
        if let Some(n) = f.get("scheme") {
            let Kind::OneOf(schemes) = f.kind("scheme", |k| matches!(k, Kind::OneOf(_))) else { return r };
            match self.string(n, "scheme").map(|t| t.value).as_deref() {
                Some("calver") => r.scheme = Scheme::Calver,
                Some("semver") => r.scheme = Scheme::Semver,
                Some(other) => self.error(
                    n.pos,
                    format!("unknown release scheme `{other}`"),
                    format!("use one of: {}", schemes.join(", ")),
                ),
                None => {}
            }
        }
        if let Some(t) = self.text(&f, "format")
            && let Some(format) = self.calver_format(t, r.scheme)
        {
            r.format = format;
        }
        if let Some(p) = self.text(&f, "tag_prefix") {
            r.tag_prefix = p.value;
            r.tag_prefix_pos = p.pos;
        }
        r.draft = self.boolean(&f, "draft", true);
        r.generate_notes = self.boolean(&f, "generate_notes", true);
        if let Some(n) = self.text(&f, "name") {
            r.name = Some(n.value);
            r.name_pos = n.pos;
        }
        r.body = self.opt_string(&f, "body");
        r
    }

    fn environments(&mut self, node: &Node) -> Vec<Environment> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, "environments", "a mapping of environment names");
            return Vec::new();
        };
        let mut envs: Vec<Environment> = Vec::new();
        for (k, v) in entries {
            let Some(name) = self.string(k, "environment name") else { continue };
            if !valid_env_name(&name.value) {
                self.error(
                    k.pos,
                    format!("invalid environment name `{}`", name.value),
                    "use letters, digits, `-`, `_` and `.` (GitHub environment names)",
                );
            }
            envs.push(self.environment(name, v));
        }
        envs
    }

    fn environment(&mut self, name: Text, node: &Node) -> Environment {
        let mut env = Environment {
            name: name.value.clone(),
            pos: name.pos,
            branches: Vec::new(),
            tags: Vec::new(),
            auto_deploy: false,
            approvals: Approvals { pos: name.pos, required_pos: name.pos, ..Approvals::default() },
            freeze: Vec::new(),
            deploy_windows: Vec::new(),
            freeze_override: false,
            soak: None,
            health: Vec::new(),
            change_required: false,
            change_match: Vec::new(),
            url: None,
            protection_rule: false,
            rollback: RollbackPolicy::default(),
            ephemeral: false,
        };
        if matches!(node.value, Value::Null) {
            return env; // `staging:` with nothing under it: an environment with defaults.
        }
        let what = format!("environments.{}", name.value);
        let Some(f) = self.fields(node, &what, &keys::ENVIRONMENT) else { return env };
        env.branches = f
            .of("branches", |k| matches!(k, Kind::Strings(None)))
            .map(|n| self.patterns(n, "branches", "branch"))
            .unwrap_or_default();
        env.tags = f
            .of("tags", |k| matches!(k, Kind::Strings(None)))
            .map(|n| self.patterns(n, "tags", "tag"))
            .unwrap_or_default();
        env.auto_deploy = self.boolean(&f, "auto_deploy", false);
        if let Some(n) = f.of("approvals", |k| matches!(k, Kind::Map(_))) {
            env.approvals = self.approvals(n, &what);
        }
        env.freeze = f.of("freeze", |k| matches!(k, Kind::Entries(_))).map(|n| self.freezes(n)).unwrap_or_default();
        env.deploy_windows = f
            .of("deploy_windows", |k| matches!(k, Kind::Strings(None)))
            .map(|n| self.deploy_windows(n))
            .unwrap_or_default();
        env.freeze_override =
            self.switch(&f, "freeze_override", "use `allowed` (with --override-freeze --reason) or `never`");
        env.soak = self.duration(&f, "soak", duration::SOAK);
        if let Some(n) = f.of("health", |k| matches!(k, Kind::List(_))) {
            env.health = self.health(n);
        }
        env.change_required = self.switch(&f, "change", "use `required` or `none`");
        if let Some(n) = f.of("change_match", |k| matches!(k, Kind::Fields(_))) {
            env.change_match = self.change_match(n, &format!("{what}.change_match"));
        }
        env.url = self.url(&f);
        env.protection_rule = self.switch(
            &f,
            "protection_rule",
            "use `app` (the stagegate App decides, see `stagegate serve`) or `none`",
        );
        if let Some(n) = f.of("rollback", |k| matches!(k, Kind::Map(_))) {
            env.rollback = self.rollback(n, &what);
        }
        env.ephemeral = self.boolean(&f, "ephemeral", false);
        env
    }

    /// A key that is one of two words (config::keys): the first (true) or
    /// the second (false, also when absent); anything else is an error, with `help`.
    fn switch(&mut self, f: &Fields, key: &str, help: &str) -> bool {
        let Kind::OneOf(&[on, off]) = f.kind(key, |k| matches!(k, Kind::OneOf([_, _]))) else { return false };
        let Some(n) = f.get(key) else { return false };
        match self.string(n, key) {
            Some(t) if t.value == on => true,
            Some(t) if t.value != off => {
                self.error(n.pos, format!("unknown `{key}` value `{}`", t.value), help);
                false
            }
            _ => false,
        }
    }

    /// `url:` where the environment is reached: http(s) only.
    fn url(&mut self, f: &Fields) -> Option<String> {
        let url = self.text(f, "url")?;
        if url.value.starts_with("https://") || url.value.starts_with("http://") {
            return Some(url.value);
        }
        let why = format!("`{}` is not an http(s) URL", url.value);
        self.error(url.pos, why, "give where the environment is reached, e.g. url: https://staging.example.com");
        None
    }

    fn approvals(&mut self, node: &Node, env: &str) -> Approvals {
        let mut a = Approvals { pos: node.pos, required_pos: node.pos, ..Approvals::default() };
        let Some(f) = self.fields(node, &format!("{env}.approvals"), &keys::APPROVALS) else { return a };
        if let Some((n, pos)) = self.uint(&f, "required") {
            a.required = n as u32;
            a.required_pos = pos;
        }
        if let Some(n) = f.of("reviewers", |k| matches!(k, Kind::Strings(Some(keys::REVIEWER)))) {
            for t in self.strings(n, "reviewers") {
                match Reviewer::parse(&t.value) {
                    Some(r) => a.reviewers.push(r),
                    None => self.error(
                        t.pos,
                        format!("invalid reviewer `{}`", t.value),
                        "write a user as `@login` and a team as `@org/team-slug`",
                    ),
                }
            }
        }
        a.prevent_self_review = self.boolean(&f, "prevent_self_review", true);
        a.wait_timer = self.duration(&f, "wait_timer", duration::WAIT_TIMER);
        a
    }

    fn health(&mut self, node: &Node) -> Vec<HealthCheck> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, "health", "a list of checks like `{ http: URL, expect: 200 }`");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(f) = self.fields(item, "health check", &keys::HEALTH_CHECK) else { continue };
            let Some(url) = self.text(&f, "http") else {
                if f.get("http").is_none() {
                    self.error(
                        item.pos,
                        "a health check needs `http`",
                        "e.g. { http: \"https://prod.example.com/healthz\", expect: 200 }",
                    );
                }
                continue;
            };
            if !(url.value.starts_with("http://") || url.value.starts_with("https://")) {
                self.error(
                    url.pos,
                    format!("`{}` is not an http(s) URL", url.value),
                    "write the full URL, e.g. https://host/healthz",
                );
            }
            let expect = self.uint(&f, "expect").map_or(200, |(code, _)| code as u16);
            let timeout = self.duration(&f, "timeout", duration::TIMEOUT);
            out.push(HealthCheck { http: url.value, expect, timeout });
        }
        out
    }

    fn promotions(&mut self, node: &Node) -> Vec<Edge> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, "promotions", "a list of `{ from: A, to: B }`");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(f) = self.fields(item, "promotion", &keys::PROMOTION) else { continue };
            let from = self.text(&f, "from");
            let to = self.text(&f, "to");
            for (k, v) in [("from", &from), ("to", &to)] {
                if v.is_none() && f.get(k).is_none() {
                    self.error(item.pos, format!("a promotion needs `{k}`"), "write it as { from: A, to: B }");
                }
            }
            if let (Some(from), Some(to)) = (from, to) {
                out.push(Edge { from, to, pos: item.pos });
            }
        }
        out
    }

    fn steps(&mut self, node: &Node) -> Steps {
        let mut s = Steps::default();
        let Some(f) = self.fields(node, "steps", &keys::STEPS) else { return s };
        s.backup = self.command(&f, "backup");
        s.deploy = self.command(&f, "deploy");
        s.verify = self.command(&f, "verify");
        s.rollback = self.command(&f, "rollback");
        s.create = self.command(&f, "create");
        s.destroy = self.command(&f, "destroy");
        s.pass_env = self.pass_env(&f);
        if let Some(n) = f.of("timeouts", |k| matches!(k, Kind::Map(_)))
            && let Some(t) = self.fields(n, "steps.timeouts", &keys::TIMEOUTS)
        {
            if let Some(d) = self.duration(&t, "startup", duration::TIMEOUT) {
                s.startup_timeout = d;
            }
            if let Some(d) = self.duration(&t, "health_check", duration::TIMEOUT) {
                s.health_check_timeout = d;
            }
            if let Some(d) = self.duration(&t, "hook", duration::TIMEOUT) {
                s.hook_timeout = d;
            }
        }
        s
    }
}

/// GitHub environment names: no control characters, no `/`, at most 255 bytes.
fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
