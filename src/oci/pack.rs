//! A pack as an OCI image manifest (spec §10): its `manifest.json` as the config, its archive layers as
//! layers, and the fallback form (empty config, `manifest.json` first) for registries that refuse custom
//! config types.

use super::*;

/// The annotation of a pack layer's descriptor that holds its block index (spec §10): a hint for reading one
/// file without the rest of the layer, never part of the pack's identity.
pub const ANNOTATION_BLOCKS: &str = "dev.ctxpack.blocks";

/// The block index a layer descriptor carries, if any.
pub fn block_index(layer: &Descriptor) -> Option<&str> {
    layer.annotations.get(ANNOTATION_BLOCKS).map(String::as_str)
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

/// Reads and checks a pack's image manifest, whoever wrote it (ctxpack, a registry, `oras push`).
pub fn parse_pack_manifest(bytes: &[u8]) -> Result<PackOciManifest> {
    pack_manifest_from_value(&parse_image_manifest(bytes)?)
}

pub(super) fn pack_manifest_from_value(manifest: &Value) -> Result<PackOciManifest> {
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

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

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
    fn block_indexes_stay_on_their_layers_in_both_forms() {
        let mut indexed = layers(2);
        indexed[1].annotations.insert(ANNOTATION_BLOCKS.into(), "AQI=".into());
        for fallback in [false, true] {
            let bytes = if fallback {
                pack_manifest_fallback(&config(), &indexed, &uri("a"), CREATED).unwrap()
            } else {
                pack_manifest(&config(), &indexed, &uri("a"), CREATED).unwrap()
            };
            let parsed = parse_pack_manifest(&bytes).unwrap();
            assert_eq!(parsed.pack_layers.iter().map(block_index).collect::<Vec<_>>(), [None, Some("AQI=")]);
        }
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
}
