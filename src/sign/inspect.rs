//! Every signature found beside a pack, one by one, for display (the browser inspector): who claims to have
//! signed, when, whether the signature verifies and whether its key is trusted. `verify` decides whether a pack is
//! accepted; this says what each signature is, with the same checks in the same order.
//!
//! A signature can be checked only with its public key, and the envelope carries none: a signature by a key the
//! viewer does not trust is `Unchecked`, never "valid". Its statement is still read (strictly, as a claim) to show
//! the time it claims and to mark it invalid when it names another pack, which no key could make right.

use super::dsse::Envelope;
use super::key::PublicKey;
use super::statement::{Statement, PAYLOAD_TYPE};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::uri::CtxUri;

/// The only signature algorithm of the format (spec §10).
pub const ALGORITHM: &str = "Ed25519";

/// What one signature is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureStatus {
    /// A trusted key's signature that verifies, over a statement naming this pack.
    Valid,
    /// Malformed, not verifying under its trusted key, or signing another pack.
    Invalid,
    /// By a key the viewer does not trust: not checkable without that key.
    Unchecked,
}

impl SignatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureStatus::Valid => "valid",
            SignatureStatus::Invalid => "invalid",
            SignatureStatus::Unchecked => "unchecked",
        }
    }
}

/// One signature of one envelope (an envelope too damaged to list its signatures gives one report without key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureReport {
    /// The key id the signature names (`sha256:<hex>` of its SPKI DER), or the trusted key that verified an
    /// envelope signature without a key id; empty when the envelope could not be read.
    pub keyid: String,
    pub algorithm: &'static str,
    /// The time the statement gives (claimed only, unless `Valid`).
    pub signed_at: Option<String>,
    pub trusted: bool,
    pub status: SignatureStatus,
    /// Why it is `Invalid` or `Unchecked`.
    pub reason: Option<Error>,
}

/// Reports on every signature of one envelope found for the pack `uri` whose image manifest is `manifest`.
pub fn inspect_envelope(bytes: &[u8], manifest: &Digest, uri: &CtxUri, trusted: &[PublicKey]) -> Vec<SignatureReport> {
    let envelope = match Envelope::parse(bytes) {
        Ok(envelope) => envelope,
        Err(error) => return vec![report(String::new(), None, false, SignatureStatus::Invalid, Some(error))],
    };
    let statement = if envelope.payload_type != PAYLOAD_TYPE {
        Err(invalid(format!("payload type {:?}, not {PAYLOAD_TYPE}", envelope.payload_type)).at("payloadType"))
    } else {
        Statement::parse(&envelope.payload).and_then(|statement| subject_is(statement, manifest, uri))
    };
    let signed_at = statement.as_ref().ok().map(|statement| statement.signed_at.clone());
    let signed = envelope.signed_bytes();
    envelope
        .signatures
        .iter()
        .map(|signature| {
            let candidates: Vec<&PublicKey> =
                trusted.iter().filter(|key| signature.keyid.is_empty() || key.id == signature.keyid).collect();
            let verified_by = candidates.iter().find(|key| key.verify(&signed, &signature.sig));
            let keyid = verified_by.map_or_else(|| signature.keyid.clone(), |key| key.id.clone());
            let is_trusted = !candidates.is_empty();
            let (status, reason) = match (&statement, verified_by) {
                (Err(error), _) => (SignatureStatus::Invalid, Some(error.clone())),
                (Ok(_), Some(_)) => (SignatureStatus::Valid, None),
                (Ok(_), None) if is_trusted => (
                    SignatureStatus::Invalid,
                    Some(invalid(format!("the signature of key {keyid} does not verify: the envelope was altered"))),
                ),
                (Ok(_), None) => (SignatureStatus::Unchecked, Some(untrusted(&keyid))),
            };
            report(keyid, signed_at.clone(), is_trusted, status, reason)
        })
        .collect()
}

