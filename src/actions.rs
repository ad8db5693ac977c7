//! The GitHub Actions runtime: workflow commands, outputs and the step summary.
//! All of it is a no-op outside Actions (`GITHUB_ACTIONS` unset).

use std::io::Write;

pub fn active() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Workflow-command property values escape `%`, CR, LF, `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Workflow-command messages escape `%`, CR and LF.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// `::error file=…,line=…,col=…::message` (or `warning`), on stdout as Actions reads it.
pub fn annotation(level: &str, file: &str, line: usize, col: usize, title: &str, message: &str) {
    if !active() {
        return;
    }
    let file = workspace_relative(file, std::env::current_dir().ok().as_deref(), std::env::var_os("GITHUB_WORKSPACE"));
    println!(
        "::{level} file={},line={line},col={col},title={}::{}",
        escape_property(&file),
        escape_property(title),
        escape_data(message)
    );
}

/// GitHub places `file=` annotations relative to the workspace, whatever
/// directory the step ran in: an existing `file` (relative to `cwd`, or
/// absolute) is rewritten relative to `workspace`. Anything else (outside the
/// workspace, no workspace, not a file) stays as given.
fn workspace_relative(file: &str, cwd: Option<&std::path::Path>, workspace: Option<std::ffi::OsString>) -> String {
    let (Some(cwd), Some(ws)) = (cwd, workspace) else { return file.to_owned() };
    let (Ok(abs), Ok(ws)) = (cwd.join(file).canonicalize(), std::path::Path::new(&ws).canonicalize()) else {
        return file.to_owned();
    };
    match abs.strip_prefix(ws) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().into_owned(),
        _ => file.to_owned(),
    }
}

/// Appends `name=value` to `$GITHUB_OUTPUT` (heredoc form for multi-line values).
pub fn set_output(name: &str, value: &str) {
    let Some(path) = std::env::var_os("GITHUB_OUTPUT") else { return };
    let Ok(mut f) = std::fs::OpenOptions::new().append(true).create(true).open(path) else {
        tracing::warn!("cannot open $GITHUB_OUTPUT; output `{name}` not set");
        return;
    };
    let r = if value.contains('\n') {
        let delim = format!("stagegate_{}", std::process::id());
        writeln!(f, "{name}<<{delim}\n{value}\n{delim}")
    } else {
        writeln!(f, "{name}={value}")
    };
    if r.is_err() {
        tracing::warn!("cannot write $GITHUB_OUTPUT; output `{name}` not set");
    }
}

/// Appends Markdown to `$GITHUB_STEP_SUMMARY`.
pub fn summary(markdown: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else { return };
    if let Ok(mut f) = std::fs::OpenOptions::new().append(true).create(true).open(path) {
        let _ = writeln!(f, "{markdown}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_command_values() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("x:y,z"), "x%3Ay%2Cz");
    }

    #[test]
    fn annotation_files_are_relative_to_the_workspace() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        let sub = ws.join("services/api");
        std::fs::create_dir_all(sub.join(".github")).unwrap();
        std::fs::write(sub.join(".github/stagegate.yml"), "").unwrap();
        std::fs::write(ws.join("services/x.yml"), "").unwrap();
        std::fs::write(tmp.path().join("outside.yml"), "").unwrap();
        let rel = |file: &str, w: Option<&std::path::Path>| {
            workspace_relative(file, Some(&sub), w.map(|p| p.as_os_str().to_owned()))
        };
        assert_eq!(rel(".github/stagegate.yml", Some(&ws)), "services/api/.github/stagegate.yml");
        assert_eq!(rel("../x.yml", Some(&ws)), "services/x.yml");
        assert_eq!(
            rel(sub.join(".github/stagegate.yml").to_str().unwrap(), Some(&ws)),
            "services/api/.github/stagegate.yml"
        );
        assert_eq!(rel("../../../outside.yml", Some(&ws)), "../../../outside.yml");
        assert_eq!(rel(".github/stagegate.yml", None), ".github/stagegate.yml");
        assert_eq!(rel("<embedded default config>", Some(&ws)), "<embedded default config>");
    }
}
