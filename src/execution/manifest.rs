//! Execution manifests: a log with every content moved into a blob and replaced by a reference
//! `{"digest":"sha256:<hex>","size":n,"encoding":"utf-8"|"base64"}`. The manifest's JCS digest is the
//! identity; the creation time is recorded beside it by the host, never in it.

use super::log::{content_of, Content, ExecutionLog};
use super::problem::{problems_error, JsonPath, Problems};
use super::schema::{map_contents, Check, Mode, EXECUTION};
use super::{base64, EXECUTION_V1};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use crate::uri::CtxUri;
use serde_json::{json, Value};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// A content's bytes, stored once in the pantry however many places use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub digest: Digest,
    pub size: u64,
    pub bytes: Vec<u8>,
}

/// A blob as a manifest references it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
}

/// An execution manifest whose shape and references were checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionManifest {
    /// `ctx://` + sha256 of the manifest's JCS bytes.
    pub uri: CtxUri,
    value: Value,
}

/// What packing a log produces: the manifest, its JCS bytes and the blobs it references (deduplicated by
/// digest, in order of first use).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionPlan {
    pub manifest: ExecutionManifest,
    pub bytes: Vec<u8>,
    pub blobs: Vec<Blob>,
}

/// How the log wrote a content, so that export gives back the same JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Base64,
}

impl Encoding {
    fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Base64 => "base64",
        }
    }
}

/// Moves every content of a validated log into blobs.
pub fn plan(log: &ExecutionLog) -> Result<ExecutionPlan> {
    plan_with(log, &mut |bytes| Ok(Digest::of(bytes)))
}

/// [`plan`] with the host's SHA-256 (`sha256` of every blob and of the manifest's bytes): hosts with a faster
/// one than the core's own (node:crypto, about 6x on blobs) pass it in; the result is the same plan.
pub fn plan_with(log: &ExecutionLog, sha256: &mut dyn FnMut(&[u8]) -> Result<Digest>) -> Result<ExecutionPlan> {
    let mut blobs = Vec::new();
    let mut seen = BTreeSet::new();
    let mut to_reference = |content: &Value| -> Result<Value> {
        let (bytes, encoding) = match content_of(content).map_err(|why| Error::new(ErrorCode::InvalidState, why))? {
            Content::Text(text) => (text.into_bytes(), Encoding::Utf8),
            Content::Bytes(bytes) => (bytes, Encoding::Base64),
        };
        let blob = Blob { digest: sha256(&bytes)?, size: bytes.len() as u64, bytes };
        let reference = reference_value(BlobRef { digest: blob.digest, size: blob.size }, encoding);
        if seen.insert(blob.digest) {
            blobs.push(blob);
        }
        Ok(reference)
    };
    let mut value = map_contents(log.value(), EXECUTION, &mut to_reference)?;
    value.as_object_mut().expect("a validated log is an object").insert("ctxpack".into(), EXECUTION_V1.into());
    let bytes = jcs::canonicalize(&value)?;
    let uri = CtxUri::from_digest(sha256(&bytes)?);
    Ok(ExecutionPlan { manifest: ExecutionManifest { uri, value }, bytes, blobs })
}

fn reference_value(blob: BlobRef, encoding: Encoding) -> Value {
    json!({"digest": blob.digest.to_string(), "size": blob.size, "encoding": encoding.as_str()})
}

fn reference_of(value: &Value) -> std::result::Result<(BlobRef, Encoding), String> {
    const SHAPE: &str = "must be {\"digest\", \"size\", \"encoding\"}";
    let object = value.as_object().filter(|o| o.len() == 3).ok_or(SHAPE)?;
    let digest = object.get("digest").and_then(Value::as_str).ok_or(SHAPE)?;
    let digest = Digest::parse(digest).map_err(|e| format!("digest: {}", e.message))?;
    let size = object.get("size").and_then(Value::as_u64).ok_or("size: must be a non-negative integer")?;
    let encoding = match object.get("encoding").and_then(Value::as_str) {
        Some("utf-8") => Encoding::Utf8,
        Some("base64") => Encoding::Base64,
        _ => return Err("encoding: must be \"utf-8\" or \"base64\"".into()),
    };
    Ok((BlobRef { digest, size }, encoding))
}

