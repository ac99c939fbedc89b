//! Signed packs for JavaScript, the verifier's side (in every core, the lean one too): which trusted keys signed a
//! pack (see docs/architecture.md, "Signatures"). Keys, signing, artifacts and policies are `sign_host.rs`'s.

use super::{object, to_js_error};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::oci;
use crate::sign::{self, PublicKey};
use crate::uri::CtxUri;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A trusted key's valid signature (verifySignatures). */
export interface SignatureSigner {
  keyid: string;
  signedAt: string;
}
"#;

/// Which trusted keys (PEM) validly signed the pack whose image manifest has `manifestDigest` and whose URI is
/// `uri`, among the envelopes found for it. Throws `CTX_SIGNATURE_REQUIRED` (no envelope),
/// `CTX_SIGNATURE_INVALID` (altered, or signing another pack), `CTX_KEY_UNTRUSTED` (no trusted signer).
#[wasm_bindgen(js_name = verifySignatures, unchecked_return_type = "SignatureSigner[]")]
pub fn verify_signatures(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] envelopes: Array,
    #[wasm_bindgen(js_name = manifestDigest)] manifest_digest: &str,
    uri: &str,
    #[wasm_bindgen(js_name = trustedKeys, unchecked_param_type = "string[]")] trusted_keys: Array,
) -> JsResult<Array> {
    let run = || -> Result<Array> {
        let envelopes: Vec<Vec<u8>> = envelopes
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.dyn_into::<Uint8Array>().map(|bytes| bytes.to_vec()).map_err(|_| {
                    Error::new(ErrorCode::JsonInvalid, "must be a Uint8Array").at(format!("envelopes[{i}]"))
                })
            })
            .collect::<Result<_>>()?;
        let keys = trusted_keys
            .iter()
            .enumerate()
            .map(|(i, pem)| {
                let pem = pem.as_string().ok_or_else(|| {
                    Error::new(ErrorCode::JsonInvalid, "must be a PEM string").at(format!("trustedKeys[{i}]"))
                })?;
                PublicKey::from_pem(&pem).map_err(|e| e.at(format!("trustedKeys[{i}]")))
            })
            .collect::<Result<Vec<_>>>()?;
        let slices: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();
        let signers = sign::verify_signatures(&slices, &Digest::parse(manifest_digest)?, &CtxUri::parse(uri)?, &keys)?;
        Ok(signers
            .iter()
            .map(|s| object(&[("keyid", s.keyid.as_str().into()), ("signedAt", s.signed_at.as_str().into())]))
            .collect())
    };
    run().map_err(to_js_error)
}

/// `sha256-<hex>`: the referrers tag of a manifest digest.
#[wasm_bindgen(js_name = referrersTag)]
pub fn referrers_tag(digest: &str) -> JsResult<String> {
    Digest::parse(digest).map(|digest| oci::referrers_tag(&digest)).map_err(to_js_error)
}
