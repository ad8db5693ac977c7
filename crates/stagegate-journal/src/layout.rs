//! Names and documents in the store: version ids, manifests, the version
//! endpoint `latest.json`, and the keys they live under.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::JournalError;

/// `YYYYMMDD.N.<cluster>`: N is a per-day sequence across all clusters, so
/// versions are totally ordered by (date, N) whoever uploaded them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionId {
    pub date: NaiveDate,
    pub n: u32,
    pub cluster: String,
}

impl VersionId {
    pub fn parse(s: &str) -> Option<VersionId> {
        let mut parts = s.splitn(3, '.');
        let (d, n, c) = (parts.next()?, parts.next()?, parts.next()?);
        if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) || !valid_name(c) {
            return None;
        }
        let n: u32 = n.parse().ok().filter(|n| *n >= 1)?;
        let date = NaiveDate::parse_from_str(d, "%Y%m%d").ok()?;
        Some(VersionId { date, n, cluster: c.to_string() })
    }

    /// The prefix all of a day's versions share, for listing.
    pub fn day_prefix(date: NaiveDate) -> String {
        date.format("%Y%m%d.").to_string()
    }

    fn key(&self) -> (NaiveDate, u32, &str) {
        (self.date, self.n, &self.cluster)
    }
}

impl Ord for VersionId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for VersionId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.date.format("%Y%m%d"), self.n, self.cluster)
    }
}

/// Cluster, lane, mandator and file names travel into keys, paths and env vars.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && !s.starts_with(['.', '-'])
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !s.contains("..")
}

pub fn check_name(s: &str, what: &'static str) -> Result<(), JournalError> {
    if valid_name(s) { Ok(()) } else { Err(JournalError::BadName(s.escape_debug().to_string(), what)) }
}

/// What was uploaded: written next to the journal once the journal is complete,
/// so a version is listed only when its file can be downloaded whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: String,
    pub cluster: String,
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    #[serde(default)]
    pub change: Option<String>,
    #[serde(default)]
    pub mandators: Vec<String>,
}

impl Manifest {
    /// A manifest belongs where it was read from: `journals/<version>/`.
    /// Anything else (another version or cluster, a file name that could
    /// point elsewhere, a malformed digest) is damage.
    pub fn check_against(&self, v: &VersionId) -> Result<(), ManifestDamage> {
        if self.version != v.to_string() {
            return Err(ManifestDamage::Version { said: self.version.clone(), under: v.clone() });
        }
        if self.cluster != v.cluster {
            return Err(ManifestDamage::Cluster { said: self.cluster.clone(), version: v.clone() });
        }
        if !valid_name(&self.file) || self.file == MANIFEST {
            return Err(ManifestDamage::File(self.file.clone()));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(ManifestDamage::Sha256(self.sha256.clone()));
        }
        Ok(())
    }
}

/// Why a manifest does not belong where it was read from. Read texts are
/// shown escaped: they come from the store, not from stagegate.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestDamage {
    #[error("it says version `{}` but lives under {under}", said.escape_debug())]
    Version { said: String, under: VersionId },
    #[error("it says cluster `{}` but version {version} is of {}", said.escape_debug(), version.cluster)]
    Cluster { said: String, version: VersionId },
    #[error("`{}` is not a valid journal file name", .0.escape_debug())]
    File(String),
    #[error("`{}` is not a sha256", .0.escape_debug())]
    Sha256(String),
}

/// Why `latest.json` is not what stagegate wrote.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LatestDamage {
    #[error("entry `{}` does not match the cluster it is listed under", .0.escape_debug())]
    WrongCluster(String),
    #[error("it lists clusters but no latest version")]
    NoLatest,
}

/// One entry of the version endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatestEntry {
    pub version: String,
    #[serde(default)]
    pub cluster: String,
    pub file: String,
    pub sha256: String,
    pub size: u64,
    pub uploaded_at: DateTime<Utc>,
}

impl From<&Manifest> for LatestEntry {
    fn from(m: &Manifest) -> Self {
        LatestEntry {
            version: m.version.clone(),
            cluster: m.cluster.clone(),
            file: m.file.clone(),
            sha256: m.sha256.clone(),
            size: m.size,
            uploaded_at: m.uploaded_at,
        }
    }
}

/// The version endpoint (`latest.json`): the newest version overall and per cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latest {
    pub latest: Option<LatestEntry>,
    #[serde(default)]
    pub clusters: BTreeMap<String, LatestEntry>,
}

impl crate::state::Document for Latest {
    type Damage = LatestDamage;
    fn check(&self) -> Result<(), LatestDamage> {
        let entries = self.latest.iter().map(|e| (None, e)).chain(self.clusters.iter().map(|(c, e)| (Some(c), e)));
        for (key, e) in entries {
            let ok = VersionId::parse(&e.version).is_some_and(|v| {
                key.is_none_or(|k| *k == v.cluster) && (e.cluster.is_empty() || e.cluster == v.cluster)
            });
            if !ok {
                return Err(LatestDamage::WrongCluster(e.version.clone()));
            }
        }
        if self.latest.is_none() && !self.clusters.is_empty() {
            return Err(LatestDamage::NoLatest);
        }
        Ok(())
    }
}

