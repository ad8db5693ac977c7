//! A YAML document as a tree of spanned nodes.
//!
//! Why not deserialize straight into the config structs? Serde stops at the first
//! error, and users want *every* problem of a config in one run, each pointing at
//! its line. So the YAML is first read into this small tree, and `schema.rs`
//! walks it, collecting diagnostics as it goes.
//!
//! The tree is built from the events of serde-saphyr's own parser rather than
//! through `serde_saphyr::Spanned<T>`: the latter deserializes a span structure
//! for every node, which made `check` of a 1,000-environment config three times
//! slower (see BENCHMARKS.md). Building iteratively also means no nesting depth
//! can overflow the stack.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Marker, Parser, ScalarStyle, Span, Tag};

/// Where a node sits in the source: byte offset and length (for miette), plus the
/// 1-based line and column a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub offset: usize,
    pub len: usize,
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn at(m: &Marker) -> Pos {
        Pos { offset: m.byte_offset().unwrap_or(0), len: 0, line: m.line(), column: m.col() + 1 }
    }

    fn of(span: &Span) -> Pos {
        let mut p = Pos::at(&span.start);
        p.len = span.end.byte_offset().unwrap_or(p.offset).saturating_sub(p.offset);
        p
    }
}

/// A YAML value with its position.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// How the value is named in "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A problem found while reading the YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
    /// What to do about it, when the generic advice does not fit.
    pub help: Option<&'static str>,
}

impl YamlError {
    fn new(pos: Pos, message: impl Into<String>) -> YamlError {
        YamlError { pos, message: message.into(), help: None }
    }
}

/// The bound on what aliases may expand a document to. A "billion laughs"
/// document multiplies an anchor through nested aliases; counting nodes alone
/// is not enough, since one node may be a long string. Both the number of
/// nodes and the bytes of their text are counted as the tree is built, and
/// the alias that would cross either bound is refused, naming its anchor.
mod budget {
    /// Most nodes the expanded document may have.
    pub const NODES: usize = 2_000_000;
    /// Most bytes of scalar text the expanded document may hold: twice the
    /// largest config file stagegate reads.
    pub const BYTES: usize = 32 << 20;

    /// The size of a node and everything under it.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Size {
        pub nodes: usize,
        pub bytes: usize,
    }

    impl Size {
        pub fn scalar(len: usize) -> Size {
            Size { nodes: 1, bytes: len }
        }
        pub fn add(&mut self, other: Size) {
            self.nodes = self.nodes.saturating_add(other.nodes);
            self.bytes = self.bytes.saturating_add(other.bytes);
        }
    }

    /// What is left to spend.
    pub struct Budget {
        left: Size,
    }

    impl Budget {
        pub fn new() -> Budget {
            Budget { left: Size { nodes: NODES, bytes: BYTES } }
        }

        /// Spends `size`; `false` when it does not fit.
        pub fn spend(&mut self, size: Size) -> bool {
            match (self.left.nodes.checked_sub(size.nodes), self.left.bytes.checked_sub(size.bytes)) {
                (Some(n), Some(b)) => {
                    self.left = Size { nodes: n, bytes: b };
                    true
                }
                _ => false,
            }
        }
    }
}

use budget::{Budget, Size};

enum Frame {
    Seq { pos: Pos, anchor: usize, tag: Option<String>, items: Vec<Node>, size: Size },
    Map { pos: Pos, anchor: usize, tag: Option<String>, entries: Entries, key: Option<Node>, size: Size },
}

/// The entries of a mapping being built, with what finds a duplicate key: a
/// scan while the mapping is small, a hash index once it is large (each key of
/// a 1,000-environment `environments:` was compared with every key before it).
#[derive(Default)]
struct Entries {
    list: Vec<(Node, Node)>,
    index: Option<HashMap<String, usize>>,
}

impl Entries {
    /// Mappings with more entries than this get an index.
    const SCAN: usize = 16;

    /// The first entry whose key is the string `name`.
    fn find(&self, name: &str) -> Option<&(Node, Node)> {
        match &self.index {
            Some(index) => index.get(name).map(|&i| &self.list[i]),
            None => self.list.iter().find(|(k, _)| matches!(&k.value, Value::Str(s) if s == name)),
        }
    }

