//! The local forge: GitHub's records (approvals, teams, deployments and their
//! statuses, tags, releases, environments) kept as JSON under the state
//! directory, for offline runs, demos and tests.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Approval, Cleared, CommitSummary, Deployment, DeploymentId, DeploymentState, DeploymentStatus, EnvDeleted, Forge,
    ForgeError, ForgeKind, Hold, NewDeployment, NewHold, NewRelease, NewTag, Protection, Release, ReviewerRef, Tag,
    TagOutcome,
};
use crate::config::Reviewer;
use crate::state::{Document, StateDir};

const FILE: &str = "forge.json";

/// `forge.json`. Every field stagegate always writes is required and no
/// other is allowed: a document of another shape is damaged, not empty.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Records {
    approvals: Vec<Approval>,
    tags: Vec<LocalTag>,
    releases: Vec<LocalRelease>,
    next_release_id: u64,
    environments: BTreeMap<String, Protection>,
    /// `org/slug` → logins (what GitHub's team membership answers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    teams: BTreeMap<String, Vec<String>>,
    /// Oldest first; ids are 1-based positions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    deployments: Vec<Deployment>,
    /// Holds (`hold set`), oldest first; ids are 1-based positions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    holds: Vec<Hold>,
}

/// The release ids the local forge knows, newest first: those deployed
/// anywhere, then the releases' tags. Empty when the records cannot be read
/// (for shell completion, which must never fail).
pub fn known_releases(state: &StateDir) -> Vec<String> {
    let Ok(r) = state.read::<Records>(FILE) else { return Vec::new() };
    let deployed = r.deployments.iter().rev().map(|d| d.request.release.clone());
    let tagged = r.releases.iter().rev().map(|x| x.release.tag.clone());
    let mut seen = std::collections::BTreeSet::new();
    deployed.chain(tagged).filter(|id| seen.insert(id.clone())).collect()
}

/// The environment names the local forge has deployments of (ephemeral
/// instances among them), sorted. Empty when the records cannot be read.
pub fn known_environments(state: &StateDir) -> Vec<String> {
    let Ok(r) = state.read::<Records>(FILE) else { return Vec::new() };
    let names: std::collections::BTreeSet<String> =
        r.deployments.iter().map(|d| d.request.environment.clone()).collect();
    names.into_iter().collect()
}

/// Why the local forge's records are not what stagegate wrote.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordsDamage {
    #[error("deployment {id} is at position {position} (ids are 1, 2, 3, … in order)")]
    DeploymentOutOfPlace { id: super::DeploymentId, position: usize },
    #[error("release id {0} appears twice")]
    ReleaseTwice(u64),
    #[error("release id {id} is above next_release_id {next}")]
    ReleaseAboveNext { id: u64, next: u64 },
    #[error("tag {0} appears twice")]
    TagTwice(String),
    #[error("hold {id} is at position {position} (ids are 1, 2, 3, … in order)")]
    HoldOutOfPlace { id: u64, position: usize },
    #[error("next_release_id is {0}, the largest there is: no release can take the next one")]
    ReleaseIdsExhausted(u64),
}

impl Document for Records {
    type Damage = RecordsDamage;
    fn check(&self) -> Result<(), RecordsDamage> {
        for (i, d) in self.deployments.iter().enumerate() {
            if d.id != i as u64 + 1 {
                return Err(RecordsDamage::DeploymentOutOfPlace { id: d.id, position: i + 1 });
            }
        }
        if let Some((i, h)) = self.holds.iter().enumerate().find(|(i, h)| h.id != *i as u64 + 1) {
            return Err(RecordsDamage::HoldOutOfPlace { id: h.id, position: i + 1 });
        }
        if self.next_release_id == u64::MAX {
            return Err(RecordsDamage::ReleaseIdsExhausted(self.next_release_id));
        }
        let mut ids = std::collections::BTreeSet::new();
        for r in &self.releases {
            if !ids.insert(r.release.id) {
                return Err(RecordsDamage::ReleaseTwice(r.release.id));
            }
            if r.release.id > self.next_release_id {
                return Err(RecordsDamage::ReleaseAboveNext { id: r.release.id, next: self.next_release_id });
            }
        }
        let mut names = std::collections::BTreeSet::new();
        if let Some(t) = self.tags.iter().find(|t| !names.insert(t.name.as_str())) {
            return Err(RecordsDamage::TagTwice(t.name.clone()));
        }
        Ok(())
    }
}

