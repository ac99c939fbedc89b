//! pack/v1 manifests for JavaScript: `buildManifest`, `parseManifest` (not in the identity core: Cargo.toml).

use super::{field, json_to_js, object, to_js_error, tree_from_js, value_from_js};
use crate::error::Result;
use crate::manifest::PackManifest;
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** manifest.json of a pack (pack/v1, docs/spec.md §6). */
export interface PackManifest {
  ctxpack: "pack/v1";
  uri: string;
  contract: ResolvedContract;
  outputs: { digest: string; entries: TreeEntry[] };
  /** Not part of the identity: created, ctxpack_version, platform, tool (and command), and what other producers add. */
  provenance: JsonObject;
}

/** What `buildManifest` takes: the resolved contract, the output tree and the provenance record. */
export interface BuildManifestArgs {
  /** The resolved contract, as `resolveContract` gives it. */
  contract: object;
  entries: TreeEntryInput[];
  provenance: object;
}

/** A built manifest: its URI, its exact bytes (JCS) and the document. */
export interface BuiltManifest {
  uri: string;
  bytes: Uint8Array;
  manifest: PackManifest;
}
"#;

#[wasm_bindgen(js_name = buildManifest, unchecked_return_type = "BuiltManifest")]
pub fn build_manifest(
    #[wasm_bindgen(unchecked_param_type = "BuildManifestArgs")] args: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let build = || -> Result<JsValue> {
        let contract = value_from_js(&field(&args, "contract"), "contract")?;
        let tree = tree_from_js(&field(&args, "entries"))?;
        let provenance = value_from_js(&field(&args, "provenance"), "provenance")?;
        let manifest = PackManifest::build(contract, tree, provenance)?;
        let bytes = manifest.to_bytes()?;
        Ok(object(&[
            ("uri", manifest.uri.to_string().into()),
            ("bytes", Uint8Array::from(bytes.as_slice()).into()),
            ("manifest", json_to_js(&bytes)),
        ]))
    };
    build().map_err(to_js_error)
}

/// A pack's manifest.json, verified: pack/v1 rules, the URI re-derived from the contract, the tree digest.
#[wasm_bindgen(js_name = parseManifest, unchecked_return_type = "PackManifest")]
pub fn parse_manifest(bytes: &[u8]) -> std::result::Result<JsValue, JsValue> {
    PackManifest::parse(bytes).map(|_| json_to_js(bytes)).map_err(to_js_error)
}
