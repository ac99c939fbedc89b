//! The context audit log: append-only JSON Lines, each entry chained to the one before by its hash.
//!
//! An entry is the host's event (`event`, `time`, and whatever else it records; any string in it that a built-in
//! detector flags is masked as `[REDACTED:<rule-id>]`) plus three fields ctxpack adds:
//!
//! - `seq`: 1 for the first entry, then one more per line, so it equals the line number;
//! - `prev`: the previous entry's `hash`, or [`GENESIS`] (`sha256:` and 64 zeros) for the first entry — a value
//!   no content hashes to, so a first line cannot pass for a later one;
//! - `hash`: `hmac-sha256:` + HMAC-SHA256 under the host's audit key of the JCS form of the entry without
//!   `hash` (or, in logs written before ctxpack keyed them, `sha256:` + its plain SHA-256).
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
//!
//! Keys: a plain hash chain stops accidents and careless edits, but whoever can write the log can also recompute
//! every hash after an edit. Keyed entries need the key for that, and the key lives outside the pantry (the host
//! keeps it, see `docs/context.md`, Audit). The head a host stores is keyed too (`mac`), so cutting entries off the
//! end and rewriting the head to match needs the key as well. Entries written before keying (`sha256:` hashes)
//! still verify by their chain and are counted in [`AuditReport::unkeyed`], so a host can say what they are; an
//! unkeyed entry after a keyed one is a rewrite.

use crate::context::violation::scrub;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// The `prev` of the first entry.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// Fields ctxpack writes; an event may not carry them.
const RESERVED: [&str; 3] = ["seq", "prev", "hash"];

/// The last entry of a log: what the next entry chains to, and what a host keeps to detect a cut-off tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: u64,
    /// The entry's `hash`: `hmac-sha256:…` for a keyed entry, `sha256:…` for one written before keying.
    pub hash: String,
}

/// The audit key: 32 random bytes a host creates once and keeps outside the pantry.
pub struct AuditKey(Vec<u8>);

impl AuditKey {
    /// A key from its bytes; fewer than 16 is refused, since such a key could be guessed.
    pub fn new(bytes: &[u8]) -> Result<AuditKey> {
        if bytes.len() < 16 {
            return Err(Error::new(
                ErrorCode::Usage,
                format!("an audit key needs 16 bytes or more, not {}", bytes.len()),
            )
            .hint("let ctxpack create the key file (32 random bytes) on the first audited build"));
        }
        Ok(AuditKey(bytes.to_vec()))
    }

    /// `hmac-sha256:` + RFC 2104 HMAC-SHA256 of `message`.
    fn mac(&self, message: &[u8]) -> String {
        const BLOCK: usize = 64;
        let mut block = [0u8; BLOCK];
        if self.0.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(&self.0));
        } else {
            block[..self.0.len()].copy_from_slice(&self.0);
        }
        let pad = |byte: u8| block.map(|b| b ^ byte);
        let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
        let outer = Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize();
        format!("{KEYED_PREFIX}{}", Digest::from_bytes(outer.into()).hex())
    }
}

/// The prefix of keyed hashes and head macs.
pub const KEYED_PREFIX: &str = "hmac-sha256:";

impl AuditHead {
    /// `{"seq": n, "hash": "…"}`, plus `mac` (the key's seal over both) when `key` is given: the form hosts store.
    pub fn to_value(&self, key: Option<&AuditKey>) -> Value {
        let mut value = serde_json::json!({ "seq": self.seq, "hash": self.hash });
        if let Some(key) = key {
            value["mac"] = Value::String(self.seal(key));
        }
        value
    }

    fn seal(&self, key: &AuditKey) -> String {
        key.mac(format!("ctxpack audit head\n{}\n{}", self.seq, self.hash).as_bytes())
    }