    fn push(&mut self, key: Node, value: Node) {
        if self.index.is_none() && self.list.len() == Self::SCAN {
            let mut index = HashMap::with_capacity(2 * Self::SCAN);
            for (i, (k, _)) in self.list.iter().enumerate() {
                if let Value::Str(s) = &k.value {
                    index.entry(s.clone()).or_insert(i);
                }
            }
            self.index = Some(index);
        }
        if let (Some(index), Value::Str(s)) = (&mut self.index, &key.value) {
            index.entry(s.clone()).or_insert(self.list.len());
        }
        self.list.push((key, value));
    }
}

/// A tag other than `!!str`: stagegate's config has no use for typed or
/// custom values, and silently dropping a tag would read something else than
/// the author meant.
fn refused_tag(tag: Option<&Tag>) -> Option<String> {
    tag.filter(|t| !t.is_yaml_core_schema_tag("str")).map(|t| t.original())
}

/// Parses one YAML document. `Err` for a document that cannot be read at all;
/// `Ok` carries non-fatal problems (duplicate keys) found along the way.
pub fn parse(text: &str) -> Result<(Node, Vec<YamlError>), YamlError> {
    let mut b = Builder {
        text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        problems: Vec::new(),
        budget: Budget::new(),
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| YamlError::new(Pos::at(e.marker()), e.kind().to_string()))?;
        let pos = Pos::of(&span);
        let done = match event {
            Event::DocumentStart(..) if b.root.is_some() => {
                return Err(YamlError::new(pos, "the config must be a single YAML document; found a second one"));
            }
            Event::Scalar(v, style, anchor, tag) => {
                if let Some(t) = refused_tag(tag.as_deref()) {
                    b.tag_problem(pos, t);
                }
                let size = Size::scalar(v.len());
                if !b.budget.spend(size) {
                    return Err(YamlError::new(pos, too_big()));
                }
                (Node { pos, value: resolve(v, style, tag.as_deref()) }, anchor, size)
            }
            Event::SequenceStart(_, anchor, tag) => {
                let tag = refused_tag(tag.as_deref());
                b.stack.push(Frame::Seq { pos, anchor, tag, items: Vec::new(), size: Size::scalar(0) });
                continue;
            }
            Event::MappingStart(_, anchor, tag) => {
                let tag = refused_tag(tag.as_deref());
                let (size, entries) = (Size::scalar(0), Entries::default());
                b.stack.push(Frame::Map { pos, anchor, tag, entries, key: None, size });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match b.close()? {
                Some(done) => done,
                None => continue,
            },
            Event::Alias(id) => match b.alias(id, pos)? {
                Some(done) => done,
                None => continue,
            },
            _ => continue,
        };
        b.attach(done);
    }
    let root = b.root.unwrap_or(Node { pos: Pos { line: 1, column: 1, ..Pos::default() }, value: Value::Null });
    Ok((root, b.problems))
}

/// A node built from the events so far, its anchor id (0: none) and its size.
type Built = (Node, usize, Size);

/// The document under construction: open collections, anchors seen, and
/// the problems that do not stop parsing.
struct Builder<'t> {
    text: &'t str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, Size)>,
    root: Option<Node>,
    problems: Vec<YamlError>,
    budget: Budget,
}

