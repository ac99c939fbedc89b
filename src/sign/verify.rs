//! Verification of a pack's signatures against the keys a verifier trusts: which trusted keys signed this exact
//! image manifest under this URI, or a typed error saying why none did.
//!
//! Order matters: a signature is checked before its payload is read, so nothing an untrusted party wrote is
//! interpreted, and a pack's other, unverifiable referrers (garbage anyone can push next to it) never hide a valid
//! signature: one envelope with a trusted, valid signature over the right subject is enough.

use super::dsse::Envelope;
use super::key::PublicKey;
use super::statement::{Statement, PAYLOAD_TYPE};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::uri::CtxUri;

/// A trusted key's valid signature over the pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub keyid: String,
    pub signed_at: String,
}

/// Checks one envelope: a signature by a trusted key that verifies, over a statement whose subject is
/// `manifest` named `uri`. Signers are listed once each, in the envelope's order.
pub fn verify_envelope(bytes: &[u8], manifest: &Digest, uri: &CtxUri, trusted: &[PublicKey]) -> Result<Vec<Signer>> {
    let envelope = Envelope::parse(bytes)?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(invalid(format!("payload type {:?}, not {PAYLOAD_TYPE}", envelope.payload_type)).at("payloadType"));
    }
    let signed = envelope.signed_bytes();
    let mut valid: Vec<&PublicKey> = Vec::new();
    let mut failed: Vec<&str> = Vec::new();
    let mut untrusted: Vec<&str> = Vec::new();
    for signature in &envelope.signatures {
        // A signature without a key id is tried against every trusted key.
        let candidates: Vec<&PublicKey> =
            trusted.iter().filter(|key| signature.keyid.is_empty() || key.id == signature.keyid).collect();
        if candidates.is_empty() {
            untrusted.push(&signature.keyid);
        } else if let Some(key) = candidates.into_iter().find(|key| key.verify(&signed, &signature.sig)) {
            if !valid.iter().any(|seen| seen.id == key.id) {
                valid.push(key);
            }
        } else {
            failed.push(&signature.keyid);
        }
    }
    if valid.is_empty() {
        return Err(match failed.first() {
            Some(keyid) => invalid(format!("the signature of key {keyid} does not verify: the envelope was altered")),
            None => Error::new(
                ErrorCode::KeyUntrusted,
                format!("signed by {}, none of them a trusted key", untrusted.join(", ")),
            ),
        });
    }
    let statement = Statement::parse(&envelope.payload)?;
    if statement.uri != *uri || statement.manifest != *manifest {
        return Err(invalid(format!(
            "the signature is for {} (image manifest {}), not {uri} (image manifest {manifest})",
            statement.uri, statement.manifest
        ))
        .hint("the signature belongs to another pack: someone moved it; do not trust this pack"));
    }
    Ok(valid.into_iter().map(|key| Signer { keyid: key.id.clone(), signed_at: statement.signed_at.clone() }).collect())
}

/// Checks every envelope found for a pack; accepted when at least one verifies. With none valid, the error is the
/// most telling one: an invalid signature of a trusted key over an untrusted signer, over no signature at all.
pub fn verify_signatures(
    envelopes: &[&[u8]],
    manifest: &Digest,
    uri: &CtxUri,
    trusted: &[PublicKey],
) -> Result<Vec<Signer>> {
    if trusted.is_empty() {
        return Err(Error::new(ErrorCode::Usage, "no trusted key to verify signatures with")
            .hint("give --trust-key <file.pub>, or trusted keys in the trust policy"));
    }
    let mut signers: Vec<Signer> = Vec::new();
    let mut worst: Option<Error> = None;
    for bytes in envelopes {
        match verify_envelope(bytes, manifest, uri, trusted) {
            Ok(found) => {
                for signer in found {
                    if !signers.iter().any(|seen| seen.keyid == signer.keyid) {
                        signers.push(signer);
                    }
                }
            }
            Err(error) => {
                let rank = |e: &Error| u8::from(e.code == ErrorCode::SignatureInvalid);
                if worst.as_ref().is_none_or(|w| rank(&error) > rank(w)) {
                    worst = Some(error);
                }
            }
        }
    }
    if !signers.is_empty() {
        return Ok(signers);
    }
    Err(worst.unwrap_or_else(|| {
        Error::new(
            ErrorCode::SignatureRequired,
            format!("{uri} carries no signature, and one from a trusted key is required"),
        )
    }))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SignatureInvalid, message)
}

