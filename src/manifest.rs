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

mod parse;

pub const PACK_V1: &str = "pack/v1";

/// What [`PackManifest::parse_limited`] accepts beyond the format's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestLimits {
    /// Largest `provenance`, as written (it is not identity, so it has no reason to be large).
    pub max_provenance_bytes: u64,
    /// Most entries in `outputs.entries`.
    pub max_entries: u64,
}

impl Default for ManifestLimits {
    fn default() -> Self {
        ManifestLimits { max_provenance_bytes: 1 << 20, max_entries: u64::MAX }
    }
}

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
    /// Builds the manifest of a pack from a resolved contract, the output tree and provenance (within the
    /// default provenance limit, so that every reader accepts the pack).
    pub fn build(contract: Value, outputs: Tree, provenance: Value) -> Result<PackManifest> {
        let uri = contract::uri_of_resolved(&contract)?;
        if !provenance.is_object() {
            return Err(Error::new(ErrorCode::ManifestInvalid, "provenance must be a JSON object").at("provenance"));
        }
        let size = jcs::canonicalize(&provenance)?.len() as u64;
        let limit = ManifestLimits::default().max_provenance_bytes;
        if size > limit {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("is {size} bytes, above the limit of {limit} bytes that readers apply by default"),
            )
            .at("provenance")
            .hint("keep provenance small (who, when, where); put data in the pack's files"));
        }
        Ok(PackManifest { uri, contract, outputs, provenance })
    }

    /// [`PackManifest::parse_limited`] with the default limits.
    pub fn parse(bytes: &[u8]) -> Result<PackManifest> {
        Self::parse_limited(bytes, &ManifestLimits::default())
    }

    /// Parses `manifest.json` and re-derives everything it claims: the URI from the contract and the tree
    /// digest from the entries. A manifest that passes can be trusted as far as its own bytes go.
    pub fn parse_limited(bytes: &[u8], limits: &ManifestLimits) -> Result<PackManifest> {
        let invalid = |why: String| Error::new(ErrorCode::ManifestInvalid, why);
        let fields = parse::read_fields(bytes, limits)?;
        match fields.ctxpack.as_ref().and_then(Value::as_str) {
            Some(PACK_V1) => {}
            Some(other) => {
                return Err(invalid(format!("unsupported manifest version {other:?}"))
                    .hint("upgrade ctxpack to read this pack"))
            }
            None => return Err(invalid(format!("\"ctxpack\" must be {PACK_V1:?}"))),
        }
        let claimed = fields
            .uri
            .as_ref()
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("\"uri\" must be a string".into()))
            .and_then(CtxUri::parse)?;
        let contract = fields.contract.ok_or_else(|| invalid("\"contract\" is missing".into()))?;
        let derived = contract::uri_of_resolved(&contract).map_err(|e| e.at("contract"))?;
        if derived != claimed {
            return Err(Error::new(
                ErrorCode::UriMismatch,
                format!("manifest claims {claimed} but its contract derives {derived}"),
            ));
        }
        let outputs = fields.outputs.ok_or_else(|| invalid("\"outputs\" must be an object".into()))?;
        let (Some(stated), Some(entries)) = (outputs.digest, outputs.entries) else {
            return Err(invalid("\"outputs\" must hold exactly \"digest\" and \"entries\"".into()));
        };
        let stated = stated
            .as_str()
            .ok_or_else(|| invalid("\"outputs.digest\" must be a string".into()))
            .and_then(Digest::parse)?;
        let tree = Tree::from_canonical(entries)?;
        let actual = tree.digest();
        if stated != actual {
            return Err(Error::new(
                ErrorCode::DigestMismatch,
                format!("outputs.digest is {stated} but the entries hash to {actual}"),
            )
            .at("outputs"));
        }
        let provenance = fields.provenance.unwrap_or(Value::Null);
        if !provenance.is_object() {
            return Err(invalid("\"provenance\" must be a JSON object".into()));
        }
        Ok(PackManifest { uri: claimed, contract, outputs: tree, provenance })
    }

    /// The manifest as one JSON value (small manifests, tests); [`PackManifest::to_bytes`] never builds it.
    pub fn to_value(&self) -> Value {
        json!({
            "ctxpack": PACK_V1,
            "uri": self.uri.to_string(),
            "contract": self.contract,
            "outputs": { "digest": self.outputs.digest().to_string(), "entries": self.outputs.entries_value() },
            "provenance": self.provenance,
        })
    }

    /// The manifest's bytes: its JCS form, so equal manifests are equal bytes on every host. Written field by
    /// field in JCS key order (`contract`, `ctxpack`, `outputs`, `provenance`, `uri`), entries streamed.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        out.extend_from_slice(br#"{"contract":"#);
        jcs::write_value(&self.contract, &mut out)?;
        out.extend_from_slice(br#","ctxpack":"pack/v1","outputs":{"digest":""#);
        out.extend_from_slice(self.outputs.digest().to_string().as_bytes());
        out.extend_from_slice(br#"","entries":"#);
        self.outputs.write_entries(|piece| out.extend_from_slice(piece))?;
        out.extend_from_slice(br#"},"provenance":"#);
        jcs::write_value(&self.provenance, &mut out)?;
        out.extend_from_slice(br#","uri":"#);
        jcs::write_string(&self.uri.to_string(), &mut out);
        out.push(b'}');
        Ok(out)
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

    #[test]
    fn bytes_are_the_canonical_form_of_the_value() {
        let m = sample();
        assert_eq!(m.to_bytes().unwrap(), jcs::canonicalize(&m.to_value()).unwrap());
    }

    #[test]
    fn malformed_entries_name_the_entry() {
        for (edit, why) in [
            (
                (|v: &mut Value| v["outputs"]["entries"][0]["mode"] = json!(420)) as fn(&mut Value),
                "unexpected field \"mode\"",
            ),
            (|v| v["outputs"]["entries"][0]["size"] = json!(1u64 << 54), "\"size\" must be an integer from 0 to 2^53"),
            (|v| v["outputs"]["entries"][0]["size"] = json!(-1), "\"size\" must be"),
            (|v| v["outputs"]["entries"][0]["size"] = json!(1.5), "\"size\" must be"),
            (|v| v["outputs"]["entries"][0]["path"] = json!(7), "\"path\" must be a string"),
            (|v| v["outputs"]["entries"][0]["executable"] = json!("no"), "\"executable\" must be a boolean"),
            (|v| v["outputs"]["entries"][0]["target"] = json!("x"), "a file entry has exactly"),
            (|v| v["outputs"]["entries"][0]["type"] = json!("symlink"), "a symlink entry has exactly"),
            (|v| v["outputs"]["entries"][0]["type"] = json!("fifo"), "unknown entry type \"fifo\""),
            (|v| v["outputs"]["entries"][0]["digest"] = json!("sha256:abc"), "\"digest\": "),
            (|v| v["outputs"]["entries"] = json!([1]), "outputs.entries[0] to be an object"),
        ] {
            let e = reparse_with(edit).unwrap_err();
            assert_eq!(e.code, ErrorCode::ManifestInvalid, "{why}: {e}");
            assert!(e.message.contains(why), "{why}: {}", e.message);
        }
        let e = reparse_with(|v| v["outputs"]["entries"][0]["path"] = json!("a/../b")).unwrap_err();
        assert_eq!(e.code, ErrorCode::PathInvalid);
    }

    #[test]
    fn repeated_keys_are_refused_at_every_level() {
        let bytes = String::from_utf8(sample().to_bytes().unwrap()).unwrap();
        for (from, to) in [
            (r#""uri":"#, r#""ctxpack":"pack/v1","uri":"#),
            (r#""entries":"#, r#""digest":"sha256:00","entries":"#),
            (r#""executable":false"#, r#""executable":false,"executable":false"#),
            (r#""tool":"ocr""#, r#""tool":"ocr","tool":"ocr""#),
        ] {
            let e = PackManifest::parse(bytes.replacen(from, to, 1).as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::ManifestInvalid, "{to}");
            assert!(e.message.contains("duplicate key"), "{to}: {}", e.message);
        }
    }

    #[test]
    fn provenance_is_capped_before_it_is_parsed() {
        let big = json!({"note": "x".repeat(2 << 20)});
        let bytes = PackManifest { provenance: big, ..sample() }.to_bytes().unwrap();
        let e = PackManifest::parse(&bytes).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::LimitExceeded, Some("provenance")));
        assert!(e.message.contains("above the limit of 1048576 bytes (maxProvenanceBytes)"), "{}", e.message);
        let roomy = ManifestLimits { max_provenance_bytes: 4 << 20, ..ManifestLimits::default() };
        PackManifest::parse_limited(&bytes, &roomy).unwrap();
        let e = PackManifest::build(resolved_contract(), sample().outputs, json!({"note": "x".repeat(2 << 20)}));
        assert_eq!(e.unwrap_err().code, ErrorCode::LimitExceeded, "a pack readers would refuse is not built");
    }

    #[test]
    fn the_entry_limit_stops_the_parse() {
        let entries = (0..10).map(|i| TreeEntry::file(format!("f{i}"), 0, Digest::of(b""), false)).collect();
        let manifest = PackManifest { outputs: Tree::new(entries).unwrap(), ..sample() };
        let bytes = manifest.to_bytes().unwrap();
        let limits = |max_entries| ManifestLimits { max_entries, ..ManifestLimits::default() };
        assert_eq!(PackManifest::parse_limited(&bytes, &limits(10)).unwrap(), manifest);
        assert_eq!(PackManifest::parse_limited(&bytes, &limits(9)).unwrap_err().code, ErrorCode::LimitExceeded);
    }

    #[test]
    fn numbers_in_the_contract_and_provenance_follow_the_jcs_rule() {
        let bytes = String::from_utf8(sample().to_bytes().unwrap()).unwrap();
        for (from, to) in
            [(r#""dpi":300"#, r#""dpi":18446744073709551617"#), (r#""created""#, r#""n":1e-400,"created""#)]
        {
            let e = PackManifest::parse(bytes.replacen(from, to, 1).as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::ManifestInvalid, "{to}");
            assert!(e.message.contains("hashed as"), "{to}: {}", e.message);
        }
    }
}
