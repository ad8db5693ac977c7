//! Snapshots of what `init` writes for every example config in examples/:
//! each workflow, and what `init` says. A new example is covered as soon as it
//! exists. `INSTA_UPDATE=always cargo test --test all templates::` rewrites them.

use crate::init::TEMPLATE_ACTION;
use crate::support::{Sandbox, repo_root};

#[test]
fn init_writes_the_same_workflows_for_every_example_config() {
    let mut examples: Vec<_> = std::fs::read_dir(repo_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 4, "{examples:?}");
    for config in examples {
        let name = config.file_stem().unwrap().to_string_lossy().into_owned();
        let sb = Sandbox::new();
        let settings = crate::output::settings(sb.path());
        let _guard = settings.bind_to_scope();
        // Where a repository keeps it, so the workflows name it as they would there.
        sb.write(".github/stagegate.yml", std::fs::read(&config).unwrap());
        let mut c = sb.cmd();
        c.args(["init", "--dir", "."]).args(["--action", TEMPLATE_ACTION]);
        let shot = crate::output::shoot(&sb, c, "2026-12-01T10:00:00Z");
        assert_eq!(shot.code, 0, "{name}: {}", shot.stdout);
        insta::assert_snapshot!(format!("init_{name}"), shot.render());
        let dir = sb.path().join(".github/workflows");
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let workflow = file.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&file).unwrap();
            insta::assert_snapshot!(format!("template_{name}_{workflow}"), text);
        }
    }
}
