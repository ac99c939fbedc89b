//! execution/v1 for JavaScript: `executionPlan`, `executionParseManifest`, `executionExport`, `executionDiff`.

use super::{field, object, set, to_js_error, value_to_js};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::execution::diff::{diff, StepChange};
use crate::execution::{log, manifest, BlobRef, ExecutionLog, ExecutionManifest, LogOptions, Problem};
use crate::jcs;
use js_sys::{Array, Function, Set, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A content of an execution log: UTF-8 text, or bytes as standard base64. */
export type ExecutionContent = string | { base64: string };

/** Where a content went: the blob of that digest and size, and how the log wrote it. */
export interface ContentRef {
  digest: string;
  size: number;
  encoding: "utf-8" | "base64";
}

/** An execution log (docs/spec.md §11.1); with `allowUnknown`, other fields are kept too. */
export interface ExecutionLog<Content = ExecutionContent> {
  model: { identifier: string; parameters?: JsonObject };
  system_prompt: Content;
  prompts?: Array<{ role: string; content: Content }>;
  inputs?: Array<{ name: string; content: Content }>;
  steps?: Array<{
    index?: number;
    type: string;
    tool: string;
    parameters?: JsonObject;
    output?: Content;
    deterministic?: boolean;
    timestamp?: string;
  }>;
  outputs?: Array<{ name: string; content?: Content }>;
  environment: { os: string; runtime: string; tool_versions?: JsonObject };
  parent?: string;
}

/** The execution manifest (docs/spec.md §11.2): the log with each content replaced by a reference to its blob. */
export interface ExecutionManifest extends ExecutionLog<ContentRef> {
  ctxpack: "execution/v1";
}

export interface ExecutionPlanOptions {
  /** Keep fields execution/v1 does not define (they become part of the identity). */
  allowUnknown?: boolean;
  /**
   * The host's SHA-256, when it has a faster one than the core's (node:crypto): given the bytes of a blob or of the
   * manifest, their 32-byte digest. The bytes are a view valid only during the call. The plan is the same either way.
   */
  sha256?: (bytes: Uint8Array) => Uint8Array;
  /**
   * Digests of blobs the host already has (`sha256:<hex>`): theirs come without `bytes`, not copied out of the
   * core only to be dropped. The plan is otherwise the same.
   */
  known?: Set<string>;
}

/** A log ready to store: the manifest's exact bytes (JCS; their SHA-256 is the URI) and each distinct blob once. */
export interface ExecutionPlan {
  uri: string;
  manifestBytes: Uint8Array;
  manifest: ExecutionManifest;
  /** `bytes` is absent only for a digest in `known`. */
  blobs: Array<{ digest: string; size: number; bytes?: Uint8Array }>;
}

export interface ParsedExecutionManifest {
  uri: string;
  manifest: ExecutionManifest;
  blobs: Array<{ digest: string; size: number }>;
}

/** How two runs differ: top-level fields, and their steps aligned by sequence alignment (indices into each one's steps). */
export interface ExecutionDiff {
  differs: boolean;
  fields: Array<{ path: string; before?: JsonValue; after?: JsonValue }>;
  steps: Array<
    | { op: "same"; a: number; b: number }
    | { op: "changed"; a: number; b: number; fields: string[] }
    | { op: "removed"; a: number }
    | { op: "added"; b: number }
  >;
}
"#;

/// `log` is the log's JSON text, as a string or as UTF-8 bytes (bytes skip a decode and re-encode);
/// `options = { allowUnknown?, sha256?, known? }` → `{ uri, manifestBytes, manifest, blobs: [{digest, size, bytes?}] }`
/// (`bytes` left out for a digest in the Set `known`).
/// An invalid log throws CTX_EXECUTION_INVALID with `problems: [{path, message}]`, every one of them.
#[wasm_bindgen(js_name = executionPlan, unchecked_return_type = "ExecutionPlan")]
pub fn execution_plan(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] log: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ExecutionPlanOptions | null")] options: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let given = !options.is_undefined() && !options.is_null();
    let allow_unknown = given && field(&options, "allowUnknown").is_truthy();
    let host_sha256 = if given { field(&options, "sha256").dyn_into::<Function>().ok() } else { None };
    let known = if given { field(&options, "known").dyn_into::<Set>().ok() } else { None };
    let text = match log.as_string() {
        Some(text) => text.into_bytes(),
        None => log
            .dyn_into::<Uint8Array>()
            .map_err(|_| to_js_error(Error::new(ErrorCode::Usage, "the log must be a string or a Uint8Array")))?
            .to_vec(),
    };
    let value = jcs::parse(&text).map_err(to_js_error)?;
    drop(text);
    let log = ExecutionLog::check(value, LogOptions { allow_unknown }).map_err(invalid_log)?;
    let plan = match &host_sha256 {
        None => manifest::plan(&log),
        Some(sha256) => manifest::plan_with(&log, &mut |bytes| host_digest(sha256, bytes)),
    }
    .map_err(to_js_error)?;
    let blobs: Array = plan
        .blobs
        .iter()
        .map(|blob| {
            let digest: JsValue = blob.digest.to_string().into();
            let entry = object(&[("digest", digest.clone()), ("size", (blob.size as f64).into())]);
            if !known.as_ref().is_some_and(|known| known.has(&digest)) {
                set(&entry, "bytes", &Uint8Array::from(blob.bytes.as_slice()).into());
            }
            entry
        })
        .collect();
    Ok(object(&[
        ("uri", plan.manifest.uri.to_string().into()),
        ("manifestBytes", Uint8Array::from(plan.bytes.as_slice()).into()),
        ("manifest", value_to_js(plan.manifest.value())),
        ("blobs", blobs.into()),
    ]))
}

