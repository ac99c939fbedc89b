//! The OCI mapping for JavaScript: image manifests of packs and execution packs, and `index.json` edits.

use super::archive::{expect_uri_option, limits_option};
use super::{field, object, string_field, to_js_error, value_from_js, value_to_js};
use crate::error::{Error, ErrorCode, Result};
use crate::oci::{self, ArtifactKind, Descriptor, MEDIA_TYPE_MANIFEST};
use crate::uri::CtxUri;
use js_sys::{Array, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const VERIFY_TYPES: &str = r#"
/** A pack stored as an image manifest and its manifest.json, checked as one (ociVerifyPack). */
export interface VerifiedPack {
  uri: string;
  created?: string;
  fallback: boolean;
  config: Descriptor;
  layers: Descriptor[];
  manifestJson: Descriptor;
  packLayers: Descriptor[];
  /** Group k of the layout, with the descriptor of the layer that must hold it. */
  groups: Array<{ index: number; start: number; entries: number; bytes: number; layer: Descriptor }>;
}

/** An execution pack stored as an image manifest and its execution manifest, checked as one (ociVerifyExecution). */
export interface VerifiedExecutionPack {
  uri: string;
  created?: string;
  config: Descriptor;
  layers: Descriptor[];
  manifest: ExecutionManifest;
  blobs: Array<{ digest: string; size: number }>;
}
"#;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** What an index entry or an image manifest holds: a pack (pack/v1) or an execution pack (execution/v1). */
export type ArtifactType = "pack" | "execution";

/** Image manifest bytes as stored or pushed, with their digest and size. */
export interface ImageManifestBlob {
  bytes: Uint8Array;
  digest: string;
  size: number;
}

export interface OciPackManifestArgs {
  /** The pack's manifest.json blob. */
  config: Descriptor;
  /** The pack's layers in layout order. */
  layers: Descriptor[];
  uri: string;
  /** RFC 3339. */
  created: string;
  /** The OCI empty config and manifest.json as the first layer, for registries that refuse ctxpack's config type. */
  fallback?: boolean | null;
}

export interface OciExecutionManifestArgs {
  /** The execution manifest blob: its digest must be the URI's. */
  config: Descriptor;
  /** The content blobs, in first-use order. */
  blobs: Descriptor[];
  uri: string;
  created: string;
}

export interface ParsedExecutionImageManifest {
  uri: string;
  created?: string;
  config: Descriptor;
  blobs: Descriptor[];
}

/** An image manifest of either kind: `config` and `layers` are every blob it references. */
export interface ParsedImageManifest {
  artifactType: ArtifactType;
  uri: string;
  created?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ParsedPackImageManifest {
  uri: string;
  created?: string;
  /** config and layers as written (every blob referenced). */
  config: Descriptor;
  layers: Descriptor[];
  /** The manifest's artifactType (a media type). */
  artifactType: string;
  fallback: boolean;
  /** The pack's manifest.json blob. */
  manifestJson: Descriptor;
  /** The pack's archive layers, in layout order. */
  packLayers: Descriptor[];
}

export interface IndexEntry {
  uri: string;
  /** "ctx-<hex>" */
  tag: string;
  digest: string;
  size: number;
  artifactType: ArtifactType;
}
"#;

/// `{ config, layers, uri, created, fallback? }` → `{ bytes, digest, size }` of the image manifest. `config`
/// is the `manifest.json` blob and `layers` the pack's layers; with `fallback: true` the manifest uses the
/// OCI empty config (push `ociEmptyConfig().bytes` too) and carries `manifest.json` as its first layer.
#[wasm_bindgen(js_name = ociPackManifest, unchecked_return_type = "ImageManifestBlob")]
pub fn oci_pack_manifest(
    #[wasm_bindgen(unchecked_param_type = "OciPackManifestArgs")] args: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let build = || -> Result<JsValue> {
        let config = Descriptor::from_value(&value_from_js(&field(&args, "config"), "config")?, "config")?;
        let layers = descriptors_field(&args, "layers")?;
        let uri = CtxUri::parse(&string_field(&args, "uri", "args")?)?;
        let created = string_field(&args, "created", "args")?;
        let fallback = match field(&args, "fallback") {
            value if value.is_undefined() || value.is_null() => false,
            value => {
                value.as_bool().ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "must be a boolean").at("fallback"))?
            }
        };
        let bytes = if fallback {
            oci::pack_manifest_fallback(&config, &layers, &uri, &created)?
        } else {
            oci::pack_manifest(&config, &layers, &uri, &created)?
        };
        Ok(manifest_to_js(&bytes))
    };
    build().map_err(to_js_error)
}

