//! Applies a [`Policy`] to a packet, and decides whether a packet may leave the machine.
//!
//! [`redact_packet`] acts in this order, each action one `policy.redactions_applied` record:
//! 1. items whose `path` matches a forbidden glob are dropped;
//! 2. credentials and PII are masked in every text the LLM reads (an item's `signature`, `summary` and
//!    `snippet`; `problem.summary` and `problem.acceptance[]`; `attachments[].content`), or, under
//!    `remove_item` for the rule's kind, the item is dropped (problem text and attachments are always masked:
//!    they cannot be dropped);
//! 3. snippets over `large_files.max_length` characters are truncated, never inside a redaction marker (masking
//!    comes first so a cut cannot split a secret into pieces no rule matches);
//! 4. forbidden calls in snippets are flagged, or their items dropped. This runs on the truncated text: a flag
//!    describes what the LLM will read.
//!
//! Records hold rule ids, globs and call names, never matched text, and no times. A second pass changes
//! nothing and adds no record: what was dropped is gone, masks are markers no rule matches, truncated snippets
//! fit, and a flag already recorded for an item is not recorded again.
//!
//! [`remote_gate`] checks a `remote_allowed` packet after redaction with a second detection pass over every string
//! of the packet, not only the texts redaction masks. With ctxpack's actions a secret cannot survive
//! [`redact_packet`] in those texts under the same policy (there is no "keep" action: credentials are always
//! masked or their item removed), so the gate catches packets that were never redacted, were redacted under a
//! weaker policy (fewer rules, PII switched off) or edited afterwards, and secrets in fields redaction leaves as
//! they are (an item's name or path, the task id).

use crate::context::packet::{Constraints, Header, Item, Packet, Privacy, Redaction};
use crate::context::policy::Policy;
use crate::context::redact_items::Records;
use crate::context::violation::Violation;

/// The records this pass added (also appended to `packet.policy.redactions_applied`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactSummary {
    pub applied: Vec<Redaction>,
}

pub fn redact_packet(packet: &mut Packet, policy: &Policy) -> RedactSummary {
    fill_constraints(&mut packet.constraints, policy);
    packet.policy.remote_allowed = packet.header.privacy == Privacy::RemoteAllowed;
    let mut records = Records::default();
    packet.context.retain_mut(|item| records.item(item, policy));
    records.problem(&mut packet.problem, policy);
    records.attachments(&mut packet.attachments, policy);
    let applied = records.finish(&packet.policy.redactions_applied);
    packet.policy.redactions_applied.extend(applied.iter().cloned());
    RedactSummary { applied }
}

/// A packet that names no forbidden paths or calls gets the policy's, so the model is told what was kept out.
pub fn fill_constraints(constraints: &mut Constraints, policy: &Policy) {
    if constraints.forbidden_paths.is_empty() {
        constraints.forbidden_paths = policy.forbidden_paths().iter().map(|g| g.as_str().to_owned()).collect();
    }
    if constraints.forbidden_calls.is_empty() {
        constraints.forbidden_calls = policy.forbidden_calls().iter().map(|c| c.name.clone()).collect();
    }
}

/// Why a `remote_allowed` packet may not leave the machine; empty when it may (or when it is `local_only`).
/// What a `remote_allowed` packet needs a person's approval for (`routing.require_remote_approval` task types,
/// items under `privacy.sensitive_dirs` when `approval_required`): one `approval_required` violation each. Hosts
/// add these to the gate's unless the user approved the remote route (`--approve-remote`), and audit the approval.
pub fn approval_gate(packet: &Packet, policy: &Policy) -> Vec<Violation> {
    if packet.header.privacy != Privacy::RemoteAllowed {
        return Vec::new();
    }
    let mut violations = task_approval(&packet.header, policy);
    for (index, item) in packet.context.iter().enumerate() {
        violations.extend(item_approval(item, index, policy));
    }
    violations
}

