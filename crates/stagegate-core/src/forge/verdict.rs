//! The verdict a deployment record carries: what the checks counted when the
//! deployment was made — who approved and counted, the reviews that did not
//! count and why, the ServiceNow change and its state, a freeze override and
//! its reason. `history` and `status` read this, never a run's raw reviews, so
//! they say what the gate decided.
//!
//! On GitHub a record is a deployment's payload, which anyone allowed to
//! create deployments can write: every text is bounded and on one line, free
//! of control and invisible characters, and every list is bounded — or the
//! verdict is not read at all (shown as unknown).

use serde::{Deserialize, Serialize};

/// Text of a record: 1 to `MAX` characters, none of them a control or
/// invisible character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// `s` made fit: unsafe characters escaped, cut at `MAX` characters with
    /// `…`. For what stagegate itself writes into a record.
    pub fn lossy(s: &str) -> Text<MAX> {
        let mut out = String::new();
        for c in s.chars() {
            if crate::values::refname::is_unsafe_in_text(c) {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        if out.chars().count() > MAX {
            out = out.chars().take(MAX.saturating_sub(1)).chain(['…']).collect();
        }
        if out.is_empty() {
            out.push('?');
        }
        Text(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        if s.is_empty() || s.len() > MAX * 4 || s.chars().count() > MAX {
            return Err(format!("a text of the verdict is empty or longer than {MAX} characters"));
        }
        if let Some(c) = crate::values::refname::unsafe_char(&s) {
            return Err(format!("a text of the verdict contains U+{:04X}", c as u32));
        }
        Ok(Text(s))
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(t: Text<MAX>) -> String {
        t.0
    }
}

impl<const MAX: usize> std::fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A list of a record: at most `MAX` items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<T>", into = "Vec<T>")]
#[serde(bound(deserialize = "T: Deserialize<'de>", serialize = "T: Serialize + Clone"))]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> List<T, MAX> {
    /// The first `MAX` of `items`.
    pub fn first(items: impl IntoIterator<Item = T>) -> List<T, MAX> {
        List(items.into_iter().take(MAX).collect())
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<T, const MAX: usize> TryFrom<Vec<T>> for List<T, MAX> {
    type Error = String;

    fn try_from(v: Vec<T>) -> Result<Self, String> {
        if v.len() > MAX {
            return Err(format!("a list of the verdict has {} entries (at most {MAX})", v.len()));
        }
        Ok(List(v))
    }
}

impl<T, const MAX: usize> From<List<T, MAX>> for Vec<T> {
    fn from(l: List<T, MAX>) -> Vec<T> {
        l.0
    }
}

/// A login (`alice`, `deploy[bot]`).
pub type Login = Text<100>;
/// An environment name.
pub type EnvName = Text<255>;

/// Why a review counted, or did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// Counted: a listed reviewer of the environment.
    ListedReviewer,
    /// Counted: a member of a listed reviewer team (`team` says which).
    TeamMember,
    /// Not counted: the review was a rejection.
    Rejected,
    /// Not counted: a review of an environment that does not count for this one.
    OtherEnvironment,
    /// Not counted: bots never count.
    Bot,
    /// Not counted: the actor of the run reviewed it.
    SelfReview,
    /// Not counted: the same person counted already.
    Duplicate,
    /// Not counted: neither a listed reviewer nor in a listed team.
    NotAReviewer,
    /// Not counted: the same person reviewed the same environment again
    /// later in the run; their latest review stands.
    Superseded,
}

impl Why {
    /// Whether a review for this reason counted.
    pub fn counts(self) -> bool {
        matches!(self, Why::ListedReviewer | Why::TeamMember)
    }

    /// In words, for people.
    pub fn as_str(self) -> &'static str {
        match self {
            Why::ListedReviewer => "listed reviewer",
            Why::TeamMember => "member of a reviewer team",
            Why::Rejected => "rejected",
            Why::OtherEnvironment => "not one of the environment's approval environments",
            Why::Bot => "a bot",
            Why::SelfReview => "self-review",
            Why::Duplicate => "already counted",
            Why::NotAReviewer => "not a reviewer",
            Why::Superseded => "superseded by their later review",
        }
    }
}

/// One review as the gate judged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub user: Login,
    pub environment: EnvName,
    pub why: Why,
    /// For [`Why::TeamMember`]: the team (`@acme/sre`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<Text<200>>,
}

impl Review {
    /// `mallory (self-review)`, `erin (member of @acme/sre)`.
    pub fn describe(&self) -> String {
        match &self.team {
            Some(team) => format!("{} (member of {team})", self.user),
            None => format!("{} ({})", self.user, self.why.as_str()),
        }
    }
}

/// The ServiceNow change the run was checked under, as ServiceNow answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub number: Text<40>,
    /// ServiceNow's `approval` (`approved`).
    pub approval: Text<40>,
    /// ServiceNow's `state` (`-2` Scheduled, `-1` Implement).
    pub state: Text<40>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Text<40>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Text<40>>,
}