/// `{ config, blobs, uri, created }` → `{ bytes, digest, size }` of an execution pack's image manifest.
/// `config` is the execution manifest blob (its digest must be the URI's, `CTX_URI_MISMATCH` otherwise) and
/// `blobs` the content blobs, in first-use order; media types are set by the core.
#[wasm_bindgen(js_name = ociExecutionManifest, unchecked_return_type = "ImageManifestBlob")]
pub fn oci_execution_manifest(
    #[wasm_bindgen(unchecked_param_type = "OciExecutionManifestArgs")] args: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let build = || -> Result<JsValue> {
        let config = Descriptor::from_value(&value_from_js(&field(&args, "config"), "config")?, "config")?;
        let blobs = descriptors_field(&args, "blobs")?;
        let uri = CtxUri::parse(&string_field(&args, "uri", "args")?)?;
        let created = string_field(&args, "created", "args")?;
        Ok(manifest_to_js(&oci::execution_pack_manifest(&config, &blobs, &uri, &created)?))
    };
    build().map_err(to_js_error)
}

/// `{ uri, created, config, blobs }` of an execution pack's image manifest (`created` is `undefined` when
/// not recorded).
#[wasm_bindgen(js_name = ociParseExecutionManifest, unchecked_return_type = "ParsedExecutionImageManifest")]
pub fn oci_parse_execution_manifest(bytes: &[u8]) -> std::result::Result<JsValue, JsValue> {
    let parse = || -> Result<JsValue> {
        let manifest = oci::parse_execution_pack_manifest(bytes)?;
        Ok(object(&[
            ("uri", manifest.uri.to_string().into()),
            ("created", manifest.created.map_or(JsValue::UNDEFINED, JsValue::from)),
            ("config", descriptor_to_js(&manifest.config)?),
            ("blobs", descriptors_to_js(&manifest.blobs)?.into()),
        ]))
    };
    parse().map_err(to_js_error)
}

/// `{ artifactType: "pack" | "execution", uri, created, config, layers }` of an image manifest of either
/// kind: `config` and `layers` are every blob it references, for gc and copy.
#[wasm_bindgen(js_name = ociParseManifest, unchecked_return_type = "ParsedImageManifest")]
pub fn oci_parse_manifest(bytes: &[u8]) -> std::result::Result<JsValue, JsValue> {
    let parse = || -> Result<JsValue> {
        let artifact = oci::parse_manifest(bytes)?;
        Ok(object(&[
            ("artifactType", artifact.artifact_type.name().into()),
            ("uri", artifact.uri.to_string().into()),
            ("created", artifact.created.map_or(JsValue::UNDEFINED, JsValue::from)),
            ("config", descriptor_to_js(&artifact.config)?),
            ("layers", descriptors_to_js(&artifact.layers)?.into()),
        ]))
    };
    parse().map_err(to_js_error)
}

/// `{ uri, created, config, layers, artifactType, fallback, manifestJson, packLayers }`: `config` and
/// `layers` as written (every blob referenced), `manifestJson` the pack's `manifest.json` blob and
/// `packLayers` its archive layers in layout order (`created` is `undefined` when not recorded).
#[wasm_bindgen(js_name = ociParsePackManifest, unchecked_return_type = "ParsedPackImageManifest")]
pub fn oci_parse_pack_manifest(bytes: &[u8]) -> std::result::Result<JsValue, JsValue> {
    let parse = || -> Result<JsValue> {
        let manifest = oci::parse_pack_manifest(bytes)?;
        let layers = descriptors_to_js(&manifest.layers)?;
        let pack_layers = descriptors_to_js(&manifest.pack_layers)?;
        Ok(object(&[
            ("uri", manifest.uri.to_string().into()),
            ("created", manifest.created.map_or(JsValue::UNDEFINED, JsValue::from)),
            ("config", descriptor_to_js(&manifest.config)?),
            ("layers", layers.into()),
            ("artifactType", manifest.artifact_type.into()),
            ("fallback", manifest.fallback.into()),
            ("manifestJson", descriptor_to_js(&manifest.manifest_json)?),
            ("packLayers", pack_layers.into()),
        ]))
    };
    parse().map_err(to_js_error)
}

