//! Where the journal pipeline keeps its data: `journal.store`
//! (`s3://BUCKET/PREFIX` or `file://DIR`) and `journal.kv`
//! (`consul://HOST:PORT` or `file://DIR`), parsed once when the config is
//! read, so opening a store never meets a URL it does not understand.
//!
//! A leaf: it imports nothing else from the crate.

use std::fmt;

/// `journal.store`: where journals and their manifests live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `file://DIR`: a directory (tests, dry runs, one-machine setups).
    File(String),
    /// `s3://BUCKET/PREFIX`: a bucket, and a key prefix (possibly empty).
    S3 { bucket: String, prefix: String },
}

/// `journal.kv`: where the lanes' versions and import states live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvLocation {
    /// `file://DIR`: a directory standing in for Consul.
    File(String),
    /// `consul://HOST:PORT` (`CONSUL_HTTP_ADDR` takes precedence when set).
    Consul(String),
}

/// Why a location was refused, with what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub help: String,
}

impl StoreLocation {
    pub fn parse(text: &str) -> Result<StoreLocation, ParseError> {
        match split(text, "store", &["s3", "file"])? {
            ("file", dir) => Ok(StoreLocation::File(dir.to_string())),
            (_, rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.trim().is_empty() {
                    return Err(nowhere("store", text, "name the bucket, e.g. store: s3://my-bucket/journals"));
                }
                Ok(StoreLocation::S3 { bucket: bucket.to_string(), prefix: prefix.trim_matches('/').to_string() })
            }
        }
    }
}

impl KvLocation {
    pub fn parse(text: &str) -> Result<KvLocation, ParseError> {
        match split(text, "kv", &["consul", "file"])? {
            ("file", dir) => Ok(KvLocation::File(dir.to_string())),
            (_, addr) if addr.trim_end_matches('/').trim().is_empty() => {
                Err(nowhere("kv", text, "name the server, e.g. kv: consul://127.0.0.1:8500"))
            }
            (_, addr) => Ok(KvLocation::Consul(addr.trim_end_matches('/').to_string())),
        }
    }
}

/// The scheme (one of `schemes`) and the rest, which must name something.
fn split<'t>(text: &'t str, key: &str, schemes: &[&'static str]) -> Result<(&'static str, &'t str), ParseError> {
    let shapes = match key {
        "store" => "use s3://BUCKET/PREFIX or file://DIR",
        _ => "use consul://HOST:PORT or file://DIR",
    };
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(ParseError { message: format!("unsupported journal {key} `{text}`"), help: shapes.into() });
    };
    let Some(scheme) = schemes.iter().copied().find(|s| *s == scheme) else {
        return Err(ParseError { message: format!("unsupported journal {key} `{text}`"), help: shapes.into() });
    };
    if rest.trim().is_empty() {
        let help = match scheme {
            "file" => format!("name a directory, e.g. {key}: file://.stagegate/{key}"),
            "s3" => "name the bucket, e.g. store: s3://my-bucket/journals".to_string(),
            _ => "name the server, e.g. kv: consul://127.0.0.1:8500".to_string(),
        };
        return Err(nowhere(key, text, help));
    }
    Ok((scheme, rest))
}

/// `journal.<key>` names a scheme but nothing after it.
fn nowhere(key: &str, text: &str, help: impl Into<String>) -> ParseError {
    ParseError { message: format!("journal {key} `{text}` names no location"), help: help.into() }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::File(dir) => write!(f, "file://{dir}"),
            StoreLocation::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            StoreLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

impl fmt::Display for KvLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvLocation::File(dir) => write!(f, "file://{dir}"),
            KvLocation::Consul(addr) => write!(f, "consul://{addr}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_are_a_bucket_and_prefix_or_a_directory() {
        let s3 = StoreLocation::parse("s3://journals/prod/eu/").unwrap();
        assert_eq!(s3, StoreLocation::S3 { bucket: "journals".into(), prefix: "prod/eu".into() });
        assert_eq!(s3.to_string(), "s3://journals/prod/eu");
        assert_eq!(StoreLocation::parse("s3://journals").unwrap().to_string(), "s3://journals");
        assert_eq!(
            StoreLocation::parse("file://.stagegate/store").unwrap(),
            StoreLocation::File(".stagegate/store".into())
        );
        for (bad, says) in [
            ("s3:///prefix", "names no location"),
            ("s3://", "names no location"),
            ("file://  ", "names no location"),
            ("gs://bucket", "unsupported"),
            ("/var/journals", "unsupported"),
            ("consul://127.0.0.1:8500", "unsupported"),
        ] {
            let e = StoreLocation::parse(bad).unwrap_err();
            assert!(e.message.contains(says), "{bad}: {e}");
            assert!(!e.help.is_empty());
        }
    }

    #[test]
    fn kvs_are_consul_or_a_directory() {
        assert_eq!(KvLocation::parse("consul://10.0.0.1:8500/").unwrap(), KvLocation::Consul("10.0.0.1:8500".into()));
        assert_eq!(KvLocation::parse("file://kv").unwrap().to_string(), "file://kv");
        assert!(KvLocation::parse("consul://").unwrap_err().help.contains("consul://127.0.0.1:8500"));
        assert!(KvLocation::parse("consul:///").unwrap_err().message.contains("names no location"));
        assert!(KvLocation::parse("etcd://x").unwrap_err().message.contains("unsupported journal kv"));
        assert!(KvLocation::parse("s3://bucket").is_err());
    }
}
