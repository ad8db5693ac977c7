//! The environment of the commands stagegate starts (hooks, the journal import
//! command): the environment a workflow step would see — stagegate's own —
//! minus the credentials stagegate itself was handed, unless the config passes
//! them on purpose with `pass_env`.
//!
//! A credential is withheld by name and by value: a variable under another
//! name holding the same secret (`GH_TOKEN=$GITHUB_TOKEN`, or the value given
//! to `--github-token`) is withheld too.

use std::ffi::OsString;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

/// Who the environment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Child {
    /// `steps:` hooks: they deploy, so cloud credentials of the job stay.
    Hook,
    /// The journal import command: it never gets the journal store's AWS credentials.
    Import,
}

/// The GitHub token (`--github-token` reads it from here too).
const GITHUB: &[&str] = &["GITHUB_TOKEN"];
/// The Consul ACL token of the journal KV.
const CONSUL: &[&str] = &["CONSUL_HTTP_TOKEN"];
/// ServiceNow change-approval credentials.
const SERVICENOW: &[&str] = &["SERVICENOW_TOKEN", "SERVICENOW_USER", "SERVICENOW_PASSWORD"];
/// Everything the AWS default credential chain reads to find credentials for
/// the journal store: keys, session tokens, profiles and the files naming
/// them, web identity (OIDC) and container credentials. Region and endpoint
/// settings are not credentials and stay.
const AWS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_LOGIN_CACHE_DIRECTORY",
];
/// Of the names above, those whose value is a secret: another variable with
/// the same value is withheld too.
const SECRET_VALUES: &[&str] = &[
    "GITHUB_TOKEN",
    "CONSUL_HTTP_TOKEN",
    "SERVICENOW_TOKEN",
    "SERVICENOW_PASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];
/// Values shorter than this are not matched by value (`1`, `true`…).
const MIN_SECRET_LEN: usize = 8;

/// Secrets handed over other than in the environment (`--github-token`).
static HANDED: Mutex<Vec<SecretString>> = Mutex::new(Vec::new());

/// Records a secret stagegate was given on its command line, so children never see it.
pub fn handed(secret: &SecretString) {
    if let Ok(mut h) = HANDED.lock() {
        h.push(secret.clone());
    }
}

/// The variable names withheld from `child` (before `pass_env`).
pub fn withheld(child: Child) -> impl Iterator<Item = &'static str> {
    let aws: &[&str] = if child == Child::Import { AWS } else { &[] };
    [GITHUB, CONSUL, SERVICENOW, aws].into_iter().flatten().copied()
}

/// `pass_env` entries: names or globs (`*`, `?`) of variables to pass anyway.
/// The config accepts only letters, digits, `_`, `*` and `?` there, so every
/// entry is a valid pattern; they match as GitHub's globs do.
pub struct Pass<'a>(&'a [String]);

impl<'a> Pass<'a> {
    pub fn new(patterns: &'a [String]) -> Pass<'a> {
        Pass(patterns)
    }

    fn allows(&self, name: &str) -> bool {
        self.0.iter().any(|p| crate::policy::fnmatch::fnmatch(p, name))
    }
}

/// The variables of this process to remove from `child`'s environment.
pub fn removed(child: Child, pass_env: &[String]) -> Vec<OsString> {
    removed_from(std::env::vars_os(), child, pass_env)
}

fn removed_from(vars: impl Iterator<Item = (OsString, OsString)>, child: Child, pass_env: &[String]) -> Vec<OsString> {
    let pass = Pass::new(pass_env);
    let vars: Vec<(OsString, OsString)> = vars.collect();
    let names: Vec<&str> = withheld(child).collect();
    let mut secrets: Vec<OsString> = vars
        .iter()
        .filter(|(k, _)| k.to_str().is_some_and(|k| names.contains(&k) && SECRET_VALUES.contains(&k)))
        .map(|(_, v)| v.clone())
        .collect();
    if let Ok(h) = HANDED.lock() {
        secrets.extend(h.iter().map(|s| OsString::from(s.expose_secret())));
    }
    secrets.retain(|s| s.len() >= MIN_SECRET_LEN);
    vars.into_iter()
        .filter(|(k, v)| {
            let name = k.to_string_lossy();
            !pass.allows(&name) && (names.contains(&name.as_ref()) || secrets.contains(v))
        })
        .map(|(k, _)| k)
        .collect()
}

/// Removes what `child` must not see from `cmd`'s environment.
pub fn scrub(cmd: &mut tokio::process::Command, child: Child, pass_env: &[String]) {
    for k in removed(child, pass_env) {
        cmd.env_remove(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Iterator<Item = (OsString, OsString)> {
        pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn credentials_are_withheld_by_name_and_by_value_unless_passed() {
        let env = [
            ("GITHUB_TOKEN", "ghs_sentinel_1234"),
            ("GH_TOKEN", "ghs_sentinel_1234"),
            ("AWS_SECRET_ACCESS_KEY", "aws-secret-5678"),
            ("AWS_REGION", "eu-west-1"),
            ("PATH", "/bin"),
        ];
        let hook = removed_from(vars(&env), Child::Hook, &[]);
        assert_eq!(hook, ["GITHUB_TOKEN", "GH_TOKEN"]);
        let import = removed_from(vars(&env), Child::Import, &[]);
        assert_eq!(import, ["GITHUB_TOKEN", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY"]);
        let passed = removed_from(vars(&env), Child::Import, &["AWS_*".into(), "GH_TOKEN".into()]);
        assert_eq!(passed, ["GITHUB_TOKEN"]);
    }
}
