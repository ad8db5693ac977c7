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
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, Size)> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut problems = Vec::new();
    let mut budget = Budget::new();
    let tag_problem = |pos: Pos, tag: String, problems: &mut Vec<YamlError>| {
        problems.push(YamlError {
            pos,
            message: format!("YAML tag `{tag}` is not supported"),
            help: Some(
                "stagegate reads plain strings, numbers, lists and mappings; remove the tag (only `!!str` is allowed)",
            ),
        });
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| YamlError::new(Pos::at(e.marker()), e.kind().to_string()))?;
        let (node, anchor, size) = match event {
            Event::DocumentStart(..) if root.is_some() => {
                return Err(YamlError::new(
                    Pos::of(&span),
                    "the config must be a single YAML document; found a second one",
                ));
            }
            Event::Scalar(v, style, anchor, tag) => {
                if let Some(t) = refused_tag(tag.as_deref()) {
                    tag_problem(Pos::of(&span), t, &mut problems);
                }
                let size = Size::scalar(v.len());
                if !budget.spend(size) {
                    return Err(YamlError::new(Pos::of(&span), too_big()));
                }
                (Node { pos: Pos::of(&span), value: resolve(v, style, tag.as_deref()) }, anchor, size)
            }
            Event::SequenceStart(_, anchor, tag) => {
                let tag = refused_tag(tag.as_deref());
                stack.push(Frame::Seq { pos: Pos::of(&span), anchor, tag, items: Vec::new(), size: Size::scalar(0) });
                continue;
            }
            Event::MappingStart(_, anchor, tag) => {
                let tag = refused_tag(tag.as_deref());
                let (size, entries) = (Size::scalar(0), Entries::default());
                stack.push(Frame::Map { pos: Pos::of(&span), anchor, tag, entries, key: None, size });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, tag, size) = match stack.pop() {
                    Some(Frame::Seq { pos, anchor, tag, items, size }) => {
                        (Node { pos, value: Value::Seq(items) }, anchor, tag, size)
                    }
                    Some(Frame::Map { pos, anchor, tag, entries, size, .. }) => {
                        (Node { pos, value: Value::Map(merge_keys(entries.list, &mut problems)) }, anchor, tag, size)
                    }
                    None => continue,
                };
                if let Some(t) = tag {
                    tag_problem(node.pos, t, &mut problems);
                }
                if !budget.spend(Size { nodes: 1, bytes: 0 }) {
                    return Err(YamlError::new(node.pos, too_big()));
                }
                (node, anchor, size)
            }
            Event::Alias(id) => {
                let Some((target, size)) = anchors.get(&id) else { continue };
                let pos = Pos::of(&span);
                if !budget.spend(*size) {
                    let alias = text.get(pos.offset..pos.offset + pos.len).unwrap_or("*").trim();
                    let anchor = alias.trim_start_matches('*');
                    return Err(YamlError {
                        pos,
                        message: format!(
                            "the alias `{alias}` of anchor `{anchor}` expands the document beyond {}",
                            too_big()
                        ),
                        help: Some(
                            "aliases may repeat an anchor, not multiply it; write the values out or drop the nesting",
                        ),
                    });
                }
                (Node { pos, value: target.value.clone() }, 0, *size)
            }
            _ => continue,
        };
        if anchor != 0 {
            anchors.insert(anchor, (node.clone(), size));
        }
        match stack.last_mut() {
            None => root = Some(node),
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
                            problems.push(YamlError::new(
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
    let root = root.unwrap_or(Node { pos: Pos { line: 1, column: 1, ..Pos::default() }, value: Value::Null });
    Ok((root, problems))
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
mod tests {
    use super::*;

    fn map(n: &Node) -> &[(Node, Node)] {
        match &n.value {
            Value::Map(m) => m,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn keeps_positions_of_nested_values() {
        let src = "a:\n  b: [1, x]\n  c: true\n";
        let (node, problems) = parse(src).unwrap();
        assert!(problems.is_empty());
        let inner = map(&map(&node)[0].1);
        let (key_b, val_b) = &inner[0];
        assert_eq!((key_b.pos.line, key_b.pos.column), (2, 3));
        let Value::Seq(items) = &val_b.value else { panic!("not a seq") };
        assert_eq!((items[1].pos.line, items[1].pos.column), (2, 10));
        assert_eq!(&src[items[1].pos.offset..items[1].pos.offset + items[1].pos.len], "x");
        assert!(matches!(inner[1].1.value, Value::Bool(true)));
    }

    #[test]
    fn resolves_scalars_by_the_core_schema() {
        let (node, _) = parse("[1, -2, 0x1f, 1.5, '2', yes, ~, null, FALSE, \"true\", 30m, 1e3, !!str 7]").unwrap();
        let Value::Seq(items) = node.value else { panic!() };
        let kinds: Vec<String> = items.iter().map(|n| format!("{:?}", n.value)).collect();
        assert_eq!(
            kinds,
            [
                "Int(1)",
                "Int(-2)",
                "Int(31)",
                "Float(1.5)",
                "Str(\"2\")",
                "Str(\"yes\")",
                "Null",
                "Null",
                "Bool(false)",
                "Str(\"true\")",
                "Str(\"30m\")",
                "Float(1000.0)",
                "Str(\"7\")"
            ]
        );
    }

    #[test]
    fn reports_duplicate_keys_with_both_lines() {
        let (_, problems) = parse("a: 1\nb: 2\na: 3\n").unwrap();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].pos.line, 3);
        assert!(problems[0].message.contains("first on line 1"));
    }

    #[test]
    fn expands_aliases_and_merge_keys() {
        let (node, _) = parse("base: &b { x: 1, y: 2 }\nuse:\n  <<: *b\n  y: 3\n").unwrap();
        let used = map(&map(&node)[1].1);
        let pairs: Vec<String> = used.iter().map(|(k, v)| format!("{:?}={:?}", k.value, v.value)).collect();
        assert_eq!(pairs, ["Str(\"y\")=Int(3)", "Str(\"x\")=Int(1)"]);
    }

    #[test]
    fn refuses_alias_bombs_and_second_documents() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let e = parse(&bomb).unwrap_err();
        assert!(e.message.contains("2000000 nodes") && e.message.contains("anchor `a"), "{}", e.message);
        // Few nodes, long strings: the bytes bound holds.
        let mut laughs = format!("a0: &a0 \"{}\"\n", "x".repeat(16_000));
        for i in 1..12 {
            laughs.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        let e = parse(&laughs).unwrap_err();
        assert!(e.message.contains("MiB") && e.message.contains("anchor `a"), "{}", e.message);
        assert!(parse("a: 1\n---\nb: 2\n").unwrap_err().message.contains("single YAML document"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let _ = parse(&deep);
    }
}
