//! Signed packs for JavaScript, the host side (the `write` feature, with `PackWriter`): keys, signing, the
//! signature artifact, referrers indexes in layouts, the trust policy. A verifier needs only `sign.rs`.

use super::oci::{descriptor_to_js, manifest_to_js};
use super::{object, to_js_error, value_from_js};
use crate::digest::Digest;
use crate::error::Result;
use crate::oci::{self, Descriptor};
use crate::sign::{self, KeyRef, PublicKey, SecretKey, TrustPolicy};
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

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

/// `(pem)` → `{ keyid, publicKeyPem }` of an Ed25519 public key, or of a private key's public half.
#[wasm_bindgen(js_name = signKeyInfo, unchecked_return_type = "{ keyid: string; publicKeyPem: string }")]
pub fn sign_key_info(pem: &str) -> JsResult<JsValue> {
    let public = if pem.contains("PRIVATE KEY-----") {
        SecretKey::from_pem(pem).map(|secret| secret.public)
    } else {
        PublicKey::from_pem(pem)
    }
    .map_err(to_js_error)?;
    Ok(object(&[("keyid", public.id.as_str().into()), ("publicKeyPem", public.to_pem().into())]))
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

/// `index.json` without the `sha256-<hex>` entry of `subject` (its pack was removed).
#[wasm_bindgen(js_name = ociIndexRemoveReferrers)]
pub fn oci_index_remove_referrers(
    #[wasm_bindgen(js_name = indexBytes)] index_bytes: &[u8],
    subject: &str,
) -> JsResult<Vec<u8>> {
    Digest::parse(subject).and_then(|subject| oci::index_remove_referrers(index_bytes, &subject)).map_err(to_js_error)
}
