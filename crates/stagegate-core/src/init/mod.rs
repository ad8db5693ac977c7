//! `stagegate init`: the starter config and the workflow templates, shaped by
//! the config (environment names, approval environments, journal lanes).
//!
//! Rendering is pure (config → files), so `init --check` can compare what is on
//! disk with what the config implies, and the snapshot tests can hold the
//! templates in `workflows-templates/`.

mod ephemeral;
mod hold;
mod inputs;
mod journal;
mod workflows;

use crate::config::Config;

/// Third-party actions, pinned to full commit SHAs with the version alongside.
pub const CHECKOUT: &str = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2";
pub const AWS_CREDENTIALS: &str =
    "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502 # v4.0.2";

/// The stagegate action reference when `--action` is not given: a release
/// build embeds its own pinned reference (`STAGEGATE_ACTION_REF`, set by the
/// release job); other builds fall back to the version tag, which `init` warns
/// about because a tag is not an immutable pin.
pub fn default_action() -> String {
    match option_env!("STAGEGATE_ACTION_REF") {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => format!("stagegate/stagegate@v{}", env!("CARGO_PKG_VERSION")),
    }
}

/// The starter config `init` writes: the embedded starter, with a first line
/// that points editors (the YAML language server) at the config's JSON Schema
/// as of the pinned action, so they complete and check its keys.
pub fn starter(action: &str) -> String {
    let url = crate::config::json_schema::url_for_action(action);
    format!("# yaml-language-server: $schema={url}\n{}", crate::config::STARTER)
}

/// Whether `action` is pinned to a full commit SHA (`owner/repo@<40 hex>`).
pub fn is_pinned(action: &str) -> bool {
    let reference = action.split_whitespace().next().unwrap_or("");
    reference.rsplit_once('@').is_some_and(|(_, r)| r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// One file `init` writes, relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub text: String,
}

/// Every workflow the config implies, at `.github/workflows/<name>`.
pub fn render(cfg: &Config, config_path: &str, action: &str) -> Vec<File> {
    workflows::all(cfg, config_path, action)
        .into_iter()
        .map(|(name, text)| File { path: format!(".github/workflows/{name}"), text })
        .collect()
}
