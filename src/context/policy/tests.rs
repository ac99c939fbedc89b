use super::*;
use serde_json::json;

/// The original `.intent/context/policy.yaml` (seed-study Appendix B), as its parsed form, trimmed of prose.
fn original() -> Value {
    json!({
        "version": "0.1",
        "policy_type": "context_governance",
        "privacy": {
            "default_level": "local_only",
            "forbidden_paths": {"patterns": [".env", ".env.*", "*.key", "*.pem", "*.p12", "*.pfx", ".secrets/**",
                "secrets.yaml", "credentials.json", ".ssh/**", ".gnupg/**"]},
            "forbidden_content": {"patterns": [
                {"regex": "(?i)(password|passwd|pwd)\\s*[=:]\\s*['\"]?\\w+", "reason": "Potential password in code"},
                {"regex": "(?i)(api[_-]?key|apikey)\\s*[=:]\\s*['\"]?[A-Za-z0-9_-]+", "reason": "API key pattern"},
                {"regex": "(?i)(secret|token)\\s*[=:]\\s*['\"]?[A-Za-z0-9_-]+", "reason": "Secret or token pattern"},
                {"regex": "-----BEGIN\\s+(RSA\\s+)?PRIVATE\\s+KEY-----", "reason": "Private key"},
                {"regex": "\\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Z|a-z]{2,}\\b", "reason": "Email address (PII)",
                 "redact_with": "[EMAIL_REDACTED]"}
            ]},
            "sensitive_dirs": {"paths": [".git", ".github/workflows", "deployment", "infrastructure"],
                "approval_required": true}
        },
        "routing": {
            "remote_allowed_by_default": false,
            "require_remote_approval": {"task_types": ["code.generate", "refactor"]},
            "always_local": {"task_types": ["security.audit", "secrets.scan"]},
            "remote_allowed_if": {"conditions": ["No forbidden paths in context"]}
        },
        "redaction": {"strategies": {
            "secrets": {"action": "remove_item", "log": true},
            "pii": {"action": "mask_content", "replacement": "[REDACTED]", "log": true},
            "large_files": {"action": "truncate", "max_length": 5000, "log": false}
        }, "mandatory_checks": ["forbidden_paths scan"]},
        "budgets": {
            "defaults": {"max_tokens": 100000, "max_items": 50, "time_budget_seconds": 30, "cost_budget_usd": 1.0},
            "by_task_type": {
                "docstring.fix": {"max_tokens": 10000, "max_items": 10},
                "header.fix": {"max_tokens": 5000, "max_items": 5},
                "test.generate": {"max_tokens": 50000, "max_items": 30},
                "code.generate": {"max_tokens": 100000, "max_items": 50},
                "refactor": {"max_tokens": 150000, "max_items": 75}
            }
        },
        "invariants": {"rules": [
            {"id": "no_absolute_paths", "enforcement": "validation"},
            {"id": "no_filesystem_ops", "forbidden_calls": ["os.remove", "os.unlink", "shutil.rmtree", "pathlib.Path.unlink"]},
            {"id": "no_subprocess", "forbidden_calls": ["subprocess.run", "subprocess.Popen", "os.system"]}
        ]},
        "audit": {"log_events": ["packet_created"]},
        "notes": "free text"
    })
}

fn error_subject(document: Value) -> String {
    let error = Policy::from_document(&document).unwrap_err();
    assert_eq!(error.code, ErrorCode::PolicyInvalid);
    error.subject.expect("names the key")
}

