//! Ed25519 keys in PEM: public keys as SPKI (`PUBLIC KEY`), private keys as unencrypted PKCS#8 (`PRIVATE KEY`),
//! the forms `openssl genpkey -algorithm ed25519` and Node's `crypto` write. A key's id is the SHA-256 of its
//! SPKI DER, so the same key has the same id whoever wrote the file.
//!
//! Ed25519 keys have fixed DER encodings (RFC 8410), so they are recognised by their fixed prefixes rather than
//! by a general DER parser: anything else is not an Ed25519 key.

use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::execution::base64;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};

/// SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (32 bytes) }
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// PKCS#8 v1: SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32 bytes) } }
const PKCS8_V1_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/// PKCS#8 v2 (RFC 5958 OneAsymmetricKey) with the public key after the seed, as `[1] IMPLICIT BIT STRING`.
const PKCS8_V2_PREFIX: [u8; 16] =
    [0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const PKCS8_V2_PUBLIC: [u8; 3] = [0x81, 0x21, 0x00];

/// An Ed25519 public key and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    /// `sha256:<hex>` of the SPKI DER.
    pub id: String,
}

impl PublicKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey> {
        let key = VerifyingKey::from_bytes(bytes)
            .map_err(|_| invalid("the public key is not a point of Ed25519 (the file is damaged)"))?;
        Ok(PublicKey { key, id: key_id(bytes) })
    }

    /// Reads an SPKI `PUBLIC KEY` PEM.
    pub fn from_pem(pem: &str) -> Result<PublicKey> {
        let der = pem_body(pem, "PUBLIC KEY")?;
        match der.strip_prefix(&SPKI_PREFIX[..]) {
            Some(raw) if raw.len() == 32 => PublicKey::from_bytes(raw.try_into().expect("32 bytes")),
            _ => Err(invalid("the PUBLIC KEY is not an Ed25519 key (only Ed25519 is supported)")),
        }
    }

    /// The SPKI `PUBLIC KEY` PEM.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(self.key.as_bytes());
        pem_encode("PUBLIC KEY", &der)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// RFC 8032 verification (cofactorless, `s` canonical), as OpenSSL and securesystemslib do it. The weak-key
    /// checks of `verify_strict` are left out: the keys are the verifier's own choice, never the signer's.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else { return false };
        self.key.verify(message, &signature).is_ok()
    }
}

/// An Ed25519 private key (the 32-byte seed) with its public key.
pub struct SecretKey {
    key: SigningKey,
    pub public: PublicKey,
}

impl SecretKey {
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        let key = SigningKey::from_bytes(seed);
        let public = PublicKey { key: key.verifying_key(), id: key_id(key.verifying_key().as_bytes()) };
        SecretKey { key, public }
    }

    /// Reads an unencrypted PKCS#8 `PRIVATE KEY` PEM (v1, or v2 carrying the matching public key).
    pub fn from_pem(pem: &str) -> Result<SecretKey> {
        if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(invalid("the private key is encrypted")
                .hint("decrypt it first: openssl pkey -in <key.pem> -out <plain.pem> (keep the copy mode 0600)"));
        }
        let der = pem_body(pem, "PRIVATE KEY")?;
        let not_ed25519 = || invalid("the PRIVATE KEY is not an Ed25519 key (only Ed25519 is supported)");
        if let Some(seed) = der.strip_prefix(&PKCS8_V1_PREFIX[..]).filter(|rest| rest.len() == 32) {
            return Ok(SecretKey::from_seed(seed.try_into().expect("32 bytes")));
        }
        let rest = der.strip_prefix(&PKCS8_V2_PREFIX[..]).ok_or_else(not_ed25519)?;
        if rest.len() != 32 + 3 + 32 || rest[32..35] != PKCS8_V2_PUBLIC {
            return Err(not_ed25519());
        }
        let secret = SecretKey::from_seed(rest[..32].try_into().expect("32 bytes"));
        if secret.public.as_bytes()[..] != rest[35..] {
            return Err(invalid("the PRIVATE KEY's public key does not belong to its private key"));
        }
        Ok(secret)
    }

    /// The PKCS#8 v1 `PRIVATE KEY` PEM.
    pub fn to_pem(&self) -> String {
        let mut der = PKCS8_V1_PREFIX.to_vec();
        der.extend_from_slice(self.key.as_bytes());
        pem_encode("PRIVATE KEY", &der)
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// `sha256:<hex>` of the SPKI DER of an Ed25519 public key.
fn key_id(public: &[u8; 32]) -> String {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(public);
    Digest::of(&der).to_string()
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::KeyInvalid, message)
}