impl Change {
    /// `CHG0030001 (approved, Implement)`.
    pub fn describe(&self) -> String {
        let state = match self.state.as_str().trim() {
            "-2" => "Scheduled",
            "-1" => "Implement",
            other => other,
        };
        format!("{} ({}, {state})", self.number, self.approval)
    }
}

/// A freeze window overridden with `--override-freeze --reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub window: Text<200>,
    pub reason: Text<500>,
}

/// What the checks counted when a deployment was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Distinct approvals the environment required (0: none).
    pub required: u32,
    /// Who counted, in the order they approved.
    pub approvers: List<Review, 50>,
    /// Reviews that did not count, and why.
    #[serde(default)]
    pub not_counted: List<Review, 200>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_override: Option<Override>,
    /// For the redeploy that recovers from a failed run: what failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_reason: Option<Text<500>>,
}

impl Verdict {
    /// The logins that counted, in the order they approved.
    pub fn approved_by(&self) -> Vec<String> {
        self.approvers.iter().map(|r| r.user.to_string()).collect()
    }

    /// What else it says, in words (`not counted: mallory (self-review);
    /// change CHG0030001 (approved, Implement)`); empty when nothing.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.not_counted.is_empty() {
            let who: Vec<String> = self.not_counted.iter().map(Review::describe).collect();
            notes.push(format!("not counted: {}", who.join(", ")));
        }
        if let Some(c) = &self.change {
            notes.push(format!("change {}", c.describe()));
        }
        if let Some(o) = &self.freeze_override {
            notes.push(format!("freeze `{}` overridden: {}", o.window, o.reason));
        }
        if let Some(why) = &self.rollback_reason {
            notes.push(format!("rolled back because {why}"));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_lists_out_of_bounds_are_not_read() {
        let ok = r#"{"required":1,"approvers":[{"user":"alice","environment":"prod","why":"listed_reviewer"}]}"#;
        let v: Verdict = serde_json::from_str(ok).unwrap();
        assert_eq!(v.approved_by(), ["alice"]);
        let line = ok.replace("alice", "alice\\n::error::x");
        assert!(serde_json::from_str::<Verdict>(&line).is_err());
        let long = ok.replace("alice", &"a".repeat(101));
        assert!(serde_json::from_str::<Verdict>(&long).is_err());
        let bidi = ok.replace("alice", "ali\u{202e}ce");
        assert!(serde_json::from_str::<Verdict>(&bidi).is_err());
        let review = r#"{"user":"u","environment":"prod","why":"bot"}"#;
        let many = format!(r#"{{"required":1,"approvers":[],"not_counted":[{}]}}"#, vec![review; 201].join(","));
        assert!(serde_json::from_str::<Verdict>(&many).is_err());
    }

    #[test]
    fn what_stagegate_writes_is_made_to_fit() {
        assert_eq!(Text::<5>::lossy("a\nb").as_str(), "a\\nb");
        assert_eq!(Text::<3>::lossy("abcdef").as_str(), "ab…");
        assert_eq!(Text::<3>::lossy("").as_str(), "?");
    }
}
