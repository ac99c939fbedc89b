//! The signed statement: an in-toto Statement v1 whose subject is a pack's OCI image manifest (name = the
//! pack's `ctx://` URI, digest = the image manifest's sha256) and whose predicate (`https://ctxpack.dev/signature/v1`)
//! records what the signer vouches for: the URI, its own key id, the time it signed (given by the host) and the
//! digest of the pack's provenance (JCS). The image manifest digest already covers `manifest.json` and every
//! layer, so the subject alone binds the signature to every byte of the pack.

use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::execution::rfc3339;
use crate::jcs;
use crate::uri::CtxUri;
use serde_json::{json, Value};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://ctxpack.dev/signature/v1";
/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// What a signature says about a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub uri: CtxUri,
    /// The pack's OCI image manifest.
    pub manifest: Digest,
    pub keyid: String,
    /// RFC 3339, from the signer's clock.
    pub signed_at: String,
    /// sha256 of the JCS of the pack's `provenance`.
    pub provenance: Digest,
}

impl Statement {
    pub fn new(uri: CtxUri, manifest: Digest, keyid: &str, signed_at: &str, provenance: Digest) -> Result<Statement> {
        if !rfc3339::is_date_time(signed_at) {
            return Err(
                Error::new(ErrorCode::Usage, format!("'{signed_at}' is not an RFC 3339 date-time")).at("signedAt")
            );
        }
        Ok(Statement { uri, manifest, keyid: keyid.to_string(), signed_at: signed_at.to_string(), provenance })
    }

    /// The JCS bytes: the DSSE payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let value = json!({
            "_type": STATEMENT_TYPE,
            "subject": [{ "name": self.uri.to_string(), "digest": { "sha256": self.manifest.hex() } }],
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "uri": self.uri.to_string(),
                "keyid": self.keyid,
                "signedAt": self.signed_at,
                "provenance": self.provenance.to_string(),
            },
        });
        jcs::canonicalize(&value).expect("a statement holds strings only")
    }

    /// Reads a statement (an authenticated payload; its subject is checked by the caller).
    pub fn parse(payload: &[u8]) -> Result<Statement> {
        let value: Value =
            serde_json::from_slice(payload).map_err(|e| invalid(format!("the payload is not JSON: {e}")))?;
        let text = |pointer: &str| {
            value.pointer(pointer).and_then(Value::as_str).ok_or_else(|| invalid("must be a string").at(pointer))
        };
        if text("/_type")? != STATEMENT_TYPE {
            return Err(invalid(format!("is not {STATEMENT_TYPE}")).at("_type"));
        }
        if text("/predicateType")? != PREDICATE_TYPE {
            return Err(invalid(format!("is not {PREDICATE_TYPE}")).at("predicateType"));
        }
        let subjects = value.get("subject").and_then(Value::as_array).map_or(0, Vec::len);
        if subjects != 1 {
            return Err(invalid("a ctxpack signature names exactly one subject").at("subject"));
        }
        let name = CtxUri::parse(text("/subject/0/name")?).map_err(|e| invalid(e.message).at("subject[0].name"))?;
        let manifest = Digest::from_hex(text("/subject/0/digest/sha256")?)
            .map_err(|e| invalid(e.message).at("subject[0].digest"))?;
        let uri = CtxUri::parse(text("/predicate/uri")?).map_err(|e| invalid(e.message).at("predicate.uri"))?;
        if uri != name {
            return Err(invalid(format!("names {uri}, its subject {name}")).at("predicate.uri"));
        }
        let provenance =
            Digest::parse(text("/predicate/provenance")?).map_err(|e| invalid(e.message).at("predicate.provenance"))?;
        Ok(Statement {
            uri,
            manifest,
            keyid: text("/predicate/keyid")?.to_string(),
            signed_at: text("/predicate/signedAt")?.to_string(),
            provenance,
        })
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SignatureInvalid, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_the_in_toto_shape() {
        let uri = CtxUri::from_digest(Digest::of(b"contract"));
        let statement =
            Statement::new(uri, Digest::of(b"manifest"), "sha256:ab", "2026-12-06T21:00:00Z", Digest::of(b"{}"))
                .unwrap();
        let bytes = statement.to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["_type"], STATEMENT_TYPE);
        assert_eq!(value["subject"][0]["name"], uri.to_string());
        assert_eq!(value["subject"][0]["digest"]["sha256"], Digest::of(b"manifest").hex());
        assert_eq!(Statement::parse(&bytes).unwrap(), statement);
        let text = String::from_utf8(bytes).unwrap();
        let other = CtxUri::from_digest(Digest::of(b"other")).to_string();
        let renamed = text.replacen(&uri.to_string(), &other, 1);
        assert_eq!(Statement::parse(renamed.as_bytes()).unwrap_err().code, ErrorCode::SignatureInvalid);
        let retyped = text.replace(PREDICATE_TYPE, "https://example.com/other");
        assert_eq!(Statement::parse(retyped.as_bytes()).unwrap_err().subject.as_deref(), Some("predicateType"));
        assert_eq!(
            Statement::new(uri, Digest::of(b"m"), "k", "yesterday", Digest::of(b"p")).unwrap_err().code,
            ErrorCode::Usage
        );
    }
}