fn team_key(org: &str, slug: &str) -> String {
    format!("{}/{}", org.to_lowercase(), slug.to_lowercase())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalTag {
    name: String,
    commit: String,
    message: String,
    nonce: String,
    created_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LocalRelease {
    #[serde(flatten)]
    release: Release,
    #[serde(default)]
    body: Option<String>,
    created_at: chrono::DateTime<Utc>,
}

/// A stand-in for a commit sha when the local forge is used outside a git
/// checkout: stable for the same name, so reruns agree.
fn pseudo_sha(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

fn tag_of(t: &LocalTag) -> Tag {
    Tag { name: t.name.clone(), sha: pseudo_sha(&format!("tag:{}:{}", t.name, t.nonce)) }
}

pub struct LocalForge {
    state: StateDir,
}

impl LocalForge {
    pub fn new(state: StateDir) -> Self {
        LocalForge { state }
    }

    /// Read-modify-write of the forge's records under the state dir's lock.
    fn update<R>(&self, f: impl FnOnce(&mut Records) -> R) -> Result<R, ForgeError> {
        Ok(self.state.update(FILE, f)?)
    }
}

#[async_trait]
impl Forge for LocalForge {
    fn describe(&self) -> String {
        format!("local forge ({})", self.state.root().display())
    }

    fn kind(&self) -> ForgeKind {
        ForgeKind::Local
    }

    async fn record_approval(&self, approval: &Approval) -> Result<(), ForgeError> {
        self.update(|r: &mut Records| r.approvals.push(approval.clone()))
    }

    async fn approvals(&self, run_id: &str) -> Result<Vec<Approval>, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        Ok(r.approvals.into_iter().filter(|a| a.run_id == run_id).collect())
    }

    async fn tags(&self, prefix: &str) -> Result<Vec<Tag>, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        Ok(r.tags.iter().filter(|t| t.name.starts_with(prefix)).map(tag_of).collect())
    }

    async fn create_tag(&self, tag: &NewTag) -> Result<TagOutcome, ForgeError> {
        self.update(|r: &mut Records| match r.tags.iter().find(|t| t.name == tag.name) {
            Some(t) if t.nonce == tag.nonce => TagOutcome::Created(tag_of(t)),
            Some(_) => TagOutcome::Taken,
            None => {
                let t = LocalTag {
                    name: tag.name.clone(),
                    commit: tag.commit.clone(),
                    message: tag.message.clone(),
                    nonce: tag.nonce.clone(),
                    created_at: crate::clock::now(),
                };
                r.tags.push(t.clone());
                TagOutcome::Created(tag_of(&t))
            }
        })
    }

    async fn resolve_commit(&self, git_ref: &str) -> Result<String, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        let name = git_ref.strip_prefix("refs/tags/").unwrap_or(git_ref);
        if let Some(t) = r.tags.iter().find(|t| t.name == name) {
            return Ok(t.commit.clone());
        }
        if (7..=40).contains(&git_ref.len()) && git_ref.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(git_ref.to_ascii_lowercase());
        }
        Ok(pseudo_sha(&format!("ref:{git_ref}")))
    }

    async fn releases(&self) -> Result<Vec<Release>, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        Ok(r.releases.iter().rev().map(|l| l.release.clone()).collect())
    }

    async fn create_release(&self, new: &NewRelease) -> Result<Release, ForgeError> {
        let root = self.state.root().display().to_string();
        self.update(|r: &mut Records| {
            r.next_release_id += 1;
            let id = r.next_release_id;
            let now = crate::clock::now();
            let release = Release {
                id,
                tag: new.tag.clone(),
                name: new.name.clone(),
                draft: new.draft,
                html_url: format!("file://{root}/forge.json#release-{id}"),
                published_at: (!new.draft).then_some(now),
            };
            let body = match (&new.body, new.generate_notes) {
                (Some(b), _) => Some(b.clone()),
                (None, true) => Some(format!("Release {} (notes are generated on GitHub)", new.tag)),
                (None, false) => None,
            };
            r.releases.push(LocalRelease { release: release.clone(), body, created_at: now });
            release
        })
    }

    async fn delete_release(&self, id: u64) -> Result<(), ForgeError> {
        self.update(|r: &mut Records| r.releases.retain(|l| l.release.id != id))
    }

    async fn publish_release(&self, id: u64) -> Result<Release, ForgeError> {
        let found = self.update(|r: &mut Records| {
            r.releases.iter_mut().find(|l| l.release.id == id).map(|l| {
                if l.release.draft {
                    l.release.draft = false;
                    l.release.published_at = Some(crate::clock::now());
                }
                l.release.clone()
            })
        })?;
        found.ok_or_else(|| ForgeError::NotFound {
            what: format!("release {id}"),
            help: "check the release id or tag; drafts are listed only to tokens with push access".into(),
        })
    }

    async fn environment(&self, name: &str) -> Result<Option<Protection>, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        Ok(r.environments.get(name).cloned())
    }

    async fn apply_environment(
        &self,
        name: &str,
        _current: Option<&Protection>,
        desired: &Protection,
    ) -> Result<(), ForgeError> {
        self.update(|r: &mut Records| {
            r.environments.insert(name.to_owned(), desired.clone());
        })
    }

    async fn delete_environment(&self, name: &str) -> Result<EnvDeleted, ForgeError> {
        let removed = self.update(|r: &mut Records| r.environments.remove(name).is_some())?;
        Ok(if removed { EnvDeleted::Deleted } else { EnvDeleted::Absent })
    }

    async fn environment_names(&self) -> Result<Vec<String>, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        let deployed = r.deployments.iter().map(|d| d.request.environment.clone());
        let names: std::collections::BTreeSet<String> = r.environments.keys().cloned().chain(deployed).collect();
        Ok(names.into_iter().collect())
    }

    async fn reviewer(&self, reviewer: &Reviewer) -> Result<ReviewerRef, ForgeError> {
        let kind = match reviewer {
            Reviewer::User(_) => "User",
            Reviewer::Team { .. } => "Team",
        };
        let name = reviewer.to_string();
        let id = u64::from_str_radix(&pseudo_sha(&name)[..12], 16).unwrap_or(0);
        Ok(ReviewerRef { kind: kind.into(), id, name })
    }

    async fn team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, ForgeError> {
        let mut r: Records = self.state.read(FILE)?;
        Ok(r.teams.remove(&team_key(org, slug)).unwrap_or_default())
    }

    async fn set_team_members(&self, org: &str, slug: &str, members: &[String]) -> Result<(), ForgeError> {
        let members: Vec<String> = members.iter().map(|m| m.to_lowercase()).collect();
        self.update(|r: &mut Records| {
            if members.is_empty() {
                r.teams.remove(&team_key(org, slug));
            } else {
                r.teams.insert(team_key(org, slug), members);
            }
        })
    }

    async fn create_deployment(&self, new: &NewDeployment) -> Result<Deployment, ForgeError> {
        self.update(|r: &mut Records| {
            let d = Deployment {
                id: DeploymentId::Recorded(r.deployments.len() as u64 + 1),
                request: new.clone(),
                statuses: Vec::new(),
            };
            r.deployments.push(d.clone());
            d
        })
    }

    async fn set_deployment_status(
        &self,
        d: &Deployment,
        state: DeploymentState,
        description: &str,
        at: DateTime<Utc>,
    ) -> Result<(), ForgeError> {
        let id = d.id;
        let status = DeploymentStatus { state, description: description.to_owned(), created_at: at };
        let found = self.update(|r: &mut Records| {
            let Some(d) = r.deployments.iter_mut().find(|d| d.id == id) else { return false };
            d.statuses.push(status);
            true
        })?;
        if found { Ok(()) } else { Err(ForgeError::NoDeployment { id, forge: self.describe() }) }
    }

    async fn deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        Ok(r.deployments.into_iter().rev().filter(|d| d.request.environment == environment).collect())
    }

    async fn commits_between(&self, _base: &str, _head: &str) -> Result<Option<Vec<CommitSummary>>, ForgeError> {
        Ok(None)
    }

    async fn holds(&self, environment: &str, limit: usize) -> Result<Vec<Hold>, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        Ok(r.holds.into_iter().rev().filter(|h| h.set.environment == environment).take(limit).collect())
    }

    async fn set_hold(&self, new: &NewHold) -> Result<Hold, ForgeError> {
        self.update(|r: &mut Records| {
            let h = Hold { id: r.holds.len() as u64 + 1, set: new.clone(), cleared: None };
            r.holds.push(h.clone());
            h
        })
    }

    async fn clear_hold(&self, hold: &Hold, description: &str, at: DateTime<Utc>) -> Result<(), ForgeError> {
        let id = hold.id;
        let cleared = Cleared { at, description: description.to_owned() };
        let found = self.update(|r: &mut Records| {
            let Some(h) = r.holds.iter_mut().find(|h| h.id == id) else { return false };
            h.cleared.get_or_insert(cleared);
            true
        })?;
        if found {
            Ok(())
        } else {
            Err(ForgeError::NoDeployment { id: DeploymentId::Recorded(id), forge: self.describe() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str) -> LocalTag {
        LocalTag {
            name: name.into(),
            commit: "a".into(),
            message: String::new(),
            nonce: String::new(),
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn damaged_records_say_what_is_wrong() {
        let mut r = Records::default();
        r.tags.push(tag("v1"));
        assert_eq!(r.check(), Ok(()));
        r.tags.push(tag("v1"));
        assert_eq!(r.check(), Err(RecordsDamage::TagTwice("v1".into())));
        assert_eq!(RecordsDamage::TagTwice("v1".into()).to_string(), "tag v1 appears twice");
        assert_eq!(
            RecordsDamage::DeploymentOutOfPlace { id: super::DeploymentId::Recorded(3), position: 1 }.to_string(),
            "deployment 3 is at position 1 (ids are 1, 2, 3, … in order)"
        );
        assert_eq!(
            RecordsDamage::ReleaseAboveNext { id: 4, next: 2 }.to_string(),
            "release id 4 is above next_release_id 2"
        );
        assert_eq!(RecordsDamage::ReleaseTwice(4).to_string(), "release id 4 appears twice");
    }
}