    /// A stored head; its `mac` is checked when `key` is given and the head is keyed.
    pub fn from_value(value: &Value, key: Option<&AuditKey>) -> Result<AuditHead> {
        let bad = || {
            Error::new(ErrorCode::AuditBroken, "the audit head must be {\"seq\": <n ≥ 1>, \"hash\": \"hmac-sha256:…\"}")
                .at("head")
        };
        let seq = value.get("seq").and_then(Value::as_u64).filter(|seq| *seq >= 1).ok_or_else(bad)?;
        let hash = value.get("hash").and_then(Value::as_str).filter(|h| chain_hash(h).is_some()).ok_or_else(bad)?;
        let head = AuditHead { seq, hash: hash.to_owned() };
        if let (Some(key), true) = (key, hash.starts_with(KEYED_PREFIX)) {
            if value.get("mac").and_then(Value::as_str) != Some(head.seal(key).as_str()) {
                return Err(Error::new(
                    ErrorCode::AuditBroken,
                    "the audit head does not verify with the audit key: it was rewritten (entries cut off the end?)",
                )
                .at("head"));
            }
        }
        Ok(head)
    }
}

/// Whether `hash` is a keyed (`true`) or plain (`false`) chain hash; `None` when it is neither.
fn chain_hash(hash: &str) -> Option<bool> {
    let keyed = hash.strip_prefix(KEYED_PREFIX).is_some_and(|hex| Digest::from_hex(hex).is_ok());
    let plain = !keyed && hash.starts_with("sha256:") && Digest::parse(hash).is_ok();
    (keyed || plain).then_some(keyed)
}

/// What [`verify`] found in an intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    /// The last entry; `None` for an empty log.
    pub head: Option<AuditHead>,
    /// The entries written before the log was keyed (always its first ones): only their chain is checked, so
    /// whoever could write the log could have rewritten them.
    pub unkeyed: u64,
}

