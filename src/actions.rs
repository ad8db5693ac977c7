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
    println!(
        "::{level} file={},line={line},col={col},title={}::{}",
        escape_property(file),
        escape_property(title),
        escape_data(message)
    );
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
}
