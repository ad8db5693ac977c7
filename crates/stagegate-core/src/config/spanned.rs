//! A value parsed from the config, with the place it was written: use sites
//! take the typed value, diagnostics point at the span.

use super::node::Pos;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub pos: Pos,
}

impl<T> Spanned<T> {
    pub fn new(value: T, pos: Pos) -> Self {
        Spanned { value, pos }
    }

    /// A value that was not written anywhere (a default, a test).
    pub fn unplaced(value: T) -> Self {
        Spanned { value, pos: Pos::default() }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned { value: f(self.value), pos: self.pos }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

/// A string with the place it came from.
pub type Text = Spanned<String>;

/// The span of `len` bytes at `offset` inside a one-line string value written
/// at `pos` (`written` is the value's text), shifted past its opening quote
/// when it is quoted.
pub fn inner_span(pos: Pos, written: &str, offset: usize, len: usize) -> Pos {
    let mut p = pos;
    if pos.len > written.len() {
        p.offset += 1;
        p.column += 1;
    }
    p.column += written.get(..offset).map_or(offset, |s| s.chars().count());
    p.offset += offset;
    p.len = len.max(1);
    p
}
