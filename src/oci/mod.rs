//! The OCI mapping: a pack or an execution pack as an OCI image manifest, and the `index.json` of an OCI
//! image layout.
//!
//! The local pantry is an OCI image layout, so standard tools (skopeo, oras, crane) can read, copy and push
//! it. Each pack is one image manifest whose config blob is the pack's `manifest.json` and whose layers are
//! the pack's archive layers (one, or several for a large pack, spec §7.3); `index.json` names it
//! `ctx-<hex>`. An execution pack (spec §11) is one image manifest whose config is its execution manifest
//! and whose layers are its content blobs; `index.json` names it the same way and records which kind each
//! entry is. For registries that refuse custom config types there is a fallback form: the OCI empty
//! config, and `manifest.json` as the first layer. Everything here is JSON in, JSON out: the
//! host writes the blobs. Documents are written in JCS form, so the same pack gets the same manifest digest
//! on every machine.

mod execution;
mod index;
mod pack;
mod referrers;
mod signature;
#[cfg(test)]
mod test_support;
mod verify;

use execution::execution_pack_manifest_from_value;
pub use execution::{execution_pack_manifest, parse_execution_pack_manifest, ExecutionPackOciManifest};
pub use index::{
    index_add, index_add_all, index_list, index_referrers, index_remove, index_remove_referrers, index_set_referrers,
    IndexEntry,
};
use pack::pack_manifest_from_value;
pub use pack::{
    block_index, empty_config_value, layer_title, pack_manifest, pack_manifest_fallback, parse_pack_manifest,
    PackOciManifest, ANNOTATION_BLOCKS,
};
pub use referrers::{referrers_index_add, referrers_list, referrers_tag, Referrer};
pub use signature::{
    parse_signature_manifest, signature_manifest, SignatureManifest, ANNOTATION_KEYID, ARTIFACT_TYPE_SIGNATURE,
};
pub use verify::{verify_execution_pack, verify_pack, VerifiedExecutionPack, VerifiedPack};

use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use crate::uri::CtxUri;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The `artifactType` of a pack's image manifest.
pub const ARTIFACT_TYPE_PACK: &str = "application/vnd.ctxpack.pack.v1";
/// The config blob: the pack's `manifest.json`.
pub const MEDIA_TYPE_PACK_CONFIG: &str = "application/vnd.ctxpack.manifest.v1+json";
/// The `artifactType` of an execution pack's image manifest.
pub const ARTIFACT_TYPE_EXECUTION: &str = "application/vnd.ctxpack.execution.v1";
/// The config blob of an execution pack: its execution manifest (JCS), whose digest is the URI.
pub const MEDIA_TYPE_EXECUTION_CONFIG: &str = "application/vnd.ctxpack.execution.v1+json";
/// A layer of an execution pack: one content blob, stored as it is.
pub const MEDIA_TYPE_BLOB: &str = "application/vnd.ctxpack.blob.v1";
/// The layer: the pack archive.
pub const MEDIA_TYPE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The OCI empty descriptor's type (blob `{}`): the config of the fallback form.
pub const MEDIA_TYPE_EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";
/// The OCI empty blob `{}`, its digest, and its base64 for the descriptor's `data` field.
pub const EMPTY_CONFIG_BYTES: &[u8] = b"{}";
pub const EMPTY_CONFIG_DIGEST: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const EMPTY_CONFIG_DATA: &str = "e30=";

/// The pack URI, on the image manifest and on its `index.json` entry.
pub const ANNOTATION_URI: &str = "dev.ctxpack.uri";
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
/// The file name tools such as `oras pull` give the layer of a single-layer pack.
pub const LAYER_TITLE: &str = "pack.tar.gz";
/// The file name of `manifest.json` when it is a layer (the fallback form).
pub const MANIFEST_LAYER_TITLE: &str = "manifest.json";

/// Sizes above 2^53 cannot be written exactly in canonical JSON (and no blob is that large).
const MAX_SIZE: u64 = 1 << 53;