/// A pack's identity checked once before it is tagged (`oci::verify_pack`): `manifestBytes` is its image
/// manifest (either form), `manifestJsonBytes` the `manifest.json` blob it names; options
/// `{ expectUri?, limits? }`. Returns `{ uri, created, fallback, config, layers, manifestJson, packLayers,
/// manifest, groups: [{ index, start, entries, bytes, layer }] }`: the parsed image manifest, the verified
/// `manifest.json`, and group k of the layout with `layer`, the descriptor of the blob that must hold it.
#[wasm_bindgen(js_name = ociVerifyPack, unchecked_return_type = "VerifiedPack")]
pub fn oci_verify_pack(
    #[wasm_bindgen(js_name = manifestBytes)] manifest_bytes: &[u8],
    #[wasm_bindgen(js_name = manifestJsonBytes)] manifest_json_bytes: &[u8],
    #[wasm_bindgen(unchecked_param_type = "{ expectUri?: string | null; limits?: Partial<Limits> | null } | null")]
    options: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let verify = || -> Result<JsValue> {
        let expect_uri = expect_uri_option(&options)?;
        let limits = limits_option(&options)?;
        let verified = oci::verify_pack(manifest_bytes, manifest_json_bytes, expect_uri.as_ref(), &limits)?;
        let groups = Array::new();
        for (index, (group, layer)) in verified.groups.iter().zip(&verified.oci.pack_layers).enumerate() {
            groups.push(&object(&[
                ("index", (index as f64).into()),
                ("start", (group.entries.start as f64).into()),
                ("entries", (group.entries.len() as f64).into()),
                ("bytes", (group.bytes as f64).into()),
                ("layer", descriptor_to_js(layer)?),
            ]));
        }
        let oci = &verified.oci;
        Ok(object(&[
            ("uri", oci.uri.to_string().into()),
            ("created", oci.created.clone().map_or(JsValue::UNDEFINED, JsValue::from)),
            ("fallback", oci.fallback.into()),
            ("config", descriptor_to_js(&oci.config)?),
            ("layers", descriptors_to_js(&oci.layers)?.into()),
            ("manifestJson", descriptor_to_js(&oci.manifest_json)?),
            ("packLayers", descriptors_to_js(&oci.pack_layers)?.into()),
            ("groups", groups.into()),
        ]))
    };
    verify().map_err(to_js_error)
}

/// An execution pack's identity checked once before it is tagged (`oci::verify_execution_pack`): `manifestBytes`
/// is its image manifest, `configBytes` its execution manifest; options `{ expectUri? }`. Returns `{ uri,
/// created, config, layers, manifest, blobs: [{ digest, size }] }`.
#[wasm_bindgen(js_name = ociVerifyExecution, unchecked_return_type = "VerifiedExecutionPack")]
pub fn oci_verify_execution(
    #[wasm_bindgen(js_name = manifestBytes)] manifest_bytes: &[u8],
    #[wasm_bindgen(js_name = configBytes)] config_bytes: &[u8],
    #[wasm_bindgen(unchecked_param_type = "{ expectUri?: string | null } | null")] options: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let verify = || -> Result<JsValue> {
        let expect_uri = expect_uri_option(&options)?;
        let verified = oci::verify_execution_pack(manifest_bytes, config_bytes, expect_uri.as_ref())?;
        let blobs: Array = verified
            .blobs
            .iter()
            .map(|blob| object(&[("digest", blob.digest.to_string().into()), ("size", (blob.size as f64).into())]))
            .collect();
        let oci = &verified.oci;
        Ok(object(&[
            ("uri", oci.uri.to_string().into()),
            ("created", oci.created.clone().map_or(JsValue::UNDEFINED, JsValue::from)),
            ("config", descriptor_to_js(&oci.config)?),
            ("layers", descriptors_to_js(&oci.blobs)?.into()),
            ("manifest", value_to_js(verified.manifest.value())),
            ("blobs", blobs.into()),
        ]))
    };
    verify().map_err(to_js_error)
}

/// `{ descriptor, bytes }` of the OCI empty config (`{}`), the config blob of the fallback form.
#[wasm_bindgen(js_name = ociEmptyConfig, unchecked_return_type = "{ descriptor: Descriptor & { data: string }; bytes: Uint8Array }")]
pub fn oci_empty_config() -> JsValue {
    object(&[
        ("descriptor", value_to_js(&oci::empty_config_value())),
        ("bytes", Uint8Array::from(oci::EMPTY_CONFIG_BYTES).into()),
    ])
}

/// Adds or replaces the entry of a pack or, with `artifactType` `"execution"`, an execution pack (the default
/// is `"pack"`); `indexBytes` `null` starts a new `index.json`.
#[wasm_bindgen(js_name = ociIndexAdd)]
pub fn oci_index_add(
    #[wasm_bindgen(js_name = indexBytes)] index_bytes: Option<Vec<u8>>,
    #[wasm_bindgen(unchecked_param_type = "Descriptor")] manifest: JsValue,
    uri: &str,
    #[wasm_bindgen(js_name = artifactType, unchecked_optional_param_type = "ArtifactType | null")]
    artifact_type: Option<String>,
) -> std::result::Result<Vec<u8>, JsValue> {
    let add = || -> Result<Vec<u8>> {
        let manifest = Descriptor::from_value(&value_from_js(&manifest, "manifest")?, "manifest")?;
        let kind = artifact_kind(artifact_type.as_deref())?;
        oci::index_add(index_bytes.as_deref(), &manifest, &CtxUri::parse(uri)?, kind)
    };
    add().map_err(to_js_error)
}