#[test]
fn builtin_defaults() {
    let policy = Policy::builtin();
    for path in [
        ".env",
        "a/.env.local",
        "k/s.pem",
        "home/.ssh/id_rsa",
        "id_ed25519.pub",
        ".npmrc",
        "x/.aws/credentials",
        "v.kdbx",
    ] {
        assert!(policy.forbidden_path(path).is_some(), "{path}");
    }
    assert!(policy.forbidden_path("src/main.rs").is_none());
    assert_eq!(policy.budget_for("header.fix"), (5000, 5));
    assert_eq!(policy.budget_for("anything.else"), (DEFAULT_MAX_TOKENS, DEFAULT_MAX_ITEMS));
    assert_eq!(policy.cache_ttl_seconds(), 86_400);
    assert_eq!(policy.max_snippet_chars(), 5000);
    assert_eq!(policy.action_for(RuleKind::Credential), ContentAction::Mask);
    assert_eq!(policy.call_action(), CallAction::Flag);
    assert_eq!(policy.forbidden_calls().len(), 12);
    assert!(policy.is_always_local("secrets.scan"));
    assert_eq!(policy.default_privacy(), Privacy::LocalOnly);
    assert_eq!(Policy::from_document(&Value::Null).unwrap().digest(), policy.digest());
}

#[test]
fn reads_the_original_policy() {
    let policy = Policy::from_document(&original()).unwrap();
    assert_eq!(policy.action_for(RuleKind::Credential), ContentAction::RemoveItem);
    assert_eq!(policy.action_for(RuleKind::Pii), ContentAction::Mask);
    assert_eq!(policy.budget_for("refactor"), (150_000, 75));
    let user: Vec<(&str, RuleKind)> = policy
        .detector()
        .rules()
        .iter()
        .filter(|r| r.id.starts_with("policy."))
        .map(|r| (r.id.as_str(), r.kind))
        .collect();
    assert_eq!(
        user,
        [
            ("policy.potential-password-in-code", RuleKind::Credential),
            ("policy.api-key-pattern", RuleKind::Credential),
            ("policy.secret-or-token-pattern", RuleKind::Credential),
            ("policy.private-key", RuleKind::Credential),
            ("policy.email-address-pii", RuleKind::Pii),
        ]
    );
    let redacted = policy.detector().redact("pwd = hunter2 and mail bob@corp.io");
    assert_eq!(redacted.text, "[REDACTED:policy.potential-password-in-code] and mail [REDACTED]");
    assert_eq!(policy.detector().redact(&redacted.text).counts.len(), 0, "replacements are never matched again");
    assert!(policy.forbidden_path(".npmrc").is_some(), "the built-in list is kept");
    assert_eq!(policy.approval_reasons("refactor", [".github/workflows/ci.yml", "src/a.py"]).len(), 2);
    assert!(policy.approval_reasons("docstring.fix", ["src/a.py"]).is_empty());
}

#[test]
fn pii_switches_and_include_defaults() {
    let policy = Policy::from_document(&json!({"privacy": {"pii": {"email": false, "ipv4": true},
        "forbidden_paths": {"include_defaults": false, "patterns": ["private/**"]}}}))
    .unwrap();
    let ids: Vec<&str> = policy.detector().rules().iter().map(|r| r.id.as_str()).collect();
    assert!(!ids.contains(&"email-address") && ids.contains(&"ipv4-address"), "{ids:?}");
    assert!(policy.forbidden_path(".env").is_none());
    assert!(policy.forbidden_path("private/a").is_some());
    let off = Policy::from_document(&json!({"privacy": {"pii": false}})).unwrap();
    assert!(off.detector().rules().iter().all(|r| r.kind == RuleKind::Credential));
}

#[test]
fn calls_ttl_and_actions() {
    let policy = Policy::from_document(&json!({
        "cache": {"ttl_hours": 2},
        "redaction": {"strategies": {"forbidden_calls": {"action": "drop", "include_defaults": false}}},
        "invariants": {"rules": [{"id": "no_proc", "forbidden_calls": ["std::process::Command", "child_process.exec"]}]}
    }))
    .unwrap();
    assert_eq!(policy.cache_ttl_seconds(), 7200);
    assert_eq!(policy.call_action(), CallAction::Drop);
    let calls: Vec<(&str, &str)> =
        policy.forbidden_calls().iter().map(|c| (c.name.as_str(), c.rule.as_str())).collect();
    assert_eq!(calls, [("std::process::Command", "no_proc"), ("child_process.exec", "no_proc")]);
}

