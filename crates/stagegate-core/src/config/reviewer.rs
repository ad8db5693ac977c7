//! Required reviewers as written in `approvals.reviewers`: `@login` or
//! `@org/team-slug`. A leaf: it imports nothing from the rest of the crate.

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reviewer {
    User(String),
    Team { org: String, slug: String },
}

impl Reviewer {
    /// `@org/team` is a team, `@login` or `login` a user.
    pub fn parse(s: &str) -> Option<Reviewer> {
        let s = s.trim();
        let bare = s.strip_prefix('@').unwrap_or(s);
        let valid = |part: &str| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        };
        match bare.split_once('/') {
            Some((org, slug)) if valid(org) && valid(slug) => {
                Some(Reviewer::Team { org: org.to_owned(), slug: slug.to_owned() })
            }
            None if valid(bare) => Some(Reviewer::User(bare.to_owned())),
            _ => None,
        }
    }
}

impl std::fmt::Display for Reviewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reviewer::User(u) => write!(f, "@{u}"),
            Reviewer::Team { org, slug } => write!(f, "@{org}/{slug}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reviewer;

    #[test]
    fn users_and_teams_with_or_without_at() {
        assert_eq!(Reviewer::parse("@alice"), Some(Reviewer::User("alice".into())));
        assert_eq!(Reviewer::parse("alice"), Some(Reviewer::User("alice".into())));
        assert_eq!(Reviewer::parse("@acme/sre"), Some(Reviewer::Team { org: "acme".into(), slug: "sre".into() }));
        assert_eq!(Reviewer::parse("@acme/sre").unwrap().to_string(), "@acme/sre");
        for bad in ["", "@", "@acme/qa/leads", "a b", "@acme/", "/sre"] {
            assert_eq!(Reviewer::parse(bad), None, "{bad:?}");
        }
    }
}
