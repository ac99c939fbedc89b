//! execution/v1 for JavaScript: `executionPlan`, `executionParseManifest`, `executionExport`.

use super::{field, object, set, to_js_error, value_to_js};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::execution::{log, manifest, BlobRef, ExecutionLog, ExecutionManifest, LogOptions, Problem};
use crate::jcs;
use js_sys::{Array, Function, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `options = { allowUnknown?: boolean }` → `{ uri, manifestBytes, manifest, blobs: [{digest, size, bytes}] }`.
/// An invalid log throws CTX_EXECUTION_INVALID with `problems: [{path, message}]`, every one of them.
#[wasm_bindgen(js_name = executionPlan)]
pub fn execution_plan(log_text: &str, options: JsValue) -> std::result::Result<JsValue, JsValue> {
    let allow_unknown = !options.is_undefined() && !options.is_null() && field(&options, "allowUnknown").is_truthy();
    let value = jcs::parse(log_text.as_bytes()).map_err(to_js_error)?;
    let log = ExecutionLog::check(value, LogOptions { allow_unknown }).map_err(invalid_log)?;
    let plan = manifest::plan(&log).map_err(to_js_error)?;
    let blobs: Array = plan
        .blobs
        .iter()
        .map(|blob| {
            object(&[
                ("digest", blob.digest.to_string().into()),
                ("size", (blob.size as f64).into()),
                ("bytes", Uint8Array::from(blob.bytes.as_slice()).into()),
            ])
        })
        .collect();
    Ok(object(&[
        ("uri", plan.manifest.uri.to_string().into()),
        ("manifestBytes", Uint8Array::from(plan.bytes.as_slice()).into()),
        ("manifest", value_to_js(plan.manifest.value())),
        ("blobs", blobs.into()),
    ]))
}

/// `{ uri, manifest, blobs: [{digest, size}] }` of stored manifest bytes, after checking them.
#[wasm_bindgen(js_name = executionParseManifest)]
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
#[wasm_bindgen(js_name = executionExport)]
pub fn execution_export(manifest_bytes: &[u8], lookup: Function) -> std::result::Result<JsValue, JsValue> {
    let manifest = ExecutionManifest::parse(manifest_bytes).map_err(to_js_error)?;
    let thrown = RefCell::new(None);
    let log = manifest.export(|digest| ask(&lookup, digest).map_err(|e| *thrown.borrow_mut() = Some(e)).ok().flatten());
    match (log, thrown.into_inner()) {
        (_, Some(exception)) => Err(exception),
        (log, None) => log.map(|log| value_to_js(&log)).map_err(to_js_error),
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
