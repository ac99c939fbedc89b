//! The JavaScript boundary: every `JsValue` conversion lives under this module, and nothing here decides
//! anything. Names are camelCase; every error is an instance of the JS class `CtxpackError`
//! (`ctxpack_error.js`, re-exported from the glue) carrying `code`, `hint` and `subject`.

#[cfg(feature = "packs")]
mod archive;
#[cfg(feature = "packs")]
mod chunks;
#[cfg(feature = "context")]
mod context;
mod contract;
mod errors;
#[cfg(feature = "packs")]
mod execution;
#[cfg(feature = "packs")]
mod legacy;
#[cfg(feature = "packs")]
mod manifest;
#[cfg(feature = "packs")]
mod oci;
#[cfg(feature = "packs")]
mod operations;
#[cfg(feature = "packs")]
mod registry;
#[cfg(feature = "packs")]
mod seek;
#[cfg(feature = "packs")]
mod sign;
#[cfg(feature = "write")]
mod sign_host;
#[cfg(feature = "packs")]
mod stream_queue;
mod tree;
#[cfg(feature = "write")]
mod writer;

use crate::digest::{Digest, Hasher};
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use crate::path;
use crate::tree::{Tree, TreeEntry};
use crate::uri::CtxUri;
use js_sys::{Array, Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

// The error class every ctxpack error is an instance of, defined in JS (it extends `Error`) and re-exported from
// the glue, so hosts import this very class from `ctxpack/core`.
#[wasm_bindgen(module = "/src/interop/ctxpack_error.js")]
extern "C" {
    #[wasm_bindgen(extends = js_sys::Error, reexport)]
    type CtxpackError;

    #[wasm_bindgen(constructor)]
    fn new(code: &str, message: &str, details: &JsValue) -> CtxpackError;
}

/// Converts a core error into the `CtxpackError` every ctxpack host throws.
pub(crate) fn to_js_error(e: Error) -> JsValue {
    let details = object(&[("hint", e.hint.into()), ("subject", e.subject.map_or(JsValue::UNDEFINED, JsValue::from))]);
    CtxpackError::new(e.code.as_str(), &e.message, &details).into()
}

pub(crate) fn set(object: &JsValue, key: &str, value: &JsValue) {
    Reflect::set(object, &key.into(), value).expect("setting a property on a plain object cannot fail");
}

/// A JS value as JSON, parsed strictly (duplicate keys cannot occur; unsafe integers are rejected).
pub(crate) fn value_from_js(value: &JsValue, what: &str) -> Result<Value> {
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| Error::new(ErrorCode::JsonInvalid, format!("{what} cannot be converted to JSON")))?;
    jcs::parse(text.as_bytes()).map_err(|e| e.at(what))
}

pub(crate) fn value_to_js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).expect("serde_json output is valid JSON")
}

/// JSON text the core produced or verified, as a JS value: parsed by the host's JSON.parse, with no
/// intermediate serde_json tree (which, for a manifest of many entries, costs far more than the text).
pub(crate) fn json_to_js(json: &[u8]) -> JsValue {
    let text = std::str::from_utf8(json).expect("verified JSON is UTF-8");
    js_sys::JSON::parse(text).expect("verified JSON parses")
}

fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn string_field(object: &JsValue, key: &str, at: &str) -> Result<String> {
    field(object, key)
        .as_string()
        .ok_or_else(|| Error::new(ErrorCode::JsonInvalid, format!("\"{key}\" must be a string")).at(at))
}

/// Reads `{path, type, size, digest, executable}` / `{path, type, target}`; `path` may be raw bytes when the
/// host could not decode a file name, which the core then rejects with `CTX_PATH_NOT_UTF8`.
fn tree_entry_from_js(object: &JsValue, at: &str) -> Result<TreeEntry> {
    let raw_path = field(object, "path");
    let path = match raw_path.dyn_ref::<Uint8Array>() {
        Some(bytes) => path::from_bytes(&bytes.to_vec())?.to_string(),
        None => string_field(object, "path", at)?,
    };
    match string_field(object, "type", at)?.as_str() {
        "file" => {
            let size = field(object, "size")
                .as_f64()
                .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= 9_007_199_254_740_992.0)
                .ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "\"size\" must be a non-negative integer").at(at))?;
            let digest = Digest::parse(&string_field(object, "digest", at)?).map_err(|e| e.at(at))?;
            let executable = field(object, "executable").as_bool().unwrap_or(false);
            Ok(TreeEntry::file(path, size as u64, digest, executable))
        }
        "symlink" => Ok(TreeEntry::symlink(path, string_field(object, "target", at)?)),
        other => {
            Err(Error::new(ErrorCode::UnsupportedEntryType, format!("entry type {other:?} is not file or symlink"))
                .at(at))
        }
    }
}