/// An OCI content descriptor. Fields ctxpack does not use (`urls`, `data`, `platform`) are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The descriptor of a blob held in memory.
    pub fn for_blob(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: Digest::of(bytes),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        }
    }

    /// Reads a descriptor from its OCI JSON form, naming `at` in errors.
    pub fn from_value(value: &Value, at: &str) -> Result<Descriptor> {
        let object = value.as_object().ok_or_else(|| invalid("a descriptor must be an object").at(at))?;
        let media_type = required_str(object, "mediaType", at)?.to_string();
        let digest_at = format!("{at}.digest");
        let digest = Digest::parse(required_str(object, "digest", at)?)
            .map_err(|e| invalid(format!("{} (ctxpack stores sha256 blobs only)", e.message)).at(&digest_at))?;
        let size = object
            .get("size")
            .and_then(Value::as_u64)
            .filter(|size| *size <= MAX_SIZE)
            .ok_or_else(|| invalid("must be a non-negative integer").at(format!("{at}.size")))?;
        let annotations = match object.get("annotations") {
            None => BTreeMap::new(),
            Some(value) => string_map(value, &format!("{at}.annotations"))?,
        };
        Ok(Descriptor { media_type, digest, size, annotations })
    }

    /// The OCI JSON form (`annotations` only when there are some).
    pub fn to_value(&self) -> Result<Value> {
        if self.size > MAX_SIZE {
            return Err(invalid(format!("size {} is beyond 2^53", self.size)).at("size"));
        }
        let mut object = Map::new();
        object.insert("mediaType".into(), self.media_type.clone().into());
        object.insert("digest".into(), self.digest.to_string().into());
        object.insert("size".into(), self.size.into());
        if !self.annotations.is_empty() {
            object.insert("annotations".into(), json!(self.annotations));
        }
        Ok(Value::Object(object))
    }
}

/// The two kinds of artifact ctxpack stores in a layout or a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    Pack,
    ExecutionPack,
}

impl ArtifactKind {
    const ALL: [ArtifactKind; 2] = [ArtifactKind::Pack, ArtifactKind::ExecutionPack];

    /// The `artifactType` of the kind's image manifests and `index.json` entries.
    pub fn artifact_type(self) -> &'static str {
        match self {
            ArtifactKind::Pack => ARTIFACT_TYPE_PACK,
            ArtifactKind::ExecutionPack => ARTIFACT_TYPE_EXECUTION,
        }
    }

    /// The short name hosts use: `pack` or `execution`.
    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::Pack => "pack",
            ArtifactKind::ExecutionPack => "execution",
        }
    }

    pub fn from_name(name: &str) -> Option<ArtifactKind> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    fn from_artifact_type(artifact_type: &str) -> Option<ArtifactKind> {
        Self::ALL.into_iter().find(|kind| kind.artifact_type() == artifact_type)
    }

    /// OCI: a manifest without an `artifactType` is the kind its config's media type names.
    fn from_config_type(media_type: &str) -> Option<ArtifactKind> {
        match media_type {
            MEDIA_TYPE_PACK_CONFIG => Some(ArtifactKind::Pack),
            MEDIA_TYPE_EXECUTION_CONFIG => Some(ArtifactKind::ExecutionPack),
            _ => None,
        }
    }
}

/// An image manifest of either kind, reduced to what gc and copy need: every blob it references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciArtifact {
    pub artifact_type: ArtifactKind,
    pub uri: CtxUri,
    pub created: Option<String>,
    pub config: Descriptor,
    /// The layers as written: for a pack in the fallback form, `manifest.json` first.
    pub layers: Vec<Descriptor>,
}

fn image_manifest(
    artifact_type: &str,
    config: Value,
    layers: Vec<Value>,
    uri: &CtxUri,
    created: &str,
) -> Result<Vec<u8>> {
    check_rfc3339(created)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_MANIFEST,
        "artifactType": artifact_type,
        "config": config,
        "layers": layers,
        "annotations": { ANNOTATION_URI: uri.to_string(), ANNOTATION_CREATED: created },
    });
    jcs::canonicalize(&manifest)
}

/// Reads and checks an image manifest of either kind, choosing the kind by `artifactType`, or by the
/// config's media type when there is none (the OCI rule). Any other artifact (a container image, an index,
/// another tool's artifact) is `CTX_OCI_INVALID` at `artifactType`, saying what it is instead.
pub fn parse_manifest(bytes: &[u8]) -> Result<OciArtifact> {
    let manifest = parse_document(bytes, "image manifest")?;
    let artifact_type = artifact_kind(&manifest).ok_or_else(|| foreign(&manifest))?;
    expect_header(&manifest, MEDIA_TYPE_MANIFEST)?;
    Ok(match artifact_type {
        ArtifactKind::Pack => {
            let PackOciManifest { uri, created, config, layers, .. } = pack_manifest_from_value(&manifest)?;
            OciArtifact { artifact_type, uri, created, config, layers }
        }
        ArtifactKind::ExecutionPack => {
            let ExecutionPackOciManifest { uri, created, config, blobs } =
                execution_pack_manifest_from_value(&manifest)?;
            OciArtifact { artifact_type, uri, created, config, layers: blobs }
        }
    })
}

