//! A ServiceNow instance stagegate may send its credentials to: an https URL,
//! or plain http on a loopback address only (a test server on this machine).
//! The credentials go nowhere else: not over plain http across a network, and
//! — for `stagegate serve` — not to an instance a repository's config names
//! instead of the operator's.

use std::fmt;
use std::net::IpAddr;

use reqwest::Url;

/// A parsed, checked instance URL (no trailing `/`).
#[derive(Debug, Clone)]
pub struct Instance {
    url: Url,
    text: String,
}

/// Why a URL is not an instance stagegate talks to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    #[error("`{0}` is not a URL")]
    NotAUrl(String),
    #[error("`{0}` is plain http: the ServiceNow credentials would cross the network unencrypted")]
    PlainHttp(String),
    #[error("`{0}` is neither https nor http")]
    Scheme(String),
    #[error("`{0}` carries a user name or password: credentials come from the environment only")]
    UserInfo(String),
}

impl Instance {
    pub fn parse(text: &str) -> Result<Instance, InstanceError> {
        let trimmed = text.trim().trim_end_matches('/');
        let shown = || trimmed.escape_debug().to_string();
        let url = Url::parse(trimmed).map_err(|_| InstanceError::NotAUrl(shown()))?;
        if url.host().is_none() {
            return Err(InstanceError::NotAUrl(shown()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InstanceError::UserInfo(shown()));
        }
        match url.scheme() {
            "https" => {}
            "http" if loopback(&url) => {}
            "http" => return Err(InstanceError::PlainHttp(shown())),
            _ => return Err(InstanceError::Scheme(shown())),
        }
        let text = url.as_str().trim_end_matches('/').to_owned();
        Ok(Instance { url, text })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `other` names this instance (scheme, host, port and path; case
    /// and a trailing `/` aside).
    pub fn same(&self, other: &Instance) -> bool {
        self.url.origin() == other.url.origin()
            && self.url.path().trim_end_matches('/') == other.url.path().trim_end_matches('/')
    }
}

fn loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

impl fmt::Display for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_or_loopback_http_only() {
        assert!(Instance::parse("https://acme.service-now.com/").is_ok());
        assert!(Instance::parse("http://127.0.0.1:8080").is_ok());
        assert!(Instance::parse("http://[::1]:8080").is_ok());
        assert!(Instance::parse("http://localhost:9").is_ok());
        assert!(matches!(Instance::parse("http://attacker.example"), Err(InstanceError::PlainHttp(_))));
        assert!(matches!(Instance::parse("http://127.0.0.1.attacker.example"), Err(InstanceError::PlainHttp(_))));
        assert!(matches!(Instance::parse("ftp://x"), Err(InstanceError::Scheme(_))));
        assert!(matches!(Instance::parse("https://u:p@x"), Err(InstanceError::UserInfo(_))));
        assert!(matches!(Instance::parse("acme"), Err(InstanceError::NotAUrl(_))));
    }

    #[test]
    fn the_same_instance_in_other_spellings() {
        let a = Instance::parse("https://Acme.Service-Now.com").unwrap();
        assert!(a.same(&Instance::parse("https://acme.service-now.com:443/").unwrap()));
        assert!(!a.same(&Instance::parse("https://acme.service-now.com.evil.example").unwrap()));
        assert!(!a.same(&Instance::parse("http://127.0.0.1:1").unwrap()));
    }
}
