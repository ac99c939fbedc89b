//! Validation: one test per violation code, the rules between fields, and the fixture packet other tests share.

use super::*;
use serde_json::json;

/// A valid packet that uses every field, shared by the YAML, schema and hash tests.
pub(crate) fn fixture_value() -> Value {
    let hash = format!("sha256:{}", "a".repeat(64));
    json!({
        "header": {
            "packet_id": "4f6c1c3e-6a51-4c63-9d4e-0d5c1f1b2a10",
            "task_id": "TASK-1",
            "task_type": "docstring.fix",
            "created_at": "2025-11-16T12:00:00+00:00",
            "builder_version": "ctxpack 0.1.0",
            "privacy": "remote_allowed"
        },
        "problem": {
            "summary": "Fix the docstring of parse()", "intent_ref": ".intent/x",
            "acceptance": ["docstring matches"]
        },
        "scope": {
            "roots": ["src"], "include": ["src/**/*.py"], "exclude": ["**/test_*"], "globs": [],
            "traversal_depth": 1
        },
        "constraints": {
            "max_tokens": 10000, "max_items": 10, "time_budget_seconds": 30, "cost_budget_usd": 1.5,
            "forbidden_paths": [".env", "*.pem"], "forbidden_calls": ["os.system"]
        },
        "context": [{
            "name": "parse", "path": "src/app/parse.py", "item_type": "code", "signature": "def parse(text):",
            "span": {"start": 3, "end": 9}, "summary": "Parses text.",
            "snippet": "def parse(text):\n    \"\"\"Parse.\"\"\"\n    return text\n",
            "deps": ["re"], "hash": hash, "source": "filesystem", "tokens_est": 20, "priority": 2, "target": true
        }, {
            "name": "helper", "path": "src/app/util.py", "item_type": "summary", "source": "builtin_ast",
            "tokens_est": 5
        }],
        "invariants": ["All paths must be relative"],
        "policy": {
            "remote_allowed": true,
            "redactions_applied": [{
                "item_name": "secret", "path": "config/.env", "action": "dropped", "rule": ".env",
                "reason": "forbidden path", "count": 1
            }],
            "notes": "checked"
        },
        "provenance": {
            "inputs": {
                "files": [{"path": "src/app/parse.py", "digest": hash, "size": 120}],
                "ast_files": ["src/app/parse.py"]
            },
            "build_stats": {
                "duration_ms": 12, "items_collected": 3, "items_filtered": 1, "tokens_total": 25,
                "dropped": [{"item_name": "big", "path": "src/big.py", "reason": "max_tokens", "tokens_est": 9000}]
            },
            "cache_key": hash,
            "packet_hash": ""
        },
        "attachments": [{"name": "template", "content": "x", "mime_type": "text/plain"}]
    })
}

pub(crate) fn fixture_packet() -> Packet {
    check(fixture_value(), &SchemaRules::default()).unwrap()
}

fn codes_after(edit: impl FnOnce(&mut Value)) -> Vec<(String, &'static str)> {
    let mut doc = fixture_value();
    edit(&mut doc);
    validate(&doc, &SchemaRules::default()).into_iter().map(|v| (v.path, v.code)).collect()
}

fn one(path: &str, code: &'static str) -> Vec<(String, &'static str)> {
    vec![(path.to_string(), code)]
}

#[test]
fn the_fixture_is_valid_and_becomes_a_packet() {
    assert_eq!(validate(&fixture_value(), &SchemaRules::default()), vec![]);
    let packet = fixture_packet();
    assert_eq!(packet.context.len(), 2);
    assert!(packet.context[0].target);
}