/// The kind of ctxpack artifact a manifest says it is: its `artifactType`, else its config's media type.
fn artifact_kind(manifest: &Value) -> Option<ArtifactKind> {
    match manifest.get("artifactType") {
        Some(Value::String(t)) => ArtifactKind::from_artifact_type(t),
        Some(_) => None,
        None => manifest
            .get("config")
            .and_then(|config| config.get("mediaType"))
            .and_then(Value::as_str)
            .and_then(ArtifactKind::from_config_type),
    }
}

/// The error for a manifest ctxpack did not write, naming what it is: `artifactType`, `mediaType` and, when
/// there is no artifactType, the config's media type (which then says what the artifact is).
fn foreign(manifest: &Value) -> Error {
    let named = |value: Option<&Value>| match value {
        None => "none".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let mut found = format!(
        "artifactType {} / mediaType {}",
        named(manifest.get("artifactType")),
        named(manifest.get("mediaType"))
    );
    if manifest.get("artifactType").is_none() {
        found.push_str(&format!(" / config {}", named(manifest.get("config").and_then(|c| c.get("mediaType")))));
    }
    invalid(format!("the image manifest is not a ctxpack pack ({found})")).at("artifactType").hint(format!(
        "this is something ctxpack did not write (a container image, another tool's artifact); ctxpack reads image \
         manifests with artifactType {ARTIFACT_TYPE_PACK} or {ARTIFACT_TYPE_EXECUTION}"
    ))
}

fn parse_image_manifest(bytes: &[u8]) -> Result<Value> {
    let manifest = parse_document(bytes, "image manifest")?;
    expect_header(&manifest, MEDIA_TYPE_MANIFEST)?;
    Ok(manifest)
}

fn manifest_config(manifest: &Value) -> Result<Descriptor> {
    Descriptor::from_value(manifest.get("config").unwrap_or(&Value::Null), "config")
}

fn manifest_layers(manifest: &Value) -> Result<Vec<Descriptor>> {
    match manifest.get("layers") {
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, item)| Descriptor::from_value(item, &format!("layers[{i}]"))).collect()
        }
        _ => Err(invalid("must be an array of layer descriptors").at("layers")),
    }
}

/// The manifest's `dev.ctxpack.uri` (required and valid) and `org.opencontainers.image.created` (optional);
/// `what` names the artifact in the error.
fn uri_and_created(manifest: &Value, what: &str) -> Result<(CtxUri, Option<String>)> {
    let annotations = match manifest.get("annotations") {
        None => BTreeMap::new(),
        Some(value) => string_map(value, "annotations")?,
    };
    let uri_at = format!("annotations.{ANNOTATION_URI}");
    let uri = annotations
        .get(ANNOTATION_URI)
        .ok_or_else(|| invalid(format!("{what}'s image manifest must carry its ctx:// URI")).at(&uri_at))
        .and_then(|uri| CtxUri::parse(uri).map_err(|e| invalid(e.message).at(&uri_at)))?;
    Ok((uri, annotations.get(ANNOTATION_CREATED).cloned()))
}

fn parse_document(bytes: &[u8], what: &str) -> Result<Value> {
    let value = jcs::parse(bytes).map_err(|e| invalid(format!("the {what} is not valid JSON: {}", e.message)))?;
    if !value.is_object() {
        return Err(invalid(format!("the {what} must be a JSON object")));
    }
    Ok(value)
}

/// `schemaVersion` 2, and `mediaType` (when given, as OCI allows it to be omitted) of the expected kind.
fn expect_header(document: &Value, media_type: &str) -> Result<()> {
    if document.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
        return Err(invalid("must be 2").at("schemaVersion"));
    }
    match document.get("mediaType") {
        None => Ok(()),
        Some(Value::String(t)) if t == media_type => Ok(()),
        Some(other) => Err(invalid(format!("expected {media_type:?}, found {other}")).at("mediaType")),
    }
}

fn required_str<'a>(object: &'a Map<String, Value>, key: &str, at: &str) -> Result<&'a str> {
    object.get(key).and_then(Value::as_str).ok_or_else(|| invalid("must be a string").at(format!("{at}.{key}")))
}