#[test]
fn bad_values_name_their_key_path() {
    let cases = [
        (json!({"redaction": {"strategies": {"secrets": {"action": "keep"}}}}), "redaction.strategies.secrets.action"),
        (json!({"privacy": {"forbidden_paths": {"patterns": ["a**b"]}}}), "privacy.forbidden_paths.patterns"),
        (json!({"privacy": {"forbidden_paths": {"patterns": "x"}}}), "privacy.forbidden_paths.patterns"),
        (
            json!({"privacy": {"forbidden_content": {"patterns": [{"regex": "(?=x)"}]}}}),
            "privacy.forbidden_content.patterns[0].regex",
        ),
        (
            json!({"privacy": {"forbidden_content": {"patterns": [{"regex": "x", "redact_with": "***"}]}}}),
            "privacy.forbidden_content.patterns[0].redact_with",
        ),
        (
            json!({"privacy": {"forbidden_content": {"patterns": [{"regex": "x", "id": "Bad"}]}}}),
            "privacy.forbidden_content.patterns[0].id",
        ),
        (
            json!({"privacy": {"forbidden_content": {"patterns": [{"regex": "x", "id": "email-address"}]}}}),
            "privacy.forbidden_content.patterns[0].id",
        ),
        (json!({"privacy": {"pii": {"emial": true}}}), "privacy.pii.emial"),
        (json!({"privacy": {"default_level": "public"}}), "privacy.default_level"),
        (json!({"budgets": {"defaults": {"max_tokens": 0}}}), "budgets.defaults.max_tokens"),
        (
            json!({"budgets": {"by_task_type": {"refactor": {"max_items": -3}}}}),
            "budgets.by_task_type.refactor.max_items",
        ),
        (
            json!({"redaction": {"strategies": {"large_files": {"max_length": "big"}}}}),
            "redaction.strategies.large_files.max_length",
        ),
        (
            json!({"invariants": {"rules": [{"id": "x", "forbidden_calls": ["rm -rf"]}]}}),
            "invariants.rules[0].forbidden_calls",
        ),
        (json!({"cache": {"ttl_hours": 1.5}}), "cache.ttl_hours"),
        (json!({"routing": {"remote_allowed_by_default": true}}), "routing.remote_allowed_by_default"),
        (json!(["not", "a", "mapping"]), "document"),
    ];
    for (document, key) in cases {
        assert_eq!(error_subject(document.clone()), key, "{document}");
    }
}

#[test]
fn unknown_sections_are_ignored() {
    let policy = Policy::from_document(&json!({"audit": {"retention": {}}, "future": [1, 2], "notes": "x"})).unwrap();
    assert_eq!(policy.forbidden_paths().len(), Policy::builtin().forbidden_paths().len());
}

#[test]
fn the_digest_follows_the_document_and_gitleaks_texts() {
    let a = Policy::from_document(&json!({"cache": {"ttl_hours": 1}})).unwrap();
    let b = Policy::from_document(&json!({"cache": {"ttl_hours": 2}})).unwrap();
    assert_ne!(a.digest(), b.digest());
    assert_eq!(a.digest(), Policy::from_document(&json!({"cache": {"ttl_hours": 1}})).unwrap().digest());
    let mut c = a.clone();
    c.add_gitleaks("[[rules]]\nid = \"corp-token\"\nregex = '''corp_[a-z0-9]{24}'''\n").unwrap();
    assert_ne!(c.digest(), a.digest());
    assert!(c.detector().rules().iter().any(|r| r.id == "corp-token"));
    c.add_gitleaks("[[rules]]\nid = \"corp-token\"\nregex = 'x'\n[[rules]]\nid = \"p\"\npath = 'x'\n").unwrap();
    let skipped: Vec<&str> = c.skipped().iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(skipped, ["p", "corp-token"]);
}
