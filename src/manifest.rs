//! `pack/v1` manifest: `manifest.json`, the first entry of every pack and the config blob of its OCI manifest.
//!
//! Identity fields are `uri`, `contract` and `outputs`; `provenance` (creation time, versions, platform)
//! describes one act of packing and is deliberately not part of any identity.

use crate::contract;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use crate::tree::Tree;
use crate::uri::CtxUri;
use serde_json::{json, Value};

pub const PACK_V1: &str = "pack/v1";
const FIELDS: [&str; 5] = ["ctxpack", "uri", "contract", "outputs", "provenance"];

#[derive(Debug, Clone, PartialEq)]
pub struct PackManifest {
    pub uri: CtxUri,
    /// The resolved contract (`"ctxpack":"contract/v1"`); the URI derives from it.
    pub contract: Value,
    pub outputs: Tree,
    /// Free-form object describing this act of packing; not identity.
    pub provenance: Value,
}

impl PackManifest {
    /// Builds the manifest of a pack from a resolved contract, the output tree and provenance.
    pub fn build(contract: Value, outputs: Tree, provenance: Value) -> Result<PackManifest> {
        let uri = contract::uri_of_resolved(&contract)?;
        if !provenance.is_object() {
            return Err(Error::new(ErrorCode::ManifestInvalid, "provenance must be a JSON object").at("provenance"));
        }
        Ok(PackManifest { uri, contract, outputs, provenance })
    }

    /// Parses `manifest.json` and re-derives everything it claims: the URI from the contract and the tree
    /// digest from the entries. A manifest that passes can be trusted as far as its own bytes go.
    pub fn parse(bytes: &[u8]) -> Result<PackManifest> {
        let invalid = |why: String| Error::new(ErrorCode::ManifestInvalid, why);
        let value =
            jcs::parse(bytes).map_err(|e| invalid(format!("manifest.json is not valid JSON: {}", e.message)))?;
        let object = value.as_object().ok_or_else(|| invalid("manifest.json must be a JSON object".into()))?;
        if let Some(extra) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(invalid(format!("unexpected field {extra:?} in a {PACK_V1} manifest")));
        }
        match object.get("ctxpack").and_then(Value::as_str) {
            Some(PACK_V1) => {}
            Some(other) => {
                return Err(invalid(format!("unsupported manifest version {other:?}"))
                    .hint("upgrade ctxpack to read this pack"))
            }
            None => return Err(invalid(format!("\"ctxpack\" must be {PACK_V1:?}"))),
        }
        let claimed = object
            .get("uri")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("\"uri\" must be a string".into()))
            .and_then(CtxUri::parse)?;
        let contract = object.get("contract").cloned().ok_or_else(|| invalid("\"contract\" is missing".into()))?;
        let derived = contract::uri_of_resolved(&contract).map_err(|e| e.at("contract"))?;
        if derived != claimed {
            return Err(Error::new(
                ErrorCode::UriMismatch,
                format!("manifest claims {claimed} but its contract derives {derived}"),
            ));
        }
        let outputs = object
            .get("outputs")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("\"outputs\" must be an object".into()))?;
        if outputs.len() != 2 {
            return Err(invalid("\"outputs\" must hold exactly \"digest\" and \"entries\"".into()));
        }
        let tree =
            Tree::from_entries_value(outputs.get("entries").unwrap_or(&Value::Null)).map_err(|e| e.at("outputs"))?;
        let stated = outputs
            .get("digest")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("\"outputs.digest\" must be a string".into()))
            .and_then(Digest::parse)?;
        let actual = tree.digest();
        if stated != actual {
            return Err(Error::new(
                ErrorCode::DigestMismatch,
                format!("outputs.digest is {stated} but the entries hash to {actual}"),
            )
            .at("outputs"));
        }
        let provenance = object.get("provenance").cloned().unwrap_or(Value::Null);
        if !provenance.is_object() {
            return Err(invalid("\"provenance\" must be a JSON object".into()));
        }
        Ok(PackManifest { uri: claimed, contract, outputs: tree, provenance })
    }

    pub fn to_value(&self) -> Value {
        json!({
            "ctxpack": PACK_V1,
            "uri": self.uri.to_string(),
            "contract": self.contract,
            "outputs": { "digest": self.outputs.digest().to_string(), "entries": self.outputs.entries_value() },
            "provenance": self.provenance,
        })
    }

    /// The manifest's bytes: its JCS form, so equal manifests are equal bytes on every host.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        jcs::canonicalize(&self.to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::TreeEntry;

    fn resolved_contract() -> Value {
        json!({
            "ctxpack": "contract/v1",
            "inputs": [{"name": "docs", "type": "tree", "digest": Digest::of(b"docs").to_string()}],
            "transforms": [{"tool": "ocr", "tool_version": "1.2", "params": {"dpi": 300}}],
        })
    }

    fn sample() -> PackManifest {
        let tree = Tree::new(vec![TreeEntry::file("index.bin", 5, Digest::of(b"hello"), false)]).unwrap();
        PackManifest::build(resolved_contract(), tree, json!({"created": "2026-11-23T00:00:00Z"})).unwrap()
    }

    fn reparse_with(edit: impl FnOnce(&mut Value)) -> Result<PackManifest> {
        let mut value = sample().to_value();
        edit(&mut value);
        PackManifest::parse(&jcs::canonicalize(&value).unwrap())
    }

    #[test]
    fn round_trips_through_bytes() {
        let m = sample();
        assert_eq!(m.uri, CtxUri::from_digest(jcs::digest(&resolved_contract()).unwrap()));
        assert_eq!(PackManifest::parse(&m.to_bytes().unwrap()).unwrap(), m);
    }

    #[test]
    fn a_uri_that_does_not_derive_is_rejected() {
        let other = CtxUri::from_digest(Digest::of(b"other")).to_string();
        assert_eq!(reparse_with(|v| v["uri"] = json!(other)).unwrap_err().code, ErrorCode::UriMismatch);
        let e = reparse_with(|v| v["contract"]["transforms"][0]["params"]["dpi"] = json!(600)).unwrap_err();
        assert_eq!(e.code, ErrorCode::UriMismatch);
    }

    #[test]
    fn a_tree_digest_that_does_not_derive_is_rejected() {
        let e = reparse_with(|v| v["outputs"]["entries"][0]["size"] = json!(6)).unwrap_err();
        assert_eq!(e.code, ErrorCode::DigestMismatch);
    }

    #[test]
    fn provenance_is_not_identity() {
        let m = reparse_with(|v| v["provenance"] = json!({"created": "1999-01-01T00:00:00Z", "host": "x"})).unwrap();
        assert_eq!(m.uri, sample().uri);
    }

    #[test]
    fn malformed_manifests_are_rejected() {
        for edit in [
            (|v: &mut Value| v["ctxpack"] = json!("pack/v0")) as fn(&mut Value),
            |v| v["extra"] = json!(1),
            |v| v["provenance"] = json!("now"),
            |v| v["outputs"]["more"] = json!(1),
            |v| v["uri"] = json!("ctx://sha256:abc"),
        ] {
            let code = reparse_with(edit).unwrap_err().code;
            assert!(matches!(code, ErrorCode::ManifestInvalid | ErrorCode::UriInvalid), "{code}");
        }
        assert_eq!(PackManifest::parse(b"{not json").unwrap_err().code, ErrorCode::ManifestInvalid);
    }
}
