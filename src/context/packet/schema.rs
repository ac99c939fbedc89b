//! The published JSON Schema (draft 2020-12) of a context packet, for editors and other tools.
//!
//! It states what a JSON Schema can: fields, types, enums (the defaults), lengths, ranges and formats. The
//! cross-field rules (privacy agreement, budgets, forbidden paths, span order) are the validator's alone. A test
//! walks the schema beside the validator's field tables so the two cannot drift apart.

/// `schema/context-packet.schema.json`.
pub const JSON_SCHEMA: &str = include_str!("../../../schema/context-packet.schema.json");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::packet::validate::tests::fixture_value;
    use crate::context::packet::validate::{validate, Field, Format, Kind, SchemaRules, ANY, PACKET};
    use serde_json::{json, Value};
    use std::collections::BTreeSet;

    fn schema() -> Value {
        crate::jcs::parse(JSON_SCHEMA.as_bytes()).unwrap()
    }

    fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
        match node.get("$ref").and_then(Value::as_str) {
            Some(reference) => &root["$defs"][reference.strip_prefix("#/$defs/").unwrap()],
            None => node,
        }
    }

    fn same_object(root: &Value, node: &Value, fields: &[Field], at: &str) {
        let node = resolve(root, node);
        assert_eq!(node["type"], "object", "{at}");
        assert_eq!(node["additionalProperties"], false, "{at}");
        let required: BTreeSet<&str> =
            node["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let expected: BTreeSet<&str> = fields.iter().filter(|f| f.required).map(|f| f.name).collect();
        assert_eq!(required, expected, "{at}: required");
        let properties = node["properties"].as_object().unwrap();
        let names: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
        assert_eq!(names, fields.iter().map(|f| f.name).collect(), "{at}: properties");
        for f in fields {
            same_kind(root, &properties[f.name], f.kind, &format!("{at}.{}", f.name));
        }
    }

    fn same_kind(root: &Value, node: &Value, kind: Kind, at: &str) {
        let resolved = resolve(root, node);
        let text = |format: Format| match format {
            Format::Any => {
                let constrained = ["minLength", "format", "pattern", "enum"].iter().any(|k| resolved.get(k).is_some());
                assert!(!constrained, "{at}: a plain string in the validator")
            }
            Format::NonEmpty => assert_eq!(resolved["minLength"], 1, "{at}"),
            Format::DateTime => assert_eq!(resolved["format"], "date-time", "{at}"),
            Format::Digest => assert_eq!(node["$ref"], "#/$defs/digest", "{at}"),
            Format::DigestOrEmpty => assert_eq!(resolved["anyOf"], json!([{"const": ""}, {"$ref": "#/$defs/digest"}])),
            Format::Path => assert_eq!(node["$ref"], "#/$defs/relative_path", "{at}"),
        };
        match kind {
            Kind::Text(format) => {
                if format != Format::DigestOrEmpty {
                    assert_eq!(resolved["type"], "string", "{at}");
                }
                assert!(resolved.get("maxLength").is_none(), "{at}");
                text(format);
            }
            Kind::Limited(max) => assert_eq!(resolved["maxLength"], max, "{at}"),
            Kind::Choice(choice) => {
                let rules = SchemaRules::default();
                assert_eq!(resolved["enum"], json!(rules.choices(choice)), "{at}")
            }
            Kind::Bool => assert_eq!(resolved["type"], "boolean", "{at}"),
            Kind::Count { min, max } => {
                assert_eq!(resolved["type"], "integer", "{at}");
                assert_eq!(resolved["minimum"], min, "{at}");
                let maximum = if max == ANY { Value::Null } else { json!(max) };
                assert_eq!(resolved["maximum"], maximum, "{at}");
            }
            Kind::Integer => assert_eq!(resolved["type"], "integer", "{at}"),
            Kind::Number => assert_eq!(resolved["type"], "number", "{at}"),
            Kind::Texts(format) => {
                assert_eq!(resolved["type"], "array", "{at}");
                same_kind(root, &resolved["items"], Kind::Text(format), &format!("{at}[]"));
            }
            Kind::Object(fields) => same_object(root, node, fields, at),
            Kind::Objects(fields) => {
                assert_eq!(resolved["type"], "array", "{at}");
                same_object(root, &resolved["items"], fields, &format!("{at}[]"));
            }
        }
    }

    #[test]
    fn the_schema_says_what_the_validator_checks() {
        let root = schema();
        assert_eq!(root["$schema"], "https://json-schema.org/draft/2020-12/schema");
        same_object(&root, &root, PACKET, "$");
    }

    /// The subset of JSON Schema the published schema uses, enough to show a valid packet passes it.
    fn conforms(root: &Value, node: &Value, value: &Value, at: &str) {
        let node = resolve(root, node);
        if let Some(options) = node.get("anyOf").and_then(Value::as_array) {
            let ok = options.iter().any(|o| o.get("const") == Some(value) || resolve(root, o).get("pattern").is_some());
            assert!(ok, "{at}");
            return;
        }
        let ty = node["type"].as_str().unwrap();
        let type_ok = match ty {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_u64() || value.is_i64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => false,
        };
        assert!(type_ok, "{at}: expected {ty}, found {value}");
        if let Some(choices) = node.get("enum").and_then(Value::as_array) {
            assert!(choices.contains(value), "{at}");
        }
        if let (Some(max), Some(s)) = (node.get("maxLength").and_then(Value::as_u64), value.as_str()) {
            assert!(s.chars().count() as u64 <= max, "{at}");
        }
        if let Some(map) = value.as_object() {
            for name in node["required"].as_array().unwrap() {
                assert!(map.contains_key(name.as_str().unwrap()), "{at}: {name} missing");
            }
            for (key, v) in map {
                let property = node["properties"].get(key).unwrap_or_else(|| panic!("{at}.{key} is not in the schema"));
                conforms(root, property, v, &format!("{at}.{key}"));
            }
        }
        if let Some(items) = value.as_array() {
            for (i, item) in items.iter().enumerate() {
                conforms(root, &node["items"], item, &format!("{at}[{i}]"));
            }
        }
    }

    #[test]
    fn a_valid_packet_conforms_to_both() {
        let root = schema();
        let packet = fixture_value();
        assert_eq!(validate(&packet, &SchemaRules::default()), vec![]);
        conforms(&root, &root, &packet, "$");
    }
}