impl Latest {
    /// Folds a new upload in; an older version never replaces a newer one, so
    /// uploads finishing out of order still leave the newest on top.
    pub fn record(&mut self, m: &Manifest) {
        let newer = |slot: &Option<LatestEntry>| {
            slot.as_ref().is_none_or(|e| match (VersionId::parse(&e.version), VersionId::parse(&m.version)) {
                (Some(old), Some(new)) => new > old,
                _ => true,
            })
        };
        if newer(&self.latest) {
            self.latest = Some(m.into());
        }
        let slot = self.clusters.get(&m.cluster).cloned();
        if newer(&slot) {
            self.clusters.insert(m.cluster.clone(), m.into());
        }
    }
}

pub const JOURNALS: &str = "journals/";
pub const LATEST: &str = "latest.json";
pub const MANIFEST: &str = "manifest.json";
pub const SEQUENCE: &str = "sequence/";

pub fn object_key(v: &VersionId, file: &str) -> String {
    format!("{JOURNALS}{v}/{file}")
}
pub fn manifest_key(v: &VersionId) -> String {
    format!("{JOURNALS}{v}/{MANIFEST}")
}
/// Written create-only to allocate N of a day before anything else; one key
/// per (date, N) whatever the cluster, so N is unique across clusters.
pub fn sequence_key(v: &VersionId) -> String {
    format!("{SEQUENCE}{}{}.json", VersionId::day_prefix(v.date), v.n)
}

/// The N a `sequence/` key allocated.
pub fn sequence_n(key: &str) -> Option<u32> {
    let rest = key.strip_prefix(SEQUENCE)?.strip_suffix(".json")?;
    rest.split_once('.')?.1.parse().ok()
}

/// The version a key under `journals/` belongs to.
pub fn version_of_key(key: &str) -> Option<VersionId> {
    let rest = key.strip_prefix(JOURNALS)?;
    VersionId::parse(rest.split('/').next()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_by_date_then_sequence() {
        let a = VersionId::parse("20261121.2.prod-modelling").unwrap();
        let b = VersionId::parse("20261121.10.dev-modelling").unwrap();
        let c = VersionId::parse("20261122.1.dev-modelling").unwrap();
        assert!(a < b && b < c);
        assert_eq!(b.to_string(), "20261121.10.dev-modelling");
        for bad in ["2026112.1.x", "20261121.0.x", "20261121.1.", "20261321.1.x", "20261121.1.a/b", "x"] {
            assert!(VersionId::parse(bad).is_none(), "{bad}");
        }
    }

    fn manifest(version: &str, cluster: &str, file: &str, sha256: &str) -> Manifest {
        Manifest {
            version: version.into(),
            cluster: cluster.into(),
            file: file.into(),
            size: 1,
            sha256: sha256.into(),
            uploaded_at: DateTime::UNIX_EPOCH,
            change: None,
            mandators: Vec::new(),
        }
    }

    #[test]
    fn a_manifest_says_why_it_does_not_belong_where_it_was_read() {
        let v = VersionId::parse("20261121.2.prod").unwrap();
        let sha = "a".repeat(64);
        let damage = |m: Manifest| m.check_against(&v).unwrap_err().to_string();
        assert!(manifest("20261121.2.prod", "prod", "j.tar", &sha).check_against(&v).is_ok());
        assert_eq!(
            damage(manifest("20261121.3.prod", "prod", "j.tar", &sha)),
            "it says version `20261121.3.prod` but lives under 20261121.2.prod"
        );
        assert_eq!(
            damage(manifest("20261121.2.prod", "dev\n", "j.tar", &sha)),
            "it says cluster `dev\\n` but version 20261121.2.prod is of prod"
        );
        assert_eq!(
            damage(manifest("20261121.2.prod", "prod", "../x", &sha)),
            "`../x` is not a valid journal file name"
        );
        assert_eq!(damage(manifest("20261121.2.prod", "prod", "j.tar", "ABC")), "`ABC` is not a sha256");
    }

    #[test]
    fn latest_says_what_is_inconsistent() {
        use crate::state::Document;
        let m = manifest("20261121.2.prod", "prod", "j.tar", &"a".repeat(64));
        let mut l = Latest::default();
        l.record(&m);
        assert!(l.check().is_ok());
        let mut wrong = l.clone();
        wrong.clusters.insert("dev".into(), LatestEntry::from(&m));
        assert_eq!(
            wrong.check().unwrap_err().to_string(),
            "entry `20261121.2.prod` does not match the cluster it is listed under"
        );
        l.latest = None;
        assert_eq!(l.check(), Err(LatestDamage::NoLatest));
        assert_eq!(LatestDamage::NoLatest.to_string(), "it lists clusters but no latest version");
    }
}
