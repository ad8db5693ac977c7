//! Unit tests of the YAML reader: spans, tags, anchors, merge keys and the size budget.

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
