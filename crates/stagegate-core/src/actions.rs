//! The GitHub Actions runtime: workflow commands, outputs and the step summary.
//! All of it is a no-op outside Actions (`GITHUB_ACTIONS` unset).
//!
//! Everything here treats its values as data, as actions/toolkit does: command
//! properties and messages are escaped, each `$GITHUB_OUTPUT` value gets its
//! own random heredoc delimiter, and step-summary table cells escape `|` and
//! line breaks.

use std::io::Write;

pub fn active() -> bool {
    crate::console::under_actions()
}

/// Workflow-command property values escape `%`, CR, LF, `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Workflow-command messages escape `%`, CR and LF.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// The text of `::name key=value,…::data`, every part escaped.
pub fn format_command(name: &str, props: &[(&str, &str)], data: &str) -> String {
    let mut line = format!("::{name}");
    for (i, (k, v)) in props.iter().enumerate() {
        line.push(if i == 0 { ' ' } else { ',' });
        line.push_str(&format!("{k}={}", escape_property(v)));
    }
    line.push_str("::");
    line.push_str(&escape_data(data));
    line
}

/// Prints one workflow command on stdout, where the runner reads it.
pub fn command(name: &str, props: &[(&str, &str)], data: &str) {
    command_on(crate::console::Stream::Out, name, props, data);
}

/// Prints one workflow command on `stream` (the runner reads both), through
/// the one writer: escaped, one line, the only kind it prints unfenced.
pub fn command_on(stream: crate::console::Stream, name: &str, props: &[(&str, &str)], data: &str) {
    crate::console::command(stream, &format_command(name, props, data));
}

/// `::error file=…,line=…,col=…::message` (or `warning`), on stdout as Actions reads it.
pub fn annotation(level: &str, file: &str, line: usize, col: usize, title: &str, message: &str) {
    if !active() {
        return;
    }
    let file = workspace_relative(file, std::env::current_dir().ok().as_deref(), std::env::var_os("GITHUB_WORKSPACE"));
    let (line, col) = (line.to_string(), col.to_string());
    command(level, &[("file", &file), ("line", &line), ("col", &col), ("title", title)], message);
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

/// Why an output was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRefused(pub String);

/// The `$GITHUB_OUTPUT` record for one value: always the heredoc form, with
/// a delimiter of its own (`ghadelimiter_<random>`, as actions/toolkit
/// writes), refused when the name is not a plain name or the value contains
/// the delimiter.
pub fn output_record(name: &str, value: &str, delimiter: &str) -> Result<String, OutputRefused> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(OutputRefused(format!("output name `{}` is not a plain name", name.escape_debug())));
    }
    if value.contains(delimiter) {
        return Err(OutputRefused(format!("the value of output `{name}` contains its delimiter")));
    }
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

/// Appends `name=value` to `$GITHUB_OUTPUT`.
pub fn set_output(name: &str, value: &str) {
    let Some(path) = std::env::var_os("GITHUB_OUTPUT") else { return };
    let record = match output_record(name, value, &format!("ghadelimiter_{}", crate::random::hex128())) {
        Ok(r) => r,
        Err(OutputRefused(why)) => {
            tracing::error!("{why}; output not set");
            return;
        }
    };
    let Ok(mut f) = std::fs::OpenOptions::new().append(true).create(true).open(path) else {
        tracing::warn!("cannot open $GITHUB_OUTPUT; output `{name}` not set");
        return;
    };
    if f.write_all(record.as_bytes()).is_err() {
        tracing::warn!("cannot write $GITHUB_OUTPUT; output `{name}` not set");
    }
}

/// Text made safe for one cell of a Markdown table (a step summary, the
/// App's comment): it reads as the text it is and does nothing else. See
/// [`markdown_text`].
pub fn cell(s: &str) -> String {
    markdown_text(s, true)
}

/// Text made safe for one line of Markdown outside a table, as [`cell`].
pub fn inline(s: &str) -> String {
    markdown_text(s, false)
}

/// Record text in Markdown, neutralised: HTML and `<…>` autolinks as
/// entities (`&lt;`), link and image brackets and backslashes escaped
/// (`\[x\](y)` is no link), bare URLs and `www.` unlinked (`https&#58;//`,
/// `www&#46;`), `@` followed by a zero-width space (no mention, no e-mail
/// link), line breaks as `<br>` (no new block), other terminal controls
/// shown escaped (`\u{1b}`); in a table, `|` escaped too.
fn markdown_text(s: &str, in_table: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        match c {
            '|' if in_table => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            ':' if after.starts_with("//") => out.push_str("&#58;"),
            '.' if out.len() >= 3 && out.get(out.len() - 3..).is_some_and(|w| w.eq_ignore_ascii_case("www")) => {
                out.push_str("&#46;");
            }
            '@' => out.push_str("@&#8203;"),
            '\r' if after.starts_with('\n') => {}
            '\r' | '\n' => out.push_str("<br>"),
            c if crate::values::refname::is_unsafe_in_text(c) => out.extend(c.escape_default()),
            c => out.push(c),
        }
        rest = after;
    }
    out
}

/// An annotation of the run without a file (`::error title=…::message`, or
/// `warning`): how a refusal or a failure shows on the run's page, not only in
/// its log. On stderr — the runner reads workflow commands there too — so
/// stdout stays one JSON document; title and message escaped, credentials
/// redacted. A no-op outside Actions.
pub fn alert(level: &str, title: &str, message: &str) {
    if !active() {
        return;
    }
    let message = crate::redact::redact(message);
    command_on(crate::console::Stream::Err, level, &[("title", title)], &message);
}

/// Links into the repository on GitHub, built from `GITHUB_SERVER_URL` and
/// `GITHUB_REPOSITORY` (as the runner sets them): a run, a commit, a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    base: String,
}

