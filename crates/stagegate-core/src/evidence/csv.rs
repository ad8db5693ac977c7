//! Events as CSV (RFC 4180 quoting, lines ending in LF): a header, then one row per event. Every cell is
//! quoted, and a cell a spreadsheet would take for a formula — one starting
//! with `=`, `+`, `-`, `@`, a tab or a carriage return — is neutralised with a
//! leading `'`, so a release name or a reason cannot run in the auditor's
//! spreadsheet.

use super::Event;

pub const HEADER: [&str; 16] = [
    "at",
    "kind",
    "actor",
    "environment",
    "lane",
    "release",
    "from",
    "sha",
    "deployment",
    "approved_by",
    "not_counted",
    "change",
    "reasons",
    "outcome",
    "detail",
    "run_url",
];

/// The approvers of a record that does not say who counted (no login has
/// parentheses); an empty cell means nobody had to approve.
pub const NOT_RECORDED: &str = "(not recorded)";

/// One cell, quoted and neutralised.
pub fn cell(text: &str) -> String {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let text = if risky { format!("'{text}") } else { text.to_owned() };
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn row(e: &Event) -> Vec<String> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        e.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        e.kind.clone(),
        e.actor.clone(),
        opt(&e.environment),
        opt(&e.lane),
        opt(&e.release),
        opt(&e.from),
        opt(&e.sha),
        e.deployment.map(|d| d.to_string()).unwrap_or_default(),
        e.approved_by.as_ref().map_or_else(|| NOT_RECORDED.to_owned(), |a| a.join("; ")),
        e.not_counted.join("; "),
        opt(&e.change),
        e.reasons.join("; "),
        e.outcome.clone(),
        opt(&e.detail),
        opt(&e.run_url),
    ]
}

/// The whole document, one line per row (a cell's own line breaks stay
/// inside its quotes).
pub fn render(events: &[Event]) -> String {
    let mut out = HEADER.map(cell).join(",");
    out.push('\n');
    for e in events {
        out.push_str(&row(e).iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_neutralised_and_quotes_doubled() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "\"'+1\"");
        assert_eq!(cell("-2+3"), "\"'-2+3\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("26.12.01.1"), "\"26.12.01.1\"");
        assert_eq!(cell("a\nb"), "\"a\nb\"");
    }
}