/// The host's SHA-256 of `bytes`, which it sees through a view of wasm memory: sound because nothing allocates
/// in the core while the host function runs.
fn host_digest(sha256: &Function, bytes: &[u8]) -> crate::error::Result<Digest> {
    let view = unsafe { Uint8Array::view(bytes) };
    let failed = |why: &str| Error::new(ErrorCode::InvalidState, format!("the host's sha256 {why}"));
    let result = sha256.call1(&JsValue::NULL, &view).map_err(|_| failed("threw"))?;
    let digest = result.dyn_into::<Uint8Array>().map_err(|_| failed("returned no Uint8Array"))?;
    let bytes: [u8; 32] = digest.to_vec().try_into().map_err(|_| failed("returned no 32 bytes"))?;
    Ok(Digest::from_bytes(bytes))
}

/// `{ uri, manifest, blobs: [{digest, size}] }` of stored manifest bytes, after checking them.
#[wasm_bindgen(js_name = executionParseManifest, unchecked_return_type = "ParsedExecutionManifest")]
pub fn execution_parse_manifest(bytes: &[u8]) -> std::result::Result<JsValue, JsValue> {
    let manifest = ExecutionManifest::parse(bytes).map_err(to_js_error)?;
    let blobs: Array = manifest.blob_refs().iter().map(blob_ref).collect();
    Ok(object(&[
        ("uri", manifest.uri.to_string().into()),
        ("manifest", value_to_js(manifest.value())),
        ("blobs", blobs.into()),
    ]))
}

/// The log a manifest records. `lookup(digest)` returns the blob's bytes, or `undefined`/`null` when the
/// host does not have it; an exception it throws is rethrown as is.
#[wasm_bindgen(js_name = executionExport, unchecked_return_type = "ExecutionLog")]
pub fn execution_export(
    #[wasm_bindgen(js_name = manifestBytes)] manifest_bytes: &[u8],
    #[wasm_bindgen(unchecked_param_type = "(digest: string) => Uint8Array | null | undefined")] lookup: Function,
) -> std::result::Result<JsValue, JsValue> {
    let manifest = ExecutionManifest::parse(manifest_bytes).map_err(to_js_error)?;
    let thrown = RefCell::new(None);
    let log = manifest.export(|digest| ask(&lookup, digest).map_err(|e| *thrown.borrow_mut() = Some(e)).ok().flatten());
    match (log, thrown.into_inner()) {
        (_, Some(exception)) => Err(exception),
        (log, None) => log.map(|log| value_to_js(&log)).map_err(to_js_error),
    }
}

/// Two stored manifests compared: `{ differs, fields: [{path, before?, after?}], steps: [{op: "same" |
/// "changed" | "removed" | "added", a?, b?, fields?}] }`, steps aligned by sequence alignment (indices
/// into each manifest's `steps`).
#[wasm_bindgen(js_name = executionDiff, unchecked_return_type = "ExecutionDiff")]
pub fn execution_diff(
    #[wasm_bindgen(js_name = a)] a_bytes: &[u8],
    #[wasm_bindgen(js_name = b)] b_bytes: &[u8],
) -> std::result::Result<JsValue, JsValue> {
    let a = ExecutionManifest::parse(a_bytes).map_err(|e| to_js_error(e.at("a")))?;
    let b = ExecutionManifest::parse(b_bytes).map_err(|e| to_js_error(e.at("b")))?;
    let compared = diff(a.value(), b.value()).map_err(to_js_error)?;
    let fields: Array = compared
        .fields
        .iter()
        .map(|change| {
            let entry = object(&[("path", change.path.as_str().into())]);
            if let Some(before) = &change.before {
                set(&entry, "before", &value_to_js(before));
            }
            if let Some(after) = &change.after {
                set(&entry, "after", &value_to_js(after));
            }
            entry
        })
        .collect();
    let steps: Array = compared.steps.iter().map(step_change).collect();
    Ok(object(&[("differs", compared.differs().into()), ("fields", fields.into()), ("steps", steps.into())]))
}

fn step_change(change: &StepChange) -> JsValue {
    let index = |i: &usize| JsValue::from(*i as f64);
    match change {
        StepChange::Same { a, b } => object(&[("op", "same".into()), ("a", index(a)), ("b", index(b))]),
        StepChange::Changed { a, b, fields } => {
            let fields: Array = fields.iter().map(|f| JsValue::from(*f)).collect();
            object(&[("op", "changed".into()), ("a", index(a)), ("b", index(b)), ("fields", fields.into())])
        }
        StepChange::Removed { a } => object(&[("op", "removed".into()), ("a", index(a))]),
        StepChange::Added { b } => object(&[("op", "added".into()), ("b", index(b))]),
    }
}

fn ask(lookup: &Function, digest: &Digest) -> std::result::Result<Option<Vec<u8>>, JsValue> {
    let answer = lookup.call1(&JsValue::NULL, &digest.to_string().into())?;
    if answer.is_undefined() || answer.is_null() {
        return Ok(None);
    }
    answer.dyn_ref::<Uint8Array>().map(|bytes| Some(bytes.to_vec())).ok_or_else(|| {
        let e = Error::new(ErrorCode::InvalidState, "lookup must return a Uint8Array, undefined or null");
        to_js_error(e.at(digest.to_string()))
    })
}

fn blob_ref(blob: &BlobRef) -> JsValue {
    object(&[("digest", blob.digest.to_string().into()), ("size", (blob.size as f64).into())])
}

fn invalid_log(problems: Vec<Problem>) -> JsValue {
    let error = to_js_error(log::invalid_log_error(&problems));
    let list: Array = problems
        .iter()
        .map(|p| object(&[("path", p.path.as_str().into()), ("message", p.message.as_str().into())]))
        .collect();
    set(&error, "problems", &list.into());
    error
}