fn subject_is(statement: Statement, manifest: &Digest, uri: &CtxUri) -> Result<Statement, Error> {
    if statement.uri != *uri || statement.manifest != *manifest {
        return Err(invalid(format!(
            "the signature is for {} (image manifest {}), not {uri} (image manifest {manifest})",
            statement.uri, statement.manifest
        ))
        .hint("the signature belongs to another pack: someone moved it; do not trust this pack"));
    }
    Ok(statement)
}

fn report(
    keyid: String,
    signed_at: Option<String>,
    trusted: bool,
    status: SignatureStatus,
    reason: Option<Error>,
) -> SignatureReport {
    SignatureReport { keyid, algorithm: ALGORITHM, signed_at, trusted, status, reason }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SignatureInvalid, message)
}

fn untrusted(keyid: &str) -> Error {
    let who = if keyid.is_empty() { "a key without id".to_string() } else { format!("key {keyid}") };
    Error::new(ErrorCode::KeyUntrusted, format!("signed by {who}, which is not trusted: the signature was not checked"))
        .hint("add that key's .pub file to the trusted keys to check the signature")
}

#[cfg(test)]
mod tests {
    use super::super::signer::sign_statement;
    use super::super::SecretKey;
    use super::*;

    fn fixture() -> (SecretKey, CtxUri, Digest, Vec<u8>) {
        let key = SecretKey::from_seed(&[3; 32]);
        let uri = CtxUri::from_digest(Digest::of(b"contract"));
        let manifest = Digest::of(b"image manifest");
        let envelope = sign_statement(&key, uri, manifest, "2026-12-07T01:00:00Z", Digest::of(b"{}")).unwrap();
        (key, uri, manifest, envelope)
    }

    #[test]
    fn unchecked_without_the_key_then_valid_with_it() {
        let (key, uri, manifest, envelope) = fixture();
        let [unknown] = inspect_envelope(&envelope, &manifest, &uri, &[]).try_into().unwrap();
        assert_eq!((unknown.status, unknown.trusted), (SignatureStatus::Unchecked, false));
        assert_eq!(unknown.keyid, key.public.id);
        assert_eq!(unknown.signed_at.as_deref(), Some("2026-12-07T01:00:00Z"));
        assert_eq!(unknown.reason.unwrap().code, ErrorCode::KeyUntrusted);
        let [known] =
            inspect_envelope(&envelope, &manifest, &uri, std::slice::from_ref(&key.public)).try_into().unwrap();
        assert_eq!((known.status, known.trusted, known.reason), (SignatureStatus::Valid, true, None));
        assert_eq!(known.algorithm, "Ed25519");
    }

    #[test]
    fn every_flipped_byte_is_never_valid() {
        let (key, uri, manifest, envelope) = fixture();
        for i in 0..envelope.len() {
            let mut altered = envelope.clone();
            altered[i] ^= 0x01;
            for report in inspect_envelope(&altered, &manifest, &uri, std::slice::from_ref(&key.public)) {
                assert_ne!(report.status, SignatureStatus::Valid, "byte {i} flipped and still valid");
                if report.status == SignatureStatus::Invalid {
                    assert!(report.reason.is_some(), "byte {i}: invalid without a reason");
                }
            }
        }
    }

    #[test]
    fn another_packs_signature_is_invalid_even_untrusted() {
        let (key, uri, _, envelope) = fixture();
        let other = Digest::of(b"other image manifest");
        for trusted in [vec![], vec![key.public.clone()]] {
            let [report] = inspect_envelope(&envelope, &other, &uri, &trusted).try_into().unwrap();
            assert_eq!(report.status, SignatureStatus::Invalid);
            assert_eq!(report.reason.unwrap().code, ErrorCode::SignatureInvalid);
        }
    }

    #[test]
    fn garbage_is_one_invalid_report_without_key() {
        let (_, uri, manifest, _) = fixture();
        let [report] = inspect_envelope(b"{}", &manifest, &uri, &[]).try_into().unwrap();
        assert_eq!((report.status, report.keyid.as_str()), (SignatureStatus::Invalid, ""));
        assert_eq!(report.reason.unwrap().code, ErrorCode::SignatureInvalid);
    }
}