impl ExecutionManifest {
    /// Checks a stored manifest: strict canonical JSON, the `execution/v1` shape and every blob reference.
    /// Unknown fields are accepted (a log packed with `allow_unknown` keeps them).
    pub fn parse(bytes: &[u8]) -> Result<ExecutionManifest> {
        let invalid = |why: String| Error::new(ErrorCode::ManifestInvalid, why);
        let value =
            jcs::parse(bytes).map_err(|e| invalid(format!("execution manifest is not valid JSON: {}", e.message)))?;
        let mut check = Check {
            mode: Mode::Manifest,
            allow_unknown: true,
            content: |value| reference_of(value).err(),
            problems: Problems::default(),
        };
        check.record(&value, EXECUTION, &JsonPath::root(), None);
        let problems = check.problems.into_vec();
        if !problems.is_empty() {
            return Err(problems_error(ErrorCode::ManifestInvalid, &problems));
        }
        // The URI is the digest of these very bytes, so they must be the one canonical form.
        if jcs::canonicalize(&value)? != bytes {
            return Err(invalid("execution manifest is not in canonical form (RFC 8785)".into()));
        }
        Ok(ExecutionManifest { uri: CtxUri::from_digest(Digest::of(bytes)), value })
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Every blob the manifest references, once each, in order of first use (for verify and gc).
    pub fn blob_refs(&self) -> Vec<BlobRef> {
        let mut refs = Vec::new();
        let mut seen = BTreeSet::new();
        // Walking with an identity mapping visits every reference in document order.
        map_contents(&self.value, EXECUTION, &mut |value| {
            let (blob, _) = reference_of(value).map_err(|why| Error::new(ErrorCode::InvalidState, why))?;
            if seen.insert(blob.digest) {
                refs.push(blob);
            }
            Ok(Value::Null)
        })
        .expect("a parsed manifest's references are valid");
        refs
    }

    /// Rebuilds the log. `lookup` returns a blob's bytes (or `None`); each is checked against its size and
    /// digest before use.
    pub fn export(&self, mut lookup: impl FnMut(&Digest) -> Option<Vec<u8>>) -> Result<Value> {
        let mut verified: BTreeMap<Digest, Vec<u8>> = BTreeMap::new();
        let mut to_content = |value: &Value| -> Result<Value> {
            let (blob, encoding) = reference_of(value).map_err(|why| Error::new(ErrorCode::InvalidState, why))?;
            let bytes = match verified.entry(blob.digest) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => entry.insert(fetch(&mut lookup, blob)?),
            };
            Ok(match encoding {
                Encoding::Utf8 => Value::String(String::from_utf8(bytes.clone()).map_err(|_| {
                    Error::new(ErrorCode::ManifestInvalid, "blob is recorded as utf-8 but is not UTF-8 text")
                        .at(blob.digest.to_string())
                })?),
                Encoding::Base64 => json!({"base64": base64::encode(bytes)}),
            })
        };
        let mut log = map_contents(&self.value, EXECUTION, &mut to_content)?;
        log.as_object_mut().expect("a parsed manifest is an object").remove("ctxpack");
        Ok(log)
    }
}

