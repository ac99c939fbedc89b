//! The two identities of a context packet: what it says (`packet_hash`) and what it was built from (`cache_key`).
//!
//! Both are `sha256:` over RFC 8785 canonical JSON, so any host computes the same value. The original hashed
//! `json.dumps` of a packet that still held its random id and clock time (never the same twice), and keyed its
//! cache on the task type and scope alone, so two different tasks got each other's packet (seed-study §3.7).

use crate::context::packet::{InputFile, Item, Packet};
use crate::context::task::TaskSpec;
use crate::digest::Digest;
use crate::error::Result;
use serde_json::{json, Value};

/// SHA-256 of the packet's canonical JSON without the fields that differ between two builds of the same content:
/// `header.packet_id`, `header.created_at`, `provenance.packet_hash` and `provenance.build_stats.duration_ms`.
///
/// Fails ([`crate::ErrorCode::JsonNumberUnrepresentable`]) only for a packet built in code with an integer beyond
/// 2^53, which JSON hosts cannot hold exactly.
pub fn packet_hash(packet: &Packet) -> Result<Digest> {
    let mut value = packet.to_value();
    without_unhashed(&mut value);
    crate::jcs::digest(&value)
}

/// Removes from a packet's value the fields [`packet_hash`] leaves out.
pub(crate) fn without_unhashed(value: &mut Value) {
    remove(value, &["header", "packet_id"]);
    remove(value, &["header", "created_at"]);
    remove(value, &["provenance", "packet_hash"]);
    remove(value, &["provenance", "build_stats", "duration_ms"]);
}

/// SHA-256 of the canonical JSON of everything a build depends on: the whole task (its id included), every input
/// file's `{path, digest, size}` sorted by path, the policy digest and the builder version.
pub fn cache_key(
    task: &TaskSpec,
    files: &[InputFile],
    policy_digest: &Digest,
    builder_version: &str,
) -> Result<Digest> {
    let mut files: Vec<&InputFile> = files.iter().collect();
    files.sort_by(|a, b| (&a.path, &a.digest, a.size).cmp(&(&b.path, &b.digest, b.size)));
    let task = serde_json::to_value(task).expect("a task spec is plain data");
    let files = serde_json::to_value(files).expect("input files are plain data");
    crate::jcs::digest(&json!({
        "task": task,
        "files": files,
        "policy": policy_digest.to_string(),
        "builder_version": builder_version,
    }))
}

/// Appends an item's canonical JSON, the bytes `jcs::write_value` gives for its serde value, written from the
/// struct: the streamed redaction hashes every item it writes, and the value between cost as much as the hash.
pub(crate) fn write_item(item: &Item, out: &mut Vec<u8>) -> Result<()> {
    let number = |n: Value, out: &mut Vec<u8>| crate::jcs::write_value(&n, out);
    let mut first = true;
    let mut key = |name: &str, out: &mut Vec<u8>| {
        out.extend_from_slice(if first { b"{\"" } else { b",\"" });
        first = false;
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
    };
    let string = |text: &str, out: &mut Vec<u8>| crate::jcs::write_string(text, out);
    // The keys in canonical order (all ASCII: UTF-16 order is byte order).
    if !item.deps.is_empty() {
        key("deps", out);
        for (i, dep) in item.deps.iter().enumerate() {
            out.push(if i == 0 { b'[' } else { b',' });
            string(dep, out);
        }
        out.push(b']');
    }
    if let Some(hash) = &item.hash {
        key("hash", out);
        string(hash, out);
    }
    key("item_type", out);
    string(item.item_type.as_str(), out);
    key("name", out);
    string(&item.name, out);
    if let Some(path) = &item.path {
        key("path", out);
        string(path, out);
    }
    if let Some(priority) = item.priority {
        key("priority", out);
        number(priority.into(), out)?;
    }
    for (name, text) in [
        ("signature", item.signature.as_deref()),
        ("snippet", item.snippet.as_deref()),
        ("source", Some(item.source.as_str())),
    ] {
        if let Some(text) = text {
            key(name, out);
            string(text, out);
        }
    }
    if let Some(span) = item.span {
        key("span", out);
        out.extend_from_slice(b"{\"end\":");
        number(span.end.into(), out)?;
        out.extend_from_slice(b",\"start\":");
        number(span.start.into(), out)?;
        out.push(b'}');
    }
    if let Some(summary) = &item.summary {
        key("summary", out);
        string(summary, out);
    }
    if item.target {
        key("target", out);
        out.extend_from_slice(b"true");
    }
    if let Some(tokens) = item.tokens_est {
        key("tokens_est", out);
        number(tokens.into(), out)?;
    }
    out.push(b'}');
    Ok(())
}