/// The DER inside the one `-----BEGIN <label>-----` block of `pem`.
fn pem_body(pem: &str, label: &str) -> Result<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or_else(|| invalid(format!("no '{begin}' line: not a PEM {label}")))?;
    let body = &pem[start + begin.len()..];
    let stop = body.find(&end).ok_or_else(|| invalid(format!("no '{end}' line: the PEM is cut short")))?;
    let text: String = body[..stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::decode(&text).ok_or_else(|| invalid(format!("the {label} PEM's base64 is damaged")))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let text = base64::encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8410 §10.3 example key pair (PKCS#8 v1 private key, SPKI public key).
    const RFC8410_PRIVATE: &str =
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    const RFC8410_PUBLIC: &str =
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

    #[test]
    fn reads_the_rfc8410_key_pair_and_the_public_key_matches() {
        let secret = SecretKey::from_pem(RFC8410_PRIVATE).unwrap();
        let public = PublicKey::from_pem(RFC8410_PUBLIC).unwrap();
        assert_eq!(secret.public, public);
        assert_eq!(public.to_pem(), RFC8410_PUBLIC);
        assert_eq!(secret.to_pem(), RFC8410_PRIVATE);
        assert!(public.id.starts_with("sha256:") && public.id.len() == 71);
    }

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let secret = SecretKey::from_seed(&[7; 32]);
        let other = SecretKey::from_seed(&[8; 32]);
        let signature = secret.sign(b"message");
        assert!(secret.public.verify(b"message", &signature));
        assert!(!secret.public.verify(b"messagE", &signature));
        assert!(!other.public.verify(b"message", &signature));
        assert!(!secret.public.verify(b"message", &signature[..63]));
    }

    #[test]
    fn reads_pkcs8_v2_with_its_public_key() {
        let secret = SecretKey::from_seed(&[3; 32]);
        let mut der = PKCS8_V2_PREFIX.to_vec();
        der.extend_from_slice(&[3; 32]);
        der.extend_from_slice(&PKCS8_V2_PUBLIC);
        der.extend_from_slice(secret.public.as_bytes());
        assert_eq!(SecretKey::from_pem(&pem_encode("PRIVATE KEY", &der)).unwrap().public, secret.public);
        let last = der.len() - 1;
        der[last] ^= 1;
        assert_eq!(SecretKey::from_pem(&pem_encode("PRIVATE KEY", &der)).err().unwrap().code, ErrorCode::KeyInvalid);
    }

    #[test]
    fn refuses_other_keys_and_damaged_pem() {
        // An ECDSA P-256 SPKI (OID 1.2.840.10045.2.1): not supported.
        let p256 = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n";
        for pem in [p256, "hello", "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n", RFC8410_PRIVATE] {
            assert_eq!(PublicKey::from_pem(pem).unwrap_err().code, ErrorCode::KeyInvalid, "{pem}");
        }
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let error = SecretKey::from_pem(encrypted).err().unwrap();
        assert_eq!(error.code, ErrorCode::KeyInvalid);
        assert!(error.hint.contains("openssl pkey"));
        assert_eq!(SecretKey::from_pem(RFC8410_PUBLIC).err().unwrap().code, ErrorCode::KeyInvalid);
    }
}
