//! DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse v1): a payload, its type, and
//! signatures over the pre-authentication encoding (PAE) of both, so a signature cannot be moved to another
//! payload type. Written as JCS JSON, read strictly (unknown fields refused, canonical base64).

use crate::error::{Error, ErrorCode, Result};
use crate::execution::base64;
use crate::jcs;
use serde_json::{json, Map, Value};

/// The largest envelope read: a signature is a few hundred bytes, so anything near this is not one.
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;

/// One signature of an envelope: the key id it claims and the raw signature bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    pub keyid: String,
    pub sig: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<EnvelopeSignature>,
}

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// The bytes each signature signs.
    pub fn signed_bytes(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    pub fn parse(bytes: &[u8]) -> Result<Envelope> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(invalid(format!(
                "{} bytes, more than any signature envelope ({MAX_ENVELOPE_BYTES})",
                bytes.len()
            )));
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| invalid(format!("not a JSON DSSE envelope: {e}")))?;
        let object = value.as_object().ok_or_else(|| invalid("the envelope must be a JSON object"))?;
        only_keys(object, &["payload", "payloadType", "signatures"], "")?;
        let payload_type = string(object, "payloadType", "")?.to_string();
        let payload = decode(string(object, "payload", "")?, "payload")?;
        let list = object
            .get("signatures")
            .and_then(Value::as_array)
            .filter(|list| !list.is_empty())
            .ok_or_else(|| invalid("must be a non-empty array").at("signatures"))?;
        let mut signatures = Vec::with_capacity(list.len());
        for (i, entry) in list.iter().enumerate() {
            let at = format!("signatures[{i}]");
            let entry = entry.as_object().ok_or_else(|| invalid("must be an object").at(&at))?;
            only_keys(entry, &["keyid", "sig"], &at)?;
            let keyid = match entry.get("keyid") {
                None => String::new(),
                Some(_) => string(entry, "keyid", &at)?.to_string(),
            };
            let sig = decode(string(entry, "sig", &at)?, &format!("{at}.sig"))?;
            signatures.push(EnvelopeSignature { keyid, sig });
        }
        Ok(Envelope { payload_type, payload, signatures })
    }

    /// The JCS JSON form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let signatures: Vec<Value> =
            self.signatures.iter().map(|s| json!({ "keyid": s.keyid, "sig": base64::encode(&s.sig) })).collect();
        let value = json!({
            "payloadType": self.payload_type,
            "payload": base64::encode(&self.payload),
            "signatures": signatures,
        });
        jcs::canonicalize(&value).expect("an envelope holds strings only")
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SignatureInvalid, message)
}

fn at(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn string<'a>(object: &'a Map<String, Value>, key: &str, parent: &str) -> Result<&'a str> {
    object.get(key).and_then(Value::as_str).ok_or_else(|| invalid("must be a string").at(at(parent, key)))
}

fn only_keys(object: &Map<String, Value>, known: &[&str], parent: &str) -> Result<()> {
    match object.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(invalid("is not a field of a DSSE envelope").at(at(parent, key))),
        None => Ok(()),
    }
}

fn decode(text: &str, at: &str) -> Result<Vec<u8>> {
    base64::decode(text).ok_or_else(|| invalid("is not canonical padded base64").at(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification() {
        // The example of the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn round_trips_and_refuses_malformed_envelopes() {
        let envelope = Envelope {
            payload_type: "application/vnd.in-toto+json".into(),
            payload: b"{\"a\":1}".to_vec(),
            signatures: vec![EnvelopeSignature { keyid: "k".into(), sig: vec![1, 2, 3] }],
        };
        let bytes = envelope.to_bytes();
        assert_eq!(Envelope::parse(&bytes).unwrap(), envelope);
        let text = String::from_utf8(bytes).unwrap();
        for bad in [
            text.replace("\"signatures\"", "\"extra\":1,\"signatures\""),
            text.replace("AQID", "AQI"),
            text.replace("[{", "[").replace("}]", "]"),
            text.replace(r#"[{"keyid":"k","sig":"AQID"}]"#, "[]"),
            "[]".into(),
            "{".into(),
        ] {
            assert_eq!(Envelope::parse(bad.as_bytes()).unwrap_err().code, ErrorCode::SignatureInvalid, "{bad}");
        }
        let no_keyid = text.replace(r#""keyid":"k","#, "");
        assert_eq!(Envelope::parse(no_keyid.as_bytes()).unwrap().signatures[0].keyid, "");
    }
}