/// The line (without its newline) that records `event` after `head` (`None` for an empty log), keyed with
/// `key`, and the new head.
///
/// `event` must be an object with a non-empty string `event` (`packet_built`, `cache_hit`, …) and an RFC 3339
/// `time`, and without `seq`, `prev` or `hash`.
pub fn next_line(head: Option<&AuditHead>, event: &Value, key: &AuditKey) -> Result<(String, AuditHead)> {
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
    let prev = head.map_or(GENESIS.to_string(), |h| h.hash.clone());
    let mut entry: Map<String, Value> = fields.iter().map(|(name, value)| (name.clone(), masked(value))).collect();
    entry.insert("seq".into(), Value::from(seq));
    entry.insert("prev".into(), Value::String(prev));
    let mut entry = Value::Object(entry);
    let hash = key.mac(&jcs::canonicalize(&entry)?);
    if let Value::Object(map) = &mut entry {
        map.insert("hash".into(), Value::String(hash.clone()));
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

/// Checks every line of `log` and, when given, that the log ends exactly at `head`. Keyed entries need `key`
/// ([`ErrorCode::AuditKeyMissing`] without it).
pub fn verify(log: &str, head: Option<&AuditHead>, key: Option<&AuditKey>) -> Result<AuditReport> {
    let mut last: Option<AuditHead> = None;
    let mut at_head: Option<String> = None;
    let mut unkeyed = 0;
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
        let recorded = recorded.as_ref().and_then(Value::as_str).map(str::to_owned);
        let Some((recorded, keyed)) = recorded.and_then(|h| chain_hash(&h).map(|keyed| (h, keyed))) else {
            return Err(broken("has no valid `hash`".into()));
        };
        let seq = entry.get("seq").and_then(Value::as_u64);
        let prev = entry.get("prev").and_then(Value::as_str).map(str::to_string);
        let (Some(seq), Some(prev)) = (seq, prev) else { return Err(broken("has no `seq` or no `prev`".into())) };
        if !matches!(entry.get("event"), Some(Value::String(_))) {
            return Err(broken("has no `event`".into()));
        }
        let entry = Value::Object(entry);
        if keyed {
            let Some(key) = key else {
                return Err(Error::new(ErrorCode::AuditKeyMissing, "is keyed, and no audit key was given to check it")
                    .at(format!("line {number}")));
            };
            if key.mac(&jcs::canonicalize(&entry)?) != recorded {
                return Err(broken(
                    "does not verify with the audit key: it was edited, or rewritten by someone without the key".into(),
                ));
            }
        } else {
            if last.is_some() && unkeyed < number - 1 {
                return Err(broken(
                    "is unkeyed after keyed entries: it was rewritten by someone without the audit key".into(),
                ));
            }
            let computed = jcs::digest(&entry)?.to_string();
            if computed != recorded {
                return Err(broken(format!(
                    "was edited: its content hashes to {computed}, not the {recorded} it records"
                )));
            }
            unkeyed += 1;
        }
        if seq != number {
            let why =
                if seq > number { "lines before it were removed or moved" } else { "lines were reordered or repeated" };
            return Err(broken(format!("has seq {seq} where {number} was expected: {why}")));
        }
        let expected = last.as_ref().map_or(GENESIS.to_string(), |h| h.hash.clone());
        if prev != expected {
            return Err(broken(format!(
                "does not chain to the line before it: its prev is {prev}, the entry before it is {expected}"
            )));
        }
        if head.is_some_and(|h| h.seq == seq) {
            at_head = Some(recorded.clone());
        }
        last = Some(AuditHead { seq, hash: recorded });
    }
    let entries = last.as_ref().map_or(0, |h| h.seq);
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
        if at_head.as_deref() != Some(head.hash.as_str()) {
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
    Ok(AuditReport { entries, head: last, unkeyed })
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

    fn key() -> AuditKey {
        AuditKey::new(&[7u8; 32]).unwrap()
    }

    fn event(n: u64) -> Value {
        json!({ "event": "packet_built", "time": format!("2026-01-02T03:04:{:02}Z", n % 60), "packet": n })
    }

    /// A log of `n` entries (each line ending in a newline) and its head.
    fn log(n: u64) -> (Vec<String>, AuditHead) {
        let mut head = None;
        let mut lines = Vec::new();
        for i in 1..=n {
            let (line, next) = next_line(head.as_ref(), &event(i), &key()).unwrap();
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
        let (first, head) = next_line(None, &event(1), &key()).unwrap();
        assert!(!first.contains('\n'));
        let entry: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(entry["seq"], 1);
        assert_eq!(entry["prev"], GENESIS);
        assert_eq!(entry["event"], "packet_built");
        assert_eq!(entry["hash"], head.hash);
        // The line is canonical: keys sorted, no whitespace.
        assert_eq!(first, String::from_utf8(jcs::canonicalize(&entry).unwrap()).unwrap());
        let mut without_hash = entry.clone();
        without_hash.as_object_mut().unwrap().remove("hash");
        assert_eq!(head.hash, key().mac(&jcs::canonicalize(&without_hash).unwrap()));
        assert!(head.hash.starts_with(KEYED_PREFIX));

        let (second, next) = next_line(Some(&head), &event(2), &key()).unwrap();
        let entry: Value = serde_json::from_str(&second).unwrap();
        assert_eq!((entry["seq"].as_u64(), entry["prev"].as_str()), (Some(2), Some(head.hash.as_str())));
        assert_eq!(next.seq, 2);
    }

    #[test]
    fn an_intact_log_verifies_with_or_without_its_head() {
        let (lines, head) = log(5);
        let report = verify(&text(&lines), Some(&head), Some(&key())).unwrap();
        assert_eq!(report, AuditReport { entries: 5, head: Some(head.clone()), unkeyed: 0 });
        assert_eq!(verify(&text(&lines), None, Some(&key())).unwrap().entries, 5);
        assert_eq!(verify("", None, Some(&key())).unwrap(), AuditReport { entries: 0, head: None, unkeyed: 0 });
        // Windows line endings do not change what was hashed.
        assert_eq!(verify(&text(&lines).replace('\n', "\r\n"), Some(&head), Some(&key())).unwrap().entries, 5);
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
            let e = next_line(None, &event, &key()).expect_err(&event.to_string());
            assert_eq!(e.code, ErrorCode::JsonInvalid, "{event}");
        }
        for time in ["2026-01-02T03:04:05.123Z", "2026-01-02t03:04:05+05:30", "2026-01-02T23:59:60-00:00"] {
            assert!(next_line(None, &json!({ "event": "cache_hit", "time": time }), &key()).is_ok(), "{time}");
        }
    }

    #[test]
    fn strings_that_hold_a_secret_are_masked_before_the_line_is_hashed() {
        let token =
            format!("gh{}_{}", 'p', crate::context::detect::tests::fake("abcdefghijKLMNOPQRST0123456789", 36, 7));
        let event = json!({ "event": "validation_failed", "time": "2026-01-02T03:04:05Z", "task_id": token,
                             "paths": [format!("header.{token}")], "codes": ["enum"] });
        let (line, head) = next_line(None, &event, &key()).unwrap();
        assert!(!line.contains(&token), "{line}");
        let entry: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(entry["task_id"], "[REDACTED:github-personal-access-token]");
        assert_eq!(entry["paths"][0], "header.[REDACTED:github-personal-access-token]");
        assert_eq!(entry["codes"][0], "enum");
        assert_eq!(verify(&format!("{line}\n"), Some(&head), Some(&key())).unwrap().entries, 1);
    }

    #[test]
    fn an_edited_line_is_named() {
        let (mut lines, head) = log(4);
        lines[2] = lines[2].replace("\"packet\":3", "\"packet\":30");
        broken_at(verify(&text(&lines), Some(&head), Some(&key())), 3, "was edited");
    }

    #[test]
    fn a_forged_line_with_a_fresh_hash_breaks_the_next_link() {
        let (mut lines, _) = log(4);
        let (_, before) = log(1);
        // A valid entry 2 for different content: its own hash is right, but line 3 chains to the original.
        let mut forged = event(99);
        let (line, _) = next_line(Some(&before), &forged, &key()).unwrap();
        lines[1] = line;
        broken_at(verify(&text(&lines), None, Some(&key())), 3, "does not chain");
        // Without a hash at all.
        forged.as_object_mut().unwrap().insert("seq".into(), json!(2));
        lines[1] = forged.to_string();
        broken_at(verify(&text(&lines), None, Some(&key())), 2, "no valid `hash`");
    }

    #[test]
    fn removed_and_reordered_lines_are_named() {
        let (lines, head) = log(5);
        let mut removed = lines.clone();
        removed.remove(1);
        broken_at(verify(&text(&removed), Some(&head), Some(&key())), 2, "removed");
        let mut reordered = lines.clone();
        reordered.swap(2, 3);
        broken_at(verify(&text(&reordered), None, Some(&key())), 3, "has seq 4 where 3 was expected");
        let mut repeated = lines.clone();
        repeated.insert(3, lines[1].clone());
        broken_at(verify(&text(&repeated), None, Some(&key())), 4, "reordered or repeated");
    }

    #[test]
    fn junk_lines_are_named() {
        let (mut lines, _) = log(3);
        lines.insert(1, "not json".into());
        broken_at(verify(&text(&lines), None, Some(&key())), 2, "is not JSON");
        lines[1] = "[1, 2]".into();
        broken_at(verify(&text(&lines), None, Some(&key())), 2, "not a JSON object");
        lines[1] = "   ".into();
        broken_at(verify(&text(&lines), None, Some(&key())), 2, "is empty");
    }

    #[test]
    fn a_partial_last_line_is_an_interrupted_write() {
        let (lines, head) = log(3);
        let full = text(&lines);
        let cut = &full[..full.len() - 10];
        broken_at(verify(cut, Some(&head), Some(&key())), 3, "incomplete");
        // A whole last entry that only lacks its newline is fine.
        let unterminated = full.trim_end_matches('\n');
        assert_eq!(verify(unterminated, Some(&head), Some(&key())).unwrap().entries, 3);
    }

    #[test]
    fn the_head_catches_a_cut_tail_a_rewrite_and_unrecorded_appends() {
        let (lines, head) = log(5);
        // Without the head a cut tail is still a valid chain; with it, it is not.
        assert_eq!(verify(&text(&lines[..3]), None, Some(&key())).unwrap().entries, 3);
        broken_at(verify(&text(&lines[..3]), Some(&head), Some(&key())), 4, "cut off the end");
        broken_at(verify("", Some(&head), Some(&key())), 1, "has 0 entries");

        let (other, _) = {
            let mut head = None;
            let mut lines = Vec::new();
            for i in 1..=5 {
                let (line, next) = next_line(
                    head.as_ref(),
                    &json!({"event": "cache_hit", "time": "2026-01-01T00:00:00Z", "n": i}),
                    &key(),
                )
                .unwrap();
                lines.push(line);
                head = Some(next);
            }
            (lines, head)
        };
        broken_at(verify(&text(&other), Some(&head), Some(&key())), 5, "rewritten");

        let (one_more, _) = log(6);
        assert_eq!(
            verify(&text(&one_more), Some(&head), Some(&key())).unwrap().entries,
            6,
            "a crash before the head write"
        );
        let (longer, _) = log(7);
        broken_at(verify(&text(&longer), Some(&head), Some(&key())), 6, "appended");
    }

    #[test]
    fn heads_round_trip_through_json() {
        let (_, head) = log(2);
        let stored = head.to_value(Some(&key()));
        assert_eq!(AuditHead::from_value(&stored, Some(&key())).unwrap(), head);
        for bad in [json!(null), json!({"seq": 0, "hash": head.hash}), json!({"seq": 1, "hash": "x"})] {
            let e = AuditHead::from_value(&bad, Some(&key())).unwrap_err();
            assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::AuditBroken, Some("head")));
        }
    }

    /// A log of `n` entries written the way ctxpack wrote them before keying: plain SHA-256 chain hashes.
    fn unkeyed_log(n: u64) -> (Vec<String>, AuditHead) {
        let mut lines = Vec::new();
        let mut prev = GENESIS.to_owned();
        for i in 1..=n {
            let mut entry = event(i);
            entry["seq"] = json!(i);
            entry["prev"] = json!(prev);
            prev = jcs::digest(&entry).unwrap().to_string();
            entry["hash"] = json!(prev);
            lines.push(String::from_utf8(jcs::canonicalize(&entry).unwrap()).unwrap());
        }
        (lines, AuditHead { seq: n, hash: prev })
    }

    /// What someone without the key can do: rewrite an entry and recompute every hash after it, plain or keyed with
    /// a key of their own, and the head to match.
    fn rewrite(lines: &[String], at: usize, forger: Option<&AuditKey>) -> (Vec<String>, AuditHead) {
        let mut out: Vec<String> = lines[..at].to_vec();
        let mut prev = if at == 0 {
            GENESIS.to_owned()
        } else {
            serde_json::from_str::<Value>(&lines[at - 1]).unwrap()["hash"].as_str().unwrap().to_owned()
        };
        for (i, line) in lines.iter().enumerate().skip(at) {
            let mut entry: Value = serde_json::from_str(line).unwrap();
            entry.as_object_mut().unwrap().remove("hash");
            if i == at {
                entry["packet"] = json!(999);
            }
            entry["prev"] = json!(prev);
            let canonical = jcs::canonicalize(&entry).unwrap();
            prev = match forger {
                Some(forger) => forger.mac(&canonical),
                None => jcs::digest(&entry).unwrap().to_string(),
            };
            entry["hash"] = json!(prev);
            out.push(String::from_utf8(jcs::canonicalize(&entry).unwrap()).unwrap());
        }
        (out, AuditHead { seq: lines.len() as u64, hash: prev })
    }

    #[test]
    fn a_rewrite_that_recomputes_the_chain_without_the_key_is_refused() {
        let (lines, head) = log(5);
        // Recomputed as a plain chain: the first rewritten entry is unkeyed after keyed ones.
        let (plain, plain_head) = rewrite(&lines, 2, None);
        broken_at(verify(&text(&plain), Some(&plain_head), Some(&key())), 3, "without the audit key");
        // Recomputed under another key: the first rewritten entry does not verify.
        let other = AuditKey::new(&[9u8; 32]).unwrap();
        let (forged, forged_head) = rewrite(&lines, 2, Some(&other));
        broken_at(verify(&text(&forged), Some(&forged_head), Some(&key())), 3, "does not verify with the audit key");
        // The whole log rewritten from its first line under another key.
        let (all, _) = rewrite(&lines, 0, Some(&other));
        broken_at(verify(&text(&all), None, Some(&key())), 1, "does not verify with the audit key");
        // With the key, the same rewrite verifies: the key is what makes the difference.
        let (honest, honest_head) = rewrite(&lines, 2, Some(&key()));
        assert_eq!(verify(&text(&honest), Some(&honest_head), Some(&key())).unwrap().entries, 5);
        assert_eq!(verify(&text(&lines), Some(&head), Some(&key())).unwrap().entries, 5);
    }

    #[test]
    fn a_keyed_log_needs_its_key() {
        let (lines, head) = log(3);
        let e = verify(&text(&lines), Some(&head), None).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::AuditKeyMissing, Some("line 1")));
    }

    #[test]
    fn cutting_the_tail_and_rewriting_the_head_needs_the_key() {
        let (lines, head) = log(5);
        // The head names entry 3 as the last one, but its seal is for entry 5 (or missing).
        let mut cut = head.to_value(Some(&key()));
        let third: Value = serde_json::from_str(&lines[2]).unwrap();
        cut["seq"] = json!(3);
        cut["hash"] = third["hash"].clone();
        let e = AuditHead::from_value(&cut, Some(&key())).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::AuditBroken, Some("head")));
        cut.as_object_mut().unwrap().remove("mac");
        assert!(AuditHead::from_value(&cut, Some(&key())).is_err());
        // With the key, the honest head of the cut log verifies; the true head refuses the cut log.
        let sealed = AuditHead { seq: 3, hash: third["hash"].as_str().unwrap().to_owned() }.to_value(Some(&key()));
        let honest = AuditHead::from_value(&sealed, Some(&key())).unwrap();
        assert_eq!(verify(&text(&lines[..3]), Some(&honest), Some(&key())).unwrap().entries, 3);
        broken_at(verify(&text(&lines[..3]), Some(&head), Some(&key())), 4, "cut off the end");
        let mut deleted = lines.clone();
        deleted.remove(1);
        broken_at(verify(&text(&deleted), Some(&head), Some(&key())), 2, "removed");
    }

    #[test]
    fn an_unkeyed_log_from_before_keying_verifies_and_is_counted_then_grows_keyed() {
        let (mut lines, head) = unkeyed_log(3);
        let report = verify(&text(&lines), Some(&head), Some(&key())).unwrap();
        assert_eq!((report.entries, report.unkeyed), (3, 3));
        assert_eq!(verify(&text(&lines), Some(&head), None).unwrap().unkeyed, 3);
        assert!(AuditHead::from_value(&head.to_value(None), Some(&key())).is_ok(), "an old head has no mac");
        let (line, next) = next_line(Some(&head), &event(4), &key()).unwrap();
        lines.push(line);
        let report = verify(&text(&lines), Some(&next), Some(&key())).unwrap();
        assert_eq!((report.entries, report.unkeyed), (4, 3));
        // An edited old entry is still caught by its plain chain.
        let mut edited = lines.clone();
        edited[0] = edited[0].replace("\"packet\":1", "\"packet\":10");
        broken_at(verify(&text(&edited), Some(&next), Some(&key())), 1, "was edited");
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2 (key "Jefe") is under 16 bytes, so test case 1's 20-byte key and test case 6's
        // 131-byte key (longer than a block) are used.
        let one = AuditKey::new(&[0x0b; 20]).unwrap();
        assert_eq!(
            one.mac(b"Hi There"),
            "hmac-sha256:b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let six = AuditKey::new(&[0xaa; 131]).unwrap();
        assert_eq!(
            six.mac(b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "hmac-sha256:60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(AuditKey::new(b"short").err().map(|e| e.code), Some(ErrorCode::Usage));
    }
}