fn string_map(value: &Value, at: &str) -> Result<BTreeMap<String, String>> {
    let object = value.as_object().ok_or_else(|| invalid("must be an object of strings").at(at))?;
    object
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(invalid("must be a string").at(format!("{at}.{k}"))),
        })
        .collect()
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, the RFC 3339 form the OCI `created` annotation requires.
fn check_rfc3339(created: &str) -> Result<()> {
    let b = created.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let mut ok = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if ok {
        let mut rest = &b[19..];
        if let Some(fraction) = rest.strip_prefix(b".") {
            let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
            ok = n > 0;
            rest = &fraction[n..];
        }
        ok = ok
            && match rest {
                [b'Z' | b'z'] => true,
                [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
                _ => false,
            };
    }
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("created time {created:?} is not RFC 3339 (e.g. 2026-01-15T10:30:05Z)")).at("created"))
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::OciInvalid, message)
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn parse_manifest_reads_either_kind() {
        let execution = parse_manifest(execution_value().to_string().as_bytes()).unwrap();
        let (expected_config, expected_uri) = execution_config("x");
        assert_eq!(
            execution,
            OciArtifact {
                artifact_type: ArtifactKind::ExecutionPack,
                uri: expected_uri,
                created: Some(CREATED.into()),
                config: expected_config,
                layers: blobs(2)
            }
        );
        let pack = parse_manifest(manifest_value().to_string().as_bytes()).unwrap();
        let parsed = parse_value(&manifest_value()).unwrap();
        assert_eq!(
            pack,
            OciArtifact {
                artifact_type: ArtifactKind::Pack,
                uri: parsed.uri,
                created: parsed.created,
                config: parsed.config,
                layers: parsed.layers
            }
        );
        // The fallback form: every referenced blob, manifest.json first.
        let fallback = pack_manifest_fallback(&config(), &[layer()], &uri("a"), CREATED).unwrap();
        let artifact = parse_manifest(&fallback).unwrap();
        assert_eq!(
            (artifact.artifact_type, artifact.config.media_type.as_str()),
            (ArtifactKind::Pack, MEDIA_TYPE_EMPTY_CONFIG)
        );
        assert_eq!(artifact.layers.iter().map(|d| d.digest).collect::<Vec<_>>(), vec![config().digest, layer().digest]);
        // Without an artifactType, the config type decides (the OCI rule).
        for (mut value, kind) in
            [(manifest_value(), ArtifactKind::Pack), (execution_value(), ArtifactKind::ExecutionPack)]
        {
            value.as_object_mut().unwrap().remove("artifactType");
            assert_eq!(parse_manifest(value.to_string().as_bytes()).unwrap().artifact_type, kind);
        }
    }

    #[test]
    fn parse_manifest_rejects_unknown_and_inconsistent_artifacts() {
        let mut value = execution_value();
        value["artifactType"] = json!("application/vnd.other");
        let e = parse_manifest(value.to_string().as_bytes()).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("artifactType")));
        assert_eq!(
            e.message,
            format!("artifactType: the image manifest is not a ctxpack pack (artifactType application/vnd.other / mediaType {MEDIA_TYPE_MANIFEST})")
        );
        assert!(e.hint.contains("ctxpack did not write") && !e.hint.contains("layout"), "{}", e.hint);

        // A container image: no artifactType, an image config.
        let mut value = execution_value();
        value.as_object_mut().unwrap().remove("artifactType");
        value["config"]["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
        let e = parse_manifest(value.to_string().as_bytes()).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("artifactType")));
        assert!(
            e.message.ends_with(&format!(
                "(artifactType none / mediaType {MEDIA_TYPE_MANIFEST} / config application/vnd.oci.image.config.v1+json)"
            )),
            "{}",
            e.message
        );

        // An index (a multi-platform image) is no ctxpack artifact either.
        let index = json!({"schemaVersion": 2, "mediaType": MEDIA_TYPE_INDEX, "manifests": []});
        let e = parse_manifest(index.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.subject.as_deref(), Some("artifactType"));
        assert!(e.message.contains(&format!("mediaType {MEDIA_TYPE_INDEX} / config none")), "{}", e.message);

        // The artifactType chooses the parser, which then checks the rest.
        let mut value = execution_value();
        value["artifactType"] = json!(ARTIFACT_TYPE_PACK);
        let e = parse_manifest(value.to_string().as_bytes()).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("config.mediaType")));
        let mut value = execution_value();
        value["artifactType"] = json!(null);
        let e = parse_manifest(value.to_string().as_bytes()).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("artifactType")));
        assert_eq!(parse_manifest(b"{").unwrap_err().code, ErrorCode::OciInvalid);
    }

    #[test]
    fn artifact_kinds_have_host_names() {
        for kind in [ArtifactKind::Pack, ArtifactKind::ExecutionPack] {
            assert_eq!(ArtifactKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ArtifactKind::from_name("Pack"), None);
        assert_eq!(ArtifactKind::ExecutionPack.artifact_type(), ARTIFACT_TYPE_EXECUTION);
    }
}