#[test]
fn fixed_enums_match_the_typed_model() {
    use crate::context::packet::{DropReason, RedactionAction};
    let names = |values: Vec<Value>| values.iter().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>();
    let actions =
        [RedactionAction::Masked, RedactionAction::Dropped, RedactionAction::Flagged, RedactionAction::Truncated];
    assert_eq!(names(actions.iter().map(|a| serde_json::to_value(a).unwrap()).collect()), ACTIONS);
    let reasons = [DropReason::MaxItems, DropReason::MaxTokens];
    assert_eq!(names(reasons.iter().map(|r| serde_json::to_value(r).unwrap()).collect()), DROP_REASONS);
    let privacy = [crate::context::packet::Privacy::LocalOnly, crate::context::packet::Privacy::RemoteAllowed];
    assert_eq!(privacy.map(|p| p.as_str()), PRIVACY);
}

#[test]
fn required() {
    assert_eq!(
        codes_after(|d| drop(d["header"].as_object_mut().unwrap().remove("task_id"))),
        one("header.task_id", "required")
    );
    assert_eq!(codes_after(|d| drop(d.as_object_mut().unwrap().remove("provenance"))), one("provenance", "required"));
    assert_eq!(
        codes_after(|d| drop(d["context"][1].as_object_mut().unwrap().remove("source"))),
        one("context[1].source", "required")
    );
}

#[test]
fn type_() {
    assert_eq!(codes_after(|d| d["constraints"]["max_tokens"] = json!("10000")), one("constraints.max_tokens", "type"));
    assert_eq!(codes_after(|d| d["context"][0]["deps"] = json!(["a", 1])), one("context[0].deps[1]", "type"));
    assert_eq!(codes_after(|d| d["context"][0]["priority"] = json!(1.5)), one("context[0].priority", "type"));
    assert_eq!(validate(&json!([]), &SchemaRules::default())[0].path, "$");
}

#[test]
fn enum_() {
    assert_eq!(codes_after(|d| d["header"]["task_type"] = json!("test_generation")), one("header.task_type", "enum"));
    assert_eq!(codes_after(|d| d["context"][0]["source"] = json!("web")), one("context[0].source", "enum"));
    assert_eq!(codes_after(|d| d["context"][0]["item_type"] = json!("file")), one("context[0].item_type", "enum"));
    assert_eq!(
        codes_after(|d| d["policy"]["redactions_applied"][0]["action"] = json!("erased")),
        one("policy.redactions_applied[0].action", "enum")
    );
}

#[test]
fn unknown_field() {
    assert_eq!(codes_after(|d| d["header"]["policy"] = json!({})), one("header.policy", "unknown_field"));
    assert_eq!(codes_after(|d| d["items"] = json!([])), one("items", "unknown_field"));
    assert_eq!(codes_after(|d| d["context"][0]["content"] = json!("x")), one("context[0].content", "unknown_field"));
}

#[test]
fn max_length_counts_characters() {
    assert_eq!(codes_after(|d| d["problem"]["summary"] = json!("é".repeat(500))), vec![]);
    assert_eq!(codes_after(|d| d["problem"]["summary"] = json!("é".repeat(501))), one("problem.summary", "max_length"));
    assert_eq!(
        codes_after(|d| d["context"][0]["summary"] = json!("x".repeat(1001))),
        one("context[0].summary", "max_length")
    );
    assert_eq!(
        codes_after(|d| d["context"][0]["snippet"] = json!("x".repeat(5001))),
        one("context[0].snippet", "max_length")
    );
    assert_eq!(
        codes_after(|d| d["attachments"][0]["content"] = json!("x".repeat(10001))),
        one("attachments[0].content", "max_length")
    );
}

#[test]
fn range() {
    assert_eq!(codes_after(|d| d["constraints"]["max_tokens"] = json!(999)), one("constraints.max_tokens", "range"));
    assert_eq!(
        codes_after(|d| d["constraints"]["max_tokens"] = json!(200_001)),
        one("constraints.max_tokens", "range")
    );
    assert_eq!(codes_after(|d| d["constraints"]["max_tokens"] = json!(200_000)), vec![]);
    assert_eq!(codes_after(|d| d["context"][0]["span"]["start"] = json!(0)), one("context[0].span.start", "range"));
    assert_eq!(codes_after(|d| d["context"][0]["span"]["end"] = json!(2)), one("context[0].span.end", "range"));
    assert_eq!(
        codes_after(|d| d["constraints"]["cost_budget_usd"] = json!(-1)),
        one("constraints.cost_budget_usd", "range")
    );
}