impl Builder<'_> {
    fn tag_problem(&mut self, pos: Pos, tag: String) {
        self.problems.push(YamlError {
            pos,
            message: format!("YAML tag `{tag}` is not supported"),
            help: Some(
                "stagegate reads plain strings, numbers, lists and mappings; remove the tag (only `!!str` is allowed)",
            ),
        });
    }

    /// Closes the innermost sequence or mapping.
    fn close(&mut self) -> Result<Option<Built>, YamlError> {
        let (node, anchor, tag, size) = match self.stack.pop() {
            Some(Frame::Seq { pos, anchor, tag, items, size }) => {
                (Node { pos, value: Value::Seq(items) }, anchor, tag, size)
            }
            Some(Frame::Map { pos, anchor, tag, entries, size, .. }) => {
                (Node { pos, value: Value::Map(merge_keys(entries.list, &mut self.problems)) }, anchor, tag, size)
            }
            None => return Ok(None),
        };
        if let Some(t) = tag {
            self.tag_problem(node.pos, t);
        }
        if !self.budget.spend(Size { nodes: 1, bytes: 0 }) {
            return Err(YamlError::new(node.pos, too_big()));
        }
        Ok(Some((node, anchor, size)))
    }

    /// A copy of the anchored node, within the size budget.
    fn alias(&mut self, id: usize, pos: Pos) -> Result<Option<Built>, YamlError> {
        let Some((target, size)) = self.anchors.get(&id) else { return Ok(None) };
        if !self.budget.spend(*size) {
            let alias = self.text.get(pos.offset..pos.offset + pos.len).unwrap_or("*").trim();
            let anchor = alias.trim_start_matches('*');
            return Err(YamlError {
                pos,
                message: format!("the alias `{alias}` of anchor `{anchor}` expands the document beyond {}", too_big()),
                help: Some("aliases may repeat an anchor, not multiply it; write the values out or drop the nesting"),
            });
        }
        Ok(Some((Node { pos, value: target.value.clone() }, 0, *size)))
    }

    /// Puts a finished node where it belongs: the root, the next item of a
    /// sequence, or a mapping's key or value (a duplicate key is a problem).
    fn attach(&mut self, (node, anchor, size): Built) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, size: s, .. }) => {
                s.add(size);
                items.push(node)
            }
            Some(Frame::Map { entries, key, size: s, .. }) => {
                s.add(size);
                match key.take() {
                    Some(k) => entries.push(k, node),
                    None => {
                        if let Value::Str(name) = &node.value
                            && let Some((first, _)) = entries.find(name)
                        {
                            self.problems.push(YamlError::new(
                                node.pos,
                                format!("duplicate key `{name}` (first on line {})", first.pos.line),
                            ));
                        }
                        *key = Some(node);
                    }
                }
            }
        }
    }
}

fn too_big() -> String {
    format!("{} nodes or {} MiB of text", budget::NODES, budget::BYTES >> 20)
}

/// `<<: *base` (or `<<: [*a, *b]`): entries of the merged mappings that the
/// mapping does not set itself.
fn merge_keys(entries: Vec<(Node, Node)>, problems: &mut Vec<YamlError>) -> Vec<(Node, Node)> {
    if !entries.iter().any(|(k, _)| matches!(&k.value, Value::Str(s) if s == "<<")) {
        return entries;
    }
    let (merges, mut own): (Vec<_>, Vec<_>) =
        entries.into_iter().partition(|(k, _)| matches!(&k.value, Value::Str(s) if s == "<<"));
    for (key, value) in merges {
        let sources = match value.value {
            Value::Map(m) => vec![m],
            Value::Seq(items) => items
                .into_iter()
                .filter_map(|n| match n.value {
                    Value::Map(m) => Some(m),
                    _ => None,
                })
                .collect(),
            _ => {
                problems.push(YamlError::new(key.pos, "`<<` must merge a mapping or a list of mappings"));
                continue;
            }
        };
        for (k, v) in sources.into_iter().flatten() {
            let taken =
                own.iter().any(|(o, _)| matches!((&o.value, &k.value), (Value::Str(a), Value::Str(b)) if a == b));
            if !taken {
                own.push((k, v));
            }
        }
    }
    own
}

/// YAML 1.2 core schema: plain scalars may be null, booleans or numbers;
/// quoted and block scalars, and `!!str`, are strings. `yes`/`no`/`on`/`off`
/// stay strings (YAML 1.1's booleans surprise people).
fn resolve(v: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(t) = tag
        && t.is_yaml_core_schema_tag("str")
    {
        return Value::Str(v.into_owned());
    }
    if style != ScalarStyle::Plain {
        return Value::Str(v.into_owned());
    }
    match v.as_ref() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let s = v.as_ref();
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = s.parse::<i64>() {
            return Value::Int(i);
        }
    } else if let Some(hex) = s.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    } else if let Some(oct) = s.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    } else if looks_like_float(s)
        && let Ok(f) = s.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(v.into_owned())
}

fn looks_like_float(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s);
    matches!(b, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN")
        || (b.bytes().any(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'))
            && b.starts_with(|c: char| c.is_ascii_digit() || c == '.'))
}

#[cfg(test)]
#[path = "node_tests.rs"]
mod tests;