fn fetch(lookup: &mut impl FnMut(&Digest) -> Option<Vec<u8>>, blob: BlobRef) -> Result<Vec<u8>> {
    let subject = blob.digest.to_string();
    let bytes = lookup(&blob.digest)
        .ok_or_else(|| Error::new(ErrorCode::NotFound, "blob of the execution manifest not found").at(&subject))?;
    if bytes.len() as u64 != blob.size {
        return Err(Error::new(
            ErrorCode::SizeMismatch,
            format!("blob is {} bytes, the manifest records {}", bytes.len(), blob.size),
        )
        .at(&subject));
    }
    let actual = Digest::of(&bytes);
    if actual != blob.digest {
        return Err(Error::new(ErrorCode::DigestMismatch, format!("blob hashes to {actual}")).at(&subject));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::LogOptions;

    const FIXTURES: [&str; 3] = [
        include_str!("../../tests/fixtures/execution/coding-agent.json"),
        include_str!("../../tests/fixtures/execution/rag-agent.json"),
        include_str!("../../tests/fixtures/execution/tool-heavy-agent.json"),
    ];
    const TOOL_HEAVY: &str = FIXTURES[2];

    fn plan_of(text: &str) -> ExecutionPlan {
        plan(&ExecutionLog::parse(text.as_bytes(), LogOptions::default()).unwrap()).unwrap()
    }

    fn pantry(plan: &ExecutionPlan) -> BTreeMap<Digest, Vec<u8>> {
        plan.blobs.iter().map(|blob| (blob.digest, blob.bytes.clone())).collect()
    }

    fn export_from(plan: &ExecutionPlan, pantry: &BTreeMap<Digest, Vec<u8>>) -> Result<Value> {
        ExecutionManifest::parse(&plan.bytes)?.export(|digest| pantry.get(digest).cloned())
    }

    #[test]
    fn plan_then_export_gives_back_every_fixture() {
        for text in FIXTURES {
            let plan = plan_of(text);
            let original = jcs::parse(text.as_bytes()).unwrap();
            assert_eq!(export_from(&plan, &pantry(&plan)).unwrap(), original);
        }
    }

    #[test]
    fn contents_become_references_and_the_rest_stays_as_written() {
        let plan = plan_of(TOOL_HEAVY);
        let manifest = plan.manifest.value();
        assert_eq!(manifest["ctxpack"], "execution/v1");
        let original = jcs::parse(TOOL_HEAVY.as_bytes()).unwrap();
        assert_eq!(manifest["model"], original["model"]);
        assert_eq!(manifest["steps"][3]["timestamp"], original["steps"][3]["timestamp"]);
        let reference = &manifest["system_prompt"];
        let text = original["system_prompt"].as_str().unwrap();
        assert_eq!(reference["digest"], Digest::of(text.as_bytes()).to_string());
        assert_eq!(reference["size"], text.len());
        assert_eq!(reference["encoding"], "utf-8");
        let bytes_steps = manifest["steps"].as_array().unwrap().iter().filter(|s| s["output"]["encoding"] == "base64");
        assert_eq!(bytes_steps.count(), 2);
        assert!(!manifest.to_string().contains(text), "no content is left in the manifest");
    }

    #[test]
    fn repeated_contents_are_stored_once() {
        let plan = plan_of(TOOL_HEAVY);
        let manifest = plan.manifest.value();
        let step_outputs = manifest["steps"].as_array().unwrap().iter().filter(|s| s.get("output").is_some()).count();
        let contents = 1
            + ["prompts", "inputs", "outputs"].iter().map(|k| manifest[k].as_array().unwrap().len()).sum::<usize>()
            + step_outputs;
        assert!(plan.blobs.len() < contents, "{} blobs for {contents} contents", plan.blobs.len());
        let digests: BTreeSet<Digest> = plan.blobs.iter().map(|b| b.digest).collect();
        assert_eq!(digests.len(), plan.blobs.len());
        let refs = ExecutionManifest::parse(&plan.bytes).unwrap().blob_refs();
        let blobs: Vec<BlobRef> = plan.blobs.iter().map(|b| BlobRef { digest: b.digest, size: b.size }).collect();
        assert_eq!(refs, blobs);
        assert!(plan.blobs.iter().all(|b| Digest::of(&b.bytes) == b.digest && b.bytes.len() as u64 == b.size));
    }

    #[test]
    fn identity_is_the_manifest_digest_and_ignores_packing_twice() {
        let first = plan_of(FIXTURES[0]);
        assert_eq!(first.manifest.uri, plan_of(FIXTURES[0]).manifest.uri);
        assert_eq!(first.manifest.uri.digest(), Digest::of(&first.bytes));
        assert_eq!(first.bytes, jcs::canonicalize(first.manifest.value()).unwrap());
        let reordered = serde_json::to_string_pretty(&jcs::parse(FIXTURES[0].as_bytes()).unwrap()).unwrap();
        assert_eq!(plan_of(&reordered).manifest.uri, first.manifest.uri, "formatting is not identity");
        let uris: BTreeSet<String> = FIXTURES.iter().map(|f| plan_of(f).manifest.uri.to_string()).collect();
        assert_eq!(uris.len(), 3);
    }

    #[test]
    fn changing_one_step_output_changes_the_uri() {
        let mut log = jcs::parse(FIXTURES[1].as_bytes()).unwrap();
        let before = plan_of(&log.to_string()).manifest.uri;
        log["steps"][4]["output"] = Value::from("a different answer");
        assert_ne!(plan_of(&log.to_string()).manifest.uri, before);
    }

    #[test]
    fn same_bytes_as_text_and_base64_share_one_blob() {
        let log = json!({
            "model": {"identifier": "m"}, "system_prompt": "foo",
            "outputs": [{"name": "a", "content": {"base64": "Zm9v"}}, {"name": "empty", "content": ""}],
            "environment": {"os": "l", "runtime": "r"},
        });
        let plan = plan_of(&log.to_string());
        assert_eq!(plan.blobs.len(), 2);
        assert_eq!(plan.blobs[0].bytes, b"foo");
        assert_eq!(plan.blobs[1].size, 0);
        assert_eq!(plan.manifest.value()["outputs"][0]["content"]["encoding"], "base64");
        assert_eq!(export_from(&plan, &pantry(&plan)).unwrap(), log);
    }

    #[test]
    fn unknown_fields_kept_are_part_of_the_identity_and_round_trip() {
        let mut log = jcs::parse(FIXTURES[0].as_bytes()).unwrap();
        let plain = plan_of(&log.to_string()).manifest.uri;
        log["steps"][0]["retries"] = json!(2);
        log["trace_id"] = json!("abc");
        let parsed = ExecutionLog::parse(log.to_string().as_bytes(), LogOptions { allow_unknown: true }).unwrap();
        let plan = plan(&parsed).unwrap();
        assert_ne!(plan.manifest.uri, plain);
        assert_eq!(plan.manifest.value()["steps"][0]["retries"], 2);
        assert_eq!(export_from(&plan, &pantry(&plan)).unwrap(), log);
    }

    #[test]
    fn export_checks_every_blob() {
        let plan = plan_of(FIXTURES[1]);
        let target = plan.blobs[0].digest;
        let mut missing = pantry(&plan);
        missing.remove(&target);
        let e = export_from(&plan, &missing).unwrap_err();
        assert_eq!((e.code, e.subject), (ErrorCode::NotFound, Some(target.to_string())));
        let mut resized = pantry(&plan);
        resized.get_mut(&target).unwrap().push(b'!');
        assert_eq!(export_from(&plan, &resized).unwrap_err().code, ErrorCode::SizeMismatch);
        let mut tampered = pantry(&plan);
        tampered.get_mut(&target).unwrap()[0] ^= 1;
        assert_eq!(export_from(&plan, &tampered).unwrap_err().code, ErrorCode::DigestMismatch);
    }

    #[test]
    fn parse_manifest_checks_shape_references_and_canonical_form() {
        let plan = plan_of(FIXTURES[0]);
        let parsed = ExecutionManifest::parse(&plan.bytes).unwrap();
        assert_eq!(parsed, plan.manifest);
        let reject = |edit: &dyn Fn(&mut Value)| {
            let mut value = plan.manifest.value().clone();
            edit(&mut value);
            ExecutionManifest::parse(&jcs::canonicalize(&value).unwrap()).unwrap_err()
        };
        let e = reject(&|v| {
            v["system_prompt"] = json!("inline text");
            v["steps"][0]["output"]["size"] = json!(-1);
            v["outputs"][0]["content"]["digest"] = json!("sha256:abc");
            v["inputs"][0]["content"]["encoding"] = json!("utf-16");
            v["ctxpack"] = json!("execution/v2");
        });
        assert_eq!(e.code, ErrorCode::ManifestInvalid);
        let lines: Vec<&str> = e.message.lines().collect();
        assert_eq!(lines.len(), 5, "{}", e.message);
        assert_eq!(lines[0], "ctxpack: must be \"execution/v1\"");
        assert_eq!(lines[1], "system_prompt: must be {\"digest\", \"size\", \"encoding\"}");
        let e = reject(&|v| {
            v.as_object_mut().unwrap().remove("ctxpack");
        });
        assert_eq!(e.message, "ctxpack: required");
        let pretty = serde_json::to_vec_pretty(plan.manifest.value()).unwrap();
        assert!(ExecutionManifest::parse(&pretty).unwrap_err().message.contains("canonical form"));
        assert_eq!(ExecutionManifest::parse(b"{").unwrap_err().code, ErrorCode::ManifestInvalid);
    }
}