#[test]
fn format() {
    assert_eq!(codes_after(|d| d["header"]["created_at"] = json!("yesterday")), one("header.created_at", "format"));
    assert_eq!(codes_after(|d| d["header"]["packet_id"] = json!("")), one("header.packet_id", "format"));
    assert_eq!(codes_after(|d| d["header"]["packet_id"] = json!("not-a-uuid")), vec![]);
    assert_eq!(codes_after(|d| d["context"][0]["hash"] = json!("abc")), one("context[0].hash", "format"));
    assert_eq!(
        codes_after(|d| d["provenance"]["cache_key"] = json!("a".repeat(64))),
        one("provenance.cache_key", "format")
    );
    let upper = format!("sha256:{}", "A".repeat(64));
    assert_eq!(codes_after(|d| d["provenance"]["packet_hash"] = json!(upper)), one("provenance.packet_hash", "format"));
    let good = format!("sha256:{}", "0".repeat(64));
    assert_eq!(codes_after(|d| d["provenance"]["packet_hash"] = json!(good)), vec![]);
    assert_eq!(
        codes_after(|d| d["constraints"]["forbidden_paths"] = json!(["ok", "a**b"])),
        one("constraints.forbidden_paths[1]", "format")
    );
}

#[test]
fn absolute_path() {
    for bad in ["/etc/passwd", "C:/x.py", "c:x", "src/../../x", "\\\\server\\share"] {
        assert_eq!(
            codes_after(|d| d["context"][0]["path"] = json!(bad)),
            one("context[0].path", "absolute_path"),
            "{bad}"
        );
    }
    assert_eq!(
        codes_after(|d| d["provenance"]["inputs"]["files"][0]["path"] = json!("/home/me/x")),
        one("provenance.inputs.files[0].path", "absolute_path")
    );
    assert_eq!(codes_after(|d| d["context"][0]["path"] = json!("src/..x/a..b.py")), vec![]);
}

#[test]
fn privacy_mismatch_both_ways() {
    // The original's builder hard-coded remote_allowed false, so every remote_allowed task failed here.
    assert_eq!(
        codes_after(|d| d["policy"]["remote_allowed"] = json!(false)),
        one("policy.remote_allowed", "privacy_mismatch")
    );
    assert_eq!(
        codes_after(|d| d["header"]["privacy"] = json!("local_only")),
        one("policy.remote_allowed", "privacy_mismatch")
    );
    let local = |d: &mut Value| {
        d["header"]["privacy"] = json!("local_only");
        d["policy"]["remote_allowed"] = json!(false);
    };
    assert_eq!(codes_after(local), vec![]);
}

#[test]
fn token_budget() {
    assert_eq!(codes_after(|d| d["context"][1]["tokens_est"] = json!(9981)), one("context", "token_budget"));
    assert_eq!(codes_after(|d| d["context"][1]["tokens_est"] = json!(9980)), vec![]);
}

#[test]
fn item_limit() {
    assert_eq!(codes_after(|d| d["constraints"]["max_items"] = json!(1)), one("context", "item_limit"));
    let fifty_one = |d: &mut Value| {
        d["constraints"].as_object_mut().unwrap().remove("max_items");
        let item = json!({"name": "x", "item_type": "symbol", "source": "db"});
        d["context"] = Value::Array(vec![item; 51]);
    };
    assert_eq!(codes_after(fifty_one), one("context", "item_limit"));
}

