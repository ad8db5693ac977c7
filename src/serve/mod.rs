//! `stagegate serve`: stagegate as a GitHub App's custom deployment protection
//! rule. GitHub asks the App (`deployment_protection_rule` webhook) before a
//! job may enter a protected environment and get its secrets; the App answers
//! on the run's callback with `approved` or `rejected`, from the config on the
//! repository's default branch and the same policy and gates the CLI uses.
//!
//! - [`webhook`]: signatures and the events the App acts on;
//! - [`auth`]: the App's JWT and installation clients (octocrab);
//! - [`decide`]: the verdict — ref, promotion path, freeze, soak, change, approvals;
//! - [`store`]: pending requests and seen deliveries, in the KV (file or Consul);
//! - [`server`]: the HTTP service, the re-check timer and the callbacks;
//! - [`conn`]: connections — timeouts, a cap, the descriptor limit;
//! - [`isolate`]: one request's failure never stops the others.

pub mod auth;
pub mod conn;
pub mod decide;
pub mod isolate;
pub mod server;
pub mod store;
pub mod webhook;

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use miette::Diagnostic;
use secrecy::SecretString;
use thiserror::Error;

use crate::exit::Exit;

#[derive(Debug, Error, Diagnostic)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    #[diagnostic(
        code(stagegate::serve::listen),
        help("pick a free address with --listen HOST:PORT (or set PORT); ports below 1024 need privileges")
    )]
    Listen { addr: String, source: std::io::Error },

    #[error("`{value}` is not an address to listen on")]
    #[diagnostic(code(stagegate::serve::address), help("write HOST:PORT, e.g. 0.0.0.0:8080, or set PORT=8080"))]
    Address { value: String },

    #[error("no {what}")]
    #[diagnostic(code(stagegate::serve::missing), help("{help}"))]
    Missing { what: &'static str, help: &'static str },

    #[error("cannot read {what} `{path}`: {source}")]
    #[diagnostic(code(stagegate::serve::read), help("check the path and that this user may read it"))]
    Read { what: &'static str, path: String, source: std::io::Error },

    #[error("the webhook secret {what} is empty")]
    #[diagnostic(
        code(stagegate::serve::empty_secret),
        help(
            "put the App's webhook secret (its settings page sets it) in the file: with an empty secret anyone can sign deliveries"
        )
    )]
    EmptySecret { what: String },

    #[error("--servicenow-instance: {0}")]
    #[diagnostic(
        code(stagegate::serve::servicenow_instance),
        help("give the https URL of your ServiceNow instance, e.g. https://acme.service-now.com")
    )]
    ServiceNowInstance(#[from] crate::gates::servicenow_instance::InstanceError),

    #[error("the App's private key is not a PEM RSA key: {detail}")]
    #[diagnostic(
        code(stagegate::serve::private_key),
        help("download a private key from the App's settings page (a .pem file) and pass it with --private-key-file")
    )]
    PrivateKey { detail: String },

    #[error("cannot set up the GitHub App client: {detail}")]
    #[diagnostic(code(stagegate::serve::client), help("check --api-url (GITHUB_API_URL), e.g. https://api.github.com"))]
    Client { detail: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Kv(#[from] crate::journal::kv::KvError),
}

impl ServeError {
    pub fn exit(&self) -> Exit {
        match self {
            ServeError::Listen { .. } | ServeError::Kv(_) => Exit::Failed,
            _ => Exit::Invalid,
        }
    }
}

/// Everything the service needs, resolved from flags and environment.
pub struct Options {
    pub listen: SocketAddr,
    pub webhook_secret: SecretString,
    pub app_id: u64,
    pub private_key: SecretString,
    /// `https://api.github.com`, or a GHES `https://HOST/api/v3`.
    pub api_url: String,
    /// The config's path in each repository.
    pub config_path: String,
    /// `file://DIR` or `consul://HOST:PORT`.
    pub kv: crate::config::KvLocation,
    /// Key prefix of the service's records in the KV.
    pub kv_prefix: String,
    /// How often pending requests are decided again without an event.
    pub recheck: Duration,
    /// First wait between callback attempts (doubles each time).
    pub retry_base: Duration,
    /// A fixed clock (`--now`), for tests and demos.
    pub fixed_now: Option<DateTime<Utc>>,
    /// The operator's ServiceNow: the only one the App sends its credentials to.
    pub servicenow: Option<crate::gates::servicenow_instance::Instance>,
}

/// The time the service decides at.
pub use crate::clock::Clock;
