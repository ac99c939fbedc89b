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

/** One signature found beside a pack, for display (inspectSignatures). */
export interface SignatureReport {
  /** Which of the given envelopes it is in. */
  envelope: number;
  /** "sha256:<hex of the SPKI DER>" the signature names; "" when the envelope could not be read. */
  keyid: string;
  algorithm: "Ed25519";
  /** The statement's time (a claim, unless status is "valid"). */
  signedAt?: string;
  trusted: boolean;
  /** "unchecked": by a key not among trustedKeys, so its signature cannot be checked. */
  status: "valid" | "invalid" | "unchecked";
  /** Why it is invalid (CTX_SIGNATURE_INVALID) or unchecked (CTX_KEY_UNTRUSTED). */
  reason?: { code: ErrorCode; message: string; hint: string };
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
        let (envelopes, keys) = read_arguments(&envelopes, &trusted_keys)?;
        let slices: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();
        let signers = sign::verify_signatures(&slices, &Digest::parse(manifest_digest)?, &CtxUri::parse(uri)?, &keys)?;
        Ok(signers
            .iter()
            .map(|s| object(&[("keyid", s.keyid.as_str().into()), ("signedAt", s.signed_at.as_str().into())]))
            .collect())
    };
    run().map_err(to_js_error)
}

/// The envelopes' bytes and the trusted keys, read from their JS arrays.
fn read_arguments(envelopes: &Array, trusted_keys: &Array) -> Result<(Vec<Vec<u8>>, Vec<PublicKey>)> {
    let envelopes = envelopes
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.dyn_into::<Uint8Array>()
                .map(|bytes| bytes.to_vec())
                .map_err(|_| Error::new(ErrorCode::JsonInvalid, "must be a Uint8Array").at(format!("envelopes[{i}]")))
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
    Ok((envelopes, keys))
}

/// Every signature of every envelope found for a pack, each with its key id, time, status and whether its key is
/// trusted (see `sign::inspect`). Never throws for a bad envelope: that is an "invalid" report.
#[wasm_bindgen(js_name = inspectSignatures, unchecked_return_type = "SignatureReport[]")]
pub fn inspect_signatures(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] envelopes: Array,
    #[wasm_bindgen(js_name = manifestDigest)] manifest_digest: &str,
    uri: &str,
    #[wasm_bindgen(js_name = trustedKeys, unchecked_param_type = "string[]")] trusted_keys: Array,
) -> JsResult<Array> {
    let run = || -> Result<Array> {
        let (envelopes, keys) = read_arguments(&envelopes, &trusted_keys)?;
        let (manifest, uri) = (Digest::parse(manifest_digest)?, CtxUri::parse(uri)?);
        let mut reports = Vec::new();
        for (index, envelope) in envelopes.iter().enumerate() {
            for report in sign::inspect_envelope(envelope, &manifest, &uri, &keys) {
                reports.push(report_to_js(index, report));
            }
        }
        Ok(reports.into_iter().collect())
    };
    run().map_err(to_js_error)
}

fn report_to_js(envelope: usize, report: sign::SignatureReport) -> JsValue {
    let reason = report.reason.map_or(JsValue::UNDEFINED, |error| {
        object(&[("code", error.code.as_str().into()), ("message", error.message.into()), ("hint", error.hint.into())])
    });
    object(&[
        ("envelope", (envelope as u32).into()),
        ("keyid", report.keyid.into()),
        ("algorithm", report.algorithm.into()),
        ("signedAt", report.signed_at.map_or(JsValue::UNDEFINED, JsValue::from)),
        ("trusted", report.trusted.into()),
        ("status", report.status.as_str().into()),
        ("reason", reason),
    ])
}

/// `(pem)` → `{ keyid, algorithm }` of an Ed25519 public key (`PUBLIC KEY` PEM); anything else is
/// `CTX_KEY_INVALID`, a private key included (a verifier never needs one).
#[wasm_bindgen(js_name = publicKeyInfo, unchecked_return_type = "{ keyid: string; algorithm: \"Ed25519\" }")]
pub fn public_key_info(pem: &str) -> JsResult<JsValue> {
    let key = PublicKey::from_pem(pem).map_err(to_js_error)?;
    Ok(object(&[("keyid", key.id.as_str().into()), ("algorithm", sign::inspect::ALGORITHM.into())]))
}

/// `sha256-<hex>`: the referrers tag of a manifest digest.
#[wasm_bindgen(js_name = referrersTag)]
pub fn referrers_tag(digest: &str) -> JsResult<String> {
    Digest::parse(digest).map(|digest| oci::referrers_tag(&digest)).map_err(to_js_error)
}
