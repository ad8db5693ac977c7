//! `.github/stagegate.yml`: types, loading and validation.
//!
//! Loading is two passes. `schema` turns the YAML into these types, reporting
//! unknown keys and wrong types, and parses every value that has a syntax of
//! its own (ref patterns, freeze windows, the calver format, durations,
//! reviewers) into its type, kept with its span: code that uses the config
//! takes the parsed value and cannot fail on it. `validate` then checks what
//! only makes sense with the whole file in view (edges, cycles, approvals).
//! Both collect diagnostics instead of stopping, so a user sees every problem
//! in one run. The value parsers are leaves that import nothing else from the
//! crate: `duration`, `reviewer`, `policy::fnmatch`/`refs`,
//! `gates::freeze::window`, `version::calver`.

pub mod diag;
pub mod duration;
mod feasible;
pub mod graph;
pub mod json_schema;
pub mod keys;
pub mod names;
pub mod node;
pub mod overlap;
pub mod resolved;
pub mod reviewer;
pub mod rollback;
mod schema;
pub mod spanned;
mod template;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use diag::{Diagnostic, Severity};
pub use node::Pos;
pub use resolved::{ResolveError, Resolved};
pub use reviewer::Reviewer;
pub use rollback::{Purpose, RollbackPolicy};
pub use spanned::{Spanned, Text};

pub use crate::values::calendar::Freeze;
pub use crate::values::calver::Format as CalverFormat;
pub use crate::values::freeze::Window as FreezeWindow;
pub use crate::values::location::{KvLocation, StoreLocation};
pub use crate::values::refs::RefPattern;

/// The config used when the repository has none: the six-environment model (DEV-INT → … → PROD)
/// with offline (`file://`) journal store and KV. `stagegate init` writes it out.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../embedded/seed-environments.yml");
pub const DEFAULT_PATH: &str = ".github/stagegate.yml";

/// What `stagegate init` writes as `.github/stagegate.yml`: the same model as
/// the embedded default, with the demo's hooks and health checks replaced by
/// commented examples for the user's own.
pub const STARTER: &str = include_str!("../../embedded/starter.yml");

#[derive(Debug, Clone)]
pub struct Config {
    pub version: u32,
    pub release: Release,
    pub environments: Vec<Environment>,
    pub promotions: Vec<Edge>,
    pub steps: Steps,
    pub journal: Journal,
    pub servicenow: Option<ServiceNow>,
}

