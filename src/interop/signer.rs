//! Signing and what a signer writes, for JavaScript (the `write` feature, like `PackWriter`): a pack's signature,
//! its OCI artifact, a referrers index and its `index.json` entry.

use super::oci::manifest_to_js;
use super::{object, to_js_error, value_from_js};
use crate::digest::Digest;
use crate::error::Result;
use crate::oci::{self, Descriptor};
use crate::sign::{self, SecretKey};
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

type JsResult<T> = std::result::Result<T, JsValue>;

/// Verifies the pack (image manifest + manifest.json, as `ociVerifyPack`) and signs it with an Ed25519 PKCS#8
/// private key; `signedAt` is the host's RFC 3339 time.
#[wasm_bindgen(js_name = signPack, unchecked_return_type = "PackSignature")]
pub fn sign_pack(
    #[wasm_bindgen(js_name = ociManifest)] oci_manifest: &[u8],
    #[wasm_bindgen(js_name = manifestJson)] manifest_json: &[u8],
    #[wasm_bindgen(js_name = privateKeyPem)] private_key_pem: &str,
    #[wasm_bindgen(js_name = signedAt)] signed_at: &str,
) -> JsResult<JsValue> {
    let signed = SecretKey::from_pem(private_key_pem)
        .and_then(|key| sign::sign_pack(oci_manifest, manifest_json, &key, signed_at))
        .map_err(to_js_error)?;
    Ok(object(&[
        ("envelope", Uint8Array::from(signed.envelope.as_slice()).into()),
        ("keyid", signed.statement.keyid.as_str().into()),
        ("uri", signed.statement.uri.to_string().into()),
        ("manifestDigest", signed.statement.manifest.to_string().into()),
        ("signedAt", signed.statement.signed_at.as_str().into()),
    ]))
}

/// The signature artifact's image manifest: `subject` the pack's image manifest, the envelope its one layer
/// (push `ociEmptyConfig().bytes` and the envelope as blobs too).
#[wasm_bindgen(js_name = signatureManifest, unchecked_return_type = "ImageManifestBlob")]
pub fn signature_manifest(
    #[wasm_bindgen(unchecked_param_type = "Descriptor")] subject: JsValue,
    envelope: &[u8],
    keyid: &str,
    created: &str,
) -> JsResult<JsValue> {
    let build = || -> Result<JsValue> {
        let subject = Descriptor::from_value(&value_from_js(&subject, "subject")?, "subject")?;
        Ok(manifest_to_js(&oci::signature_manifest(&subject, envelope, keyid, created)?))
    };
    build().map_err(to_js_error)
}

/// A referrers index with one more referrer (existing entries kept); `indexBytes` `null` starts one.
#[wasm_bindgen(js_name = referrersIndexAdd)]
pub fn referrers_index_add(
    #[wasm_bindgen(js_name = indexBytes)] index_bytes: Option<Vec<u8>>,
    #[wasm_bindgen(unchecked_param_type = "Descriptor")] referrer: JsValue,
    #[wasm_bindgen(js_name = artifactType)] artifact_type: &str,
) -> JsResult<Vec<u8>> {
    let add = || -> Result<Vec<u8>> {
        let referrer = Descriptor::from_value(&value_from_js(&referrer, "referrer")?, "referrer")?;
        oci::referrers_index_add(index_bytes.as_deref(), &referrer, artifact_type)
    };
    add().map_err(to_js_error)
}

/// `index.json` with its `sha256-<hex>` entry for `subject` pointing at a referrers index (replacing the old one).
#[wasm_bindgen(js_name = ociIndexSetReferrers)]
pub fn oci_index_set_referrers(
    #[wasm_bindgen(js_name = indexBytes)] index_bytes: Option<Vec<u8>>,
    #[wasm_bindgen(unchecked_param_type = "Descriptor")] referrers: JsValue,
    subject: &str,
) -> JsResult<Vec<u8>> {
    let set = || -> Result<Vec<u8>> {
        let referrers = Descriptor::from_value(&value_from_js(&referrers, "referrers")?, "referrers")?;
        oci::index_set_referrers(index_bytes.as_deref(), &referrers, &Digest::parse(subject)?)
    };
    set().map_err(to_js_error)
}
