//! The context audit log: append-only JSON Lines, each entry chained to the one before by its hash.
//!
//! An entry is the host's event (`event`, `time`, and whatever else it records; any string in it that a built-in
//! detector flags is masked as `[REDACTED:<rule-id>]`) plus three fields ctxpack adds:
//!
//! - `seq`: 1 for the first entry, then one more per line, so it equals the line number;
//! - `prev`: the previous entry's `hash`, or [`GENESIS`] (`sha256:` and 64 zeros) for the first entry — a value
//!   no content hashes to, so a first line cannot pass for a later one;
//! - `hash`: `sha256:` + SHA-256 of the JCS form of the entry without `hash`.
//!
//! A line is the JCS form of the whole entry. Editing a line breaks its hash; removing, reordering or inserting
//! lines breaks `seq` and `prev`. Cutting lines off the end leaves a valid chain, which is why the host also keeps
//! the last [`AuditHead`] in a separate file and passes it to [`verify`]: a log shorter than its head, or one
//! whose entry at the head's `seq` differs, is reported, and so is a log that runs more than one entry past its
//! head (entries appended without updating the head). Hosts append `line + "\n"` and then write the new head; a
//! crash between the two leaves exactly one entry past the head, chained onto it, which is accepted (the host
//! rewrites the head on its next append).
//!
//! A last line without its newline is accepted when it is a whole entry; one that does not parse is what an
//! interrupted write leaves, and is reported as such (a host appending to such a log must add the `\n` first).
//! Every problem is [`ErrorCode::AuditBroken`] naming the first bad line (`line 7`) as its subject.

use crate::context::violation::scrub;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use serde_json::{Map, Value};

/// The `prev` of the first entry.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// Fields ctxpack writes; an event may not carry them.
const RESERVED: [&str; 3] = ["seq", "prev", "hash"];

/// The last entry of a log: what the next entry chains to, and what a host keeps to detect a cut-off tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: u64,
    pub hash: Digest,
}

impl AuditHead {
    /// `{"seq": n, "hash": "sha256:…"}`, the form hosts store.
    pub fn to_value(&self) -> Value {
        serde_json::json!({ "seq": self.seq, "hash": self.hash.to_string() })
    }

    pub fn from_value(value: &Value) -> Result<AuditHead> {
        let bad = || {
            Error::new(ErrorCode::AuditBroken, "the audit head must be {\"seq\": <n ≥ 1>, \"hash\": \"sha256:…\"}")
                .at("head")
        };
        let seq = value.get("seq").and_then(Value::as_u64).filter(|seq| *seq >= 1).ok_or_else(bad)?;
        let hash = value.get("hash").and_then(Value::as_str).ok_or_else(bad)?;
        Ok(AuditHead { seq, hash: Digest::parse(hash).map_err(|_| bad())? })
    }
}

/// What [`verify`] found in an intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    /// The last entry; `None` for an empty log.
    pub head: Option<AuditHead>,
}

/// The line (without its newline) that records `event` after `head` (`None` for an empty log), and the new head.
///
/// `event` must be an object with a non-empty string `event` (`packet_built`, `cache_hit`, …) and an RFC 3339
/// `time`, and without `seq`, `prev` or `hash`.
pub fn next_line(head: Option<&AuditHead>, event: &Value) -> Result<(String, AuditHead)> {
    let invalid = |field: &str, why: &str| {
        Error::new(ErrorCode::JsonInvalid, format!("an audit event {why}"))
            .at(field)
            .hint("pass an object such as {\"event\": \"packet_built\", \"time\": \"2026-01-02T03:04:05Z\", …}")
    };
    let Value::Object(fields) = event else { return Err(invalid("$", "must be a JSON object")) };
    if let Some(field) = RESERVED.iter().find(|f| fields.contains_key(**f)) {
        return Err(invalid(field, "may not set it: ctxpack writes seq, prev and hash"));
    }
    match fields.get("event") {
        Some(Value::String(name)) if !name.is_empty() => {}
        _ => return Err(invalid("event", "needs `event`, a non-empty string")),
    }
    match fields.get("time") {
        Some(Value::String(time)) if is_rfc3339(time) => {}
        _ => return Err(invalid("time", "needs `time`, an RFC 3339 timestamp such as 2026-01-02T03:04:05Z")),
    }
    let seq = head.map_or(1, |h| h.seq + 1);
    let prev = head.map_or(GENESIS.to_string(), |h| h.hash.to_string());
    let mut entry: Map<String, Value> = fields.iter().map(|(key, value)| (key.clone(), masked(value))).collect();
    entry.insert("seq".into(), Value::from(seq));
    entry.insert("prev".into(), Value::String(prev));
    let mut entry = Value::Object(entry);
    let hash = jcs::digest(&entry)?;
    if let Value::Object(map) = &mut entry {
        map.insert("hash".into(), Value::String(hash.to_string()));
    }
    // JCS writes UTF-8 (strings as they came, escapes only where JSON needs them): nothing is replaced here.
    let line = String::from_utf8_lossy(&jcs::canonicalize(&entry)?).into_owned();
    Ok((line, AuditHead { seq, hash }))
}

