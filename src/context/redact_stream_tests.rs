//! The streamed redaction writes what the whole-document path writes, records and blocks the same, whatever
//! the chunks the packet arrives in.

use super::*;
use crate::context::detect::tests::fake;
use crate::context::hash::packet_hash;
use crate::context::packet::validate::check_structure;
use crate::context::packet::yaml::{into_yaml, parse_document, to_json_pretty, to_yaml};
use crate::context::redact::{approval_gate, redact_packet, remote_gate};
use serde_json::json;

fn token(seed: u64) -> String {
    format!("gh{}_{}", 'p', fake("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36, seed))
}

/// What `contextRedactText` does: the whole document parsed, redacted, rehashed, gated and written.
fn whole(
    text: &str,
    policy: &Policy,
    json: bool,
) -> std::result::Result<(String, Vec<Redaction>, Vec<Violation>), Vec<Violation>> {
    let mut packet = check_structure(parse_document(text).unwrap(), &SchemaRules::default())?;
    let applied = redact_packet(&mut packet, policy).applied;
    if !packet.provenance.packet_hash.is_empty() {
        packet.provenance.packet_hash = packet_hash(&packet).unwrap().to_string();
    }
    let mut blocked = remote_gate(&packet, policy);
    blocked.extend(approval_gate(&packet, policy));
    let bytes = if json { to_json_pretty(&packet).unwrap() + "\n" } else { into_yaml(packet).unwrap() };
    Ok((bytes, applied, blocked))
}

fn streamed(text: &str, policy: &Policy, json: bool, chunk: usize, max_bytes: usize) -> Result<(String, Streamed)> {
    let mut chunks: Vec<Vec<u8>> = text.as_bytes().chunks(chunk).map(<[u8]>::to_vec).rev().collect();
    let mut out = Vec::new();
    // The tail that a host reading a file gives, for some chunk sizes.
    let tail = if chunk % 2 == 1 { text.as_bytes()[text.len().saturating_sub(1 << 16)..].to_vec() } else { Vec::new() };
    let options = StreamOptions { json, max_bytes, approved: false, tail };
    let result = redact_stream(
        move || chunks.pop(),
        &mut |bytes| out.extend_from_slice(bytes),
        policy,
        &SchemaRules::default(),
        &options,
    )?;
    Ok((String::from_utf8(out).unwrap(), result))
}

fn packet(privacy: &str, hash: &str, items: Vec<Value>, attachments: Value) -> Value {
    json!({
        "header": {"packet_id": "p", "task_id": "t", "task_type": "code.generate", "created_at": "2026-11-23T12:00:00Z",
                   "builder_version": "test", "privacy": privacy},
        "problem": {"summary": format!("fix the login, token {}", token(9)), "acceptance": ["tests pass"]},
        "scope": {"roots": ["."]},
        "constraints": {"max_tokens": 100000, "max_items": 100},
        "context": items,
        "policy": {"remote_allowed": privacy == "remote_allowed",
                   "redactions_applied": [{"item_name": "b", "path": "src/b.py", "field": "snippet", "action": "flagged",
                                           "rule": "os.system", "reason": "forbidden call (x)", "count": 1}]},
        "provenance": {"inputs": {}, "packet_hash": hash},
        "attachments": attachments
    })
}

fn items() -> Vec<Value> {
    let item = |name: &str, path: &str, snippet: String| json!({"name": name, "path": path, "item_type": "code", "source": "ast", "snippet": snippet});
    vec![
        item("a", "src/a.py", format!("KEY = \"{}\"\nos.system('x')\n", token(1))),
        item("b", "src/b.py", "import os\nos.system('ls')\n".to_owned()),
        item("env", "app/.env", "A=1".to_owned()),
        item("long", ".github/workflows/ci.yml", format!("  indented\n{}", "word ".repeat(790))),
        json!({"name": "mail", "item_type": "summary", "source": "ast", "summary": "mail jane.doe@acme-corp.org"}),
    ]
}

/// The packet in schema order (attachments last), and with the parts written after the items first.
fn texts(value: &Value) -> [String; 2] {
    let typed: Packet = serde_json::from_value(value.clone()).unwrap();
    let order =
        ["attachments", "provenance", "policy", "invariants", "header", "problem", "scope", "constraints", "context"];
    [to_yaml(&typed).unwrap(), in_order(value, &order)]
}

fn in_order(value: &Value, keys: &[&str]) -> String {
    let part = |key: &str| value.get(key).map(|v| to_yaml(&json!({ key: v })).unwrap()).unwrap_or_default();
    let rest = value.as_object().unwrap().keys().filter(|k| !keys.contains(&k.as_str())).map(|k| part(k));
    keys.iter().map(|k| part(k)).chain(rest).collect()
}

#[test]
fn writes_what_the_whole_document_path_writes() {
    let hash = format!("sha256:{}", "0".repeat(64));
    let attachments = json!([{"name": "log", "content": format!("auth {}", token(3))}]);
    let cases = [
        packet("local_only", "", items(), json!([])),
        packet("local_only", &hash, items(), json!([])),
        packet("remote_allowed", &hash, items(), attachments.clone()),
        packet("remote_allowed", "", items(), attachments),
        packet("local_only", &hash, vec![], json!([])),
        packet("local_only", "", items()[2..3].to_vec(), json!([])),
    ];
    let strategies = json!({"large_files": {"max_length": 1000}});
    let policy = Policy::from_document(&json!({"redaction": {"strategies": strategies}})).unwrap();
    for (case, value) in cases.iter().enumerate() {
        for (order, text) in texts(value).iter().enumerate() {
            for json in [false, true] {
                let (bytes, applied, blocked) = whole(text, &policy, json).unwrap();
                for chunk in [1, 7, 4096, usize::MAX] {
                    let (out, result) = streamed(text, &policy, json, chunk, MAX_DOCUMENT).unwrap();
                    let hashed_attachments_after_items = order == 0 && case == 2;
                    match result {
                        Streamed::Whole => assert!(hashed_attachments_after_items, "case {case} order {order}"),
                        Streamed::Done(summary) => {
                            assert!(!hashed_attachments_after_items, "case {case}");
                            assert_eq!(out, bytes, "case {case} order {order} json {json} chunk {chunk}");
                            assert_eq!(summary.applied, applied, "case {case}");
                            assert_eq!(summary.blocked, blocked, "case {case}");
                        }
                        Streamed::Invalid(v) => panic!("case {case}: {v:?}"),
                    }
                }
            }
        }
    }
}

const MAX_DOCUMENT: usize = 16 << 20;

#[test]
fn reports_the_violations_the_whole_document_check_reports() {
    let mut value = packet("local_only", "", items(), json!([]));
    value["context"][1]["item_type"] = json!("poem");
    value["context"][3]["extra"] = json!(1);
    value["header"]["privacy"] = json!("public");
    value["zzz"] = json!(1);
    let text = in_order(&value, &["header", "problem", "scope", "constraints", "context"]);
    let expected = whole(&text, &Policy::builtin(), false).unwrap_err();
    assert_eq!(expected.len(), 4);
    match streamed(&text, &Policy::builtin(), false, 100, MAX_DOCUMENT).unwrap().1 {
        Streamed::Invalid(violations) => assert_eq!(violations, expected),
        _ => panic!("not invalid"),
    }
}

#[test]
fn reports_the_yaml_errors_the_whole_document_reports() {
    let [text, _] = texts(&packet("local_only", "", items(), json!([])));
    let duplicate = text.replacen("problem:", "header:\n  a: 1\nproblem:", 1);
    let unclosed = text.replacen("- name: b", "- name: [b", 1);
    for broken in [duplicate, unclosed] {
        let expected = parse_document(&broken).unwrap_err();
        let error = streamed(&broken, &Policy::builtin(), false, 64, MAX_DOCUMENT).err().expect("a YAML error");
        assert_eq!((error.code, &error.message), (expected.code, &expected.message));
    }
}

#[test]
fn an_item_over_the_limit_is_refused_naming_it() {
    let [text, _] = texts(&packet("local_only", "", items(), json!([])));
    let error = streamed(&text, &Policy::builtin(), false, 4096, 2000).err().expect("over the limit");
    assert_eq!(error.code, ErrorCode::LimitExceeded);
    assert_eq!(error.message, "context[3] (one item) is over the limit of 2000 bytes");
    let error = streamed(&text, &Policy::builtin(), false, 4096, 200).err().expect("over the limit");
    assert_eq!(error.message, "the packet without its context items is over the limit of 200 bytes");
}

#[test]
fn json_and_items_ahead_of_the_header_are_read_whole() {
    let value = packet("local_only", "", items(), json!([]));
    let json_text = serde_json::to_string(&value).unwrap();
    assert!(matches!(streamed(&json_text, &Policy::builtin(), false, 64, MAX_DOCUMENT).unwrap().1, Streamed::Whole));
    let mut rest = value.clone();
    let context = rest.as_object_mut().unwrap().remove("context").unwrap();
    let yaml = to_yaml(&json!({ "context": context })).unwrap() + &to_yaml(&rest).unwrap();
    assert!(yaml.starts_with("context:\n- "));
    assert!(matches!(streamed(&yaml, &Policy::builtin(), false, 64, MAX_DOCUMENT).unwrap().1, Streamed::Whole));
}

/// Streams `text` over several chunk sizes and checks the outcome against the whole-document path's.
fn same_as_whole(text: &str) {
    let policy = Policy::builtin();
    let expected = parse_document(text).map(|_| whole(text, &policy, false)).map_err(|e| e.message);
    for chunk in [1, 7, 4096, usize::MAX] {
        match (&expected, streamed(text, &policy, false, chunk, MAX_DOCUMENT)) {
            (Err(message), Err(e)) => assert_eq!(&e.message, message, "chunk {chunk}:\n{text}"),
            (Ok(Ok((bytes, applied, blocked))), Ok((out, Streamed::Done(summary)))) => {
                assert_eq!(&out, bytes, "chunk {chunk}:\n{text}");
                assert_eq!((&summary.applied, &summary.blocked), (applied, blocked));
            }
            (Ok(Err(violations)), Ok((_, Streamed::Invalid(got)))) => assert_eq!(&got, violations),
            (expected, got) => panic!("chunk {chunk}: {expected:?} but {:?}:\n{text}", got.map(|(out, _)| out)),
        }
    }
}

#[test]
fn what_the_line_scanner_leaves_is_read_as_the_whole_document_reads_it() {
    let [text, _] = texts(&packet("local_only", "", items(), json!([])));
    let (head, rest) = text.split_once("context:\n").unwrap();
    let (list, tail) = rest.split_at(rest.find("\ninvariants:").unwrap() + 1);
    let indented: String =
        list.lines().map(|line| if line.is_empty() { "\n".to_owned() } else { format!("  {line}\n") }).collect();
    let variants = [
        // Read by the scanner: items indented under `context:`, quoted keys' values, a trailing comment-free tail.
        format!("{head}context:\n{indented}{tail}"),
        text.replacen("- name: b\n", "- name: 'b'\n", 1),
        // Left to the full reader from an item on: a comment, a blank line, a flow collection, an anchor, tabs.
        text.replacen("- name: b\n", "# between items\n- name: b\n", 1),
        text.replacen("- name: b\n", "\n- name: b\n", 1),
        text.replacen("- name: b\n", "- {name: b}\n- name: b\n", 1),
        text.replacen("- name: b\n", "- name: [b]\n", 1),
        text.replacen("- name: b\n", "- name: &x b\n", 1),
        text.replacen("  path: src/b.py\n", "  path:\tsrc/b.py\n", 1),
        // ... or after the last one: the parts after the items, a second document, a duplicate key.
        format!("{text}---\nheader: 1\n"),
        format!("{text}header:\n  a: 1\n"),
        format!("{head}context:\n{list}"),
        // Left to it from the start: no `context:` line of its own, or a head it cannot read alone.
        text.replacen("context:\n", "context: # items\n", 1),
        text.replacen("problem:\n", "problem: {\n", 1),
        format!("# leading comment\n{text}"),
    ];
    for variant in &variants {
        same_as_whole(variant);
    }
}

#[test]
fn a_tail_without_a_hash_spares_hashing_and_a_wrong_one_reads_the_packet_whole() {
    let hash = format!("sha256:{}", "0".repeat(64));
    let [unhashed, _] = texts(&packet("local_only", "", items(), json!([])));
    let [hashed, _] = texts(&packet("local_only", &hash, items(), json!([])));
    assert!(scan::unhashed_tail(unhashed.as_bytes()));
    assert!(!scan::unhashed_tail(hashed.as_bytes()));
    // Only the top-level entry counts, not text that looks like it inside a literal block.
    assert!(!scan::unhashed_tail(b"x: |\n  a\n\n  provenance:\n    packet_hash: ''\n"));
    let stream = |text: &str, tail: &str| {
        let options = StreamOptions { json: false, max_bytes: MAX_DOCUMENT, approved: false, tail: tail.into() };
        redact_stream(
            {
                let mut chunk = Some(text.as_bytes().to_vec());
                move || chunk.take()
            },
            &mut |_| {},
            &Policy::builtin(),
            &SchemaRules::default(),
            &options,
        )
    };
    let tail = &unhashed[unhashed.find("provenance:").unwrap() - 1..];
    assert!(matches!(stream(&unhashed, tail).unwrap(), Streamed::Done(_)));
    assert!(matches!(stream(&hashed, tail).unwrap(), Streamed::Whole));
}

/// Times a packet file streamed natively (`node bench/context.mjs --cli` writes one), for profiling:
/// `BENCH_PACKET=.bench/context/cli/packet-50mb.yaml cargo test --release --lib times_a_streamed_packet -- --ignored --nocapture`.
#[test]
#[ignore]
fn times_a_streamed_packet() {
    use std::io::Read;
    let mut file = std::fs::File::open(std::env::var("BENCH_PACKET").unwrap()).unwrap();
    let policy = Policy::builtin();
    let read = move || {
        let mut buf = vec![0; 1 << 20];
        let n = file.read(&mut buf).unwrap();
        buf.truncate(n);
        Some(buf)
    };
    let start = std::time::Instant::now();
    let options = StreamOptions { json: false, max_bytes: MAX_DOCUMENT, approved: false, tail: Vec::new() };
    let mut total = 0;
    let result = redact_stream(read, &mut |b| total += b.len(), &policy, &SchemaRules::default(), &options).unwrap();
    assert!(matches!(result, Streamed::Done(_)));
    eprintln!("streamed {total} bytes in {:?}", start.elapsed());
}
