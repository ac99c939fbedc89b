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

/// What ctxpack reads back from a pack's image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackOciManifest {
    pub uri: CtxUri,
    /// `org.opencontainers.image.created`, when the producer recorded it.
    pub created: Option<String>,
    /// The OCI config as written (the pack's `manifest.json`, or the empty config of the fallback form).
    pub config: Descriptor,
    /// The OCI layers as written: with `config`, every blob the image manifest references.
    pub layers: Vec<Descriptor>,
    /// The pack's `manifest.json` blob: the config, or in the fallback form the first layer.
    pub manifest_json: Descriptor,
    /// The pack's archive layers, in layout order (spec §7.3).
    pub pack_layers: Vec<Descriptor>,
    /// True for the fallback form (empty config, `manifest.json` as the first layer).
    pub fallback: bool,
    /// `artifactType`, or the config's media type when the manifest has none (the OCI rule).
    pub artifact_type: String,
}

/// What ctxpack reads back from an execution pack's image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionOciManifest {
    pub uri: CtxUri,
    /// `org.opencontainers.image.created`, when the producer recorded it.
    pub created: Option<String>,
    /// The execution manifest blob; its digest is the URI's.
    pub config: Descriptor,
    /// The content blobs, in the order written.
    pub blobs: Vec<Descriptor>,
}

/// The two kinds of artifact ctxpack stores in a layout or a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    Pack,
    Execution,
}

impl ArtifactKind {
    const ALL: [ArtifactKind; 2] = [ArtifactKind::Pack, ArtifactKind::Execution];

    /// The `artifactType` of the kind's image manifests and `index.json` entries.
    pub fn artifact_type(self) -> &'static str {
        match self {
            ArtifactKind::Pack => ARTIFACT_TYPE_PACK,
            ArtifactKind::Execution => ARTIFACT_TYPE_EXECUTION,
        }
    }

    /// The short name hosts use: `pack` or `execution`.
    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::Pack => "pack",
            ArtifactKind::Execution => "execution",
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
            MEDIA_TYPE_EXECUTION_CONFIG => Some(ArtifactKind::Execution),
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

/// One pack or execution pack named in `index.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub uri: CtxUri,
    /// `ctx-<hex>`, the entry's `org.opencontainers.image.ref.name`.
    pub tag: String,
    pub descriptor: Descriptor,
    /// From the entry's `artifactType`; an entry without one (as `skopeo copy` writes) is a pack.
    pub artifact_type: ArtifactKind,
}

/// The image manifest of a pack, in canonical JSON: `config` is the `manifest.json` blob and `layers` the
/// pack's archive layers in layout order. `created` is an RFC 3339 time chosen by the host (normally the
/// pack's provenance time), so re-storing a pack gives the same bytes.
pub fn pack_manifest(config: &Descriptor, layers: &[Descriptor], uri: &CtxUri, created: &str) -> Result<Vec<u8>> {
    image_manifest(ARTIFACT_TYPE_PACK, config.to_value()?, pack_layer_values(layers)?, uri, created)
}

/// The fallback form of [`pack_manifest`], for registries that reject a custom config type: the OCI empty
/// config (blob [`EMPTY_CONFIG_BYTES`], which the host must push too), then `manifest.json` as the first
/// layer, then the pack's layers.
pub fn pack_manifest_fallback(
    manifest_json: &Descriptor,
    layers: &[Descriptor],
    uri: &CtxUri,
    created: &str,
) -> Result<Vec<u8>> {
    let mut manifest_layer = manifest_json.clone();
    manifest_layer.media_type = MEDIA_TYPE_PACK_CONFIG.into();
    manifest_layer.annotations.entry(ANNOTATION_TITLE.into()).or_insert_with(|| MANIFEST_LAYER_TITLE.into());
    let mut values = vec![manifest_layer.to_value()?];
    values.extend(pack_layer_values(layers)?);
    image_manifest(ARTIFACT_TYPE_PACK, empty_config_value(), values, uri, created)
}

/// The image manifest of an execution pack, in canonical JSON: `config` is the execution manifest blob
/// (whose digest must be the URI's, `CTX_URI_MISMATCH` otherwise) and `blobs` its content blobs in the
/// order given. Media types are set here, so hosts need only digests and sizes.
pub fn execution_manifest(config: &Descriptor, blobs: &[Descriptor], uri: &CtxUri, created: &str) -> Result<Vec<u8>> {
    check_config_is_uri(config, uri)?;
    if blobs.is_empty() {
        return Err(invalid("an execution pack has at least one blob").at("blobs"));
    }
    let config = Descriptor { media_type: MEDIA_TYPE_EXECUTION_CONFIG.into(), ..config.clone() };
    let layers = blobs
        .iter()
        .map(|blob| Descriptor { media_type: MEDIA_TYPE_BLOB.into(), ..blob.clone() }.to_value())
        .collect::<Result<Vec<_>>>()?;
    image_manifest(ARTIFACT_TYPE_EXECUTION, config.to_value()?, layers, uri, created)
}

/// The execution manifest's JCS bytes are the URI's preimage, so a config of other bytes is another
/// execution wearing this one's name.
fn check_config_is_uri(config: &Descriptor, uri: &CtxUri) -> Result<()> {
    if config.digest != uri.digest() {
        return Err(Error::new(
            ErrorCode::UriMismatch,
            format!("the execution manifest's digest {} is not the URI {uri}", config.digest),
        )
        .at("config.digest"));
    }
    Ok(())
}