/// `approval_required` for the task type.
pub fn task_approval(header: &Header, policy: &Policy) -> Vec<Violation> {
    let reasons = policy.approval_reasons(&header.task_type, []).into_iter();
    reasons.map(|reason| Violation::new("header.task_type", "approval_required", reason)).collect()
}

/// `approval_required` for the item at `index` (its directory).
pub fn item_approval(item: &Item, index: usize, policy: &Policy) -> Vec<Violation> {
    let reasons = policy.approval_reasons("", item.path.as_deref()).into_iter();
    reasons.map(|reason| Violation::new(format!("context[{index}].path"), "approval_required", reason)).collect()
}

pub fn remote_gate(packet: &Packet, policy: &Policy) -> Vec<Violation> {
    if packet.header.privacy != Privacy::RemoteAllowed {
        return Vec::new();
    }
    let mut violations: Vec<Violation> = always_local(&packet.header, policy).into_iter().collect();
    for (index, item) in packet.context.iter().enumerate() {
        violations.extend(forbidden_item(item, index, policy));
    }
    violations.extend(second_pass(&packet.to_value(), String::new(), policy));
    violations
}

/// `always_local` when the task type must stay on the machine.
pub fn always_local(header: &Header, policy: &Policy) -> Option<Violation> {
    policy.is_always_local(&header.task_type).then(|| {
        let message = format!("task type {} must stay local (routing.always_local)", header.task_type);
        Violation::new("header.task_type", "always_local", message)
    })
}

/// `forbidden_path` when the item at `index` lies on one.
pub fn forbidden_item(item: &Item, index: usize, policy: &Policy) -> Option<Violation> {
    let glob = item.path.as_deref().and_then(|path| policy.forbidden_path(path))?;
    Some(Violation::new(format!("context[{index}].path"), "forbidden_path", format!("matches forbidden path {glob}")))
}

/// The gate's second detection pass: the detectors run again over every string of `value` (at `path` in the
/// packet) as it would be sent (item names, paths, summaries, snippets, problem text, attachments, records:
/// everything, not only the texts [`redact_packet`] masks). One `secret` violation per string and rule still
/// matching; the message names the rule, never the text.
pub fn second_pass(value: &serde_json::Value, path: String, policy: &Policy) -> Vec<Violation> {
    let mut strings = Vec::new();
    collect_strings(value, path, &mut strings);
    let detector = policy.detector();
    let mut violations = Vec::new();
    for (path, text) in strings {
        let mut rules: Vec<String> = detector.find(text).into_iter().map(|f| f.rule_id).collect();
        rules.sort();
        rules.dedup();
        for rule_id in rules {
            violations.push(Violation::new(path.clone(), "secret", format!("rule {rule_id} still matches")));
        }
    }
    violations
}

