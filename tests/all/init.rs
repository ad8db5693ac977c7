//! `stagegate init`: snapshot of the templates, drift detection, refusal to
//! overwrite changes.

use std::path::Path;

use crate::support::{Sandbox, example, repo_root, run, run_json};

/// The action reference the committed templates were rendered with.
pub const TEMPLATE_ACTION: &str = "stagegate/stagegate@0000000000000000000000000000000000000000";

fn init(sb: &Sandbox, dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut c = sb.cmd();
    c.arg("init").arg("--dir").arg(dir).args(["--action", TEMPLATE_ACTION]).args(extra);
    run(c)
}

fn workflows(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    v.sort();
    v
}

/// `workflows-templates/` is what `init` renders for the seed-002 config.
/// `STAGEGATE_BLESS=1 cargo test init::templates` rewrites it after a deliberate change.
#[test]
fn templates_match_what_init_renders() {
    let sb = Sandbox::new();
    let (code, _, err) = init(&sb, sb.path(), &[]);
    assert_eq!(code, 0, "{err}");
    let rendered = workflows(&sb.path().join(".github/workflows"));
    let committed_dir = repo_root().join("workflows-templates");
    if std::env::var_os("STAGEGATE_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&committed_dir);
        std::fs::create_dir_all(&committed_dir).unwrap();
        for (name, text) in &rendered {
            std::fs::write(committed_dir.join(name), text).unwrap();
        }
    }
    let committed = workflows(&committed_dir);
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&rendered), names(&committed));
    for ((name, got), (_, want)) in rendered.iter().zip(&committed) {
        assert_eq!(got, want, "{name} differs from workflows-templates/{name}; STAGEGATE_BLESS=1 updates it");
    }
    assert_eq!(
        names(&rendered),
        [
            "create-release.yml",
            "deploy-dev-int.yml",
            "hold.yml",
            "journal-import.yml",
            "journal-upload.yml",
            "promote-release.yml",
            "release.yml",
            "rollback.yml",
            "sync-environments.yml"
        ]
    );
}