/// `value` with every string a built-in detector flags masked: an event records ids, codes and places, and a
/// task id or path that holds a secret must not carry it into the log.
fn masked(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(scrub(text)),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(key, value)| (key.clone(), masked(value))).collect()),
        other => other.clone(),
    }
}

/// Checks every line of `log` and, when given, that the log ends exactly at `head`.
pub fn verify(log: &str, head: Option<&AuditHead>) -> Result<AuditReport> {
    let mut last: Option<AuditHead> = None;
    let mut at_head: Option<Digest> = None;
    for (index, raw) in log.split_inclusive('\n').enumerate() {
        let number = index as u64 + 1;
        let broken = |why: String| Error::new(ErrorCode::AuditBroken, why).at(format!("line {number}"));
        let terminated = raw.ends_with('\n');
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return Err(broken("is empty; every line of the audit log is one entry".into()));
        }
        let value = match jcs::parse(line.as_bytes()) {
            Ok(value) => value,
            Err(_) if !terminated => {
                return Err(broken("is incomplete: the log ends inside it, as an interrupted write leaves it".into()))
            }
            Err(e) => return Err(broken(format!("is not JSON: {}", scrub(&e.message)))),
        };
        let Value::Object(mut entry) = value else { return Err(broken("is not a JSON object".into())) };
        let recorded = entry.remove("hash");
        let recorded = recorded.as_ref().and_then(Value::as_str).and_then(|h| Digest::parse(h).ok());
        let Some(recorded) = recorded else { return Err(broken("has no valid `hash`".into())) };
        let seq = entry.get("seq").and_then(Value::as_u64);
        let prev = entry.get("prev").and_then(Value::as_str).map(str::to_string);
        let (Some(seq), Some(prev)) = (seq, prev) else { return Err(broken("has no `seq` or no `prev`".into())) };
        if !matches!(entry.get("event"), Some(Value::String(_))) {
            return Err(broken("has no `event`".into()));
        }
        let computed = jcs::digest(&Value::Object(entry))?;
        if computed != recorded {
            return Err(broken(format!("was edited: its content hashes to {computed}, not the {recorded} it records")));
        }
        if seq != number {
            let why =
                if seq > number { "lines before it were removed or moved" } else { "lines were reordered or repeated" };
            return Err(broken(format!("has seq {seq} where {number} was expected: {why}")));
        }
        let expected = last.map_or(GENESIS.to_string(), |h| h.hash.to_string());
        if prev != expected {
            return Err(broken(format!(
                "does not chain to the line before it: its prev is {prev}, the entry before it hashes to {expected}"
            )));
        }
        if head.is_some_and(|h| h.seq == seq) {
            at_head = Some(computed);
        }
        last = Some(AuditHead { seq, hash: computed });
    }
    let entries = last.map_or(0, |h| h.seq);
    if let Some(head) = head {
        let broken = |line: u64, why: String| Error::new(ErrorCode::AuditBroken, why).at(format!("line {line}"));
        if head.seq > entries {
            let missing = head.seq - entries;
            return Err(broken(
                entries + 1,
                format!(
                    "is missing: the log has {entries} entries but its head records {} ({missing} cut off the end)",
                    head.seq
                ),
            ));
        }
        if at_head != Some(head.hash) {
            return Err(broken(
                head.seq,
                format!("does not match the recorded head {}: the log was rewritten", head.hash),
            ));
        }
        // One entry past the head is an append whose head write did not happen (a crash between the two).
        if entries > head.seq + 1 {
            return Err(broken(
                head.seq + 1,
                format!("comes after the recorded head (seq {}): lines were appended without updating it", head.seq),
            ));
        }
    }
    Ok(AuditReport { entries, head: last })
}

