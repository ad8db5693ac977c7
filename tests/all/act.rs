//! The composite action in a real Actions runner (nektos/act, on the host,
//! offline): a consumer repository `uses:` the pinned action, which installs
//! the binary from a release (sha256 verified), caches it right after the
//! install, and runs `plan` (refused, then allowed), `check` on the embedded
//! default config, `release next`; later steps and jobs read the outputs.
//! See support/act.rs for the set-up.

use crate::support::act::{self, ACTION_SHA, Act, TOKEN};
use crate::support::github::github;
use crate::support::{Sandbox, repo_root};

/// A consumer repository with `workflow` from tests/act/consumer/ (the action
/// pinned to the commit under test) and `files`.
fn consumer(workflow: &str, repo: &str, files: &[(&str, &str)]) -> Sandbox {
    let sb = Sandbox::new();
    let text = std::fs::read_to_string(repo_root().join("tests/act/consumer").join(workflow)).unwrap();
    sb.write(
        &format!(".github/workflows/{workflow}"),
        text.replace("uses: ACTION", &format!("uses: {}", act::action())),
    );
    for (name, text) in files {
        sb.write(name, text);
    }
    act::git_repo(sb.path(), repo);
    sb
}

#[test]
fn the_action_installs_once_caches_before_a_refused_plan_and_hands_outputs_on() {
    let Some(bin) = act::act_bin() else { return };
    let h = github();
    let repo = h.repo("act-consumer");
    let sb = consumer("consumer.yml", &repo, &[]);
    let releases = act::release_server(act::release_files(env!("CARGO_PKG_VERSION"), true));
    let cache = tempfile::tempdir().unwrap();
    let run = Act::new(&bin, sb.path(), "workflow_dispatch", "consumer.yml", cache.path())
        .env("GITHUB_API_URL", &h.url)
        .env("GITHUB_SERVER_URL", &releases.server.url())
        .env("GITHUB_RUN_ID", "4101")
        .run();
    let log = &run.log;

    // The refused plan fails its job (exit 3) but leaves its output; the rest runs.
    let jobs = run.jobs();
    assert_eq!(jobs.get("refused"), Some(&false), "{jobs:?}\n{log}");
    assert_eq!(jobs.get("check"), Some(&true), "{jobs:?}\n{log}");
    assert_eq!(jobs.get("later"), Some(&true), "{jobs:?}\n{log}");
    let printed = run.printed();
    assert!(printed.contains(&"refused plan: allowed=false outcome=failure"), "{log}");
    assert!(log.contains("is not an allowed path"), "{log}");

    // check: no .github/stagegate.yml, so the embedded default applies (no --config).
    assert!(log.contains("<embedded default config> is valid"), "{log}");

    // release next → tag and version; an allowed plan → allowed=true; a later
    // step and a later job read them.
    let outputs = printed.iter().find(|l| l.starts_with("step outputs: ")).unwrap_or_else(|| panic!("{log}"));
    let tag = outputs.split("tag=").nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or("");
    assert!(!tag.is_empty() && outputs.ends_with("allowed=true"), "{outputs}");
    assert!(printed.contains(&format!("job outputs: tag={tag} allowed=true").as_str()), "{log}");

    // Installed once, from the release, sha256 verified: the job that then
    // failed had already saved the binary, and every later use restored it.
    let asked = releases.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2, "one download of the asset and one of sha256sums.txt: {asked:?}");
    assert!(log.contains("installed from the release asset") && log.contains("sha256 verified"), "{log}");
    assert_eq!(run.count("stand-in cache: miss"), 1, "{log}");
    assert_eq!(run.count("stand-in cache: saved key"), 1, "{log}");
    assert_eq!(run.count("stand-in cache: restored key"), 3, "{log}");
    let key = printed.iter().find_map(|l| l.strip_prefix("stand-in cache: saved key ")).unwrap();
    assert!(key.contains(ACTION_SHA), "the cache key names the action's ref: {key}");

    assert!(!log.contains(TOKEN), "the token leaked into the log");
    let v = h.schema_violations(&repo);
    assert!(v.is_empty(), "Prism: {v:#?}");
}

#[test]
fn a_broken_config_in_a_subdirectory_is_annotated_relative_to_the_workspace() {
    let Some(bin) = act::act_bin() else { return };
    let broken = std::fs::read_to_string(repo_root().join("tests/configs/broken/unknown-env-in-edge.yml")).unwrap();
    let repo = github().repo("act-broken");
    let sb = consumer("broken.yml", &repo, &[("services/api/.github/stagegate.yml", &broken)]);
    let releases = act::release_server(act::release_files(env!("CARGO_PKG_VERSION"), true));
    let cache = tempfile::tempdir().unwrap();
    let run = Act::new(&bin, sb.path(), "workflow_dispatch", "broken.yml", cache.path())
        .env("GITHUB_SERVER_URL", &releases.server.url())
        .run();
    assert_ne!(run.code, 0, "{}", run.log);
    assert_eq!(run.jobs().get("check"), Some(&false), "{}", run.log);
    let annotations: Vec<&str> = run.log.lines().filter(|l| l.contains("::error file=")).collect();
    assert!(!annotations.is_empty(), "no annotation:\n{}", run.log);
    for a in &annotations {
        assert!(a.contains("::error file=services/api/.github/stagegate.yml,line="), "{a}");
    }
}