#[test]
fn structure_alone_ignores_the_rules_between_fields() {
    let mut doc = fixture_value();
    doc["constraints"]["max_items"] = json!(1);
    doc["header"]["privacy"] = json!("local_only");
    assert!(!validate(&doc, &SchemaRules::default()).is_empty());
    assert!(check_structure(doc.clone(), &SchemaRules::default()).is_ok());
    doc["context"][0]["item_type"] = json!("widget");
    let violations = check_structure(doc, &SchemaRules::default()).unwrap_err();
    assert_eq!(
        violations.iter().map(|v| (v.path.as_str(), v.code)).collect::<Vec<_>>(),
        [("context[0].item_type", "enum")]
    );
}

#[test]
fn forbidden_path() {
    assert_eq!(
        codes_after(|d| d["context"][1]["path"] = json!("deploy/.env")),
        one("context[1].path", "forbidden_path")
    );
    // The inputs name every file the build read, by digest: what makes a changed .env a cache miss.
    assert_eq!(codes_after(|d| d["provenance"]["inputs"]["files"][0]["path"] = json!("keys/server.pem")), vec![]);
    // A redaction record names the forbidden file it removed; that is the point of it.
    assert_eq!(codes_after(|d| d["policy"]["redactions_applied"][0]["path"] = json!("x.pem")), vec![]);
}

#[test]
fn reports_all_violations_at_once() {
    let doc = json!({
        "header": {
            "task_id": "", "task_type": "test_generation", "created_at": "now", "builder_version": "x",
            "privacy": "local_only"
        },
        "problem": {"summary": 5},
        "scope": {},
        "constraints": {"max_tokens": 10, "max_items": 1, "forbidden_paths": ["*.pem"]},
        "context": [
            {"name": "a", "item_type": "code", "source": "db", "path": "/abs.py", "tokens_est": 50},
            {"name": "b", "item_type": "code", "source": "db", "path": "k.pem", "span": {"start": 5, "end": 1}}
        ],
        "policy": {"remote_allowed": true},
        "provenance": {"inputs": {}},
        "extra": 1
    });
    let found: Vec<(String, &str)> =
        validate(&doc, &SchemaRules::default()).into_iter().map(|v| (v.path, v.code)).collect();
    let expected = [
        ("header.packet_id", "required"),
        ("header.task_id", "format"),
        ("header.task_type", "enum"),
        ("header.created_at", "format"),
        ("problem.summary", "type"),
        ("scope.roots", "required"),
        ("constraints.max_tokens", "range"),
        ("context[0].path", "absolute_path"),
        ("extra", "unknown_field"),
        ("provenance.packet_hash", "required"),
        ("policy.remote_allowed", "privacy_mismatch"),
        ("context", "token_budget"),
        ("context", "item_limit"),
        ("context[1].span.end", "range"),
        ("context[1].path", "forbidden_path"),
    ];
    let mut found_sorted = found.clone();
    found_sorted.sort();
    let mut expected: Vec<(String, &str)> = expected.iter().map(|(p, c)| (p.to_string(), *c)).collect();
    expected.sort();
    assert_eq!(found_sorted, expected, "{found:#?}");
}

#[test]
fn the_originals_known_bad_cases() {
    // tests/services/test_context_service.py: a header alone.
    let found = validate(&json!({"header": {"task_id": "TEST"}}), &SchemaRules::default());
    assert!(found.iter().any(|v| v.path == "problem" && v.code == "required"));
    assert!(found.iter().any(|v| v.path == "header.packet_id" && v.code == "required"));
    // privacy remote_allowed with the builder's hard-coded policy.remote_allowed false.
    let mut doc = fixture_value();
    doc["policy"]["remote_allowed"] = json!(false);
    let e = check(doc, &SchemaRules::default()).unwrap_err();
    assert_eq!(e.code, ErrorCode::PacketInvalid);
    assert_eq!(e.message, "policy.remote_allowed: privacy_mismatch is false but header.privacy is remote_allowed");
}

