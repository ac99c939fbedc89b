//! `client.fetchSignatures(digest)` and `client.pushSignature(manifest, envelope)`: a pack's signatures next to
//! it in the registry, through the referrers API or the referrers tag (see `registry::referrers`). Every core
//! fetches them (the inspector shows them); pushing is the `write` feature's, like `PackWriter`.

use super::client::{promise, RegistryClient};
use crate::digest::Digest;
#[cfg(feature = "write")]
use crate::error::{Error, ErrorCode};
use crate::interop::{object, to_js_error};
#[cfg(feature = "write")]
use crate::oci::{parse_signature_manifest, ARTIFACT_TYPE_SIGNATURE, EMPTY_CONFIG_BYTES};
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A signature found next to a pack; its envelope is not verified yet (verifySignatures does that). */
export interface RegistrySignature {
  /** The signature manifest's digest, and its bytes (to copy it unchanged). */
  digest: string;
  manifest: Uint8Array;
  keyid?: string;
  envelope: Uint8Array;
}
"#;

#[wasm_bindgen]
impl RegistryClient {
    /// The signatures of the image manifest `digest` (a pack's), each with its envelope, unverified.
    #[wasm_bindgen(js_name = fetchSignatures, unchecked_return_type = "Promise<RegistrySignature[]>")]
    pub fn fetch_signatures(&self, digest: String) -> Promise {
        let subject = match Digest::parse(&digest) {
            Ok(subject) => subject,
            Err(error) => return Promise::reject(&to_js_error(error)),
        };
        promise(&self.client, move |client| async move {
            let found = client.fetch_signatures(&subject).await?;
            Ok(found
                .into_iter()
                .map(|signature| {
                    object(&[
                        ("digest", signature.manifest.to_string().into()),
                        ("manifest", Uint8Array::from(signature.manifest_bytes.as_slice()).into()),
                        ("keyid", signature.keyid.map_or(JsValue::UNDEFINED, JsValue::from)),
                        ("envelope", Uint8Array::from(signature.envelope.as_slice()).into()),
                    ])
                })
                .collect::<Array>()
                .into())
        })
    }
}

#[cfg(feature = "write")]
#[wasm_bindgen]
impl RegistryClient {
    /// Pushes a signature artifact (from `signatureManifest`) with its envelope and the empty config, then
    /// records it as a referrer of its subject. `tagUpdated`: the `sha256-<hex>` referrers tag was written.
    #[wasm_bindgen(js_name = pushSignature, unchecked_return_type = "Promise<{ digest: string; tagUpdated: boolean }>")]
    pub fn push_signature(&self, manifest: Uint8Array, envelope: Uint8Array) -> Promise {
        let manifest = manifest.to_vec();
        let envelope = envelope.to_vec();
        let parsed = match parse_signature_manifest(&manifest) {
            Ok(parsed) => parsed,
            Err(error) => return Promise::reject(&to_js_error(error)),
        };
        if parsed.envelope.digest != Digest::of(&envelope) {
            let error =
                Error::new(ErrorCode::DigestMismatch, "the envelope is not the one the signature manifest names")
                    .at("envelope");
            return Promise::reject(&to_js_error(error));
        }
        promise(&self.client, move |client| async move {
            let blobs: [&[u8]; 2] = [EMPTY_CONFIG_BYTES, &envelope];
            let pushed =
                client.push_referrer(manifest, &parsed.subject.digest, &blobs, ARTIFACT_TYPE_SIGNATURE).await?;
            Ok(object(&[("digest", pushed.digest.to_string().into()), ("tagUpdated", pushed.tag_updated.into())]))
        })
    }
}