impl Config {
    pub fn env(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The message for an environment name the config does not define, with
    /// the closest name that it does ("did you mean `staging`?").
    pub fn unknown_env(&self, name: &str) -> String {
        names::unknown_env(name, self.environments.iter().map(|e| e.name.as_str()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Calver,
    Semver,
}

#[derive(Debug, Clone)]
pub struct Release {
    pub scheme: Scheme,
    /// The calver format (the default when `scheme: semver`).
    pub format: Spanned<CalverFormat>,
    pub tag_prefix: String,
    pub draft: bool,
    pub generate_notes: bool,
    pub name: Option<String>,
    pub body: Option<String>,
    /// Where `tag_prefix` and `name` were written, for diagnostics.
    pub tag_prefix_pos: Pos,
    pub name_pos: Pos,
}

impl Default for Release {
    fn default() -> Self {
        Release {
            scheme: Scheme::Calver,
            format: Spanned::unplaced(CalverFormat::default()),
            tag_prefix: String::new(),
            draft: true,
            generate_notes: true,
            name: None,
            body: None,
            tag_prefix_pos: Pos::default(),
            name_pos: Pos::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    /// Position of the environment's key under `environments:`.
    pub pos: Pos,
    /// Deployment-branch-policy globs for branches.
    pub branches: Vec<Spanned<RefPattern>>,
    /// Deployment-branch-policy globs for tags (GitHub's `type: tag` policies).
    pub tags: Vec<Spanned<RefPattern>>,
    pub auto_deploy: bool,
    pub approvals: Approvals,
    /// Freeze windows, each with its reason and override rule.
    pub freeze: Vec<Spanned<Freeze>>,
    /// `deploy_windows`: outside them the environment is closed (empty: no
    /// such limit).
    pub deploy_windows: Vec<Spanned<FreezeWindow>>,
    /// `freeze_override: allowed`: `--override-freeze --reason` may promote or
    /// deploy inside a freeze window (recorded in the audit trail).
    pub freeze_override: bool,
    /// Minimum time a release must have been healthy in the source environment
    /// before it may be promoted here.
    pub soak: Option<Duration>,
    pub health: Vec<HealthCheck>,
    /// A ServiceNow change must be approved before promoting here.
    pub change_required: bool,
    /// `change_match:`: the fields a change must carry to count here (see
    /// [`Config::change_match`]).
    pub change_match: Vec<(String, String)>,
    pub url: Option<String>,
    /// `protection_rule: app`: `environments sync` enables the stagegate App's
    /// custom deployment protection rule here (`stagegate serve` decides).
    pub protection_rule: bool,
    /// `rollback:`: what a rollback into it asks (default: as promoting).
    pub rollback: RollbackPolicy,
    /// `ephemeral: true`: a template; each branch its `branches` match gets
    /// an instance of its own, named after the branch.
    pub ephemeral: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Approvals {
    pub required: u32,
    pub reviewers: Vec<Reviewer>,
    pub prevent_self_review: bool,
    pub wait_timer: Option<Duration>,
    /// Position of `approvals:` (or of the environment when absent).
    pub pos: Pos,
    pub required_pos: Pos,
}

#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub http: String,
    pub expect: u16,
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub from: Text,
    pub to: Text,
    /// Position of the edge item in `promotions:`.
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct Steps {
    pub backup: Option<String>,
    pub deploy: Option<String>,
    pub verify: Option<String>,
    pub rollback: Option<String>,
    /// Runs before the first deploy of an ephemeral instance (nothing live there yet).
    pub create: Option<String>,
    /// Runs when an ephemeral instance is destroyed.
    pub destroy: Option<String>,
    /// How long a deployment may take to become healthy (default 5 minutes).
    pub startup_timeout: Duration,
    /// Per health-check request timeout (default 30 seconds).
    pub health_check_timeout: Duration,
    /// Longest a hook may run before it is killed.
    pub hook_timeout: Duration,
    /// Withheld credentials hooks get anyway: names or globs (`pass_env`).
    pub pass_env: Vec<String>,
}

impl Default for Steps {
    fn default() -> Self {
        Steps {
            backup: None,
            deploy: None,
            verify: None,
            rollback: None,
            create: None,
            destroy: None,
            startup_timeout: Duration::from_secs(300),
            health_check_timeout: Duration::from_secs(30),
            hook_timeout: Duration::from_secs(1800),
            pass_env: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Journal {
    /// Whether the config has a `journal:` section: without one, the
    /// defaults below still serve the journal commands, but `init` writes no
    /// journal workflows.
    pub declared: bool,
    pub store: StoreLocation,
    pub s3: Option<S3>,
    pub kv: KvLocation,
    pub key_prefix: String,
    pub status_prefix: String,
    pub lanes: Vec<String>,
    pub writers: Vec<Writer>,
    pub import: Option<String>,
    pub retries: u32,
    /// `change_approval`: what must approve an upload (`none`: nothing).
    pub change_approval: Option<ChangeApproval>,
    /// Where `change_approval` is written (for diagnostics).
    pub change_approval_pos: Pos,
    /// Withheld credentials the import command gets anyway: names or globs (`pass_env`).
    pub pass_env: Vec<String>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            declared: false,
            store: StoreLocation::File(".stagegate/store".into()),
            s3: None,
            kv: KvLocation::File(".stagegate/kv".into()),
            key_prefix: "journal_version".into(),
            status_prefix: "journal_status".into(),
            lanes: vec!["dev".into(), "qa".into(), "dit".into()],
            writers: Vec::new(),
            import: None,
            retries: 5,
            change_approval: None,
            change_approval_pos: Pos::default(),
            pass_env: Vec::new(),
        }
    }
}

/// What must approve a journal upload besides the writer's own authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeApproval {
    /// An approved ServiceNow change, in its window (`--change`).
    ServiceNow,
}

#[derive(Debug, Clone, Default)]
pub struct S3 {
    pub endpoint: Option<String>,
    pub path_style: bool,
    pub region: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Writer {
    pub cluster: String,
    pub mandators: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ServiceNow {
    pub instance: String,
    /// `match:`: fields every change must carry (`cmdb_ci.name: payments`),
    /// unless an environment names its own (`change_match:`).
    pub matching: Vec<(String, String)>,
}

impl Config {
    /// The fields a change must carry to count for `env`: its own
    /// `change_match:`, else `servicenow.match`; empty when neither is set.
    pub fn change_match<'c>(&'c self, env: &'c Environment) -> &'c [(String, String)] {
        if !env.change_match.is_empty() {
            return &env.change_match;
        }
        self.servicenow.as_ref().map_or(&[], |s| s.matching.as_slice())
    }
}

/// A config file as read from disk, kept with its text for rendering diagnostics.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// The outcome of loading: the config (when it has no errors) and every
/// diagnostic found.
#[derive(Debug)]
pub struct Loaded {
    pub source: Source,
    pub config: Option<Config>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Which file to read, and whether the user asked for it.
#[derive(Debug, Clone)]
pub enum Location {
    /// `-c FILE` or `STAGEGATE_CONFIG`: it must exist.
    Explicit(PathBuf),
    /// The default path; when absent the embedded default config is used.
    Default,
}

/// Reads and validates a config. `Err` only when the file cannot be read at all.
/// Largest config stagegate reads: a 1,000-environment config is ~300 KiB.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Reads at most `MAX_CONFIG_BYTES + 1` bytes, so a huge file is refused
/// without being loaded into memory. The file is opened non-blocking and must
/// be a regular file: a FIFO, socket or device in its place is refused at
/// once instead of being waited on or read forever.
fn read_capped(p: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(p)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_block_device() || kind.is_char_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("it is {what}, not a regular file")));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// YAML ends a line at LF, CRLF or a lone CR. A lone CR becomes LF, byte for
/// byte, so spans stay valid and every renderer counts the same lines.
fn normalize_breaks(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !bytes.contains(&b'\r') {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = bytes.to_vec();
    for i in 0..out.len() {
        if out[i] == b'\r' && out.get(i + 1) != Some(&b'\n') {
            out[i] = b'\n';
        }
    }
    std::borrow::Cow::Owned(out)
}

pub fn load(location: &Location) -> std::io::Result<Loaded> {
    let (name, bytes) = match location {
        Location::Explicit(p) => (p.display().to_string(), read_capped(p)?),
        Location::Default => match read_capped(Path::new(DEFAULT_PATH)) {
            Ok(b) => (DEFAULT_PATH.to_string(), b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                ("<embedded default config>".to_string(), EMBEDDED_DEFAULT.as_bytes().to_vec())
            }
            Err(e) => return Err(e),
        },
    };
    Ok(parse_bytes(&name, &bytes))
}

/// True when `load(Location::Default)` would fall back to the embedded config.
pub fn default_is_embedded() -> bool {
    !Path::new(DEFAULT_PATH).exists()
}

/// Parses and validates config text; never panics, whatever the bytes.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Loaded {
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        let pos = Pos { offset: 0, len: 0, line: 1, column: 1 };
        let diag = Diagnostic::error(pos, format!("the config is larger than {} MiB", MAX_CONFIG_BYTES >> 20))
            .help("a config describes environments and paths; split out or remove what does not belong in it");
        return Loaded {
            source: Source { name: name.into(), text: String::new() },
            config: None,
            diagnostics: vec![diag],
        };
    }
    let bytes = normalize_breaks(bytes);
    let bytes = bytes.as_ref();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_owned(),
        Err(e) => {
            // Everything before the bad byte is valid UTF-8: count its lines
            // and the characters of the last one.
            let at = e.valid_up_to();
            let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
            let column = valid[line_start..].chars().count() + 1;
            let pos = Pos { offset: at, len: '\u{FFFD}'.len_utf8(), line, column };
            let diag = Diagnostic::error(
                pos,
                format!("the file is not valid UTF-8: byte 0x{:02X} at line {line}, column {column}", bytes[at]),
            )
            .help("save the config as UTF-8");
            return Loaded {
                source: Source { name: name.into(), text: String::from_utf8_lossy(bytes).into_owned() },
                config: None,
                diagnostics: vec![diag],
            };
        }
    };
    let source = Source { name: name.into(), text };
    let mut diagnostics = Vec::new();
    let config = schema::read(&source.text, &mut diagnostics);
    if let Some(cfg) = &config {
        validate::check(cfg, &mut diagnostics);
    }
    diagnostics.sort_by_key(|d| (d.line, d.column));
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    Loaded { source, config: config.filter(|_| ok), diagnostics }
}
