//! Configs that can never work: each is refused by `check` with a span and a
//! help, instead of failing (or misbehaving) at the first run.

use std::collections::HashMap;

use super::names::approval_envs;
use super::*;
use crate::values::refname;

pub(super) fn check(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    environment_names(cfg, diags);
    release_names(cfg, diags);
}

/// GitHub environment names are case-insensitive, and `required: N > 1`
/// creates `<env>-approval-1 … N`: two names GitHub would take for one
/// environment can never both exist.
fn environment_names(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    let mut by_folded: HashMap<String, &Environment> = HashMap::new();
    for env in &cfg.environments {
        match by_folded.get(&env.name.to_lowercase()) {
            Some(first) if first.name != env.name => diags.push(
                Diagnostic::error(
                    env.pos,
                    format!("environments `{}` and `{}` differ only by case", first.name, env.name),
                )
                .help(format!(
                    "GitHub environment names are case-insensitive, so both are one environment (first on line {}); rename one",
                    first.pos.line
                )),
            ),
            Some(_) => {} // the same name twice is reported elsewhere
            None => {
                by_folded.insert(env.name.to_lowercase(), env);
            }
        }
    }
    for env in &cfg.environments {
        for generated in approval_envs(&env.name, env.approvals.required) {
            if let Some(user) = by_folded.get(&generated.to_lowercase()) {
                diags.push(
                    Diagnostic::error(
                        user.pos,
                        format!(
                            "environment `{}` has the name of an approval environment of `{}`",
                            user.name, env.name
                        ),
                    )
                    .help(format!(
                        "`{}` needs {} approvals, so stagegate creates `{}-approval-1` … `{}-approval-{}`; rename `{}`",
                        env.name, env.approvals.required, env.name, env.name, env.approvals.required, user.name
                    )),
                );
            }
        }
    }
}

/// A version that shows what the release format renders, for checking tags.
fn sample_version(r: &Release) -> String {
    match r.scheme {
        Scheme::Semver => "1.2.3".into(),
        Scheme::Calver => r.format.render(chrono::NaiveDate::from_ymd_opt(2026, 11, 21).expect("a date"), 1),
    }
}

/// `tag_prefix` + the rendered version becomes a git tag, and `name` the
/// release's title: both must be data a ref and a log line can carry.
fn release_names(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    let r = &cfg.release;
    let prefix = &r.tag_prefix;
    if let Some(c) = prefix.chars().find(|&c| c.is_whitespace() || refname::is_unsafe_in_text(c)) {
        diags.push(
            Diagnostic::error(
                r.tag_prefix_pos,
                format!("`tag_prefix` contains whitespace or a control character (U+{:04X})", c as u32),
            )
            .help("a tag prefix becomes part of every tag name: use letters, digits, `-`, `_`, `.` or `/`, e.g. `v`"),
        );
    } else if !prefix.is_empty()
        && let Err(e) = refname::check(&format!("{prefix}1"))
    {
        diags.push(
            Diagnostic::error(r.tag_prefix_pos, format!("`tag_prefix` `{prefix}` cannot start a git tag: {e}"))
                .help("git tag names cannot contain `..`, `~^:?*[\\`, or start with `-`, `/` or `.`; e.g. `v`"),
        );
    } else if let Err(e) = refname::check(&format!("{prefix}{}", sample_version(r))) {
        diags.push(
            Diagnostic::error(
                r.format.pos,
                format!("release format `{}` does not render a valid tag name: {e}", *r.format),
            )
            .help("separate the fields with `.`, `-` or `_`, e.g. \"YY.0M.0D.BUILD\""),
        );
    }
    if let Some(name) = &r.name
        && let Some(c) = refname::unsafe_char(name)
    {
        diags.push(
            Diagnostic::error(
                r.name_pos,
                format!("release `name` contains a control or invisible character (U+{:04X})", c as u32),
            )
            .help("a release name is one line of text, e.g. \"Release {tag}\""),
        );
    }
}
