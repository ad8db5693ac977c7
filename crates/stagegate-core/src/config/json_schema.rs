//! The JSON Schema of `.github/stagegate.yml`, generated from config::keys —
//! the tables the validator reads the config with. Editors (the YAML language
//! server behind VS Code and others) use it to complete and check keys;
//! `stagegate check` still decides: values with a syntax of their own
//! (patterns, freeze windows, the calver format, locations) and what only
//! makes sense with the whole file in view are checked there alone.
//!
//! `schema/stagegate.schema.json` is this output, committed; regenerate it
//! with `stagegate config schema > schema/stagegate.schema.json`.

use serde_json::{Map, Value, json};

use super::keys::{self, Kind, Section};

/// Where the schema is published when no action reference says otherwise:
/// the file in this repository's default branch.
pub const DEFAULT_URL: &str = "https://raw.githubusercontent.com/stagegate/stagegate/main/schema/stagegate.schema.json";

/// Where the schema lives: `schema/stagegate.schema.json`.
pub const PATH: &str = "schema/stagegate.schema.json";

/// Durations as `duration::parse` reads them: numbers each with a unit.
const DURATION: &str = "^\\s*( *[0-9]+[smhd])+\\s*$";

/// The schema (JSON Schema draft-07, which editors support best).
pub fn generate() -> Value {
    let mut root = Map::new();
    root.insert("$schema".into(), json!("http://json-schema.org/draft-07/schema#"));
    root.insert("$id".into(), json!(DEFAULT_URL));
    root.insert("title".into(), json!("stagegate config (.github/stagegate.yml)"));
    if let Value::Object(body) = section(&keys::CONFIG) {
        root.extend(body);
    }
    Value::Object(root)
}

/// Where the schema of the action `owner/repo@ref` is: its file at that
/// reference, so an editor checks the config against the version the
/// workflows run. Anything that is not such a reference gets [`DEFAULT_URL`].
pub fn url_for_action(action: &str) -> String {
    let reference = action.split_whitespace().next().unwrap_or_default();
    let safe = |s: &str, extra: &[char]| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c) || extra.contains(&c))
    };
    match reference.split_once('@').and_then(|(path, r)| Some((path.split_once('/')?, r))) {
        Some(((owner, repo), r)) if safe(owner, &[]) && safe(repo, &['.']) && safe(r, &['.']) => {
            format!("https://raw.githubusercontent.com/{owner}/{repo}/{r}/{PATH}")
        }
        _ => DEFAULT_URL.to_string(),
    }
}

fn section(s: &Section) -> Value {
    section_of(s, json!("object"))
}

/// A section's schema; `ty`: `"object"`, or `["object", "null"]` where a
/// key with nothing under it means all defaults.
fn section_of(s: &Section, ty: Value) -> Value {
    let mut properties = Map::new();
    for k in s.keys {
        let mut v = kind(&k.kind);
        if let Value::Object(o) = &mut v {
            o.insert("description".into(), json!(k.doc));
        }
        properties.insert(k.name.into(), v);
    }
    let required: Vec<&str> = s.keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    let mut o = Map::new();
    o.insert("description".into(), json!(s.doc));
    o.insert("type".into(), ty);
    o.insert("properties".into(), Value::Object(properties));
    o.insert("additionalProperties".into(), json!(false));
    if !required.is_empty() {
        o.insert("required".into(), json!(required));
    }
    Value::Object(o)
}

fn string(pattern: Option<&str>) -> Value {
    match pattern {
        Some(p) => json!({"type": "string", "pattern": p}),
        None => json!({"type": "string"}),
    }
}

fn kind(k: &Kind) -> Value {
    match k {
        Kind::Version(v) => json!({"const": v}),
        Kind::Text => string(None),
        Kind::Command => string(Some("\\S")),
        Kind::Url => string(Some("^https?://")),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Uint { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::OneOf(words) => json!({"type": "string", "enum": words}),
        Kind::Duration => string(Some(DURATION)),
        Kind::Strings(p) => json!({"anyOf": [string(*p), {"type": "array", "items": string(*p)}]}),
        Kind::Map(s) => section(s),
        Kind::Named { names, value } => {
            let mut o = Map::new();
            o.insert("type".into(), json!("object"));
            if let Some(p) = names {
                o.insert("propertyNames".into(), json!({"pattern": p}));
            }
            o.insert("additionalProperties".into(), section_of(value, json!(["object", "null"])));
            Value::Object(o)
        }
        Kind::List(s) => json!({"type": "array", "items": section(s)}),
        Kind::Entries(s) => {
            json!({"anyOf": [string(None), {"type": "array", "items": {"anyOf": [string(None), section(s)]}}]})
        }
        Kind::Fields(p) => json!({
            "type": "object", "propertyNames": {"pattern": p}, "additionalProperties": string(None), "minProperties": 1
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_follows_the_pinned_action() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            url_for_action(&format!("acme/stagegate@{sha} # v0.1.0")),
            format!("https://raw.githubusercontent.com/acme/stagegate/{sha}/schema/stagegate.schema.json")
        );
        assert_eq!(
            url_for_action("stagegate/stagegate@v0.1.0"),
            "https://raw.githubusercontent.com/stagegate/stagegate/v0.1.0/schema/stagegate.schema.json"
        );
        for odd in ["", "./", "a/b", "a/b@../x", "a/b@x/y", "a@b", "a/.b@x", "a/b@x?q", "a/b@\"x"] {
            assert_eq!(url_for_action(odd), DEFAULT_URL, "{odd:?}");
        }
    }
}