/// The OCI empty descriptor, with its content inline (`data`) as the OCI guidance recommends.
pub fn empty_config_value() -> Value {
    json!({
        "mediaType": MEDIA_TYPE_EMPTY_CONFIG,
        "digest": EMPTY_CONFIG_DIGEST,
        "size": EMPTY_CONFIG_BYTES.len(),
        "data": EMPTY_CONFIG_DATA,
    })
}

/// `pack.tar.gz` for a single layer, `pack.<k>.tar.gz` for layer k of several, unless already titled.
pub fn layer_title(index: usize, layers: usize) -> String {
    if layers == 1 {
        LAYER_TITLE.to_string()
    } else {
        format!("pack.{index}.tar.gz")
    }
}

fn pack_layer_values(layers: &[Descriptor]) -> Result<Vec<Value>> {
    if layers.is_empty() {
        return Err(invalid("a pack has at least one layer").at("layers"));
    }
    layers
        .iter()
        .enumerate()
        .map(|(index, layer)| {
            let mut layer = layer.clone();
            layer.annotations.entry(ANNOTATION_TITLE.into()).or_insert_with(|| layer_title(index, layers.len()));
            layer.to_value()
        })
        .collect()
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

/// Reads and checks a pack's image manifest, whoever wrote it (ctxpack, a registry, `oras push`).
pub fn parse_pack_manifest(bytes: &[u8]) -> Result<PackOciManifest> {
    pack_manifest_from_value(&parse_image_manifest(bytes)?)
}

fn pack_manifest_from_value(manifest: &Value) -> Result<PackOciManifest> {
    let config = manifest_config(manifest)?;
    if config.media_type != MEDIA_TYPE_PACK_CONFIG && config.media_type != MEDIA_TYPE_EMPTY_CONFIG {
        return Err(invalid(format!(
            "config media type {:?} is neither {MEDIA_TYPE_PACK_CONFIG:?} nor {MEDIA_TYPE_EMPTY_CONFIG:?}",
            config.media_type
        ))
        .at("config.mediaType"));
    }
    // OCI: without an artifactType, the config's media type says what the artifact is.
    let artifact_type = match manifest.get("artifactType") {
        None if config.media_type == MEDIA_TYPE_PACK_CONFIG => MEDIA_TYPE_PACK_CONFIG.to_string(),
        Some(Value::String(t)) if t == ARTIFACT_TYPE_PACK => ARTIFACT_TYPE_PACK.to_string(),
        other => {
            let found = other.map_or("none".to_string(), Value::to_string);
            return Err(invalid(format!("artifact type {found} is not {ARTIFACT_TYPE_PACK:?}")).at("artifactType"));
        }
    };
    let fallback = config.media_type == MEDIA_TYPE_EMPTY_CONFIG;
    if fallback && (config.digest.to_string() != EMPTY_CONFIG_DIGEST || config.size != EMPTY_CONFIG_BYTES.len() as u64)
    {
        return Err(
            invalid(format!("the empty config must be the blob {{}} ({EMPTY_CONFIG_DIGEST}, 2 bytes)")).at("config")
        );
    }
    let layers = manifest_layers(manifest)?;
    // The fallback form carries manifest.json as the first layer; then come the pack's layers.
    let first_pack_layer = usize::from(fallback);
    if fallback && layers.first().is_none_or(|first| first.media_type != MEDIA_TYPE_PACK_CONFIG) {
        return Err(invalid(format!(
            "with the empty config, the first layer must be the pack's manifest.json ({MEDIA_TYPE_PACK_CONFIG:?})"
        ))
        .at("layers[0]"));
    }
    if layers.len() <= first_pack_layer {
        return Err(invalid("a pack has at least one archive layer").at("layers"));
    }
    for (i, layer) in layers.iter().enumerate().skip(first_pack_layer) {
        if layer.media_type != MEDIA_TYPE_LAYER {
            return Err(invalid(format!("layer media type {:?} is not {MEDIA_TYPE_LAYER:?}", layer.media_type))
                .at(format!("layers[{i}].mediaType")));
        }
    }
    let manifest_json = if fallback { layers[0].clone() } else { config.clone() };
    let pack_layers = layers[first_pack_layer..].to_vec();
    let (uri, created) = uri_and_created(manifest, "a pack")?;
    Ok(PackOciManifest { uri, created, config, layers, manifest_json, pack_layers, fallback, artifact_type })
}

/// Reads and checks an execution pack's image manifest, whoever wrote it. The config's digest must be the
/// URI's (`CTX_URI_MISMATCH`); the blobs themselves are not read here.
pub fn parse_execution_manifest(bytes: &[u8]) -> Result<ExecutionOciManifest> {
    execution_manifest_from_value(&parse_image_manifest(bytes)?)
}

fn execution_manifest_from_value(manifest: &Value) -> Result<ExecutionOciManifest> {
    let config = manifest_config(manifest)?;
    if config.media_type != MEDIA_TYPE_EXECUTION_CONFIG {
        return Err(invalid(format!(
            "config media type {:?} is not {MEDIA_TYPE_EXECUTION_CONFIG:?}",
            config.media_type
        ))
        .at("config.mediaType"));
    }
    // OCI: without an artifactType, the config's media type (checked above) says what the artifact is.
    match manifest.get("artifactType") {
        None => {}
        Some(Value::String(t)) if t == ARTIFACT_TYPE_EXECUTION => {}
        Some(other) => {
            return Err(invalid(format!("artifact type {other} is not {ARTIFACT_TYPE_EXECUTION:?}")).at("artifactType"))
        }
    }
    let blobs = manifest_layers(manifest)?;
    if blobs.is_empty() {
        return Err(invalid("an execution pack has at least one blob").at("layers"));
    }
    for (i, blob) in blobs.iter().enumerate() {
        if blob.media_type != MEDIA_TYPE_BLOB {
            return Err(invalid(format!("layer media type {:?} is not {MEDIA_TYPE_BLOB:?}", blob.media_type))
                .at(format!("layers[{i}].mediaType")));
        }
    }
    let (uri, created) = uri_and_created(manifest, "an execution pack")?;
    check_config_is_uri(&config, &uri)?;
    Ok(ExecutionOciManifest { uri, created, config, blobs })
}

/// Reads and checks an image manifest of either kind, choosing the kind by `artifactType`, or by the
/// config's media type when there is none (the OCI rule). Any other artifact is `CTX_OCI_INVALID`.
pub fn parse_manifest(bytes: &[u8]) -> Result<OciArtifact> {
    let manifest = parse_image_manifest(bytes)?;
    let artifact_type = match manifest.get("artifactType") {
        Some(Value::String(t)) => ArtifactKind::from_artifact_type(t).ok_or_else(|| {
            invalid(format!("artifact type {t:?} is neither {ARTIFACT_TYPE_PACK:?} nor {ARTIFACT_TYPE_EXECUTION:?}"))
                .at("artifactType")
        })?,
        Some(_) => return Err(invalid("must be a string").at("artifactType")),
        None => {
            let config = manifest_config(&manifest)?;
            ArtifactKind::from_config_type(&config.media_type).ok_or_else(|| {
                invalid(format!(
                    "without an artifactType, config media type {:?} is neither {MEDIA_TYPE_PACK_CONFIG:?} nor \
                     {MEDIA_TYPE_EXECUTION_CONFIG:?}",
                    config.media_type
                ))
                .at("config.mediaType")
            })?
        }
    };
    Ok(match artifact_type {
        ArtifactKind::Pack => {
            let PackOciManifest { uri, created, config, layers, .. } = pack_manifest_from_value(&manifest)?;
            OciArtifact { artifact_type, uri, created, config, layers }
        }
        ArtifactKind::Execution => {
            let ExecutionOciManifest { uri, created, config, blobs } = execution_manifest_from_value(&manifest)?;
            OciArtifact { artifact_type, uri, created, config, layers: blobs }
        }
    })
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

/// Adds (or replaces, by ref name) the entry of a pack or an execution pack in `index.json`, recording its
/// kind as the entry's `artifactType`; `None` starts an empty index. Entries ctxpack did not write (other
/// images, entries added by skopeo) are kept as they are.
pub fn index_add(
    index: Option<&[u8]>,
    manifest: &Descriptor,
    uri: &CtxUri,
    artifact_type: ArtifactKind,
) -> Result<Vec<u8>> {
    if manifest.media_type != MEDIA_TYPE_MANIFEST {
        return Err(invalid(format!(
            "an index entry for a {} must be an image manifest, not {:?}",
            artifact_type.name(),
            manifest.media_type
        ))
        .at("mediaType"));
    }
    let mut index = match index {
        Some(bytes) => parse_index(bytes)?,
        None => json!({ "schemaVersion": 2, "mediaType": MEDIA_TYPE_INDEX, "manifests": [] }),
    };
    let tag = uri.tag();
    let mut entry = manifest.clone();
    entry.annotations.insert(ANNOTATION_REF_NAME.into(), tag.clone());
    entry.annotations.insert(ANNOTATION_URI.into(), uri.to_string());
    let mut entry = entry.to_value()?;
    entry["artifactType"] = artifact_type.artifact_type().into();
    // Replace in place, so re-adding a pack keeps the order of index.json stable.
    let entries = manifests_mut(&mut index);
    let position = entries.iter().position(|e| ref_name(e) == Some(tag.as_str()));
    entries.retain(|e| ref_name(e) != Some(tag.as_str()));
    entries.insert(position.unwrap_or(entries.len()), entry);
    jcs::canonicalize(&index)
}

/// Removes every entry that names `uri` (by ref name or by annotation). Removing an absent pack is not an
/// error: the index simply stays as it was.
pub fn index_remove(index: &[u8], uri: &CtxUri) -> Result<Vec<u8>> {
    let mut index = parse_index(index)?;
    let tag = uri.tag();
    let uri = uri.to_string();
    manifests_mut(&mut index)
        .retain(|e| ref_name(e) != Some(tag.as_str()) && annotation(e, ANNOTATION_URI) != Some(uri.as_str()));
    jcs::canonicalize(&index)
}

/// The packs and execution packs in `index.json`: entries whose ref name is `ctx-<hex>`; other entries are
/// skipped. An entry's kind is its `artifactType`, a pack when it has none. That tag namespace is ctxpack's,
/// so an entry there of any other artifact type is damage (`CTX_OCI_INVALID`), not someone else's image.
pub fn index_list(index: &[u8]) -> Result<Vec<IndexEntry>> {
    let index = parse_index(index)?;
    let mut packs = Vec::new();
    for (i, entry) in index["manifests"].as_array().into_iter().flatten().enumerate() {
        let Some(uri) = ref_name(entry).and_then(|tag| CtxUri::from_tag(tag).ok()) else { continue };
        let at = format!("manifests[{i}]");
        let descriptor = Descriptor::from_value(entry, &at)?;
        if let Some(named) = descriptor.annotations.get(ANNOTATION_URI) {
            if *named != uri.to_string() {
                return Err(invalid(format!("ref name {} disagrees with {ANNOTATION_URI} {named}", uri.tag()))
                    .at(format!("{at}.annotations")));
            }
        }
        let artifact_type = match entry.get("artifactType") {
            None => ArtifactKind::Pack,
            Some(value) => value.as_str().and_then(ArtifactKind::from_artifact_type).ok_or_else(|| {
                invalid(format!(
                    "artifact type {value} is neither {ARTIFACT_TYPE_PACK:?} nor {ARTIFACT_TYPE_EXECUTION:?}"
                ))
                .at(format!("{at}.artifactType"))
            })?,
        };
        packs.push(IndexEntry { uri, tag: uri.tag(), descriptor, artifact_type });
    }
    Ok(packs)
}

fn parse_document(bytes: &[u8], what: &str) -> Result<Value> {
    let value = jcs::parse(bytes).map_err(|e| invalid(format!("the {what} is not valid JSON: {}", e.message)))?;
    if !value.is_object() {
        return Err(invalid(format!("the {what} must be a JSON object")));
    }
    Ok(value)
}

fn parse_index(bytes: &[u8]) -> Result<Value> {
    let index = parse_document(bytes, "index")?;
    expect_header(&index, MEDIA_TYPE_INDEX)?;
    match index.get("manifests") {
        Some(Value::Array(entries)) => {
            if let Some(i) = entries.iter().position(|e| !e.is_object()) {
                return Err(invalid("must be a descriptor object").at(format!("manifests[{i}]")));
            }
        }
        _ => return Err(invalid("must be an array of descriptors").at("manifests")),
    }
    Ok(index)
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

fn manifests_mut(index: &mut Value) -> &mut Vec<Value> {
    index["manifests"].as_array_mut().expect("parse_index checked that manifests is an array")
}

fn ref_name(entry: &Value) -> Option<&str> {
    annotation(entry, ANNOTATION_REF_NAME)
}

fn annotation<'a>(entry: &'a Value, key: &str) -> Option<&'a str> {
    entry.get("annotations")?.get(key)?.as_str()
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
    use super::*;

    const CREATED: &str = "2026-01-15T10:30:05Z";

    fn uri(seed: &str) -> CtxUri {
        CtxUri::from_digest(Digest::of(seed.as_bytes()))
    }

    fn config() -> Descriptor {
        Descriptor::for_blob(MEDIA_TYPE_PACK_CONFIG, br#"{"ctxpack":"pack/v1"}"#)
    }

    fn layer() -> Descriptor {
        Descriptor::for_blob(MEDIA_TYPE_LAYER, b"pack bytes")
    }

    fn manifest_value() -> Value {
        let bytes = pack_manifest(&config(), &[layer()], &uri("a"), CREATED).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn parse_value(value: &Value) -> Result<PackOciManifest> {
        parse_pack_manifest(value.to_string().as_bytes())
    }

    fn manifest_descriptor(seed: &str) -> Descriptor {
        Descriptor::for_blob(MEDIA_TYPE_MANIFEST, seed.as_bytes())
    }

    #[test]
    fn pack_manifest_is_canonical_and_complete() {
        let bytes = pack_manifest(&config(), &[layer()], &uri("a"), CREATED).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(jcs::canonicalize(&value).unwrap(), bytes);
        let want = json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_MANIFEST,
            "artifactType": ARTIFACT_TYPE_PACK,
            "config": {"mediaType": MEDIA_TYPE_PACK_CONFIG, "digest": config().digest.to_string(), "size": 21},
            "layers": [{
                "mediaType": MEDIA_TYPE_LAYER, "digest": layer().digest.to_string(), "size": 10,
                "annotations": {ANNOTATION_TITLE: LAYER_TITLE}
            }],
            "annotations": {ANNOTATION_URI: uri("a").to_string(), ANNOTATION_CREATED: CREATED}
        });
        assert_eq!(value, want);
    }

    #[test]
    fn pack_manifest_round_trips() {
        let parsed = parse_value(&manifest_value()).unwrap();
        let mut titled = layer();
        titled.annotations.insert(ANNOTATION_TITLE.into(), LAYER_TITLE.into());
        assert_eq!(
            parsed,
            PackOciManifest {
                uri: uri("a"),
                created: Some(CREATED.into()),
                config: config(),
                layers: vec![titled.clone()],
                manifest_json: config(),
                pack_layers: vec![titled],
                fallback: false,
                artifact_type: ARTIFACT_TYPE_PACK.into(),
            }
        );
    }

    fn layers(n: usize) -> Vec<Descriptor> {
        (0..n).map(|i| Descriptor::for_blob(MEDIA_TYPE_LAYER, format!("layer {i}").as_bytes())).collect()
    }

    fn titles(descriptors: &[Descriptor]) -> Vec<&str> {
        descriptors.iter().map(|d| d.annotations[ANNOTATION_TITLE].as_str()).collect()
    }

    #[test]
    fn several_layers_are_titled_by_index_and_kept_in_order() {
        let bytes = pack_manifest(&config(), &layers(3), &uri("a"), CREATED).unwrap();
        let parsed = parse_pack_manifest(&bytes).unwrap();
        assert_eq!(titles(&parsed.pack_layers), ["pack.0.tar.gz", "pack.1.tar.gz", "pack.2.tar.gz"]);
        assert_eq!(
            parsed.pack_layers.iter().map(|d| d.digest).collect::<Vec<_>>(),
            layers(3).iter().map(|d| d.digest).collect::<Vec<_>>()
        );
        assert_eq!((parsed.layers.len(), parsed.fallback), (3, false));
        let e = pack_manifest(&config(), &[], &uri("a"), CREATED).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("layers")));
    }

    #[test]
    fn the_fallback_form_has_the_empty_config_and_manifest_json_first() {
        assert_eq!(Digest::of(EMPTY_CONFIG_BYTES).to_string(), EMPTY_CONFIG_DIGEST);
        for n in [1, 2] {
            let bytes = pack_manifest_fallback(&config(), &layers(n), &uri("a"), CREATED).unwrap();
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(value["config"], empty_config_value());
            assert_eq!(value["config"]["data"], "e30=");
            assert_eq!(value["artifactType"], ARTIFACT_TYPE_PACK);
            let parsed = parse_pack_manifest(&bytes).unwrap();
            assert!(parsed.fallback);
            assert_eq!(parsed.config.media_type, MEDIA_TYPE_EMPTY_CONFIG);
            assert_eq!((parsed.manifest_json.digest, parsed.manifest_json.size), (config().digest, config().size));
            assert_eq!(parsed.manifest_json.media_type, MEDIA_TYPE_PACK_CONFIG);
            assert_eq!(titles(&parsed.layers[..1]), ["manifest.json"]);
            assert_eq!(parsed.layers.len(), n + 1);
            let expected = if n == 1 { vec!["pack.tar.gz"] } else { vec!["pack.0.tar.gz", "pack.1.tar.gz"] };
            assert_eq!(titles(&parsed.pack_layers), expected);
        }
    }

    #[test]
    fn malformed_fallback_manifests_are_rejected() {
        let fallback = || -> Value {
            serde_json::from_slice(&pack_manifest_fallback(&config(), &layers(1), &uri("a"), CREATED).unwrap()).unwrap()
        };
        type Edit = fn(&mut Value);
        let cases: Vec<(Edit, &str)> = vec![
            (|v| v["config"]["digest"] = json!(Digest::of(b"{ }").to_string()), "config"),
            (|v| v["config"]["size"] = json!(3), "config"),
            (
                |v| {
                    v["layers"].as_array_mut().unwrap().remove(0);
                },
                "layers[0]",
            ),
            (|v| v["layers"].as_array_mut().unwrap().truncate(1), "layers"),
            (|v| v["layers"][1]["mediaType"] = json!(MEDIA_TYPE_PACK_CONFIG), "layers[1].mediaType"),
        ];
        for (edit, subject) in cases {
            let mut value = fallback();
            edit(&mut value);
            let e = parse_value(&value).unwrap_err();
            assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some(subject)), "{value}");
        }
    }

    #[test]
    fn created_must_be_rfc3339() {
        for ok in ["2026-01-15T10:30:05Z", "2026-01-15T10:30:05.123+02:00", "2026-01-15t10:30:05z"] {
            assert!(pack_manifest(&config(), &[layer()], &uri("a"), ok).is_ok(), "{ok}");
        }
        for bad in
            ["", "2026-01-15", "2026-01-15 10:30:05Z", "2026-01-15T10:30:05", "2026-01-15T10:30:05.Z", "1768473005"]
        {
            let e = pack_manifest(&config(), &[layer()], &uri("a"), bad).unwrap_err();
            assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("created")), "{bad}");
        }
    }

    #[test]
    fn foreign_producers_are_read_leniently() {
        // No created time, extra fields, an empty config without `data`.
        let mut value: Value =
            serde_json::from_slice(&pack_manifest_fallback(&config(), &[layer()], &uri("a"), CREATED).unwrap())
                .unwrap();
        value["config"].as_object_mut().unwrap().remove("data");
        value["annotations"] = json!({ANNOTATION_URI: uri("a").to_string(), "x": "y"});
        value["subject"] = json!({"mediaType": MEDIA_TYPE_MANIFEST, "digest": Digest::of(b"s").to_string(), "size": 1});
        let parsed = parse_value(&value).unwrap();
        assert_eq!((parsed.config.media_type.as_str(), parsed.created), (MEDIA_TYPE_EMPTY_CONFIG, None));
        // No artifactType: the ctxpack config type identifies the artifact.
        let mut value = manifest_value();
        value.as_object_mut().unwrap().remove("artifactType");
        value.as_object_mut().unwrap().remove("mediaType");
        assert_eq!(parse_value(&value).unwrap().artifact_type, MEDIA_TYPE_PACK_CONFIG);
    }

    #[test]
    fn malformed_pack_manifests_are_rejected() {
        type Edit = fn(&mut Value);
        let cases: Vec<(Edit, &str)> = vec![
            (|v| v["schemaVersion"] = json!(1), "schemaVersion"),
            (|v| v["mediaType"] = json!(MEDIA_TYPE_INDEX), "mediaType"),
            (|v| v["artifactType"] = json!("application/vnd.other"), "artifactType"),
            (|v| v["config"]["mediaType"] = json!("application/vnd.oci.image.config.v1+json"), "config.mediaType"),
            (|v| v["config"]["digest"] = json!(format!("sha512:{}", "ab".repeat(64))), "config.digest"),
            (|v| v["config"]["size"] = json!(-1), "config.size"),
            (|v| v["config"]["size"] = json!(1.5), "config.size"),
            (|v| v["config"] = json!(null), "config"),
            (|v| v["layers"] = json!([]), "layers"),
            (|v| v["layers"][0]["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar"), "layers[0].mediaType"),
            (|v| v["layers"][0]["annotations"] = json!({"a": 1}), "layers[0].annotations.a"),
            (|v| v["annotations"] = json!({}), "annotations.dev.ctxpack.uri"),
            (|v| v["annotations"][ANNOTATION_URI] = json!("sha256:00"), "annotations.dev.ctxpack.uri"),
            (|v| v["annotations"] = json!([]), "annotations"),
        ];
        for (edit, subject) in cases {
            let mut value = manifest_value();
            edit(&mut value);
            let e = parse_value(&value).unwrap_err();
            assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some(subject)), "{value}");
        }
        for text in [&b"[]"[..], b"{", b"{\"a\":1,\"a\":1}"] {
            assert_eq!(parse_pack_manifest(text).unwrap_err().code, ErrorCode::OciInvalid);
        }
    }

    #[test]
    fn index_add_creates_replaces_and_lists() {
        let index = index_add(None, &manifest_descriptor("m1"), &uri("a"), ArtifactKind::Pack).unwrap();
        let value: Value = serde_json::from_slice(&index).unwrap();
        assert_eq!(jcs::canonicalize(&value).unwrap(), index);
        assert_eq!(value["mediaType"], MEDIA_TYPE_INDEX);
        assert_eq!(value["manifests"][0]["artifactType"], ARTIFACT_TYPE_PACK);
        assert_eq!(value["manifests"][0]["annotations"][ANNOTATION_REF_NAME], uri("a").tag());
        assert_eq!(value["manifests"][0]["annotations"][ANNOTATION_URI], uri("a").to_string());

        let index = index_add(Some(&index), &manifest_descriptor("m2"), &uri("b"), ArtifactKind::Pack).unwrap();
        let index = index_add(Some(&index), &manifest_descriptor("m1-again"), &uri("a"), ArtifactKind::Pack).unwrap();
        let listed = index_list(&index).unwrap();
        assert_eq!(listed.iter().map(|e| e.uri).collect::<Vec<_>>(), vec![uri("a"), uri("b")]);
        assert_eq!(listed[0].tag, uri("a").tag());
        assert_eq!(listed[0].descriptor.digest, manifest_descriptor("m1-again").digest);
        assert_eq!(listed[0].descriptor.annotations[ANNOTATION_URI], uri("a").to_string());
    }

    #[test]
    fn index_keeps_what_it_does_not_understand() {
        let foreign = json!({
            "schemaVersion": 2,
            "annotations": {"keep": "me"},
            "manifests": [
                {"mediaType": MEDIA_TYPE_MANIFEST, "digest": Digest::of(b"img").to_string(), "size": 3,
                 "annotations": {ANNOTATION_REF_NAME: "latest"}, "platform": {"os": "linux"}},
                // What `skopeo copy oci:a:ctx-… oci:b:ctx-…` writes: a ref name and nothing of ours.
                {"mediaType": MEDIA_TYPE_MANIFEST, "digest": Digest::of(b"copied").to_string(), "size": 6,
                 "annotations": {ANNOTATION_REF_NAME: uri("c").tag()}}
            ]
        });
        let index =
            index_add(Some(foreign.to_string().as_bytes()), &manifest_descriptor("m"), &uri("a"), ArtifactKind::Pack)
                .unwrap();
        let value: Value = serde_json::from_slice(&index).unwrap();
        assert_eq!(value["annotations"]["keep"], "me");
        assert_eq!(value["manifests"][0], foreign["manifests"][0]);
        assert_eq!(value["manifests"].as_array().unwrap().len(), 3);
        let listed: Vec<CtxUri> = index_list(&index).unwrap().into_iter().map(|e| e.uri).collect();
        assert_eq!(listed, vec![uri("c"), uri("a")]);

        // Re-adding the copied pack replaces skopeo's entry in place.
        let index = index_add(Some(&index), &manifest_descriptor("c"), &uri("c"), ArtifactKind::Pack).unwrap();
        let value: Value = serde_json::from_slice(&index).unwrap();
        assert_eq!(value["manifests"].as_array().unwrap().len(), 3);
        assert_eq!(value["manifests"][1]["annotations"][ANNOTATION_URI], uri("c").to_string());
    }

    #[test]
    fn index_remove_drops_only_that_pack() {
        let index = index_add(None, &manifest_descriptor("m1"), &uri("a"), ArtifactKind::Pack).unwrap();
        let index = index_add(Some(&index), &manifest_descriptor("m2"), &uri("b"), ArtifactKind::Pack).unwrap();
        let removed = index_remove(&index, &uri("a")).unwrap();
        assert_eq!(index_list(&removed).unwrap().into_iter().map(|e| e.uri).collect::<Vec<_>>(), vec![uri("b")]);
        assert_eq!(index_remove(&removed, &uri("a")).unwrap(), removed);
        let empty = index_remove(&removed, &uri("b")).unwrap();
        assert_eq!(
            empty,
            br#"{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#
        );
    }

    #[test]
    fn malformed_indexes_are_rejected() {
        let mismatched = json!({"schemaVersion": 2, "manifests": [{
            "mediaType": MEDIA_TYPE_MANIFEST, "digest": Digest::of(b"m").to_string(), "size": 1,
            "annotations": {ANNOTATION_REF_NAME: uri("a").tag(), ANNOTATION_URI: uri("b").to_string()}
        }]});
        // ctx-<hex> names only ctxpack's artifacts, so an unknown kind there is damage.
        let foreign_typed = json!({"schemaVersion": 2, "manifests": [{
            "mediaType": MEDIA_TYPE_MANIFEST, "digest": Digest::of(b"m").to_string(), "size": 1,
            "artifactType": "application/vnd.other", "annotations": {ANNOTATION_REF_NAME: uri("a").tag()}
        }]});
        let cases = [
            (json!({"manifests": []}), Some("schemaVersion")),
            (json!({"schemaVersion": 2}), Some("manifests")),
            (json!({"schemaVersion": 2, "manifests": [1]}), Some("manifests[0]")),
            (json!({"schemaVersion": 2, "mediaType": MEDIA_TYPE_MANIFEST, "manifests": []}), Some("mediaType")),
            (mismatched, Some("manifests[0].annotations")),
            (foreign_typed, Some("manifests[0].artifactType")),
            (json!([]), None),
        ];
        for (value, subject) in cases {
            let e = index_list(value.to_string().as_bytes()).unwrap_err();
            assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, subject), "{value}");
        }
        let e =
            index_add(None, &Descriptor::for_blob(MEDIA_TYPE_INDEX, b"i"), &uri("a"), ArtifactKind::Pack).unwrap_err();
        assert_eq!(e.code, ErrorCode::OciInvalid);
    }

    /// The execution manifest blob and the URI it is the preimage of.
    fn execution_config(seed: &str) -> (Descriptor, CtxUri) {
        let config = Descriptor::for_blob(MEDIA_TYPE_EXECUTION_CONFIG, format!(r#"{{"seed":"{seed}"}}"#).as_bytes());
        let uri = CtxUri::from_digest(config.digest);
        (config, uri)
    }

    fn blobs(n: usize) -> Vec<Descriptor> {
        (0..n).map(|i| Descriptor::for_blob(MEDIA_TYPE_BLOB, format!("blob {i}").as_bytes())).collect()
    }

    fn execution_value() -> Value {
        let (config, uri) = execution_config("x");
        serde_json::from_slice(&execution_manifest(&config, &blobs(2), &uri, CREATED).unwrap()).unwrap()
    }

    fn parse_execution_value(value: &Value) -> Result<ExecutionOciManifest> {
        parse_execution_manifest(value.to_string().as_bytes())
    }

    #[test]
    fn execution_manifest_is_canonical_and_complete() {
        let (config, uri) = execution_config("x");
        // Hosts may pass any media types: the core sets them.
        let untyped = |d: &Descriptor| Descriptor { media_type: "application/octet-stream".into(), ..d.clone() };
        let given: Vec<Descriptor> = blobs(2).iter().map(untyped).collect();
        let bytes = execution_manifest(&untyped(&config), &given, &uri, CREATED).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(jcs::canonicalize(&value).unwrap(), bytes);
        let blob_value =
            |d: &Descriptor| json!({"mediaType": MEDIA_TYPE_BLOB, "digest": d.digest.to_string(), "size": 6});
        let want = json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_MANIFEST,
            "artifactType": ARTIFACT_TYPE_EXECUTION,
            "config": {"mediaType": MEDIA_TYPE_EXECUTION_CONFIG, "digest": uri.digest().to_string(), "size": config.size},
            "layers": [blob_value(&blobs(2)[0]), blob_value(&blobs(2)[1])],
            "annotations": {ANNOTATION_URI: uri.to_string(), ANNOTATION_CREATED: CREATED}
        });
        assert_eq!(value, want);
    }

    #[test]
    fn execution_manifest_round_trips() {
        let (config, uri) = execution_config("x");
        let parsed = parse_execution_value(&execution_value()).unwrap();
        assert_eq!(parsed, ExecutionOciManifest { uri, created: Some(CREATED.into()), config, blobs: blobs(2) });
        // OCI: without an artifactType (or a created time), the execution config type identifies the artifact.
        let mut value = execution_value();
        value.as_object_mut().unwrap().remove("artifactType");
        value["annotations"].as_object_mut().unwrap().remove(ANNOTATION_CREATED);
        let parsed = parse_execution_value(&value).unwrap();
        assert_eq!((parsed.uri, parsed.created, parsed.blobs.len()), (uri, None, 2));
    }

    #[test]
    fn execution_manifest_refuses_a_config_that_is_not_the_uri_and_no_blobs() {
        let (config, uri) = execution_config("x");
        let (_, other) = execution_config("y");
        let e = execution_manifest(&config, &blobs(1), &other, CREATED).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::UriMismatch, Some("config.digest")));
        let e = execution_manifest(&config, &[], &uri, CREATED).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("blobs")));
        let e = execution_manifest(&config, &blobs(1), &uri, "yesterday").unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("created")));
    }

    #[test]
    fn malformed_execution_manifests_are_rejected() {
        type Edit = fn(&mut Value);
        let cases: Vec<(Edit, ErrorCode, &str)> = vec![
            (|v| v["schemaVersion"] = json!(1), ErrorCode::OciInvalid, "schemaVersion"),
            (|v| v["mediaType"] = json!(MEDIA_TYPE_INDEX), ErrorCode::OciInvalid, "mediaType"),
            (|v| v["artifactType"] = json!(ARTIFACT_TYPE_PACK), ErrorCode::OciInvalid, "artifactType"),
            (|v| v["artifactType"] = json!(1), ErrorCode::OciInvalid, "artifactType"),
            (|v| v["config"]["mediaType"] = json!(MEDIA_TYPE_PACK_CONFIG), ErrorCode::OciInvalid, "config.mediaType"),
            (
                |v| v["config"]["digest"] = json!(format!("sha512:{}", "ab".repeat(64))),
                ErrorCode::OciInvalid,
                "config.digest",
            ),
            (|v| v["config"]["size"] = json!(-1), ErrorCode::OciInvalid, "config.size"),
            (|v| v["config"] = json!(null), ErrorCode::OciInvalid, "config"),
            (|v| v["layers"] = json!([]), ErrorCode::OciInvalid, "layers"),
            (|v| v["layers"] = json!({}), ErrorCode::OciInvalid, "layers"),
            (|v| v["layers"][1]["mediaType"] = json!(MEDIA_TYPE_LAYER), ErrorCode::OciInvalid, "layers[1].mediaType"),
            (|v| v["layers"][0]["digest"] = json!("sha256:00"), ErrorCode::OciInvalid, "layers[0].digest"),
            (|v| v["annotations"] = json!({}), ErrorCode::OciInvalid, "annotations.dev.ctxpack.uri"),
            (
                |v| v["annotations"][ANNOTATION_URI] = json!("sha256:00"),
                ErrorCode::OciInvalid,
                "annotations.dev.ctxpack.uri",
            ),
            (
                |v| v["annotations"][ANNOTATION_URI] = json!(execution_config("y").1.to_string()),
                ErrorCode::UriMismatch,
                "config.digest",
            ),
        ];
        for (edit, code, subject) in cases {
            let mut value = execution_value();
            edit(&mut value);
            let e = parse_execution_value(&value).unwrap_err();
            assert_eq!((e.code, e.subject.as_deref()), (code, Some(subject)), "{value}");
        }
        for text in [&b"[]"[..], b"{", b"{\"a\":1,\"a\":1}"] {
            assert_eq!(parse_execution_manifest(text).unwrap_err().code, ErrorCode::OciInvalid);
        }
    }

    #[test]
    fn parse_manifest_reads_either_kind() {
        let execution = parse_manifest(execution_value().to_string().as_bytes()).unwrap();
        let (expected_config, expected_uri) = execution_config("x");
        assert_eq!(
            execution,
            OciArtifact {
                artifact_type: ArtifactKind::Execution,
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
        for (mut value, kind) in [(manifest_value(), ArtifactKind::Pack), (execution_value(), ArtifactKind::Execution)]
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
        assert!(e.message.contains("application/vnd.other"), "{}", e.message);

        let mut value = execution_value();
        value.as_object_mut().unwrap().remove("artifactType");
        value["config"]["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
        let e = parse_manifest(value.to_string().as_bytes()).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("config.mediaType")));
        assert!(e.message.contains("application/vnd.oci.image.config.v1+json"), "{}", e.message);

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
    fn index_records_and_lists_both_kinds() {
        let (_, execution) = execution_config("x");
        let index = index_add(None, &manifest_descriptor("p"), &uri("a"), ArtifactKind::Pack).unwrap();
        let index = index_add(Some(&index), &manifest_descriptor("e"), &execution, ArtifactKind::Execution).unwrap();
        let value: Value = serde_json::from_slice(&index).unwrap();
        assert_eq!(value["manifests"][0]["artifactType"], ARTIFACT_TYPE_PACK);
        assert_eq!(value["manifests"][1]["artifactType"], ARTIFACT_TYPE_EXECUTION);
        let listed: Vec<(CtxUri, ArtifactKind)> =
            index_list(&index).unwrap().into_iter().map(|e| (e.uri, e.artifact_type)).collect();
        assert_eq!(listed, vec![(uri("a"), ArtifactKind::Pack), (execution, ArtifactKind::Execution)]);
        let removed = index_remove(&index, &execution).unwrap();
        assert_eq!(index_list(&removed).unwrap().len(), 1);
    }

    #[test]
    fn an_index_entry_without_artifact_type_is_a_pack() {
        let skopeo = json!({"schemaVersion": 2, "manifests": [{
            "mediaType": MEDIA_TYPE_MANIFEST, "digest": Digest::of(b"m").to_string(), "size": 1,
            "annotations": {ANNOTATION_REF_NAME: uri("a").tag()}
        }]});
        let listed = index_list(skopeo.to_string().as_bytes()).unwrap();
        assert_eq!((listed[0].uri, listed[0].artifact_type), (uri("a"), ArtifactKind::Pack));
    }

    #[test]
    fn artifact_kinds_have_host_names() {
        for kind in [ArtifactKind::Pack, ArtifactKind::Execution] {
            assert_eq!(ArtifactKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ArtifactKind::from_name("Pack"), None);
        assert_eq!(ArtifactKind::Execution.artifact_type(), ARTIFACT_TYPE_EXECUTION);
    }
}
