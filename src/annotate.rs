//! The log, written through the one writer ([`stagegate_core::console`]):
//! [`LogWriter`] hands each formatted event to it, so a log line is redacted,
//! its controls are shown escaped and, under Actions, it is fenced when it
//! could be read as a workflow command. Under Actions a warning or an error
//! becomes an annotation of the run (`::warning title=stagegate::…`), escaped,
//! so it shows on the run's page and not only in its log; other levels print
//! as usual (`INFO message`).

use std::fmt;

use stagegate_core::console::{self, Stream};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// The event formatter for `tracing_subscriber::fmt` under Actions.
pub struct Annotations;

impl<S, N> FormatEvent<S, N> for Annotations
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut message = String::new();
        ctx.format_fields(Writer::new(&mut message), event)?;
        let level = *event.metadata().level();
        match annotation(level) {
            // stagegate's own workflow command: the writer of commands, not of text.
            Some(name) => {
                let message = crate::github::redact::redact(&message);
                crate::actions::command_on(Stream::Err, name, &[("title", "stagegate")], &message);
                Ok(())
            }
            None => writeln!(writer, "{level:>5} {}", message.replace('\n', "\n      ")),
        }
    }
}

/// The annotation a log event of `level` becomes under Actions, if any.
fn annotation(level: Level) -> Option<&'static str> {
    match level {
        Level::ERROR => Some("error"),
        Level::WARN => Some("warning"),
        _ => None,
    }
}

/// The log's writer: each event, as formatted, goes to stderr through the
/// one writer; `json` for `serve`'s JSON lines (their controls as `\uXXXX`).
#[derive(Debug, Clone, Copy)]
pub struct LogWriter {
    pub json: bool,
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine { json: self.json, buf: Vec::new() }
    }
}

/// One formatted event, written when it is complete (on drop).
pub struct LogLine {
    json: bool,
    buf: Vec<u8>,
}

impl std::io::Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf);
        let text = text.trim_end_matches('\n');
        if self.json {
            console::json(Stream::Err, &crate::github::redact::redact(text));
        } else {
            console::print(Stream::Err, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_errors_are_annotations() {
        assert_eq!(annotation(Level::WARN), Some("warning"));
        assert_eq!(annotation(Level::ERROR), Some("error"));
        assert_eq!(annotation(Level::INFO), None);
    }
}