fn remove(value: &mut Value, path: &[&str]) {
    let (last, parents) = path.split_last().expect("a non-empty path");
    let parent = parents.iter().try_fold(value, |v, key| v.get_mut(*key));
    if let Some(Value::Object(map)) = parent {
        map.remove(*last);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::context::packet::validate::tests::fixture_packet;
    use crate::context::packet::BuildStats;
    use crate::context::task::parse_task;

    /// Items with every field, none, and texts that need escapes.
    pub(crate) fn sample_items() -> Vec<Item> {
        let full = serde_json::from_value(json!({"name": "a \"q\"", "path": "src/a.py", "item_type": "symbol",
            "signature": "def a()", "span": {"start": 3, "end": 9}, "summary": "tab\there", "snippet": "x\n\u{1}y\n",
            "deps": ["b", "c\\d"], "hash": "sha256:00", "source": "ast", "tokens_est": 12, "priority": -2,
            "target": true}))
        .unwrap();
        let bare = serde_json::from_value(json!({"name": "b", "item_type": "summary", "source": "é"})).unwrap();
        vec![full, bare]
    }

    #[test]
    fn an_item_is_written_as_its_value_is() {
        for item in sample_items() {
            let (mut direct, mut through_value) = (Vec::new(), Vec::new());
            write_item(&item, &mut direct).unwrap();
            crate::jcs::write_value(&serde_json::to_value(&item).unwrap(), &mut through_value).unwrap();
            assert_eq!(String::from_utf8(direct).unwrap(), String::from_utf8(through_value).unwrap());
        }
    }

    #[test]
    fn the_same_content_hashes_the_same_whenever_it_is_built() {
        let a = fixture_packet();
        let mut b = a.clone();
        b.header.packet_id = "another-id".into();
        b.header.created_at = "2030-01-01T00:00:00Z".into();
        b.provenance.packet_hash = packet_hash(&a).unwrap().to_string();
        b.provenance.build_stats.as_mut().unwrap().duration_ms = Some(99_999);
        assert_eq!(packet_hash(&a).unwrap(), packet_hash(&b).unwrap());
        b.provenance.build_stats = Some(BuildStats { duration_ms: None, ..a.provenance.build_stats.clone().unwrap() });
        assert_eq!(packet_hash(&a).unwrap(), packet_hash(&b).unwrap());
        assert!(packet_hash(&a).unwrap().to_string().starts_with("sha256:"));
    }

    #[test]
    fn any_content_change_changes_the_hash() {
        let a = fixture_packet();
        let base = packet_hash(&a).unwrap();
        let edits: [fn(&mut Packet); 6] = [
            |p| p.header.task_id.push('x'),
            |p| p.problem.summary.push('.'),
            |p| p.context[0].snippet = Some("changed".into()),
            |p| p.context.reverse(),
            |p| p.policy.remote_allowed = !p.policy.remote_allowed,
            |p| p.provenance.build_stats.as_mut().unwrap().tokens_total += 1,
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut b = a.clone();
            edit(&mut b);
            assert_ne!(packet_hash(&b).unwrap(), base, "edit {i}");
        }
    }

    #[test]
    fn an_integer_json_cannot_hold_is_an_error_not_a_panic() {
        let mut p = fixture_packet();
        p.context[0].tokens_est = Some((1 << 53) + 1);
        assert!(packet_hash(&p).is_err());
    }

    fn task(id: &str) -> TaskSpec {
        parse_task(&serde_json::json!({"task_id": id, "task_type": "docstring.fix", "roots": ["src"]})).unwrap()
    }

    fn file(path: &str, byte: char) -> InputFile {
        InputFile { path: path.into(), digest: format!("sha256:{}", byte.to_string().repeat(64)), size: 10 }
    }

    #[test]
    fn cache_key_covers_task_files_policy_and_builder() {
        let policy = Digest::of(b"policy");
        let files = [file("src/a.py", 'a'), file("src/b.py", 'b')];
        let key = cache_key(&task("T1"), &files, &policy, "0.1.0").unwrap();
        // The original's collision: two tasks of the same type and scope shared one key.
        assert_ne!(cache_key(&task("T2"), &files, &policy, "0.1.0").unwrap(), key);
        let changed = [file("src/a.py", 'c'), file("src/b.py", 'b')];
        assert_ne!(cache_key(&task("T1"), &changed, &policy, "0.1.0").unwrap(), key);
        assert_ne!(cache_key(&task("T1"), &files, &Digest::of(b"other"), "0.1.0").unwrap(), key);
        assert_ne!(cache_key(&task("T1"), &files, &policy, "0.2.0").unwrap(), key);
        assert_ne!(cache_key(&task("T1"), &files[..1], &policy, "0.1.0").unwrap(), key);
        let mut summarised = task("T1");
        summarised.summary = "another goal".into();
        assert_ne!(cache_key(&summarised, &files, &policy, "0.1.0").unwrap(), key);
    }

    #[test]
    fn cache_key_ignores_file_order() {
        let policy = Digest::of(b"policy");
        let files = [file("src/a.py", 'a'), file("src/b.py", 'b')];
        let reversed = [file("src/b.py", 'b'), file("src/a.py", 'a')];
        assert_eq!(
            cache_key(&task("T1"), &files, &policy, "0.1.0").unwrap(),
            cache_key(&task("T1"), &reversed, &policy, "0.1.0").unwrap()
        );
    }
}