#[test]
fn init_into_an_empty_repository_then_check_reports_no_drift() {
    let sb = Sandbox::new();
    let (code, out, _) = init(&sb, sb.path(), &[]);
    assert_eq!(code, 0);
    assert!(out.contains("wrote ") && out.contains(".github/stagegate.yml (starter config)"), "{out}");
    let (code, out, _) = init(&sb, sb.path(), &["--check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("9 files match the config"), "{out}");
    let (code, out, _) = init(&sb, sb.path(), &[]);
    assert_eq!(code, 0);
    assert!(!out.contains("wrote"), "a second init writes nothing: {out}");
}

#[test]
fn init_refuses_to_overwrite_changes_without_force() {
    let sb = Sandbox::new();
    assert_eq!(init(&sb, sb.path(), &[]).0, 0);
    let wf = sb.path().join(".github/workflows/rollback.yml");
    std::fs::write(&wf, "# my own edits\n").unwrap();
    let other = sb.path().join(".github/workflows/release.yml");
    std::fs::remove_file(&other).unwrap();

    let (code, _, err) = init(&sb, sb.path(), &[]);
    assert_eq!(code, 3);
    assert!(
        err.contains("rollback.yml has changes init would overwrite") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&wf).unwrap(), "# my own edits\n");
    assert!(!other.exists(), "a refusal writes nothing at all");

    let mut c = sb.cmd();
    c.arg("init").arg("--dir").arg(sb.path()).args(["--action", TEMPLATE_ACTION, "--check"]);
    let (code, json, _) = run_json(c);
    assert_eq!(code, 3);
    let states: Vec<(String, String)> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["state"] != "same")
        .map(|f| {
            (
                f["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string(),
                f["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("release.yml".to_string(), "missing".to_string()), ("rollback.yml".to_string(), "differs".to_string())]
    );

    assert_eq!(init(&sb, sb.path(), &["--force"]).0, 0);
    assert_eq!(init(&sb, sb.path(), &["--check"]).0, 0);
}

#[test]
fn workflows_follow_the_config() {
    let sb = Sandbox::new();
    assert_eq!(init(&sb, sb.path(), &[]).0, 0);
    let cfg = sb.path().join(".github/stagegate.yml");
    let text = std::fs::read_to_string(&cfg).unwrap().replace("required: 2 ", "required: 3 ");
    std::fs::write(&cfg, text).unwrap();
    let (code, out, _) = init(&sb, sb.path(), &["--check"]);
    assert_eq!(code, 3, "a third approval needs a third approval job: {out}");
    assert!(out.contains("promote-release.yml differs"), "{out}");
    assert_eq!(init(&sb, sb.path(), &["--force"]).0, 0);
    let promote = std::fs::read_to_string(sb.path().join(".github/workflows/promote-release.yml")).unwrap();
    assert!(promote.contains("name: prod-approval-2\n"), "{promote}");
    assert!(!promote.contains("prod-approval-3"), "the third approval is GitHub's own, on prod: {promote}");
    assert!(promote.contains("needs: [plan, approve-prod-1, approve-prod-2]"), "{promote}");
}

#[test]
fn init_shapes_workflows_from_another_model() {
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.arg("-c").arg(example("etna.yml")).arg("init").arg("--dir").arg(sb.path()).args(["--action", TEMPLATE_ACTION]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("starter config"), "an explicit config is used, not replaced: {out}");
    let files = workflows(&sb.path().join(".github/workflows"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"deploy-preview.yml") && names.contains(&"deploy-feature.yml"), "{names:?}");
    let release = &files.iter().find(|(n, _)| n == "release.yml").unwrap().1;
    assert!(
        release.contains("      name: staging\n      deployment: false\n") && release.contains("refs/tags/"),
        "{release}"
    );
    // `feature` is ephemeral: each push deploys the branch's own instance, one
    // run at a time per instance, and deleting the branch destroys it.
    let text = |name: &str| &files.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name}: {names:?}")).1;
    let deploy = text("deploy-feature.yml");
    assert!(deploy.contains("group: stagegate-feature-${{ github.ref_name }}"), "{deploy}");
    assert!(deploy.contains("STAGEGATE_ARG_ENV: 'feature'") && !deploy.contains("environment:"), "{deploy}");
    let destroy = text("destroy-feature.yml");
    assert!(destroy.contains("  delete:\n") && destroy.contains("types: [closed]"), "{destroy}");
    assert!(destroy.contains("command: destroy") && destroy.contains("STAGEGATE_ARG_REF: refs/heads/"), "{destroy}");
}

#[test]
fn a_published_release_goes_only_where_a_direct_deploy_is_accepted() {
    // journal.yml: every environment a release could go to needs approvals,
    // and a direct deploy there would be refused: no release.yml.
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.arg("-c").arg(example("journal.yml")).arg("init").arg("--dir").arg(sb.path()).args(["--action", TEMPLATE_ACTION]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let files = workflows(&sb.path().join(".github/workflows"));
    assert!(files.iter().all(|(n, _)| n != "release.yml"), "{:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());
}

#[test]
fn an_unpinned_action_is_refused_and_nothing_is_written() {
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.arg("init").arg("--dir").arg(sb.path()).args(["--action", "stagegate/stagegate@v1"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("is not OWNER/REPO@SHA"), "{err}");
    assert!(!sb.path().join(".github").exists());
}

fn init_without_pin(sb: &Sandbox, extra: &[&str]) -> (i32, String, String) {
    let mut c = sb.cmd();
    c.arg("init").arg("--dir").arg(sb.path()).args(extra);
    run(c)
}

/// After `init --action …@SHA`, `init --check` and `init --force` without
/// `--action` keep that pin, including one Renovate bumped since.
#[test]
fn check_and_force_keep_the_pin_the_workflows_have() {
    let sb = Sandbox::new();
    let pin = "my-org/stagegate@0123456789abcdef0123456789abcdef01234567";
    assert_eq!(init_without_pin(&sb, &["--action", pin]).0, 0);
    let (code, out, _) = init_without_pin(&sb, &["--check"]);
    assert_eq!(code, 0, "the pin just written is not drift: {out}");

    let bumped = "my-org/stagegate@89abcdef0123456789abcdef0123456789abcdef # v0.2.0";
    let dir = sb.path().join(".github/workflows");
    for (name, text) in workflows(&dir) {
        let text = text.replace(&format!("{pin} # v{}", env!("CARGO_PKG_VERSION")), bumped);
        std::fs::write(dir.join(name), text).unwrap();
    }
    let (code, out, _) = init_without_pin(&sb, &["--check"]);
    assert_eq!(code, 0, "a bot's bump of the pin is not drift: {out}");

    // A real change is still drift, and --force repairs it with the bumped pin.
    std::fs::write(dir.join("rollback.yml"), "# edited\n").unwrap();
    assert_eq!(init_without_pin(&sb, &["--check"]).0, 3);
    assert_eq!(init_without_pin(&sb, &["--force"]).0, 0);
    let rollback = std::fs::read_to_string(dir.join("rollback.yml")).unwrap();
    assert!(rollback.contains(&format!("uses: {bumped}\n")), "{rollback}");
}

/// `--skip` leaves a user's own workflow alone; `--only` writes just the
/// ones named; an unknown name is an input error that lists the workflows.
#[test]
fn only_and_skip_select_workflows() {
    let sb = Sandbox::new();
    let dir = sb.path().join(".github/workflows");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("release.yml"), "# our own release workflow\n").unwrap();
    assert_eq!(init(&sb, sb.path(), &[]).0, 3, "without --skip the user's release.yml blocks init");
    let (code, _, err) = init(&sb, sb.path(), &["--skip", "release.yml"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("release.yml")).unwrap(), "# our own release workflow\n");
    assert!(dir.join("rollback.yml").exists());
    assert_eq!(init(&sb, sb.path(), &["--check", "--skip", "release"]).0, 0);

    let other = Sandbox::new();
    let (code, _, err) = init(&other, other.path(), &["--only", "rollback", "promote-release.yml"]);
    assert_eq!(code, 0, "{err}");
    let names: Vec<String> = workflows(&other.path().join(".github/workflows")).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["promote-release.yml", "rollback.yml"]);

    let (code, _, err) = init(&other, other.path(), &["--only", "rolback"]);
    assert_eq!(code, 2);
    // miette wraps long lines behind a `│` gutter: read the words only.
    let flat = err.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
    assert!(flat.contains("did you mean `rollback`") && flat.contains("sync-environments"), "{err}");
}

/// A config without a `journal:` section gets no journal workflows (they
/// need self-hosted runners it does not have).
#[test]
fn journal_workflows_only_with_a_journal_section() {
    let sb = Sandbox::new();
    let cfg = sb.path().join("no-journal.yml");
    let text = std::fs::read_to_string(example("seed-environments.yml")).unwrap();
    // Drop the `journal:` block: its line and the indented lines under it.
    let mut inside = false;
    let without: String = text
        .lines()
        .filter(|l| {
            if l.starts_with("journal:") {
                inside = true;
            } else if !l.starts_with(' ') && !l.is_empty() {
                inside = false;
            }
            !inside
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!without.contains("writers:"), "{without}");
    std::fs::write(&cfg, without).unwrap();
    let mut c = sb.cmd();
    c.arg("-c").arg(&cfg).arg("init").arg("--dir").arg(sb.path()).args(["--action", TEMPLATE_ACTION]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let names: Vec<String> = workflows(&sb.path().join(".github/workflows")).into_iter().map(|(n, _)| n).collect();
    assert!(names.iter().all(|n| !n.starts_with("journal-")), "{names:?}");
    assert!(names.contains(&"promote-release.yml".to_string()), "{names:?}");
}

/// The runs list says what ran ("26.12.01.4 staging → prod"): the templates
/// name their runs from the inputs in `run-name:`, an expression GitHub
/// evaluates, never a shell; no `run:` script gets an input.
#[test]
fn runs_are_named_after_what_they_do() {
    let dir = repo_root().join("workflows-templates");
    let run_name = |file: &str| {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(!text.lines().any(|l| l.trim_start().starts_with("run:") && l.contains("${{")), "{file}");
        text.lines().find_map(|l| l.strip_prefix("run-name: ")).map(str::to_owned)
    };
    assert_eq!(
        run_name("promote-release.yml").as_deref(),
        Some("${{ inputs.release }} ${{ inputs.source }} → ${{ inputs.target }}")
    );
    assert_eq!(
        run_name("rollback.yml").as_deref(),
        Some("Roll back ${{ inputs.environment }} to ${{ inputs.release || 'the previous good release' }}")
    );
    assert_eq!(run_name("release.yml").as_deref(), Some("Deploy ${{ github.event.release.tag_name }} to future"));
}

/// `--check` and `--dry-run` show what would change as a unified diff,
/// paths as in the repository.
#[test]
fn check_and_dry_run_show_a_unified_diff() {
    let sb = Sandbox::new();
    let (code, out, _) = init(&sb, sb.path(), &["--check"]);
    assert_eq!(code, 3);
    assert!(out.contains("--- /dev/null\n+++ b/.github/workflows/promote-release.yml\n@@ -0,0 +1,"), "{out}");
    assert!(out.contains("\n+name: Promote release\n"), "{out}");
    assert_eq!(init(&sb, sb.path(), &[]).0, 0);

    let path = sb.path().join(".github/workflows/rollback.yml");
    let ours = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, ours.replacen("name: Roll back\n", "name: Our roll back\n", 1)).unwrap();
    let (code, out, _) = init(&sb, sb.path(), &["--check"]);
    assert_eq!(code, 3);
    let hunk = "--- a/.github/workflows/rollback.yml\n+++ b/.github/workflows/rollback.yml\n@@";
    assert!(out.contains(hunk), "{out}");
    assert!(out.contains("\n-name: Our roll back\n+name: Roll back\n"), "{out}");
    let changed: Vec<&str> = out
        .lines()
        .filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---"))
        .collect();
    assert_eq!(changed, ["-name: Our roll back", "+name: Roll back"], "one line changes: {out}");

    let mut c = sb.cmd();
    c.args(["--output", "json", "init", "--check", "--dir"]).arg(sb.path()).args(["--action", TEMPLATE_ACTION]);
    let (_, json, _) = crate::support::run_json(c);
    let file = json["files"].as_array().unwrap().iter().find(|f| f["state"] == "differs").unwrap();
    assert!(file["diff"].as_str().unwrap().contains("-name: Our roll back\n+name: Roll back\n"), "{file:#}");

    let mut c = sb.cmd();
    c.args(["--dry-run", "init", "--force", "--dir"]).arg(sb.path()).args(["--action", TEMPLATE_ACTION]);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(out.contains("would write") && out.contains("-name: Our roll back\n+name: Roll back\n"), "{out}");
    assert!(std::fs::read_to_string(&path).unwrap().contains("name: Our roll back"), "a dry run writes nothing");
}
