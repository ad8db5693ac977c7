//! Output for people (aligned text, colour on a terminal or when forced with
//! `FORCE_COLOR`/`CLICOLOR_FORCE`, `NO_COLOR` respected) and for programs
//! (exactly one JSON document on stdout).
//!
//! Every command builds one typed answer ([`Render`]) and hands it to
//! [`Out::print`]: the JSON document, the text, the Actions step summary, the
//! `$GITHUB_OUTPUT` values and the run's annotations are all renderings of it,
//! printed here and nowhere else, through the one writer ([`crate::console`]).

use serde::Serialize;

use crate::console::{self, Stream};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub format: Format,
    pub color: bool,
}

/// Whether logs and diagnostics on stderr may be coloured.
pub fn stderr_color() -> bool {
    console::colored(Stream::Err)
}

impl Out {
    /// Colour only when both stdout and stderr are terminals (or colour is
    /// forced): painted words go to either, and a log file must never get
    /// escape codes it did not ask for.
    pub fn new(format: Format) -> Self {
        Out { format, color: console::colored(Stream::Out) }
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// Prints the one JSON document of this command.
    pub fn emit<T: Serialize>(&self, value: &T) {
        console::json(Stream::Out, &serde_json::to_string_pretty(value).expect("output serializes"));
    }

    /// Prints a command's answer: its `$GITHUB_OUTPUT` values, step summary
    /// and annotations (under Actions), then the JSON document or the text.
    pub fn print<R: Render>(&self, answer: &R) {
        for Output { name, value } in answer.outputs() {
            crate::actions::set_output(name, &value);
        }
        if let Some(md) = answer.summary() {
            crate::actions::summary(&md);
        }
        for a in answer.annotations() {
            if crate::actions::active() {
                crate::actions::alert(a.level.as_str(), &a.title, &a.message);
            } else if a.level == Level::Warning {
                console::print(Stream::Err, &format!("{} {}", self.warn("warning:"), a.message));
            }
        }
        if self.json() {
            self.emit(answer);
        } else {
            let text = answer.text(self);
            if !text.is_empty() {
                console::answer(Stream::Out, &text);
            }
        }
    }

    /// One line of a long-running command's log (a watcher's), as it
    /// happens: on stdout, or on stderr when stdout is for the one JSON
    /// document.
    pub fn stream(&self, line: &str) {
        console::print(if self.json() { Stream::Err } else { Stream::Out }, line);
    }

    /// A line of progress on stderr (a file skipped, a file uploaded).
    pub fn note(&self, line: &str) {
        console::print(Stream::Err, line);
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
    pub fn good(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn bad(&self, s: &str) -> String {
        self.paint("31", s)
    }
    pub fn warn(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// A command's answer, and how each audience reads it. The JSON document is
/// its `Serialize` form: one name per concept (`environment`, `release`),
/// times in RFC 3339 UTC with `Z`, absent values `null`.
pub trait Render: Serialize {
    /// For people, on stdout (colour through `o`).
    fn text(&self, o: &Out) -> String;
    /// Markdown for `$GITHUB_STEP_SUMMARY`, when the command has something to say.
    fn summary(&self) -> Option<String> {
        None
    }
    /// Values for `$GITHUB_OUTPUT` (each declared in action.yml).
    fn outputs(&self) -> Vec<Output> {
        Vec::new()
    }
    /// Annotations of the run (`::error title=…::`, `::warning …`).
    fn annotations(&self) -> Vec<Annotation> {
        Vec::new()
    }
}

/// One `$GITHUB_OUTPUT` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub name: &'static str,
    pub value: String,
}

/// The output `name` with `value`.
pub fn output(name: &'static str, value: impl Into<String>) -> Output {
    Output { name, value: value.into() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// An annotation of the run, without a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub level: Level,
    pub title: String,
    pub message: String,
}

/// A dry run's plan as text: `would …`, one line each.
pub fn would(effects: &[String]) -> String {
    effects.iter().map(|e| format!("would {e}\n")).collect()
}

/// Renders rows as left-aligned columns separated by two spaces. Widths count
/// characters, so `→` does not push a column out of line.
///
/// Cells may hold values from records others can write (a deployment's
/// release id on GitHub): a line break or another terminal control in one is
/// shown escaped (`\n`, `\u{1b}`) — as the one writer would show it, but
/// before the widths are counted — so no value starts a line of its own,
/// where the runner would read it as a workflow command.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| one_line(c)).collect()).collect();
    let rows = &rows;
    let cols = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(width[i] - c.chars().count() + 2));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out.push('\n');
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// `s` with its line breaks (`\n`, `\r`, `\u{2028}`, …) and other terminal
/// controls escaped.
fn one_line(s: &str) -> String {
    let breaks = |c: char| c == '\n' || crate::console::is_terminal_control(c);
    if !s.contains(breaks) {
        return s.to_owned();
    }
    s.chars().map(|c| if breaks(c) { c.escape_default().to_string() } else { c.to_string() }).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_with_a_line_break_stays_on_its_row() {
        let t = super::table(&["A", "B"], &[vec!["x\n::error::pwned".into(), "y".into()]]);
        assert_eq!(t.lines().count(), 2, "{t}");
        assert!(t.lines().all(|l| !l.starts_with("::")), "{t}");
        assert!(t.contains("x\\n::error::pwned"), "{t}");
    }
}
