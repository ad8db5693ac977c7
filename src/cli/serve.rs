//! `stagegate serve`: run the GitHub App that decides custom deployment
//! protection rules (see `crate::serve`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use super::Ctx;
use crate::error::{Error, Exit};
use crate::serve::{self, Options, ServeError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 0.0.0.0:$PORT when PORT is set, else 127.0.0.1:8080]
    #[arg(long, env = "STAGEGATE_LISTEN", value_name = "HOST:PORT")]
    listen: Option<String>,
    /// The GitHub App's id (its settings page shows it)
    #[arg(long, env = "STAGEGATE_APP_ID", value_name = "ID")]
    app_id: Option<u64>,
    /// The App's private key (PEM), as downloaded from its settings page
    #[arg(long, value_name = "FILE")]
    private_key_file: Option<PathBuf>,
    /// The App's webhook secret, in a file (else $STAGEGATE_WEBHOOK_SECRET)
    #[arg(long, value_name = "FILE")]
    webhook_secret_file: Option<PathBuf>,
    /// GitHub's API [default: $GITHUB_API_URL, else https://api.github.com]
    #[arg(long, env = "GITHUB_API_URL", value_name = "URL", default_value = "https://api.github.com")]
    api_url: String,
    /// Where each repository keeps its config (read from its default branch)
    #[arg(long, value_name = "PATH", default_value = crate::config::DEFAULT_PATH)]
    config_path: String,
    /// Where pending requests live: file://DIR, or consul://HOST:PORT for several replicas
    #[arg(long, env = "STAGEGATE_SERVE_KV", value_name = "URL", default_value = "file://.stagegate/serve", value_parser = super::values::kv_location)]
    kv: crate::config::KvLocation,
    /// Key prefix of the service's records in the KV
    #[arg(long, value_name = "PREFIX", default_value = "stagegate_serve")]
    kv_prefix: String,
    /// Decide pending requests again this often even without an event
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = super::values::at_least(Duration::from_secs(1), "each recheck reads every pending request and asks GitHub about it"))]
    recheck: Duration,
    /// The ServiceNow instance the App checks changes on, with SERVICENOW_TOKEN or SERVICENOW_USER/SERVICENOW_PASSWORD (https; a repository's config cannot choose another)
    #[arg(long, env = "STAGEGATE_SERVICENOW_INSTANCE", value_name = "URL")]
    servicenow_instance: Option<String>,
    /// First wait, in milliseconds, before retrying an answer GitHub failed to take (doubles each time)
    #[arg(long, hide = true, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    retry_base_ms: u64,
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).map(SecretString::from)
}

fn read_secret(what: &'static str, path: &std::path::Path) -> Result<SecretString, ServeError> {
    std::fs::read_to_string(path).map(|s| SecretString::from(s.trim().to_owned())).map_err(|source| ServeError::Read {
        what,
        path: path.display().to_string(),
        source,
    })
}

/// A webhook secret shorter than this is guessable enough to warn about.
const SHORT_SECRET: usize = 16;

/// The webhook secret from `--webhook-secret-file` or the environment: empty
/// (or whitespace) is refused either way, short is warned about.
fn webhook_secret(file: Option<&std::path::Path>) -> Result<SecretString, ServeError> {
    use secrecy::ExposeSecret;
    let secret = match file {
        Some(p) => {
            let s = read_secret("the webhook secret file", p)?;
            if s.expose_secret().is_empty() {
                return Err(ServeError::EmptySecret { what: format!("file `{}`", p.display()) });
            }
            s
        }
        None => env_secret("STAGEGATE_WEBHOOK_SECRET").ok_or(ServeError::Missing {
            what: "webhook secret",
            help: "pass --webhook-secret-file FILE or set STAGEGATE_WEBHOOK_SECRET (the App's webhook secret)",
        })?,
    };
    let chars = secret.expose_secret().chars().count();
    if chars < SHORT_SECRET {
        tracing::warn!(
            characters = chars,
            "the webhook secret is shorter than {SHORT_SECRET} characters: use a long random one (e.g. `openssl rand -hex 32`)"
        );
    }
    Ok(secret)
}

fn listen(arg: Option<&str>) -> Result<SocketAddr, ServeError> {
    let value = match (arg, std::env::var("PORT").ok().filter(|p| !p.is_empty())) {
        (Some(a), _) => a.to_owned(),
        (None, Some(port)) => format!("0.0.0.0:{port}"),
        (None, None) => "127.0.0.1:8080".to_owned(),
    };
    value.parse().map_err(|_| ServeError::Address { value })
}

impl Args {
    fn options(self, ctx: &Ctx) -> Result<Options, ServeError> {
        let app_id = self.app_id.ok_or(ServeError::Missing {
            what: "App id",
            help: "pass --app-id or set STAGEGATE_APP_ID (the App's settings page shows it)",
        })?;
        let private_key = match &self.private_key_file {
            Some(p) => read_secret("the private key file", p)?,
            None => env_secret("STAGEGATE_APP_PRIVATE_KEY").ok_or(ServeError::Missing {
                what: "App private key",
                help: "pass --private-key-file FILE.pem or set STAGEGATE_APP_PRIVATE_KEY to the PEM text",
            })?,
        };
        let webhook_secret = webhook_secret(self.webhook_secret_file.as_deref())?;
        let servicenow = match self.servicenow_instance.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(url) => Some(crate::gates::servicenow_instance::Instance::parse(url)?),
            None => None,
        };
        Ok(Options {
            listen: listen(self.listen.as_deref())?,
            webhook_secret,
            app_id,
            private_key,
            api_url: self.api_url.trim_end_matches('/').to_owned(),
            config_path: self.config_path,
            kv: self.kv,
            kv_prefix: self.kv_prefix,
            recheck: self.recheck,
            retry_base: Duration::from_millis(self.retry_base_ms),
            fixed_now: ctx.clock.fixed(),
            servicenow,
        })
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let opts = args.options(ctx)?;
    serve::server::run(opts).await?;
    Ok(Exit::Success)
}
