//! The log under GitHub Actions: a warning or error logged through `tracing`
//! becomes an annotation of the run (`::warning title=stagegate::…`), escaped
//! and with credentials redacted, so it shows on the run's page and not only
//! in its log. Other levels print as usual (`INFO message`).

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
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
        writeln!(writer, "{}", line(level, &message))
    }
}

/// One log line: an annotation for a warning or an error, else `LEVEL message`.
fn line(level: Level, message: &str) -> String {
    let message = crate::github::redact::redact(message);
    match level {
        Level::ERROR => crate::actions::format_command("error", &[("title", "stagegate")], &message),
        Level::WARN => crate::actions::format_command("warning", &[("title", "stagegate")], &message),
        _ => format!("{level:>5} {}", message.replace('\n', "\n      ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_annotations_and_cannot_inject_commands() {
        assert_eq!(
            line(Level::WARN, "cannot open $GITHUB_OUTPUT\n::set-env name=A::1"),
            "::warning title=stagegate::cannot open $GITHUB_OUTPUT%0A::set-env name=A::1"
        );
        assert_eq!(line(Level::ERROR, "x"), "::error title=stagegate::x");
        assert_eq!(line(Level::INFO, "a\n::b"), " INFO a\n      ::b");
    }
}
