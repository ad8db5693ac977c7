//! Every key of `.github/stagegate.yml`: its name, what it holds and what it
//! means, declared once. The walker (`schema`) takes the keys it allows, enum
//! words and number ranges from here, and checks each value it reads against
//! the kind declared here; `json_schema` turns the same tables into the JSON
//! Schema editors use. A key added to one is in the other.

/// What a key holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// The config format's version: only this number.
    Version(i64),
    /// Any string.
    Text,
    /// A command to run: a string with something in it.
    Command,
    /// An `http://` or `https://` URL.
    Url,
    Bool,
    /// A whole number in `min..=max`.
    Uint {
        min: i64,
        max: i64,
    },
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// `30s`, `5m`, `1h30m`, `2d`.
    Duration,
    /// A string or a list of strings, each matching `pattern` (a JSON Schema
    /// regex; `None`: any string, its own syntax checked by `check`).
    Strings(Option<&'static str>),
    /// A mapping with the keys of a section.
    Map(&'static Section),
    /// A mapping from names (matching `names`) to a section, or to nothing
    /// (`staging:` with no keys: all defaults).
    Named {
        names: Option<&'static str>,
        value: &'static Section,
    },
    /// A list of mappings with the keys of a section.
    List(&'static Section),
    /// A string, or a list of strings and mappings with the keys of a
    /// section (a string is the section's shorthand).
    Entries(&'static Section),
    /// A mapping from names (matching the pattern) to strings.
    Fields(&'static str),
}

/// One key of a mapping.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub doc: &'static str,
}

/// A mapping's keys, and what the mapping is.
#[derive(Debug)]
pub struct Section {
    pub doc: &'static str,
    pub keys: &'static [Key],
}

impl Section {
    pub fn key(&self, name: &str) -> Option<&'static Key> {
        self.keys.iter().find(|k| k.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.keys.iter().map(|k| k.name)
    }
}

const fn key(name: &'static str, kind: Kind, doc: &'static str) -> Key {
    Key { name, kind, required: false, doc }
}

const fn required(name: &'static str, kind: Kind, doc: &'static str) -> Key {
    Key { name, kind, required: true, doc }
}

/// GitHub environment names as stagegate accepts them.
pub const ENV_NAME: &str = "^[A-Za-z0-9._-]{1,255}$";
/// `@login` or `@org/team-slug` (the `@` may be left out).
pub const REVIEWER: &str = "^\\s*@?[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)?\\s*$";
/// An environment variable name or a glob of names.
pub const ENV_VAR_GLOB: &str = "^[A-Za-z_*?][A-Za-z0-9_*?]*$";

pub const CONFIG: Section = Section {
    doc: "stagegate's config: environments, promotion paths, releases, hooks and the journal pipeline (`stagegate check` validates it)",
    keys: &[
        required("version", Kind::Version(1), "The config format's version: 1"),
        key("release", Kind::Map(&RELEASE), "How releases are tagged and published"),
        required(
            "environments",
            Kind::Named { names: Some(ENV_NAME), value: &ENVIRONMENT },
            "The environments, by GitHub environment name (letters, digits, `-`, `_`, `.`)",
        ),
        key("promotions", Kind::List(&PROMOTION), "The promotion paths: which environment may be promoted to which"),
        key("steps", Kind::Map(&STEPS), "The hooks a promotion runs, and how long each may take"),
        key("journal", Kind::Map(&JOURNAL), "The journal pipeline: store, KV lanes, writers and import"),
        key("servicenow", Kind::Map(&SERVICENOW), "The ServiceNow instance that change approvals are checked against"),
    ],
};

pub const RELEASE: Section = Section {
    doc: "How releases are tagged and published",
    keys: &[
        key("scheme", Kind::OneOf(&["calver", "semver"]), "The version scheme (default calver)"),
        key(
            "format",
            Kind::Text,
            "The calver format: calver.org tokens YYYY YY 0Y MM 0M DD 0D plus BUILD, a per-day counter (default \"YY.0M.0D.BUILD\")",
        ),
        key("tag_prefix", Kind::Text, "Put before the version in tag names, e.g. \"v\" (default none)"),
        key("draft", Kind::Bool, "Create releases as drafts, published by `release publish` (default true)"),
        key("generate_notes", Kind::Bool, "Let GitHub generate the release notes (default true)"),
        key("name", Kind::Text, "The release's title (default the tag)"),
        key("body", Kind::Text, "The release's text, before any generated notes"),
    ],
};

pub const ENVIRONMENT: Section = Section {
    doc: "One environment; with no keys, an environment with the defaults",
    keys: &[
        key(
            "branches",
            Kind::Strings(None),
            "Branches that may deploy here: GitHub deployment-branch-policy globs (File.fnmatch: `*` never matches `/`, `**/` matches directories)",
        ),
        key("tags", Kind::Strings(None), "Tags that may deploy here, as globs like the branches"),
        key("auto_deploy", Kind::Bool, "Every push to a matching branch deploys here (default false)"),
        key("approvals", Kind::Map(&APPROVALS), "Who must approve a deployment here, and how many of them"),
        key(
            "freeze",
            Kind::Entries(&FREEZE_ENTRY),
            "Freeze windows: weekly \"FRI 16:00 - MON 08:00 Europe/London\", once \"2026-12-24 00:00 - 2026-12-27 00:00 UTC\", yearly \"12-24 00:00 - 12-27 00:00 Europe/London\" or daily \"MON-FRI 12:00 - 13:00 UTC\"; each a window or {window, reason, override}",
        ),
        key(
            "freeze_override",
            Kind::OneOf(&["allowed", "never"]),
            "Whether `--override-freeze --reason TEXT` may deploy in a freeze window (default never)",
        ),
        key(
            "deploy_windows",
            Kind::Strings(None),
            "When deploys may run, e.g. \"MON-THU 09:00 - 16:00 Europe/London\" (windows as in `freeze`); outside them the environment is closed",
        ),
        key(
            "soak",
            Kind::Duration,
            "How long a release must have been healthy in the source environment first (at most 365d)",
        ),
        key("health", Kind::List(&HEALTH_CHECK), "HTTP checks after a deploy; one failing rolls the deploy back"),
        key(
            "change",
            Kind::OneOf(&["required", "none"]),
            "`required`: deployments need an approved ServiceNow change (`--change CHG…`; default none)",
        ),
        key(
            "change_match",
            Kind::Fields(SERVICENOW_FIELD),
            "The ServiceNow fields a change must carry to count here (e.g. cmdb_ci.name: payments); replaces servicenow.match",
        ),
        key("url", Kind::Url, "Where the environment is reached, shown on GitHub's deployments"),
        key(
            "protection_rule",
            Kind::OneOf(&["app", "none"]),
            "`app`: the stagegate App (`stagegate serve`) decides GitHub's deployment protection rule (default none)",
        ),
        key(
            "ephemeral",
            Kind::Bool,
            "A template: each branch `branches` matches gets its own environment, named after the branch (default false)",
        ),
        key(
            "rollback",
            Kind::Map(&ROLLBACK),
            "What a rollback into it asks instead of what promoting asks: fewer approvals, no wait timer (default: the same)",
        ),
    ],
};

pub const ROLLBACK: Section = Section {
    doc: "What a rollback asks: the same reviewers, but fewer approvals or no wait timer (default: as promoting)",
    keys: &[
        key(
            "approvals",
            Kind::Uint { min: 0, max: 100 },
            "How many distinct reviewers must approve a rollback (0: none; at most `approvals.required`)",
        ),
        key("wait_timer", Kind::Bool, "`false`: a rollback does not wait out the wait timer (default true)"),
    ],
};

pub const FREEZE_ENTRY: Section = Section {
    doc: "A freeze window with why it is there and whether it may be overridden",
    keys: &[
        required("window", Kind::Text, "The window, as a `freeze` string"),
        key("reason", Kind::Text, "Why: said wherever the freeze is, e.g. \"year-end close\""),
        key(
            "override",
            Kind::OneOf(&["never", "allowed"]),
            "`never`: `--override-freeze` does not pass this window (default allowed, as `freeze_override` says)",
        ),
    ],
};

pub const APPROVALS: Section = Section {
    doc: "Who must approve a deployment, and how many of them",
    keys: &[
        key("required", Kind::Uint { min: 0, max: 100 }, "How many distinct people must approve (default 0)"),
        key(
            "reviewers",
            Kind::Strings(Some(REVIEWER)),
            "Who may approve: users as `@login`, teams as `@org/team-slug` (GitHub allows six)",
        ),
        key("prevent_self_review", Kind::Bool, "Whoever started the run cannot approve it (default true)"),
        key("wait_timer", Kind::Duration, "How long to wait after the approvals (at most 30d, GitHub's cap)"),
    ],
};

pub const HEALTH_CHECK: Section = Section {
    doc: "An HTTP check: the URL must answer `expect` within `timeout`",
    keys: &[
        required("http", Kind::Url, "The URL to GET, e.g. https://prod.example.com/healthz"),
        key("expect", Kind::Uint { min: 100, max: 599 }, "The HTTP status it must answer (default 200)"),
        key("timeout", Kind::Duration, "How long one request may take (more than 0s, at most 1d)"),
    ],
};

pub const PROMOTION: Section = Section {
    doc: "A promotion path: a release in `from` may be promoted to `to`",
    keys: &[
        required("from", Kind::Text, "The environment promoted from"),
        required("to", Kind::Text, "The environment promoted to"),
    ],
};

pub const STEPS: Section = Section {
    doc: "The hooks a promotion runs; they get their context as STAGEGATE_* environment variables",
    keys: &[
        key("backup", Kind::Command, "Run before the deploy, to make the rollback possible"),
        key("deploy", Kind::Command, "Deploys the release"),
        key("verify", Kind::Command, "Checks the deployed release, after the health checks"),
        key("rollback", Kind::Command, "Restores the previous release when a later step fails"),
        key("create", Kind::Command, "Run before the first deploy of an ephemeral environment's instance"),
        key("destroy", Kind::Command, "Run when an ephemeral environment's instance is destroyed"),
        key("timeouts", Kind::Map(&TIMEOUTS), "How long the steps may take"),
        key(
            "pass_env",
            Kind::Strings(Some(ENV_VAR_GLOB)),
            "Withheld credentials the hooks get anyway: names like CONSUL_HTTP_TOKEN or globs like AWS_*",
        ),
    ],
};

pub const TIMEOUTS: Section = Section {
    doc: "How long the steps may take (each more than 0s, at most 1d)",
    keys: &[
        key("startup", Kind::Duration, "How long the health checks may take to pass after the deploy (default 5m)"),
        key("health_check", Kind::Duration, "How long one health-check request may take"),
        key("hook", Kind::Duration, "How long one hook may run"),
    ],
};

pub const JOURNAL: Section = Section {
    doc: "The journal pipeline: where journals are stored, the KV lanes that say which version each lane runs",
    keys: &[
        key(
            "store",
            Kind::Text,
            "Where journals are stored: s3://BUCKET/PREFIX or file://DIR (default file://.stagegate/store)",
        ),
        key("s3", Kind::Map(&S3), "S3 settings for an s3:// store"),
        key(
            "kv",
            Kind::Text,
            "The lanes' key-value store: consul://HOST:PORT or file://DIR (default file://.stagegate/kv)",
        ),
        key("key_prefix", Kind::Text, "The lanes' keys: <key_prefix>/<lane>"),
        key("status_prefix", Kind::Text, "The lanes' import state: <status_prefix>/<lane>"),
        key("lanes", Kind::Strings(None), "The lanes, newest first, each once: lane i holds V(n-i) after seeding"),
        key(
            "writers",
            Kind::Named { names: None, value: &WRITER },
            "Which clusters may upload journals, by cluster name",
        ),
        key("import", Kind::Command, "The command `journal watch --exec` runs on a new journal"),
        key("retries", Kind::Uint { min: 0, max: 100 }, "How often a transient upload failure is retried"),
        key(
            "change_approval",
            Kind::OneOf(&["servicenow", "none"]),
            "`servicenow`: uploads need an approved ServiceNow change (`--change CHG…`; default none)",
        ),
        key(
            "pass_env",
            Kind::Strings(Some(ENV_VAR_GLOB)),
            "Withheld credentials the import gets anyway: names or globs",
        ),
    ],
};

pub const S3: Section = Section {
    doc: "S3 settings for an s3:// store (credentials: the AWS default chain)",
    keys: &[
        key("endpoint", Kind::Text, "An S3-compatible endpoint (default AWS_ENDPOINT_URL, else AWS)"),
        key("path_style", Kind::Bool, "Address buckets in the path, not the host name (default false)"),
        key("region", Kind::Text, "The bucket's region"),
    ],
};

pub const WRITER: Section = Section {
    doc: "A cluster that may upload journals",
    keys: &[key("mandators", Kind::Strings(None), "The mandators whose journals it may upload")],
};

pub const SERVICENOW: Section = Section {
    doc: "The ServiceNow instance that change approvals are checked against",
    keys: &[
        required("instance", Kind::Text, "The instance's URL, e.g. https://acme.service-now.com"),
        key(
            "match",
            Kind::Fields(SERVICENOW_FIELD),
            "The ServiceNow fields every change must carry to count (e.g. cmdb_ci.name: payments)",
        ),
    ],
};

/// Longest ServiceNow field name accepted (dot-walked names included).
pub const MAX_FIELD: usize = 80;

/// A ServiceNow field name, dot-walked or not (`cmdb_ci.name`, `assignment_group`).
pub const SERVICENOW_FIELD: &str = "^[A-Za-z0-9_.]{1,80}$";
