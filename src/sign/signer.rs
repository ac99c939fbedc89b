//! Signing in the core, so every host (Node, a browser, an edge function) writes the same envelope: the statement
//! is built from the verified pack itself, never from what a caller claims about it.

use super::dsse::{Envelope, EnvelopeSignature};
use super::key::SecretKey;
use super::statement::{Statement, PAYLOAD_TYPE};
use crate::archive::Limits;
use crate::digest::Digest;
use crate::error::Result;
use crate::jcs;
use crate::oci::verify_pack;
use crate::uri::CtxUri;

/// A new signature envelope over a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The envelope's JCS bytes.
    pub envelope: Vec<u8>,
    pub statement: Statement,
}

/// Signs the statement that `key` vouches for the image manifest `manifest` of the pack `uri`.
pub fn sign_statement(
    key: &SecretKey,
    uri: CtxUri,
    manifest: Digest,
    signed_at: &str,
    provenance: Digest,
) -> Result<Vec<u8>> {
    let statement = Statement::new(uri, manifest, &key.public.id, signed_at, provenance)?;
    Ok(envelope_of(key, &statement))
}

fn envelope_of(key: &SecretKey, statement: &Statement) -> Vec<u8> {
    let mut envelope =
        Envelope { payload_type: PAYLOAD_TYPE.to_string(), payload: statement.to_bytes(), signatures: Vec::new() };
    let sig = key.sign(&envelope.signed_bytes()).to_vec();
    envelope.signatures.push(EnvelopeSignature { keyid: key.public.id.clone(), sig });
    envelope.to_bytes()
}

/// Verifies a pack's identity (its image manifest and `manifest.json`, as `verify_pack` does) and signs it.
pub fn sign_pack(oci_manifest: &[u8], manifest_json: &[u8], key: &SecretKey, signed_at: &str) -> Result<Signed> {
    let pack = verify_pack(oci_manifest, manifest_json, None, &Limits::default())?;
    let provenance = jcs::digest(&pack.manifest.provenance)?;
    let statement = Statement::new(pack.manifest.uri, Digest::of(oci_manifest), &key.public.id, signed_at, provenance)?;
    Ok(Signed { envelope: envelope_of(key, &statement), statement })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::manifest::PackManifest;
    use crate::oci::{pack_manifest, Descriptor, MEDIA_TYPE_LAYER, MEDIA_TYPE_PACK_CONFIG};
    use crate::sign::verify_envelope;
    use crate::tree::{Tree, TreeEntry};
    use serde_json::json;

    /// A pack's image manifest and manifest.json (one declared file; no archive is needed to sign).
    pub(crate) fn pack(seed: &str) -> (Vec<u8>, Vec<u8>) {
        let contract = json!({
            "ctxpack": "contract/v1",
            "inputs": [{"name": "docs", "type": "tree", "digest": Digest::of(seed.as_bytes()).to_string()}],
            "transforms": [{"tool": "ocr", "tool_version": "1.2", "params": {}}],
        });
        let tree = Tree::new(vec![TreeEntry::file("out.txt".to_string(), 3, Digest::of(b"abc"), false)]).unwrap();
        let manifest_json = PackManifest::build(contract, tree, json!({"host": seed})).unwrap().to_bytes().unwrap();
        let uri = PackManifest::parse(&manifest_json).unwrap().uri;
        let config = Descriptor::for_blob(MEDIA_TYPE_PACK_CONFIG, &manifest_json);
        let layer = Descriptor::for_blob(MEDIA_TYPE_LAYER, b"layer");
        (pack_manifest(&config, &[layer], &uri, "2026-12-06T20:00:00Z").unwrap(), manifest_json)
    }

    #[test]
    fn signs_a_verified_pack_and_the_signature_verifies() {
        let (oci_manifest, manifest_json) = pack("a");
        let key = SecretKey::from_seed(&[5; 32]);
        let signed = sign_pack(&oci_manifest, &manifest_json, &key, "2026-12-06T21:00:00Z").unwrap();
        let manifest = Digest::of(&oci_manifest);
        assert_eq!(signed.statement.manifest, manifest);
        let signers =
            verify_envelope(&signed.envelope, &manifest, &signed.statement.uri, std::slice::from_ref(&key.public))
                .unwrap();
        assert_eq!(signers[0].keyid, key.public.id);
        // Signing is deterministic (Ed25519): the same pack, key and time give the same bytes.
        assert_eq!(sign_pack(&oci_manifest, &manifest_json, &key, "2026-12-06T21:00:00Z").unwrap(), signed);
        let mut damaged = manifest_json.clone();
        damaged[10] ^= 1;
        let error = sign_pack(&oci_manifest, &damaged, &key, "2026-12-06T21:00:00Z").unwrap_err();
        assert_eq!(error.code, ErrorCode::DigestMismatch);
    }
}
