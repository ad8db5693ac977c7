//! Values with a syntax of their own, parsed where they are read: durations,
//! branch and tag patterns, freeze windows, the calver format. A value that
//! does not parse is a diagnostic at its span, never a value dropped later.

use super::*;
use crate::config::duration;
use crate::config::spanned::inner_span;

impl Walker<'_> {
    pub(super) fn duration(&mut self, f: &Fields, key: &str, bound: duration::Bound) -> Option<Duration> {
        f.kind(key, |k| matches!(k, Kind::Duration));
        let n = f.get(key)?;
        let t = match &n.value {
            Value::Int(i) => Text { value: i.to_string(), pos: n.pos },
            _ => self.string(n, key)?,
        };
        match duration::parse(&t.value) {
            Ok(d) if d > bound.max => {
                self.error(
                    t.pos,
                    format!("`{key}` is {}, longer than the {} it may be", t.value, duration::format(bound.max)),
                    format!("use at most {}", duration::format(bound.max)),
                );
                None
            }
            Ok(d) if d.is_zero() && !bound.zero_ok => {
                self.error(
                    t.pos,
                    format!("`{key}` is zero: every run would time out at once"),
                    format!(
                        "use a positive duration up to {}, or leave `{key}` out for the default",
                        duration::format(bound.max)
                    ),
                );
                None
            }
            Ok(d) => Some(d),
            Err(why) => {
                self.error(
                    t.pos,
                    format!("invalid duration `{}` for `{key}`: {why}", t.value),
                    "write a number with a unit, e.g. 30s, 5m, 1h or 1h30m",
                );
                None
            }
        }
    }

    /// Branch or tag patterns (`what` is `branch` or `tag`), each parsed.
    pub(super) fn patterns(&mut self, node: &Node, key: &str, what: &str) -> Vec<Spanned<RefPattern>> {
        let mut out = Vec::new();
        for t in self.strings(node, key) {
            match RefPattern::parse(&t.value) {
                Ok(p) => out.push(Spanned::new(p, t.pos)),
                Err(e) => self.error(
                    inner_span(t.pos, &t.value, e.offset, e.len),
                    format!("invalid {what} pattern `{}`: {e}", t.value),
                    "patterns are GitHub's File.fnmatch globs: `*` and `?` never match `/`, `**/` matches directories, `[a-z]` one character",
                ),
            }
        }
        out
    }

    pub(super) fn freeze_windows(&mut self, node: &Node) -> Vec<Spanned<FreezeWindow>> {
        let mut out = Vec::new();
        for t in self.strings(node, "freeze") {
            match crate::values::freeze::parse(&t.value) {
                Ok(w) => out.push(Spanned::new(w, t.pos)),
                Err(e) => self.error(
                    inner_span(t.pos, &t.value, e.offset, e.len),
                    format!("invalid freeze window: {e}"),
                    "e.g. \"FRI 16:00 - MON 08:00 Europe/London\" or \"2026-12-24 00:00 - 2026-12-27 00:00 UTC\"",
                ),
            }
        }
        out
    }

    /// `release.format`: parsed for calver; with semver it means nothing, so
    /// a format that does not parse keeps the default.
    pub(super) fn calver_format(&mut self, t: Text, scheme: Scheme) -> Option<Spanned<CalverFormat>> {
        match CalverFormat::parse(&t.value) {
            Ok(f) => Some(Spanned::new(f, t.pos)),
            Err(_) if scheme == Scheme::Semver => None,
            Err(e) => {
                let len = t.value.len().saturating_sub(e.offset);
                self.error(
                    inner_span(t.pos, &t.value, e.offset, len),
                    format!("invalid calver format `{}`: {e}", t.value),
                    "use calver.org tokens YYYY YY 0Y MM 0M DD 0D plus BUILD, e.g. \"YY.0M.0D.BUILD\"",
                );
                None
            }
        }
    }
}
