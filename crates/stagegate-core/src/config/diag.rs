//! Configuration diagnostics: one per problem, each with a span in the file.

use miette::{
    LabeledSpan, MietteDiagnostic, MietteError, MietteSpanContents, Report, Severity as MSeverity, SourceCode,
    SourceSpan, SpanContents,
};
use serde::Serialize;

use super::node::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a config file.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub line: usize,
    pub column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(skip)]
    pub pos: Pos,
    #[serde(skip)]
    pub label: String,
}

impl Diagnostic {
    pub fn error(pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, pos, message)
    }

    pub fn warning(pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, pos, message)
    }

    fn new(severity: Severity, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            message: message.into(),
            line: pos.line,
            column: pos.column,
            help: None,
            pos,
            label: "here".into(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// A miette report with the source snippet and the offending span underlined.
    pub fn to_report(&self, file: &str, source: &str) -> Report {
        let mut d = MietteDiagnostic::new(self.message.clone()).with_severity(match self.severity {
            Severity::Error => MSeverity::Error,
            Severity::Warning => MSeverity::Warning,
        });
        if self.line > 0 {
            let len = self.pos.len.max(1).min(source.len().saturating_sub(self.pos.offset));
            d = d.with_label(LabeledSpan::new(Some(self.label.clone()), self.pos.offset, len));
        }
        if let Some(h) = &self.help {
            d = d.with_help(h.clone());
        }
        Report::new(d).with_source_code(CharColumns { name: file.to_string(), text: source.to_owned() })
    }
}

/// The config's text for miette, with columns counted in characters (miette
/// counts bytes), so `file:line:col` in text output is the column JSON and
/// annotations give.
struct CharColumns {
    name: String,
    text: String,
}

impl SourceCode for CharColumns {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        let start = inner.span().offset();
        let line_start = self.text.get(..start).and_then(|s| s.rfind(['\n', '\r'])).map_or(0, |i| i + 1);
        let column = self.text.get(line_start..start).map_or(inner.column(), |s| s.chars().count());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}