#[test]
fn schema_document_supplies_the_enums() {
    let schema = crate::context::packet::yaml::parse_document(ORIGINAL_SCHEMA).unwrap();
    let rules = SchemaRules::from_schema_document(&schema).unwrap();
    let five = ["docstring.fix", "header.fix", "test.generate", "code.generate", "refactor"];
    assert_eq!(rules.task_types, five);
    assert_eq!(rules.sources, ["db", "qdrant", "ast", "filesystem"]);
    assert_eq!(rules.item_types.len(), 7);
    let mut doc = fixture_value();
    doc["header"]["task_type"] = json!("security.audit");
    assert_eq!(validate(&doc, &rules)[0].code, "enum");
    // ctxpack's own builder source is always accepted.
    let narrow = json!({"structure": {"context": {"items": {"fields": {"source": {"enum": ["db"]}}}}}});
    assert_eq!(SchemaRules::from_schema_document(&narrow).unwrap().sources, ["db", "filesystem"]);
}

#[test]
fn a_bad_schema_document_lists_its_problems() {
    let bad = json!({
        "version": "0.3",
        "structure": {
            "header": {"fields": {"task_type": {"enum": []}}},
            "context": {"items": {"fields": {"item_type": {"enum": ["symbol", "file"]}}}}
        }
    });
    let e = SchemaRules::from_schema_document(&bad).unwrap_err();
    assert_eq!(e.code, ErrorCode::PolicyInvalid);
    assert!(e.message.contains("version: version"), "{}", e.message);
    assert!(e.message.contains("structure.header.fields.task_type.enum: type"), "{}", e.message);
    assert!(e.message.contains("item_type.enum[1]: enum"), "{}", e.message);
}

/// The enum-bearing parts of the original `.intent/context/schema.yaml` (seed-study Appendix A).
const ORIGINAL_SCHEMA: &str = r#"
version: "0.2"
schema_type: "context_package"
structure:
  header:
    fields:
      task_type:
        type: string
        enum: [docstring.fix, header.fix, test.generate, code.generate, refactor]
      privacy:
        type: string
        enum: [local_only, remote_allowed]
        default: local_only
  context:
    type: array
    items:
      type: object
      fields:
        item_type:
          type: string
          enum: [symbol, snippet, summary, dependency, test, signature, code]
        source:
          type: string
          enum: [db, qdrant, ast, filesystem]
"#;

/// Secrets built at run time (this file holds nothing that looks like a live credential), one per detector kind.
fn planted_secrets() -> Vec<String> {
    use crate::context::detect::tests::fake;
    let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mixed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    vec![format!("AKIA{}", fake(upper, 16, 1)), format!("gh{}_{}", 'p', fake(mixed, 36, 2))]
}

#[test]
fn violations_never_quote_a_value_or_a_key_that_holds_a_secret() {
    let [aws, github] = <[String; 2]>::try_from(planted_secrets()).unwrap();
    let mut doc = fixture_value();
    doc["header"]["task_type"] = json!(aws);
    doc["header"]["privacy"] = json!(github);
    doc["header"][github.as_str()] = json!(1);
    doc["context"][0]["path"] = json!(format!("/{aws}/parse.py"));
    doc["context"][1]["path"] = json!(format!("{github}.pem"));
    doc["context"][1]["item_type"] = json!(format!("password={github}"));
    doc["provenance"]["inputs"]["files"][0]["path"] = json!(format!("../{aws}"));
    let violations = validate(&doc, &SchemaRules::default());
    let codes: Vec<&str> = violations.iter().map(|v| v.code).collect();
    for code in ["enum", "unknown_field", "absolute_path", "forbidden_path"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    for violation in &violations {
        let line = violation.to_string();
        assert!(!line.contains(&aws) && !line.contains(&github), "{line}");
    }
    let forbidden = violations.iter().find(|v| v.code == "forbidden_path").unwrap();
    assert_eq!(forbidden.to_string(), "context[1].path: forbidden_path matches constraints.forbidden_paths[1]");
    assert!(violations.iter().any(|v| v.path == "header.[REDACTED:github-personal-access-token]"), "{violations:?}");
}