fn tree_from_js(entries: &JsValue) -> Result<Tree> {
    let array =
        entries.dyn_ref::<Array>().ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "entries must be an array"))?;
    let entries = array
        .iter()
        .enumerate()
        .map(|(i, item)| tree_entry_from_js(&item, &format!("entries[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    Tree::new(entries)
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A JSON value, as the core reads and writes documents. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * An entry of a tree as a host found it (docs/spec.md §4). `path` is relative and "/"-separated; a Uint8Array when
 * the host could not decode the name as UTF-8 (the core then throws CTX_PATH_NOT_UTF8). `executable` defaults to false.
 */
export type TreeEntryInput =
  | { path: string | Uint8Array; type: "file"; size: number; digest: string; executable?: boolean }
  | { path: string | Uint8Array; type: "symlink"; target: string };

/** A tree/v1 entry: NFC path, in canonical order, validated. */
export type TreeEntry =
  | { path: string; type: "file"; size: number; digest: string; executable: boolean }
  | { path: string; type: "symlink"; target: string };

/** The tree digest of a set of entries, and the entries in canonical form and order. */
export interface TreeDigest {
  digest: string;
  entries: TreeEntry[];
}
"#;

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let out: JsValue = js_sys::Object::new().into();
    for (key, value) in pairs {
        set(&out, key, value);
    }
    out
}

#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.to_string()
}

#[wasm_bindgen(js_name = parseUri)]
pub fn parse_uri(uri: &str) -> std::result::Result<String, JsValue> {
    CtxUri::parse(uri).map(|u| u.to_string()).map_err(to_js_error)
}

#[wasm_bindgen(js_name = uriTag)]
pub fn uri_tag(uri: &str) -> std::result::Result<String, JsValue> {
    CtxUri::parse(uri).map(|u| u.tag()).map_err(to_js_error)
}

#[wasm_bindgen(js_name = canonicalJson)]
pub fn canonical_json(#[wasm_bindgen(js_name = jsonText)] json_text: &str) -> std::result::Result<String, JsValue> {
    jcs::parse(json_text.as_bytes())
        .and_then(|v| jcs::canonicalize(&v))
        .map(|bytes| String::from_utf8(bytes).expect("JCS output is UTF-8"))
        .map_err(to_js_error)
}

#[wasm_bindgen]
pub fn sha256(bytes: &[u8]) -> String {
    Digest::of(bytes).to_string()
}

/// Streaming SHA-256 for hosts without a faster native hash (browsers without WebCrypto streaming, edge).
#[wasm_bindgen(js_name = Sha256)]
pub struct Sha256Stream(Option<Hasher>);

#[wasm_bindgen(js_class = Sha256)]
impl Sha256Stream {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Sha256Stream {
        Sha256Stream(Some(Hasher::new()))
    }

    pub fn update(&mut self, bytes: &[u8]) -> std::result::Result<(), JsValue> {
        self.0.as_mut().map(|h| h.update(bytes)).ok_or_else(finished_hasher)
    }

    pub fn digest(&mut self) -> std::result::Result<String, JsValue> {
        self.0.take().map(|h| h.finish().to_string()).ok_or_else(finished_hasher)
    }
}

impl Default for Sha256Stream {
    fn default() -> Self {
        Self::new()
    }
}

fn finished_hasher() -> JsValue {
    to_js_error(Error::new(ErrorCode::InvalidState, "digest() was already called on this Sha256"))
}

#[wasm_bindgen(js_name = treeDigest, unchecked_return_type = "TreeDigest")]
pub fn tree_digest(
    #[wasm_bindgen(unchecked_param_type = "TreeEntryInput[]")] entries: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let tree = tree_from_js(&entries).map_err(to_js_error)?;
    let mut json = Vec::new();
    tree.write_entries(|piece| json.extend_from_slice(piece)).map_err(to_js_error)?;
    Ok(object(&[("digest", tree.digest().to_string().into()), ("entries", json_to_js(&json))]))
}
