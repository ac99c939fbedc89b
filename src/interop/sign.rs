//! Signed packs for JavaScript: keys, signing, verification, the signature artifact, referrers indexes and the
//! trust policy, each one call over plain values (see docs/architecture.md, "Signatures"). Signing and building
//! signature artifacts and indexes are in `signer.rs` (the `write` feature): the lean core verifies only.

use super::oci::descriptor_to_js;
use super::{object, to_js_error};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::oci;
#[cfg(feature = "write")]
use crate::sign::SecretKey;
use crate::sign::{self, KeyRef, PublicKey, TrustPolicy};
use crate::uri::CtxUri;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A new signature over a pack (signPack). */
export interface PackSignature {
  /** The DSSE envelope (JCS JSON): store it as the signature artifact's layer. */
  envelope: Uint8Array;
  keyid: string;
  uri: string;
  /** The signed image manifest's digest (the statement's subject). */
  manifestDigest: string;
  signedAt: string;
}

/** A trusted key's valid signature (verifySignatures). */
export interface SignatureSigner {
  keyid: string;
  signedAt: string;
}

/** What a signature artifact's manifest says (parseSignatureManifest). */
export interface ParsedSignatureManifest {
  subject: Descriptor;
  envelope: Descriptor;
  keyid?: string;
  created?: string;
}

/** An envelope read without verifying it: who it claims to be from, and what it claims to sign. */
export interface EnvelopeClaims {
  keyids: string[];
  uri: string;
  manifestDigest: string;
  signedAt: string;
}

/** A referrer listed in a referrers index. */
export interface ReferrerEntry {
  descriptor: Descriptor;
  artifactType?: string;
}

/** The rule of a trust policy that applies to a scope. */
export interface TrustRuleMatch {
  name: string;
  /** The scope pattern that matched. */
  matched: string;
  signatureRequired: boolean;
  /** PEM texts, or paths of PEM files relative to the policy file. */
  trustedKeys: Array<{ pem: string } | { path: string }>;
}
"#;

/// `(pem)` → `{ keyid, publicKeyPem }` of an Ed25519 public key, or (in a core with the `write` feature) of a
/// private key's public half.
#[wasm_bindgen(js_name = signKeyInfo, unchecked_return_type = "{ keyid: string; publicKeyPem: string }")]
pub fn sign_key_info(pem: &str) -> JsResult<JsValue> {
    #[cfg(feature = "write")]
    let public = if pem.contains("PRIVATE KEY-----") {
        SecretKey::from_pem(pem).map(|secret| secret.public)
    } else {
        PublicKey::from_pem(pem)
    };
    #[cfg(not(feature = "write"))]
    let public = PublicKey::from_pem(pem);
    let public = public.map_err(to_js_error)?;
    Ok(object(&[("keyid", public.id.as_str().into()), ("publicKeyPem", public.to_pem().into())]))
}

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

/// What an envelope claims, unverified (for display: the inspector lists signatures before any key is given).
#[wasm_bindgen(js_name = envelopeClaims, unchecked_return_type = "EnvelopeClaims")]
pub fn envelope_claims(envelope: &[u8]) -> JsResult<JsValue> {
    let read = || -> Result<JsValue> {
        let envelope = sign::Envelope::parse(envelope)?;
        let statement = sign::Statement::parse(&envelope.payload)?;
        let keyids: Array = envelope.signatures.iter().map(|s| JsValue::from(s.keyid.as_str())).collect();
        Ok(object(&[
            ("keyids", keyids.into()),
            ("uri", statement.uri.to_string().into()),
            ("manifestDigest", statement.manifest.to_string().into()),
            ("signedAt", statement.signed_at.as_str().into()),
        ]))
    };
    read().map_err(to_js_error)
}

#[wasm_bindgen(js_name = parseSignatureManifest, unchecked_return_type = "ParsedSignatureManifest")]
pub fn parse_signature_manifest(bytes: &[u8]) -> JsResult<JsValue> {
    let parse = || -> Result<JsValue> {
        let parsed = oci::parse_signature_manifest(bytes)?;
        Ok(object(&[
            ("subject", descriptor_to_js(&parsed.subject)?),
            ("envelope", descriptor_to_js(&parsed.envelope)?),
            ("keyid", parsed.keyid.map_or(JsValue::UNDEFINED, JsValue::from)),
            ("created", parsed.created.map_or(JsValue::UNDEFINED, JsValue::from)),
        ]))
    };
    parse().map_err(to_js_error)
}

/// `sha256-<hex>`: the referrers tag of a manifest digest.
#[wasm_bindgen(js_name = referrersTag)]
pub fn referrers_tag(digest: &str) -> JsResult<String> {
    Digest::parse(digest).map(|digest| oci::referrers_tag(&digest)).map_err(to_js_error)
}

#[wasm_bindgen(js_name = referrersList, unchecked_return_type = "ReferrerEntry[]")]
pub fn referrers_list(
    #[wasm_bindgen(js_name = indexBytes)] index_bytes: &[u8],
    #[wasm_bindgen(js_name = artifactType)] artifact_type: Option<String>,
) -> JsResult<Array> {
    let list = || -> Result<Array> {
        oci::referrers_list(index_bytes, artifact_type.as_deref())?
            .iter()
            .map(|r| {
                Ok(object(&[
                    ("descriptor", descriptor_to_js(&r.descriptor)?),
                    ("artifactType", r.artifact_type.as_deref().map_or(JsValue::UNDEFINED, JsValue::from)),
                ]))
            })
            .collect()
    };
    list().map_err(to_js_error)
}

/// The `sha256-<hex>` entries of `index.json`: `[{ subject, descriptor }]`.
#[wasm_bindgen(js_name = ociIndexReferrers, unchecked_return_type = "Array<{ subject: string; descriptor: Descriptor }>")]
pub fn oci_index_referrers(#[wasm_bindgen(js_name = indexBytes)] index_bytes: &[u8]) -> JsResult<Array> {
    let list = || -> Result<Array> {
        oci::index_referrers(index_bytes)?
            .iter()
            .map(|(subject, descriptor)| {
                Ok(object(&[("subject", subject.to_string().into()), ("descriptor", descriptor_to_js(descriptor)?)]))
            })
            .collect()
    };
    list().map_err(to_js_error)
}

/// The rule of a trust policy (trust.json text) for `scope` (`<registry>/<repository>`), or `null`.
#[wasm_bindgen(js_name = trustPolicyRule, unchecked_return_type = "TrustRuleMatch | null")]
pub fn trust_policy_rule(#[wasm_bindgen(js_name = policyText)] policy_text: &str, scope: &str) -> JsResult<JsValue> {
    let policy = TrustPolicy::parse(policy_text.as_bytes()).map_err(to_js_error)?;
    let Some(decision) = policy.rule_for(scope) else { return Ok(JsValue::NULL) };
    let keys: Array = decision
        .rule
        .trusted_keys
        .iter()
        .map(|key| match key {
            KeyRef::Pem(pem) => object(&[("pem", pem.as_str().into())]),
            KeyRef::Path(path) => object(&[("path", path.as_str().into())]),
        })
        .collect();
    Ok(object(&[
        ("name", decision.rule.name.as_str().into()),
        ("matched", decision.matched.into()),
        ("signatureRequired", decision.rule.signature_required.into()),
        ("trustedKeys", keys.into()),
    ]))
}