impl Links {
    /// The repository's links, when the runner said where it lives.
    pub fn from_env() -> Option<Links> {
        let server = std::env::var("GITHUB_SERVER_URL").ok().filter(|s| !s.is_empty())?;
        let repo = std::env::var("GITHUB_REPOSITORY").ok().filter(|r| !r.is_empty())?;
        Links::new(&server, &repo)
    }

    /// `None` unless the server is an http(s) URL and the repository `OWNER/REPO`.
    pub fn new(server: &str, repo: &str) -> Option<Links> {
        let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        let (owner, name) = repo.split_once('/')?;
        let web = server.starts_with("https://") || server.starts_with("http://");
        (web && plain(owner) && plain(name)).then(|| Links { base: format!("{}/{repo}", server.trim_end_matches('/')) })
    }

    /// The workflow run `run_id` (a number; a local run id has no page).
    pub fn run(&self, run_id: &str) -> Option<String> {
        let number = !run_id.is_empty() && run_id.chars().all(|c| c.is_ascii_digit());
        number.then(|| format!("{}/actions/runs/{run_id}", self.base))
    }

    pub fn commit(&self, sha: &str) -> Option<String> {
        sha.chars().all(|c| c.is_ascii_hexdigit()).then(|| format!("{}/commit/{sha}", self.base))
    }

    pub fn release(&self, tag: &str) -> String {
        let tag: String = tag
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("{}/releases/tag/{tag}", self.base)
    }
}

/// `[text](url)` with the text escaped for a table cell, or the text alone
/// without a link.
pub fn link(text: &str, url: Option<&str>) -> String {
    match url {
        Some(u) => format!("[{}]({})", cell(text), u.replace(')', "%29")),
        None => cell(text),
    }
}

/// A two-column Markdown table of what a report says (`| Release | 1.0 |`);
/// values are Markdown already escaped by the caller.
pub fn fields(rows: &[(&str, String)]) -> String {
    let mut md = String::from("| | |\n|---|---|\n");
    for (k, v) in rows {
        md.push_str(&format!("| {k} | {v} |\n"));
    }
    md
}

/// The page of Actions run `run_id` of `repo` (OWNER/REPO) on
/// `GITHUB_SERVER_URL` (github.com by default): where its logs are and where
/// reviewers approve its deployments. `None` for a run id that is not a number
/// (`local`).
pub fn run_url(repo: &str, run_id: &str) -> Option<String> {
    let server = std::env::var("GITHUB_SERVER_URL").ok().filter(|s| !s.is_empty());
    let server = server.unwrap_or_else(|| "https://github.com".into());
    Links::new(&server, repo)?.run(run_id)
}

/// The page of this workflow run (`GITHUB_REPOSITORY`, run `run_id`), when
/// there is one.
pub fn this_run_url(run_id: &str) -> Option<String> {
    let repo = std::env::var("GITHUB_REPOSITORY").ok().filter(|r| !r.is_empty())?;
    run_url(&repo, run_id)
}

/// A Markdown table; every cell escaped with [`cell`].
pub fn markdown_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut md = format!("| {} |\n|{}\n", headers.join(" | "), " --- |".repeat(headers.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    md
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
        assert_eq!(
            format_command("error", &[("file", "a,b:c"), ("line", "3")], "x\n::set-env name=A::1"),
            "::error file=a%2Cb%3Ac,line=3::x%0A::set-env name=A::1"
        );
    }

    #[test]
    fn outputs_use_a_fresh_delimiter_and_refuse_values_containing_it() {
        let (a, b) = (crate::random::hex128(), crate::random::hex128());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert_eq!(output_record("tag", "x\ny", "D").unwrap(), "tag<<D\nx\ny\nD\n");
        assert!(output_record("tag", "x\nD\nevil=1", "D").is_err());
        assert!(output_record("a\nb", "x", "D").is_err());
    }

    #[test]
    fn links_point_into_the_repository() {
        let l = Links::new("https://github.com/", "acme/shop").unwrap();
        assert_eq!(l.run("4101").unwrap(), "https://github.com/acme/shop/actions/runs/4101");
        assert_eq!(l.run("local"), None);
        assert_eq!(l.commit("abc123").unwrap(), "https://github.com/acme/shop/commit/abc123");
        assert_eq!(l.release("v1.0 b").as_str(), "https://github.com/acme/shop/releases/tag/v1.0%20b");
        assert_eq!(Links::new("javascript:x", "a/b"), None);
        assert_eq!(Links::new("https://x", "a/b)c"), None);
        assert_eq!(link("a|b", Some("https://x/1")), "[a\\|b](https://x/1)");
    }

    #[test]
    fn table_cells_stay_one_cell() {
        assert_eq!(cell("a|b\nc\r\nd<e>"), "a\\|b<br>c<br>d&lt;e&gt;");
        assert_eq!(inline("a|b\n# h"), "a|b<br># h");
    }

    #[test]
    fn markdown_in_record_text_is_shown_not_rendered() {
        let hostile = "![x](https://evil.example/p.png) [y](javascript:z) <img src=x> <https://a.example> \\[w](v)";
        assert_eq!(
            cell(hostile),
            "!\\[x\\](https&#58;//evil.example/p.png) \\[y\\](javascript:z) &lt;img src=x&gt; \
             &lt;https&#58;//a.example&gt; \\\\\\[w\\](v)"
        );
        assert_eq!(
            inline("see www.evil.example or WWW.x.y, mail a@b.example, ping @alice"),
            "see www&#46;evil.example or WWW&#46;x.y, mail a@&#8203;b.example, ping @&#8203;alice"
        );
        assert_eq!(inline("r1\u{1b}[2J\u{202e}"), "r1\\u{1b}\\[2J\\u{202e}");
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
