//! Configuration diagnostics: one per problem, each with a span in the file.

use miette::{
    LabeledSpan, MietteDiagnostic, MietteError, MietteSpanContents, Report, Severity as MSeverity, SourceCode,
    SourceSpan, SpanContents,
};
use std::sync::Arc;

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
        self.report_in(&SourceText::new(file, source))
    }

    /// [`Diagnostic::to_report`] for one of many diagnostics of a file: the
    /// text is shared by their reports, not copied into each.
    pub fn report_in(&self, source: &SourceText) -> Report {
        let mut d = MietteDiagnostic::new(self.message.clone()).with_severity(match self.severity {
            Severity::Error => MSeverity::Error,
            Severity::Warning => MSeverity::Warning,
        });
        if self.line > 0 {
            let len = self.pos.len.max(1).min(source.text.len().saturating_sub(self.pos.offset));
            d = d.with_label(LabeledSpan::new(Some(self.label.clone()), self.pos.offset, len));
        }
        if let Some(h) = &self.help {
            d = d.with_help(h.clone());
        }
        Report::new(d).with_source_code(source.clone())
    }
}

/// The config's text for miette, shared by the reports of all its
/// diagnostics, with columns counted in characters (miette counts bytes), so
/// `file:line:col` in text output is the column JSON and annotations give.
///
/// miette finds a span's lines by scanning the text from its start, and each
/// report held a copy of the text: rendering N warnings of a long file took
/// N times the file (most of `check`'s time on a 1,000-environment config
/// with a warning per environment). Here the lines around the span are found
/// in an index of line starts and only they are scanned.
#[derive(Clone)]
pub struct SourceText {
    name: Arc<str>,
    text: Arc<str>,
    /// Byte offset of each line's first byte (miette's lines: a break is LF,
    /// CRLF or a lone CR).
    lines: Arc<[usize]>,
}

impl SourceText {
    pub fn new(name: &str, text: &str) -> SourceText {
        let bytes = text.as_bytes();
        let mut lines = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                lines.push(i + 1);
            }
        }
        SourceText { name: name.into(), text: text.into(), lines: lines.into() }
    }

    /// The index of the line that holds byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.lines.partition_point(|&start| start <= offset).saturating_sub(1)
    }
}

impl SourceCode for SourceText {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // Whole lines with room around the span and its context: miette's own
        // scan of them gives what a scan of the whole text gives, its line
        // numbers shifted by the lines before the window.
        let first = self.line_of(span.offset()).saturating_sub(before.saturating_add(2));
        let last = self.line_of(span.offset().saturating_add(span.len())).saturating_add(after.saturating_add(3));
        let (from, to) = (self.lines[first], self.lines.get(last).copied().unwrap_or(self.text.len()));
        let window = &self.text[from..to];
        let shifted = SourceSpan::new((span.offset().saturating_sub(from)).into(), span.len());
        let inner = window.read_span(&shifted, before, after)?;
        let start = inner.span().offset() + from;
        // Searched backwards: only as far as the start of the span's line.
        let line_start = self.text.get(..start).and_then(|s| s.rfind(['\n', '\r'])).map_or(0, |i| i + 1);
        let column = self.text.get(line_start..start).map_or(inner.column(), |s| s.chars().count());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            SourceSpan::new(start.into(), inner.span().len()),
            inner.line() + first,
            column,
            inner.line_count() + first,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines miette shows around a span are the same whether it scans
    /// the whole text or the indexed window: same data, span, line, column.
    #[test]
    fn window_reads_what_a_whole_text_scan_reads() {
        let mut text = String::new();
        for i in 0..40 {
            let end = ["\n", "\r\n", "\r"][i % 3];
            text.push_str(&format!("  key-{i}: [a, \"é{i}\", b]{end}"));
        }
        text.push_str("last: x");
        let source = SourceText::new("f.yml", &text);
        for offset in (0..text.len()).filter(|&o| text.is_char_boundary(o)) {
            for (len, context) in [(0, 0), (1, 1), (3, 2), (40, 1)] {
                let span = SourceSpan::new(offset.into(), len.min(text.len() - offset));
                let whole = text.as_str().read_span(&span, context, context).unwrap();
                let ours = source.read_span(&span, context, context).unwrap();
                assert_eq!(ours.data(), whole.data(), "data at {offset}+{len}, context {context}");
                assert_eq!(ours.span(), whole.span(), "span at {offset}+{len}");
                assert_eq!(ours.line(), whole.line(), "line at {offset}+{len}");
                assert_eq!(ours.line_count(), whole.line_count(), "line count at {offset}+{len}");
                let line_start = text[..whole.span().offset()].rfind(['\n', '\r']).map_or(0, |i| i + 1);
                assert_eq!(ours.column(), text[line_start..whole.span().offset()].chars().count());
            }
        }
    }
}
