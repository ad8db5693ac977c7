//! `stagegate app manifest`: the GitHub App manifest for GitHub's "register a
//! GitHub App from a manifest" flow, with the least privilege `stagegate
//! serve` needs.

use serde_json::{Value, json};

use super::Ctx;
use crate::error::{Error, Exit};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the App manifest (JSON) for GitHub's "register an App from a manifest" flow
    Manifest(ManifestArgs),
}

#[derive(Debug, clap::Args)]
pub struct ManifestArgs {
    /// Where `stagegate serve` receives webhooks (https://…/webhook)
    #[arg(long, value_name = "URL")]
    webhook_url: String,
    /// The App's name on GitHub (unique there)
    #[arg(long, default_value = "stagegate")]
    name: String,
    /// The App's homepage
    #[arg(long, value_name = "URL", default_value = "https://github.com")]
    url: String,
    /// Where GitHub sends the browser back with the code to exchange for the App's credentials
    #[arg(long, value_name = "URL")]
    redirect_url: Option<String>,
    /// Let the App read organization members: needed when reviewers are teams (`@org/team`)
    #[arg(long)]
    team_reviewers: bool,
    /// Let accounts other than the owner install it
    #[arg(long)]
    public: bool,
}

/// The manifest. Permissions: read the config and the run's reviews, answer
/// deployment protection rules, read deployments (the promotion path, soak);
/// events: the rule requests and the reviews that can change a verdict.
pub fn manifest(a: &ManifestArgs) -> Value {
    let mut permissions = json!({
        "actions": "read",
        "contents": "read",
        "deployments": "write",
        "metadata": "read",
    });
    if a.team_reviewers {
        permissions["members"] = json!("read");
    }
    let mut m = json!({
        "name": a.name,
        "url": a.url,
        "description": "stagegate: promotion paths, N distinct approvers, freeze windows, soak and change approval as a deployment protection rule",
        "hook_attributes": {"url": a.webhook_url, "active": true},
        "public": a.public,
        "default_permissions": permissions,
        "default_events": ["deployment_protection_rule", "deployment_review"],
    });
    if let Some(r) = &a.redirect_url {
        m["redirect_url"] = json!(r);
    }
    m
}

fn check_url(what: &str, u: &str) -> Result<(), Error> {
    let ok = (u.starts_with("https://") || u.starts_with("http://")) && u.len() > 8 && !u.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("{what} `{}` is not an http(s) URL", u.escape_debug()),
            "e.g. https://stagegate.example.com/webhook",
        ))
    }
}

pub fn run(_ctx: &Ctx, cmd: Command) -> Result<Exit, Error> {
    match cmd {
        Command::Manifest(a) => {
            check_url("--webhook-url", &a.webhook_url)?;
            check_url("--url", &a.url)?;
            if let Some(r) = &a.redirect_url {
                check_url("--redirect-url", r)?;
            }
            let doc = serde_json::to_string_pretty(&manifest(&a)).expect("serializes");
            crate::console::json(crate::console::Stream::Out, &doc);
            Ok(Exit::Success)
        }
    }
}
