//! "Did you mean …?" for names a user types: environments on the command
//! line and in promotions, keys in the config; and the names of the approval
//! environments stagegate generates. A leaf: it imports nothing else from the crate.

/// The candidate closest to a misspelt `name`, when one is close enough to
/// be a typo (case is ignored: GitHub environment names are case-insensitive).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&wanted, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "unknown environment `stagin`; did you mean `staging`?" — or, with no
/// close name, the names that exist.
pub fn unknown_env<'a>(name: &str, known: impl IntoIterator<Item = &'a str> + Clone) -> String {
    match closest(name, known.clone()) {
        Some(c) => format!("unknown environment `{name}`; did you mean `{c}`?"),
        None => format!("unknown environment `{name}` (known: {})", known.into_iter().collect::<Vec<_>>().join(", ")),
    }
}

/// The approval environments of `env`, in front of its own: N-1 of them for
/// `required: N` (none when one approval suffices).
pub fn approval_envs(env: &str, required: u32) -> Vec<String> {
    (1..required.max(1)).map(|i| approval_env(env, i)).collect()
}

/// The name of `env`'s `i`-th approval environment.
pub fn approval_env(env: &str, i: u32) -> String {
    format!("{env}-approval-{i}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVS: [&str; 4] = ["dev-int", "staging", "prod", "uat"];

    #[test]
    fn a_typo_gets_the_name_it_misses() {
        assert_eq!(unknown_env("stagin", ENVS), "unknown environment `stagin`; did you mean `staging`?");
        assert_eq!(closest("prd", ENVS), Some("prod"));
        assert_eq!(closest("Staging", ENVS), Some("staging"));
        assert_eq!(closest("devint", ENVS), Some("dev-int"));
    }

    #[test]
    fn an_unrelated_name_lists_the_known_ones() {
        assert_eq!(closest("qa", ENVS), Some("uat"), "two edits away");
        assert_eq!(closest("production-eu", ENVS), None);
        assert_eq!(unknown_env("x", ENVS), "unknown environment `x` (known: dev-int, staging, prod, uat)");
    }
}
