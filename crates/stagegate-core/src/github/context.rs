//! The GitHub Actions context stagegate reads from the environment.

use secrecy::{ExposeSecret, SecretString};

use crate::forge::ForgeError;

/// What a run knows about itself, read from `GITHUB_*` variables.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub owner: String,
    pub repo: String,
    pub api_url: String,
    pub sha: Option<String>,
    pub git_ref: Option<String>,
    pub run_id: Option<String>,
    pub actor: Option<String>,
    pub triggering_actor: Option<String>,
    pub event_path: Option<String>,
    /// The stagegate App (`STAGEGATE_APP_ID`) whose deployment protection rule
    /// `environments sync` enables where the config says `protection_rule: app`.
    pub app_id: Option<u64>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Context {
    /// `repository` overrides `GITHUB_REPOSITORY` (`--repo`).
    pub fn from_env(repository: Option<&str>) -> Result<Context, ForgeError> {
        let full = repository.map(str::to_owned).or_else(|| var("GITHUB_REPOSITORY")).ok_or_else(|| {
            ForgeError::Setup(
                "no repository: GITHUB_REPOSITORY is not set".into(),
                "pass --repo OWNER/REPO, or run inside GitHub Actions".into(),
            )
        })?;
        let (owner, repo) = full
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| ForgeError::Setup(format!("`{full}` is not OWNER/REPO"), "e.g. --repo acme/app".into()))?;
        let api_url = var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into());
        let app_id = match var("STAGEGATE_APP_ID") {
            None => None,
            Some(v) => Some(v.trim().parse::<u64>().ok().filter(|&id| id > 0).ok_or_else(|| {
                ForgeError::Setup(
                    format!("STAGEGATE_APP_ID `{}` is not an App id", v.escape_debug()),
                    "set it to the number the App's settings page shows (App ID), e.g. 123456".into(),
                )
            })?),
        };
        Ok(Context {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            api_url: api_url.trim_end_matches('/').to_owned(),
            sha: var("GITHUB_SHA"),
            git_ref: var("GITHUB_REF"),
            run_id: var("GITHUB_RUN_ID"),
            actor: var("GITHUB_ACTOR"),
            triggering_actor: var("GITHUB_TRIGGERING_ACTOR"),
            event_path: var("GITHUB_EVENT_PATH"),
            app_id,
        })
    }
}

/// Tells the Actions runner to mask the token in every later log line. This
/// workflow command is the one place the value is written, and the runner
/// consumes it instead of printing it.
pub fn mask(token: &SecretString) {
    if crate::actions::active() && !token.expose_secret().is_empty() {
        crate::actions::command("add-mask", &[], token.expose_secret());
    }
}
