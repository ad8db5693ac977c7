//! Configuration diagnostics: one per problem, each with a span in the file.

use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report, Severity as MSeverity};
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
        Report::new(d).with_source_code(NamedSource::new(file, source.to_owned()))
    }
}