/// Every string in `value` (object keys aside) with its path (`context[0].snippet`).
fn collect_strings<'a>(value: &'a serde_json::Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        serde_json::Value::String(text) => out.push((path, text)),
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_strings(item, format!("{path}[{index}]"), out);
            }
        }
        serde_json::Value::Object(fields) => {
            for (name, field) in fields {
                collect_strings(field, if path.is_empty() { name.clone() } else { format!("{path}.{name}") }, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::detect::tests::fake;
    use crate::context::packet::Attachment;
    use crate::context::packet::RedactionAction;
    use crate::context::redact_items::truncation_mark;
    use serde_json::{json, Value};

    /// A classic GitHub token built at run time, so this file holds nothing that looks like a live secret.
    fn token(seed: u64) -> String {
        let body = fake("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36, seed);
        format!("gh{}_{body}", 'p')
    }

    fn packet(privacy: &str, items: Vec<Value>) -> Packet {
        serde_json::from_value(json!({
            "header": {"packet_id": "p", "task_id": "t", "task_type": "code.generate", "created_at": "now",
                       "builder_version": "test", "privacy": privacy},
            "problem": {"summary": "fix the login", "acceptance": ["tests pass"]},
            "scope": {"roots": ["."]},
            "constraints": {"max_tokens": 1000},
            "context": items,
            "policy": {"remote_allowed": false},
            "provenance": {}
        }))
        .unwrap()
    }

    fn item(name: &str, path: &str, snippet: &str) -> Value {
        json!({"name": name, "path": path, "item_type": "code", "source": "ast", "snippet": snippet})
    }

    fn policy(document: Value) -> Policy {
        Policy::from_document(&document).unwrap()
    }

    fn names(packet: &Packet) -> Vec<&str> {
        packet.context.iter().map(|item| item.name.as_str()).collect()
    }

    #[test]
    fn remote_routes_the_policy_reserves_need_approval() {
        let items = vec![item("ci", ".github/workflows/ci.yml", "run: make"), item("ok", "src/a.py", "x = 1")];
        let remote = packet("remote_allowed", items.clone());
        let found: Vec<(String, &str)> =
            approval_gate(&remote, &Policy::builtin()).into_iter().map(|v| (v.path, v.code)).collect();
        let expected = [("header.task_type", "approval_required"), ("context[0].path", "approval_required")];
        assert_eq!(found, expected.map(|(path, code)| (path.to_owned(), code)));
        assert!(approval_gate(&packet("local_only", items.clone()), &Policy::builtin()).is_empty());
        let relaxed = policy(json!({
            "routing": {"require_remote_approval": {"task_types": []}},
            "privacy": {"sensitive_dirs": {"approval_required": false}}
        }));
        assert!(approval_gate(&remote, &relaxed).is_empty());
    }

    #[test]
    fn drops_items_on_forbidden_paths() {
        let mut p = packet("local_only", vec![item("env", "app/.env", "A=1"), item("ok", "src/a.py", "x = 1")]);
        let summary = redact_packet(&mut p, &Policy::builtin());
        assert_eq!(names(&p), ["ok"]);
        let record = &summary.applied[0];
        assert_eq!(
            (record.action, record.rule.as_str(), record.reason.as_str()),
            (RedactionAction::Dropped, ".env", "forbidden path")
        );
        assert_eq!(record.path.as_deref(), Some("app/.env"));
        assert!(p.constraints.forbidden_paths.contains(&".npmrc".to_owned()));
        assert!(p.constraints.forbidden_calls.contains(&"os.system".to_owned()));
    }

    #[test]
    fn masks_credentials_and_pii_in_every_llm_visible_text() {
        let secret = token(1);
        let mut p =
            packet("local_only", vec![item("a", "src/a.py", &format!("KEY = \"{secret}\"\nk2 = \"{secret}\""))]);
        p.context[0].summary = Some("mail jane.doe@acme-corp.org".to_owned());
        p.problem.summary = format!("token {secret} leaked");
        p.problem.acceptance.push(format!("rotate {secret}"));
        p.attachments.push(Attachment { name: "log".into(), content: format!("auth {secret}"), mime_type: None });
        let summary = redact_packet(&mut p, &Policy::builtin());
        let text = serde_json::to_string(&p).unwrap();
        assert!(!text.contains(&secret), "no secret survives anywhere, records included");
        assert!(!text.contains("jane.doe@"));
        assert!(p.context[0].snippet.as_deref().unwrap().contains("[REDACTED:github-personal-access-token]"));
        let fields: Vec<(&str, &str, u64)> =
            summary.applied.iter().map(|r| (r.field.as_deref().unwrap(), r.rule.as_str(), r.count)).collect();
        assert_eq!(
            fields,
            [
                ("summary", "email-address", 1),
                ("snippet", "github-personal-access-token", 2),
                ("problem.summary", "github-personal-access-token", 1),
                ("problem.acceptance[1]", "github-personal-access-token", 1),
                ("attachments[0].content", "github-personal-access-token", 1),
            ]
        );
        assert!(summary.applied.iter().all(|r| r.action == RedactionAction::Masked && r.redacted_at.is_none()));
    }

    #[test]
    fn remove_item_drops_an_item_with_a_credential_but_masks_pii() {
        let policy = policy(json!({"redaction": {"strategies": {"secrets": {"action": "remove_item"}}}}));
        let secret = token(2);
        let items = vec![
            item("cred", "src/a.py", &format!("t = '{secret}'")),
            item("pii", "src/b.py", "# by jane.doe@acme-corp.org"),
        ];
        let mut p = packet("local_only", items);
        let summary = redact_packet(&mut p, &policy);
        assert_eq!(names(&p), ["pii"]);
        assert_eq!(summary.applied[0].action, RedactionAction::Dropped);
        assert_eq!(summary.applied[0].rule, "github-personal-access-token");
        assert_eq!(summary.applied[1].action, RedactionAction::Masked);
        assert!(!serde_json::to_string(&summary.applied).unwrap().contains(&secret));
    }

    #[test]
    fn the_original_policy_rules_load_and_mask_with_their_replacement() {
        let policy = policy(json!({"privacy": {"forbidden_content": {"patterns": [
            {"regex": "(?i)(secret|token)\\s*[=:]\\s*['\"]?[A-Za-z0-9_-]+", "reason": "Secret or token pattern"},
            {"regex": "\\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Z|a-z]{2,}\\b", "reason": "Email address (PII)",
             "redact_with": "[EMAIL_REDACTED]"}
        ]}, "pii": {"email": false}}}));
        let mut p = packet("local_only", vec![item("a", "src/a.py", "SECRET = 'hunter2'\n# owner: bob@corp.io")]);
        let summary = redact_packet(&mut p, &policy);
        assert_eq!(
            p.context[0].snippet.as_deref(),
            Some("[REDACTED:policy.secret-or-token-pattern]'\n# owner: [EMAIL_REDACTED]")
        );
        assert_eq!(summary.applied.len(), 2);
        assert!(redact_packet(&mut p, &policy).applied.is_empty());
    }

    #[test]
    fn forbidden_calls_are_flagged_once_or_dropped() {
        let snippet = "import os\nos.system('ls')\nos.system('pwd')\nmyos.system(1)\nsubprocess.run(['x'])";
        let mut p = packet("local_only", vec![item("a", "src/a.py", snippet), item("b", "src/b.py", "print(1)")]);
        let summary = redact_packet(&mut p, &Policy::builtin());
        let flags: Vec<(&str, u64, &str)> =
            summary.applied.iter().map(|r| (r.rule.as_str(), r.count, r.reason.as_str())).collect();
        assert_eq!(
            flags,
            [
                ("subprocess.run", 1, "forbidden call (no_subprocess)"),
                ("os.system", 2, "forbidden call (no_subprocess)")
            ]
        );
        assert!(summary.applied.iter().all(|r| r.action == RedactionAction::Flagged));
        assert_eq!(names(&p), ["a", "b"]);
        assert!(redact_packet(&mut p, &Policy::builtin()).applied.is_empty(), "a flag is recorded once");

        let drop = policy(json!({"redaction": {"strategies": {"forbidden_calls": {"action": "drop"}}},
            "invariants": {"rules": [{"id": "no_eval", "forbidden_calls": ["eval"]}]}}));
        let mut p = packet(
            "local_only",
            vec![
                item("a", "src/a.py", snippet),
                item("e", "src/e.py", "eval(x)"),
                item("b", "src/b.py", "medieval(x)"),
            ],
        );
        let summary = redact_packet(&mut p, &drop);
        assert_eq!(names(&p), ["b"]);
        assert_eq!(summary.applied[1].rule, "eval");
        assert_eq!(summary.applied[1].reason, "forbidden call (no_eval)");
        assert_eq!((summary.applied[0].action, summary.applied[0].count), (RedactionAction::Dropped, 3));
    }

    #[test]
    fn long_snippets_are_truncated_to_the_maximum_without_splitting_a_marker() {
        let policy = policy(json!({"redaction": {"strategies": {"large_files": {"max_length": 60}}}}));
        let mut p =
            packet("local_only", vec![item("a", "src/a.py", &format!("{}é{}", "x".repeat(30), "y".repeat(100)))]);
        let summary = redact_packet(&mut p, &policy);
        let snippet = p.context[0].snippet.as_deref().unwrap();
        assert_eq!(snippet.chars().count(), 60);
        assert!(snippet.ends_with(&truncation_mark()));
        assert_eq!(
            (summary.applied[0].action, summary.applied[0].rule.as_str()),
            (RedactionAction::Truncated, "max_length")
        );

        let mut p = packet(
            "local_only",
            vec![item("b", "src/b.py", &format!("{} {} and more text here to cut", "z".repeat(39), token(3)))],
        );
        redact_packet(&mut p, &policy);
        let snippet = p.context[0].snippet.as_deref().unwrap();
        assert_eq!(snippet, format!("{} {}", "z".repeat(39), truncation_mark()), "the marker is cut whole");

        // A 40-character body matches nothing (no word boundary after 36); cut after 36 it would.
        let long = format!("{}{}", token(6), "Q".repeat(4));
        let mut p = packet("local_only", vec![item("c", "src/c.py", &format!("x {long} and more text to cut away"))]);
        let policy =
            Policy::from_document(&json!({"redaction": {"strategies": {"large_files": {"max_length": 54}}}})).unwrap();
        assert!(redact_packet(&mut p, &policy).applied.iter().all(|r| r.action == RedactionAction::Truncated));
        assert_eq!(p.context[0].snippet.as_deref(), Some(format!("x {}", truncation_mark()).as_str()));
        assert!(redact_packet(&mut p, &policy).applied.is_empty());
    }

    #[test]
    fn a_second_pass_changes_nothing() {
        let secret = token(4);
        let packets = [
            packet("remote_allowed", vec![item("a", "src/a.py", &format!("k = '{secret}'\nos.remove(p)"))]),
            packet("local_only", vec![item("env", ".env.local", "A=1"), item("b", "b.rs", &"long line\n".repeat(700))]),
            packet(
                "local_only",
                vec![item("c", "c.py", "requests.get(u) # jane.doe@acme-corp.org"), item("d", "d.py", "")],
            ),
            packet("remote_allowed", vec![]),
        ];
        let policies = [
            Policy::builtin(),
            policy(
                json!({"redaction": {"strategies": {"secrets": {"action": "remove_item"}, "pii": {"replacement": "[PII]"},
                "forbidden_calls": {"action": "drop"}, "large_files": {"max_length": 25}}}}),
            ),
        ];
        for policy in &policies {
            for original in &packets {
                let mut once = original.clone();
                redact_packet(&mut once, policy);
                let mut twice = once.clone();
                let summary = redact_packet(&mut twice, policy);
                assert!(summary.applied.is_empty(), "{:?}", summary.applied);
                assert_eq!(once, twice);
                assert!(remote_gate(&twice, policy).is_empty());
            }
        }
    }

    #[test]
    fn sets_remote_allowed_from_the_header() {
        let mut p = packet("remote_allowed", vec![]);
        redact_packet(&mut p, &Policy::builtin());
        assert!(p.policy.remote_allowed);
        let mut p = packet("local_only", vec![]);
        p.policy.remote_allowed = true;
        redact_packet(&mut p, &Policy::builtin());
        assert!(!p.policy.remote_allowed);
    }

    #[test]
    fn the_gate_blocks_unredacted_remote_packets_without_naming_the_secret() {
        let secret = token(5);
        let mut p = packet(
            "remote_allowed",
            vec![item("a", "src/a.py", &format!("x = '{secret}'")), item("k", "tls/server.pem", "...")],
        );
        p.header.task_type = "secrets.scan".to_owned();
        let violations = remote_gate(&p, &Policy::builtin());
        let codes: Vec<(&str, &str)> = violations.iter().map(|v| (v.path.as_str(), v.code)).collect();
        assert_eq!(
            codes,
            [
                ("header.task_type", "always_local"),
                ("context[1].path", "forbidden_path"),
                ("context[0].snippet", "secret")
            ]
        );
        assert!(violations.iter().all(|v| !v.to_string().contains(&secret)));
        assert!(violations[2].message.contains("github-personal-access-token"));

        p.header.privacy = Privacy::LocalOnly;
        assert!(remote_gate(&p, &Policy::builtin()).is_empty(), "local packets never leave, so nothing blocks them");
    }

    #[test]
    fn the_gate_catches_what_a_weaker_policy_left_behind() {
        let weak = policy(json!({"privacy": {"pii": false}}));
        let mut p = packet("remote_allowed", vec![item("a", "src/a.py", "# owner jane.doe@acme-corp.org")]);
        redact_packet(&mut p, &weak);
        assert!(remote_gate(&p, &weak).is_empty());
        let violations = remote_gate(&p, &Policy::builtin());
        assert_eq!(violations.len(), 1);
        assert_eq!((violations[0].code, violations[0].path.as_str()), ("secret", "context[0].snippet"));
    }

    #[test]
    fn the_second_pass_blocks_what_redaction_leaves_in_fields_it_does_not_mask() {
        let secret = token(6);
        let mut p = packet("remote_allowed", vec![item(&format!("deploy with {secret}"), "src/a.py", "x = 1")]);
        p.header.task_id = "password=Maple1990!".to_owned();
        redact_packet(&mut p, &Policy::builtin());
        let violations = remote_gate(&p, &Policy::builtin());
        let found: Vec<(&str, &str)> = violations.iter().map(|v| (v.path.as_str(), v.message.as_str())).collect();
        assert_eq!(
            found,
            [
                ("context[0].name", "rule github-personal-access-token still matches"),
                ("header.task_id", "rule generic-password still matches")
            ]
        );
        assert!(violations.iter().all(|v| !v.to_string().contains(&secret) && !v.to_string().contains("Maple1990")));
    }
}

/// Times each stage of redacting a packet file natively (`node bench/context.mjs --cli` writes one):
/// `BENCH_PACKET=.bench/context/cli/packet-5mb.yaml cargo test --release --lib context::redact::bench_packet -- --ignored --nocapture`.
#[cfg(test)]
#[test]
#[ignore = "a benchmark; needs a packet file"]
fn bench_packet() {
    use crate::context::packet::validate::{check_structure, SchemaRules};
    use crate::context::packet::yaml::{into_yaml, parse_document_within};
    let file = std::env::var("BENCH_PACKET").unwrap_or_else(|_| ".bench/context/cli/packet-5mb.yaml".to_owned());
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).expect("packet");
    let policy = Policy::builtin();
    policy.detector().find("warm-up");
    let lap = std::time::Instant::now();
    let value = parse_document_within(&text, usize::MAX).unwrap();
    let parsed = lap.elapsed();
    let mut packet = check_structure(value, &SchemaRules::default()).unwrap();
    let checked = lap.elapsed();
    redact_packet(&mut packet, &policy);
    let redacted = lap.elapsed();
    let yaml = into_yaml(packet).unwrap();
    let written = lap.elapsed();
    let megabytes = text.len() as f64 / 1e6;
    println!(
        "{megabytes:.1} MB: parse {:?}, check {:?}, redact {:?}, write {:?} ({} bytes out)",
        parsed,
        checked - parsed,
        redacted - checked,
        written - redacted,
        yaml.len()
    );
}