#[cfg(test)]
mod tests {
    use super::super::signer::sign_statement;
    use super::super::SecretKey;
    use super::*;

    fn fixture() -> (SecretKey, CtxUri, Digest, Vec<u8>) {
        let key = SecretKey::from_seed(&[1; 32]);
        let uri = CtxUri::from_digest(Digest::of(b"contract"));
        let manifest = Digest::of(b"image manifest");
        let envelope = sign_statement(&key, uri, manifest, "2026-12-06T21:00:00Z", Digest::of(b"{}")).unwrap();
        (key, uri, manifest, envelope)
    }

    #[test]
    fn a_trusted_key_verifies_and_others_are_refused() {
        let (key, uri, manifest, envelope) = fixture();
        let other = SecretKey::from_seed(&[2; 32]);
        let signers = verify_envelope(&envelope, &manifest, &uri, &[other.public.clone(), key.public.clone()]).unwrap();
        assert_eq!(signers, vec![Signer { keyid: key.public.id.clone(), signed_at: "2026-12-06T21:00:00Z".into() }]);
        let error = verify_envelope(&envelope, &manifest, &uri, std::slice::from_ref(&other.public)).unwrap_err();
        assert_eq!(error.code, ErrorCode::KeyUntrusted);
        assert!(error.message.contains(&key.public.id));
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let (key, uri, manifest, envelope) = fixture();
        for i in 0..envelope.len() {
            let mut altered = envelope.clone();
            altered[i] ^= 0x01;
            let result = verify_envelope(&altered, &manifest, &uri, std::slice::from_ref(&key.public));
            assert!(result.is_err(), "byte {i} flipped and still accepted");
        }
    }

    #[test]
    fn a_signature_over_another_pack_is_refused() {
        let (key, uri, manifest, envelope) = fixture();
        let other_manifest = Digest::of(b"other image manifest");
        let error = verify_envelope(&envelope, &other_manifest, &uri, std::slice::from_ref(&key.public)).unwrap_err();
        assert_eq!(error.code, ErrorCode::SignatureInvalid);
        let other_uri = CtxUri::from_digest(Digest::of(b"other"));
        assert_eq!(
            verify_envelope(&envelope, &manifest, &other_uri, &[key.public]).unwrap_err().code,
            ErrorCode::SignatureInvalid
        );
    }

    #[test]
    fn one_valid_envelope_among_garbage_is_enough_and_errors_are_ranked() {
        let (key, uri, manifest, envelope) = fixture();
        let stranger = SecretKey::from_seed(&[9; 32]);
        let foreign = sign_statement(&stranger, uri, manifest, "2026-12-06T21:00:00Z", Digest::of(b"{}")).unwrap();
        let mut forged = envelope.clone();
        let last_sig = forged.len() - 5;
        forged[last_sig] ^= 1;
        let trusted = [key.public.clone()];
        let all: [&[u8]; 4] = [b"garbage", &foreign, &forged, &envelope];
        assert_eq!(verify_signatures(&all, &manifest, &uri, &trusted).unwrap().len(), 1);
        assert_eq!(
            verify_signatures(&all[..3], &manifest, &uri, &trusted).unwrap_err().code,
            ErrorCode::SignatureInvalid
        );
        assert_eq!(verify_signatures(&all[1..2], &manifest, &uri, &trusted).unwrap_err().code, ErrorCode::KeyUntrusted);
        assert_eq!(verify_signatures(&[], &manifest, &uri, &trusted).unwrap_err().code, ErrorCode::SignatureRequired);
        assert_eq!(verify_signatures(&all, &manifest, &uri, &[]).unwrap_err().code, ErrorCode::Usage);
    }
}
