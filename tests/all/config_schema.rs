//! The config's JSON Schema (schema/stagegate.schema.json) against a real
//! validator, check-jsonschema: it is what `stagegate config schema` prints;
//! it accepts every shipped example and what `init` writes; and it rejects
//! every config of the test corpus that `check` rejects for its structure
//! (an unknown key, a wrong type, a word not among the allowed ones, a
//! missing required key) — and accepts every one that `check` accepts.

use std::path::{Path, PathBuf};

use crate::init::TEMPLATE_ACTION;
use crate::lint::tool;
use crate::support::{Sandbox, repo_root, run, run_json};

fn schema_file() -> PathBuf {
    repo_root().join("schema/stagegate.schema.json")
}

/// `STAGEGATE_BLESS=1 cargo test config_schema` rewrites the committed file
/// (as does `stagegate config schema > schema/stagegate.schema.json`).
#[test]
fn the_committed_schema_is_what_config_schema_prints() {
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.args(["config", "schema"]);
    let (code, generated, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let parsed: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(parsed["$schema"], "http://json-schema.org/draft-07/schema#");
    if std::env::var_os("STAGEGATE_BLESS").is_some() {
        std::fs::write(schema_file(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(schema_file()).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/stagegate.schema.json is not what `stagegate config schema` prints: regenerate it with \
         `STAGEGATE_BLESS=1 cargo test config_schema`"
    );
}

/// check-jsonschema on `files`: the ones it rejected.
fn rejected(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for chunk in files.chunks(200) {
        let o = tool("check-jsonschema")
            .args(["--output-format", "json", "--force-filetype", "yaml", "--schemafile"])
            .arg(schema_file())
            .args(chunk)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("check-jsonschema: {e}: {}", String::from_utf8_lossy(&o.stderr)));
        let mut bad: Vec<&str> = Vec::new();
        for key in ["errors", "parse_errors"] {
            for e in report[key].as_array().into_iter().flatten() {
                bad.extend(e["filename"].as_str());
            }
        }
        out.extend(chunk.iter().filter(|f| bad.contains(&f.to_str().unwrap())).cloned());
        assert!(o.status.success() == bad.is_empty(), "{}", String::from_utf8_lossy(&o.stdout));
    }
    out
}

#[test]
fn every_example_and_the_starter_config_init_writes_are_valid() {
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.arg("init").arg("--dir").arg(sb.path()).args(["--action", TEMPLATE_ACTION]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let starter = sb.path().join(".github/stagegate.yml");
    let text = std::fs::read_to_string(&starter).unwrap();
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "# yaml-language-server: $schema=https://raw.githubusercontent.com/stagegate/stagegate/\
         0000000000000000000000000000000000000000/schema/stagegate.schema.json",
        "the starter config points editors at the schema of the pinned action"
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    assert!(files.len() >= 4, "{files:?}");
    files.push(starter);
    assert_eq!(rejected(&files), Vec::<PathBuf>::new());
}

/// What `check` says about a structure the schema describes: keys, types,
/// the allowed words and numbers, required keys.
const STRUCTURAL: &[&str] = &[
    "unknown key `",
    "` must be ",
    "keys in `",
    "unknown release scheme",
    "unknown `",
    "out of range",
    "missing `version`",
    "missing `environments`",
    "unsupported config version",
    "needs `",
];

/// The broken-config corpus and the fuzzer's seeds (which include the examples).
fn corpus() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["tests/configs/broken", "fuzz/seeds/config"] {
        files.extend(std::fs::read_dir(repo_root().join(dir)).unwrap().map(|e| e.unwrap().path()));
    }
    files.sort();
    files
}

enum Verdict {
    Valid,
    Structural(String),
    Other,
}

fn check(sb: &Sandbox, file: &Path) -> Verdict {
    let mut c = sb.cmd();
    c.arg("-c").arg(file).arg("check");
    let (code, json, _) = run_json(c);
    if code == 0 {
        return Verdict::Valid;
    }
    let errors = json["diagnostics"].as_array().into_iter().flatten().filter(|d| d["severity"] == "error");
    let messages: Vec<&str> = errors.filter_map(|d| d["message"].as_str()).collect();
    match messages.iter().find(|m| STRUCTURAL.iter().any(|s| m.contains(s))) {
        Some(m) => Verdict::Structural(m.to_string()),
        None => Verdict::Other,
    }
}

#[test]
fn the_schema_rejects_what_check_rejects_for_its_structure_and_accepts_what_check_accepts() {
    let files = corpus();
    let verdicts: Vec<Verdict> = std::thread::scope(|s| {
        let workers: Vec<_> = files
            .chunks(files.len().div_ceil(4))
            .map(|chunk| {
                s.spawn(move || {
                    let sb = Sandbox::new();
                    chunk.iter().map(|f| check(&sb, f)).collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let (mut valid, mut structural) = (Vec::new(), Vec::new());
    let mut why = std::collections::HashMap::new();
    for (f, verdict) in files.into_iter().zip(verdicts) {
        match verdict {
            Verdict::Valid => valid.push(f),
            Verdict::Structural(m) => {
                why.insert(f.clone(), m);
                structural.push(f);
            }
            Verdict::Other => {}
        }
    }
    assert!(valid.len() >= 4 && structural.len() >= 100, "{} valid, {} structural", valid.len(), structural.len());
    let bad = rejected(&valid);
    assert!(bad.is_empty(), "check accepts, the schema rejects: {bad:#?}");
    let rejected = rejected(&structural);
    let missed: Vec<_> =
        structural.iter().filter(|f| !rejected.contains(f)).map(|f| (f.clone(), why[f].clone())).collect();
    assert!(missed.is_empty(), "check rejects for the structure, the schema accepts: {missed:#?}");
}