/// `"pack"` (also for none) or `"execution"`.
fn artifact_kind(name: Option<&str>) -> Result<ArtifactKind> {
    match name {
        None => Ok(ArtifactKind::Pack),
        Some(name) => ArtifactKind::from_name(name).ok_or_else(|| {
            Error::new(ErrorCode::JsonInvalid, format!("{name:?} is neither \"pack\" nor \"execution\""))
                .at("artifactType")
        }),
    }
}

/// `ociIndexAdd` for many entries `[{ manifest, uri, artifactType? }]` in one parse and one write: what a host
/// that records a batch of execution packs calls.
#[cfg(feature = "write")]
#[wasm_bindgen(js_name = ociIndexAddAll)]
pub fn oci_index_add_all(
    #[wasm_bindgen(js_name = indexBytes)] index_bytes: Option<Vec<u8>>,
    #[wasm_bindgen(unchecked_param_type = "Array<{ manifest: Descriptor; uri: string; artifactType?: ArtifactType }>")]
    entries: Array,
) -> std::result::Result<Vec<u8>, JsValue> {
    let add = || -> Result<Vec<u8>> {
        let mut parsed = Vec::with_capacity(entries.length() as usize);
        for (at, entry) in entries.iter().enumerate() {
            let place = format!("entries[{at}]");
            let manifest = Descriptor::from_value(&value_from_js(&field(&entry, "manifest"), &place)?, &place)?;
            let uri = CtxUri::parse(&string_field(&entry, "uri", &place)?)?;
            let kind = artifact_kind(field(&entry, "artifactType").as_string().as_deref())?;
            parsed.push((manifest, uri, kind));
        }
        let entries: Vec<_> = parsed.iter().map(|(manifest, uri, kind)| (manifest, uri, *kind)).collect();
        oci::index_add_all(index_bytes.as_deref(), &entries)
    };
    add().map_err(to_js_error)
}

#[wasm_bindgen(js_name = ociIndexRemove)]
pub fn oci_index_remove(
    #[wasm_bindgen(js_name = indexBytes)] index_bytes: &[u8],
    uri: &str,
) -> std::result::Result<Vec<u8>, JsValue> {
    CtxUri::parse(uri).and_then(|uri| oci::index_remove(index_bytes, &uri)).map_err(to_js_error)
}

/// `[{ uri, tag, digest, size, artifactType: "pack" | "execution" }]` for the packs and execution packs in
/// `index.json`.
#[wasm_bindgen(js_name = ociIndexList, unchecked_return_type = "IndexEntry[]")]
pub fn oci_index_list(#[wasm_bindgen(js_name = indexBytes)] index_bytes: &[u8]) -> std::result::Result<Array, JsValue> {
    let entries = oci::index_list(index_bytes).map_err(to_js_error)?;
    Ok(entries
        .iter()
        .map(|entry| {
            object(&[
                ("uri", entry.uri.to_string().into()),
                ("tag", entry.tag.as_str().into()),
                ("digest", entry.descriptor.digest.to_string().into()),
                ("size", (entry.descriptor.size as f64).into()),
                ("artifactType", entry.artifact_type.name().into()),
            ])
        })
        .collect())
}

pub(super) fn descriptor_to_js(descriptor: &Descriptor) -> Result<JsValue> {
    descriptor.to_value().map(|value| value_to_js(&value))
}

fn descriptors_to_js(descriptors: &[Descriptor]) -> Result<Array> {
    descriptors.iter().map(descriptor_to_js).collect()
}

/// `args[key]`: an array of OCI descriptors.
fn descriptors_field(args: &JsValue, key: &str) -> Result<Vec<Descriptor>> {
    match value_from_js(&field(args, key), key)? {
        Value::Array(items) => {
            items.iter().enumerate().map(|(i, item)| Descriptor::from_value(item, &format!("{key}[{i}]"))).collect()
        }
        _ => Err(Error::new(ErrorCode::JsonInvalid, "must be an array of descriptors").at(key)),
    }
}

/// `{ bytes, digest, size }` of image manifest bytes, what a host needs to store or push them.
pub(super) fn manifest_to_js(bytes: &[u8]) -> JsValue {
    let descriptor = Descriptor::for_blob(MEDIA_TYPE_MANIFEST, bytes);
    object(&[
        ("bytes", Uint8Array::from(bytes).into()),
        ("digest", descriptor.digest.to_string().into()),
        ("size", (descriptor.size as f64).into()),
    ])
}
