//! `journal seed`: the lane keys, written in one transaction checked against
//! the indexes they were read at.
//!
//! A first seeding of empty lanes gives lane i the i-th newest version (dev =
//! Vn, qa = Vn-1, …). Once lanes hold versions, seeding again moves lane 0 to
//! the newest version and lane i only to the version lane i-1 imported
//! successfully — the journal process validates a version in one lane before
//! the next takes it — and never back to an older version than it holds.

use serde::Serialize;

use super::JournalError;
use super::kv::TxnOp;
use super::lanes::{Lanes, State};
use super::layout::{Manifest, VersionId};

/// Why a lane got its version, or kept the one it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Why {
    /// A first seeding: the `rank`-th newest version (0: the newest).
    /// (Fields never repeat [`LaneSeed`]'s: the reason is flattened into it.)
    FirstSeeding { rank: usize },
    /// A first seeding with fewer versions in the store than lanes.
    NoVersionLeft,
    /// Lane 0 takes the newest version.
    Newest,
    /// The lane before imported it successfully.
    ImportedBefore { before: String },
    /// It holds that version already.
    AlreadyHolds,
    /// The lane before has no successful import to pass on.
    NotImportedBefore { before: String, before_state: Option<State>, before_version: Option<String> },
    /// The lane before imported a version older than this lane holds.
    OlderBefore { before: String, before_version: String },
}

/// One lane after seeding.
#[derive(Debug, Clone, Serialize)]
pub struct LaneSeed {
    pub lane: String,
    /// What the lane holds now (`null`: nothing yet).
    pub version: Option<String>,
    /// What it held before.
    pub previous: Option<String>,
    pub moved: bool,
    #[serde(flatten)]
    pub why: Why,
}

impl LaneSeed {
    /// Why, in words: `dev imported it successfully`.
    pub fn why_text(&self) -> String {
        match &self.why {
            Why::FirstSeeding { rank: 0 } => "first seeding: the newest version".into(),
            Why::FirstSeeding { rank } => format!("first seeding: version n-{rank}"),
            Why::NoVersionLeft => "first seeding: no older version left in the store".into(),
            Why::Newest => "the newest version".into(),
            Why::ImportedBefore { before } => format!("{before} imported it successfully"),
            Why::AlreadyHolds => "holds it already".into(),
            Why::NotImportedBefore { before, before_state: None, .. } => format!("{before} has imported nothing yet"),
            Why::NotImportedBefore { before, before_state: Some(s), before_version } => format!(
                "{before} has no successful import to pass on (its last import, of {}, is {})",
                before_version.as_deref().unwrap_or("?"),
                s.as_str()
            ),
            Why::OlderBefore { before, before_version } => {
                format!("{before} last imported {before_version}, older than what this lane holds")
            }
        }
    }
}

impl Lanes {
    /// Seeds the lanes from the store's versions (newest first), all keys in
    /// one transaction: a lane that moves gets its new version, one that
    /// stays is written as it is, so a promotion or seed racing this one
    /// makes it write nothing.
    pub async fn seed(&self, newest_first: &[Manifest]) -> Result<Vec<LaneSeed>, JournalError> {
        let newest = newest_first.first().ok_or(JournalError::NoVersions)?;
        let mut held = Vec::new();
        for lane in self.names() {
            held.push(self.assigned(lane).await?);
        }
        let first = held.iter().all(|(v, _)| v.is_none());
        let (mut ops, mut plan) = (Vec::new(), Vec::new());
        for (i, (lane, (previous, index))) in self.names().iter().zip(held).enumerate() {
            let (offer, why) = if first {
                match newest_first.get(i) {
                    Some(m) => (Some(m.version.clone()), Why::FirstSeeding { rank: i }),
                    None => (None, Why::NoVersionLeft),
                }
            } else if i == 0 {
                (Some(newest.version.clone()), Why::Newest)
            } else {
                self.passed_on(&self.names()[i - 1], previous.as_deref()).await?
            };
            let (version, moved, why) = match offer {
                Some(v) if previous.as_deref() == Some(v.as_str()) => (Some(v), false, Why::AlreadyHolds),
                Some(v) => (Some(v), true, why),
                None => (previous.clone(), false, why),
            };
            if let Some(v) = &version {
                ops.push(TxnOp::Cas { key: self.key(lane), value: v.clone().into_bytes(), index });
            }
            plan.push(LaneSeed { lane: lane.clone(), version, previous, moved, why });
        }
        if !self.kv.txn(ops).await? {
            return Err(JournalError::refused(
                "the lanes changed while seeding; nothing was written",
                "someone else seeded or promoted at the same time: check `stagegate journal status` and run seed again",
            ));
        }
        Ok(plan)
    }

    /// What lane `before` passes on to the next lane, which holds `held`:
    /// the version it imported successfully, unless it is older than `held`.
    async fn passed_on(&self, before: &str, held: Option<&str>) -> Result<(Option<String>, Why), JournalError> {
        let (state, _) = self.state(before).await?;
        let lane_before = before.to_owned();
        let s = match state {
            Some(s) if s.state == State::Imported => s,
            other => {
                let (before_state, before_version) = other.map(|s| (s.state, s.version)).unzip();
                return Ok((None, Why::NotImportedBefore { before: lane_before, before_state, before_version }));
            }
        };
        super::layout::check_name(&s.version, "journal version")?;
        let older = match (VersionId::parse(&s.version), held.and_then(VersionId::parse)) {
            (Some(offered), Some(held)) => offered < held,
            _ => false,
        };
        if older {
            return Ok((None, Why::OlderBefore { before: lane_before, before_version: s.version }));
        }
        Ok((Some(s.version), Why::ImportedBefore { before: lane_before }))
    }
}
