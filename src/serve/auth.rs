//! The App's identity: a JWT (RS256, signed with the App's private key) for
//! the App endpoints, and one octocrab client per installation, whose token
//! octocrab mints from the JWT and keeps until shortly before it expires.

use std::collections::HashMap;
use std::time::Duration;

use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use octocrab::service::middleware::retry::RetryConfig;
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use super::{Options, ServeError};
use crate::forge::ForgeError;
use crate::github::{Context, GitHubForge};

pub struct App {
    api_url: String,
    app: Octocrab,
    installations: Mutex<HashMap<u64, Octocrab>>,
}

impl App {
    pub fn new(opts: &Options) -> Result<App, ServeError> {
        crate::tls::install();
        let key = octocrab::EncodingKey::from_rsa_pem(opts.private_key.expose_secret().as_bytes())
            .map_err(|e| ServeError::PrivateKey { detail: e.to_string() })?;
        let client = |detail: String| ServeError::Client { detail };
        let app = Octocrab::builder()
            .base_uri(opts.api_url.as_str())
            .map_err(|e| client(e.to_string()))?
            .app(AppId(opts.app_id), key)
            // Retries are the service's own: a failed read leaves the request
            // pending for the next check, a failed answer is retried with backoff.
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| client(e.to_string()))?;
        Ok(App {
            api_url: opts.api_url.trim_end_matches('/').to_owned(),
            app,
            installations: Mutex::new(HashMap::new()),
        })
    }

    /// The GitHub forge of `owner/repo`, as installation `installation`.
    pub async fn forge(&self, installation: u64, owner: &str, repo: &str) -> Result<GitHubForge, ForgeError> {
        let octo = self.installation(installation).await?;
        let ctx = Context {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            api_url: self.api_url.clone(),
            ..Context::default()
        };
        Ok(GitHubForge::from_client(octo, ctx))
    }

    /// A client with a valid installation token: the cached one while it has
    /// more than 30 s left, else a new one (kept for the next caller).
    async fn installation(&self, id: u64) -> Result<Octocrab, ForgeError> {
        let mut all = self.installations.lock().await;
        if let std::collections::hash_map::Entry::Vacant(slot) = all.entry(id) {
            slot.insert(self.app.installation(InstallationId(id)).map_err(|e| token_error(id, e))?);
        }
        // Clones copy the cache: refresh the one kept here, then hand out a copy.
        let kept = all.get(&id).expect("inserted above");
        kept.installation_token().await.map_err(|e| token_error(id, e))?;
        Ok(kept.clone())
    }
}

fn token_error(id: u64, e: octocrab::Error) -> ForgeError {
    crate::github::api::error(&format!("get a token for installation {id}"), "the App installed on the repository", e)
}