/// `2026-01-02T03:04:05Z`, with optional fractional seconds and a `Z` or `±hh:mm` offset.
fn is_rfc3339(time: &str) -> bool {
    let b = time.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range.clone()).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let number = |range: std::ops::Range<usize>| time.get(range).and_then(|d| d.parse::<u32>().ok()).unwrap_or(99);
    let date = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && (1..=12).contains(&number(5..7))
        && (1..=31).contains(&number(8..10));
    let clock = matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
        && number(11..13) <= 23
        && number(14..16) <= 59
        && number(17..19) <= 60;
    if !(date && clock) {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && digits(i + 1..i + 3)
                && b[i + 3] == b':'
                && digits(i + 4..i + 6)
                && number(i + 1..i + 3) <= 23
                && number(i + 4..i + 6) <= 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(n: u64) -> Value {
        json!({ "event": "packet_built", "time": format!("2026-01-02T03:04:{:02}Z", n % 60), "packet": n })
    }

    /// A log of `n` entries (each line ending in a newline) and its head.
    fn log(n: u64) -> (Vec<String>, AuditHead) {
        let mut head = None;
        let mut lines = Vec::new();
        for i in 1..=n {
            let (line, next) = next_line(head.as_ref(), &event(i)).unwrap();
            lines.push(line);
            head = Some(next);
        }
        (lines, head.expect("n ≥ 1"))
    }

    fn text(lines: &[String]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    fn broken_at(result: Result<AuditReport>, line: u64, words: &str) {
        let e = result.expect_err("the log is broken");
        assert_eq!(e.code, ErrorCode::AuditBroken, "{e}");
        assert_eq!(e.subject.as_deref(), Some(format!("line {line}").as_str()), "{e}");
        assert!(e.message.starts_with(&format!("line {line}: ")), "{e}");
        assert!(e.message.contains(words), "{e} should say {words:?}");
    }

    #[test]
    fn lines_chain_from_the_genesis_value() {
        let (first, head) = next_line(None, &event(1)).unwrap();
        assert!(!first.contains('\n'));
        let entry: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(entry["seq"], 1);
        assert_eq!(entry["prev"], GENESIS);
        assert_eq!(entry["event"], "packet_built");
        assert_eq!(entry["hash"], head.hash.to_string());
        // The line is canonical: keys sorted, no whitespace.
        assert_eq!(first, String::from_utf8(jcs::canonicalize(&entry).unwrap()).unwrap());
        let mut without_hash = entry.clone();
        without_hash.as_object_mut().unwrap().remove("hash");
        assert_eq!(head.hash, jcs::digest(&without_hash).unwrap());

        let (second, next) = next_line(Some(&head), &event(2)).unwrap();
        let entry: Value = serde_json::from_str(&second).unwrap();
        assert_eq!((entry["seq"].as_u64(), entry["prev"].as_str()), (Some(2), Some(head.hash.to_string().as_str())));
        assert_eq!(next.seq, 2);
    }

    #[test]
    fn an_intact_log_verifies_with_or_without_its_head() {
        let (lines, head) = log(5);
        let report = verify(&text(&lines), Some(&head)).unwrap();
        assert_eq!(report, AuditReport { entries: 5, head: Some(head) });
        assert_eq!(verify(&text(&lines), None).unwrap().entries, 5);
        assert_eq!(verify("", None).unwrap(), AuditReport { entries: 0, head: None });
        // Windows line endings do not change what was hashed.
        assert_eq!(verify(&text(&lines).replace('\n', "\r\n"), Some(&head)).unwrap().entries, 5);
    }

    #[test]
    fn events_that_cannot_be_recorded_are_rejected() {
        let bad = [
            json!("packet_built"),
            json!([1]),
            json!({ "event": "x", "time": "2026-01-02T03:04:05Z", "seq": 1 }),
            json!({ "event": "x", "time": "2026-01-02T03:04:05Z", "hash": "sha256:00" }),
            json!({ "event": "x", "time": "2026-01-02T03:04:05Z", "prev": "" }),
            json!({ "time": "2026-01-02T03:04:05Z" }),
            json!({ "event": "", "time": "2026-01-02T03:04:05Z" }),
            json!({ "event": "x" }),
            json!({ "event": "x", "time": "yesterday" }),
            json!({ "event": "x", "time": "2026-13-02T03:04:05Z" }),
            json!({ "event": "x", "time": "2026-01-02 03:04:05" }),
        ];
        for event in bad {
            let e = next_line(None, &event).expect_err(&event.to_string());
            assert_eq!(e.code, ErrorCode::JsonInvalid, "{event}");
        }
        for time in ["2026-01-02T03:04:05.123Z", "2026-01-02t03:04:05+05:30", "2026-01-02T23:59:60-00:00"] {
            assert!(next_line(None, &json!({ "event": "cache_hit", "time": time })).is_ok(), "{time}");
        }
    }

    #[test]
    fn strings_that_hold_a_secret_are_masked_before_the_line_is_hashed() {
        let token =
            format!("gh{}_{}", 'p', crate::context::detect::tests::fake("abcdefghijKLMNOPQRST0123456789", 36, 7));
        let event = json!({ "event": "validation_failed", "time": "2026-01-02T03:04:05Z", "task_id": token,
                             "paths": [format!("header.{token}")], "codes": ["enum"] });
        let (line, head) = next_line(None, &event).unwrap();
        assert!(!line.contains(&token), "{line}");
        let entry: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(entry["task_id"], "[REDACTED:github-personal-access-token]");
        assert_eq!(entry["paths"][0], "header.[REDACTED:github-personal-access-token]");
        assert_eq!(entry["codes"][0], "enum");
        assert_eq!(verify(&format!("{line}\n"), Some(&head)).unwrap().entries, 1);
    }

    #[test]
    fn an_edited_line_is_named() {
        let (mut lines, head) = log(4);
        lines[2] = lines[2].replace("\"packet\":3", "\"packet\":30");
        broken_at(verify(&text(&lines), Some(&head)), 3, "was edited");
    }

    #[test]
    fn a_forged_line_with_a_fresh_hash_breaks_the_next_link() {
        let (mut lines, _) = log(4);
        let (_, before) = log(1);
        // A valid entry 2 for different content: its own hash is right, but line 3 chains to the original.
        let mut forged = event(99);
        let (line, _) = next_line(Some(&before), &forged).unwrap();
        lines[1] = line;
        broken_at(verify(&text(&lines), None), 3, "does not chain");
        // Without a hash at all.
        forged.as_object_mut().unwrap().insert("seq".into(), json!(2));
        lines[1] = forged.to_string();
        broken_at(verify(&text(&lines), None), 2, "no valid `hash`");
    }

    #[test]
    fn removed_and_reordered_lines_are_named() {
        let (lines, head) = log(5);
        let mut removed = lines.clone();
        removed.remove(1);
        broken_at(verify(&text(&removed), Some(&head)), 2, "removed");
        let mut reordered = lines.clone();
        reordered.swap(2, 3);
        broken_at(verify(&text(&reordered), None), 3, "has seq 4 where 3 was expected");
        let mut repeated = lines.clone();
        repeated.insert(3, lines[1].clone());
        broken_at(verify(&text(&repeated), None), 4, "reordered or repeated");
    }

    #[test]
    fn junk_lines_are_named() {
        let (mut lines, _) = log(3);
        lines.insert(1, "not json".into());
        broken_at(verify(&text(&lines), None), 2, "is not JSON");
        lines[1] = "[1, 2]".into();
        broken_at(verify(&text(&lines), None), 2, "not a JSON object");
        lines[1] = "   ".into();
        broken_at(verify(&text(&lines), None), 2, "is empty");
    }

    #[test]
    fn a_partial_last_line_is_an_interrupted_write() {
        let (lines, head) = log(3);
        let full = text(&lines);
        let cut = &full[..full.len() - 10];
        broken_at(verify(cut, Some(&head)), 3, "incomplete");
        // A whole last entry that only lacks its newline is fine.
        let unterminated = full.trim_end_matches('\n');
        assert_eq!(verify(unterminated, Some(&head)).unwrap().entries, 3);
    }

    #[test]
    fn the_head_catches_a_cut_tail_a_rewrite_and_unrecorded_appends() {
        let (lines, head) = log(5);
        // Without the head a cut tail is still a valid chain; with it, it is not.
        assert_eq!(verify(&text(&lines[..3]), None).unwrap().entries, 3);
        broken_at(verify(&text(&lines[..3]), Some(&head)), 4, "cut off the end");
        broken_at(verify("", Some(&head)), 1, "has 0 entries");

        let (other, _) = {
            let mut head = None;
            let mut lines = Vec::new();
            for i in 1..=5 {
                let (line, next) =
                    next_line(head.as_ref(), &json!({"event": "cache_hit", "time": "2026-01-01T00:00:00Z", "n": i}))
                        .unwrap();
                lines.push(line);
                head = Some(next);
            }
            (lines, head)
        };
        broken_at(verify(&text(&other), Some(&head)), 5, "rewritten");

        let (one_more, _) = log(6);
        assert_eq!(verify(&text(&one_more), Some(&head)).unwrap().entries, 6, "a crash before the head write");
        let (longer, _) = log(7);
        broken_at(verify(&text(&longer), Some(&head)), 6, "appended");
    }

    #[test]
    fn heads_round_trip_through_json() {
        let (_, head) = log(2);
        assert_eq!(AuditHead::from_value(&head.to_value()).unwrap(), head);
        for bad in [json!(null), json!({"seq": 0, "hash": head.hash.to_string()}), json!({"seq": 1, "hash": "x"})] {
            let e = AuditHead::from_value(&bad).unwrap_err();
            assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::AuditBroken, Some("head")));
        }
    }
}
