//! The OCI mapping for JavaScript: pack image manifests and `index.json` edits.

use super::{field, object, string_field, to_js_error, value_from_js, value_to_js};
use crate::error::{Error, ErrorCode, Result};
use crate::oci::{self, Descriptor, MEDIA_TYPE_MANIFEST};
use crate::uri::CtxUri;
use js_sys::{Array, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;

/// `{ config, layers, uri, created, fallback? }` → `{ bytes, digest, size }` of the image manifest. `config`
/// is the `manifest.json` blob and `layers` the pack's layers; with `fallback: true` the manifest uses the
/// OCI empty config (push `ociEmptyConfig().bytes` too) and carries `manifest.json` as its first layer.
#[wasm_bindgen(js_name = ociPackManifest)]
pub fn oci_pack_manifest(args: JsValue) -> std::result::Result<JsValue, JsValue> {
    let build = || -> Result<JsValue> {
        let config = Descriptor::from_value(&value_from_js(&field(&args, "config"), "config")?, "config")?;
        let layers = match value_from_js(&field(&args, "layers"), "layers")? {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| Descriptor::from_value(item, &format!("layers[{i}]")))
                .collect::<Result<Vec<_>>>()?,
            _ => return Err(Error::new(ErrorCode::JsonInvalid, "must be an array of descriptors").at("layers")),
        };
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
        let descriptor = Descriptor::for_blob(MEDIA_TYPE_MANIFEST, &bytes);
        Ok(object(&[
            ("bytes", Uint8Array::from(bytes.as_slice()).into()),
            ("digest", descriptor.digest.to_string().into()),
            ("size", (descriptor.size as f64).into()),
        ]))
    };
    build().map_err(to_js_error)
}

/// `{ uri, created, config, layers, artifactType, fallback, manifestJson, packLayers }`: `config` and
/// `layers` as written (every blob referenced), `manifestJson` the pack's `manifest.json` blob and
/// `packLayers` its archive layers in layout order (`created` is `undefined` when not recorded).
#[wasm_bindgen(js_name = ociParsePackManifest)]
pub fn oci_parse_pack_manifest(bytes: &[u8]) -> std::result::Result<JsValue, JsValue> {
    let parse = || -> Result<JsValue> {
        let manifest = oci::parse_pack_manifest(bytes)?;
        let layers = manifest.layers.iter().map(descriptor_to_js).collect::<Result<Array>>()?;
        let pack_layers = manifest.pack_layers.iter().map(descriptor_to_js).collect::<Result<Array>>()?;
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

/// `{ descriptor, bytes }` of the OCI empty config (`{}`), the config blob of the fallback form.
#[wasm_bindgen(js_name = ociEmptyConfig)]
pub fn oci_empty_config() -> JsValue {
    object(&[
        ("descriptor", value_to_js(&oci::empty_config_value())),
        ("bytes", Uint8Array::from(oci::EMPTY_CONFIG_BYTES).into()),
    ])
}

/// Adds or replaces the pack's entry; `indexBytes` `null` starts a new `index.json`.
#[wasm_bindgen(js_name = ociIndexAdd)]
pub fn oci_index_add(
    index_bytes: Option<Vec<u8>>,
    manifest: JsValue,
    uri: &str,
) -> std::result::Result<Vec<u8>, JsValue> {
    let add = || -> Result<Vec<u8>> {
        let manifest = Descriptor::from_value(&value_from_js(&manifest, "manifest")?, "manifest")?;
        oci::index_add(index_bytes.as_deref(), &manifest, &CtxUri::parse(uri)?)
    };
    add().map_err(to_js_error)
}

#[wasm_bindgen(js_name = ociIndexRemove)]
pub fn oci_index_remove(index_bytes: &[u8], uri: &str) -> std::result::Result<Vec<u8>, JsValue> {
    CtxUri::parse(uri).and_then(|uri| oci::index_remove(index_bytes, &uri)).map_err(to_js_error)
}

/// `[{ uri, tag, digest, size }]` for the packs in `index.json`.
#[wasm_bindgen(js_name = ociIndexList)]
pub fn oci_index_list(index_bytes: &[u8]) -> std::result::Result<Array, JsValue> {
    let entries = oci::index_list(index_bytes).map_err(to_js_error)?;
    Ok(entries
        .iter()
        .map(|entry| {
            object(&[
                ("uri", entry.uri.to_string().into()),
                ("tag", entry.tag.as_str().into()),
                ("digest", entry.descriptor.digest.to_string().into()),
                ("size", (entry.descriptor.size as f64).into()),
            ])
        })
        .collect())
}

fn descriptor_to_js(descriptor: &Descriptor) -> Result<JsValue> {
    descriptor.to_value().map(|value| value_to_js(&value))
}
