//! An execution pack as an OCI image manifest (spec §10, §11): its execution manifest as the config, whose
//! digest is the URI, and its content blobs as layers.

use super::*;

/// What ctxpack reads back from an execution pack's image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionPackOciManifest {
    pub uri: CtxUri,
    /// `org.opencontainers.image.created`, when the producer recorded it.
    pub created: Option<String>,
    /// The execution manifest blob; its digest is the URI's.
    pub config: Descriptor,
    /// The content blobs, in the order written.
    pub blobs: Vec<Descriptor>,
}

/// The image manifest of an execution pack, in canonical JSON: `config` is the execution manifest blob
/// (whose digest must be the URI's, `CTX_URI_MISMATCH` otherwise) and `blobs` its content blobs in the
/// order given. Media types are set here, so hosts need only digests and sizes.
pub fn execution_pack_manifest(
    config: &Descriptor,
    blobs: &[Descriptor],
    uri: &CtxUri,
    created: &str,
) -> Result<Vec<u8>> {
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

/// Reads and checks an execution pack's image manifest, whoever wrote it. The config's digest must be the
/// URI's (`CTX_URI_MISMATCH`); the blobs themselves are not read here.
pub fn parse_execution_pack_manifest(bytes: &[u8]) -> Result<ExecutionPackOciManifest> {
    execution_pack_manifest_from_value(&parse_image_manifest(bytes)?)
}

pub(super) fn execution_pack_manifest_from_value(manifest: &Value) -> Result<ExecutionPackOciManifest> {
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
    Ok(ExecutionPackOciManifest { uri, created, config, blobs })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn execution_manifest_is_canonical_and_complete() {
        let (config, uri) = execution_config("x");
        // Hosts may pass any media types: the core sets them.
        let untyped = |d: &Descriptor| Descriptor { media_type: "application/octet-stream".into(), ..d.clone() };
        let given: Vec<Descriptor> = blobs(2).iter().map(untyped).collect();
        let bytes = execution_pack_manifest(&untyped(&config), &given, &uri, CREATED).unwrap();
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
        assert_eq!(parsed, ExecutionPackOciManifest { uri, created: Some(CREATED.into()), config, blobs: blobs(2) });
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
        let e = execution_pack_manifest(&config, &blobs(1), &other, CREATED).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::UriMismatch, Some("config.digest")));
        let e = execution_pack_manifest(&config, &[], &uri, CREATED).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::OciInvalid, Some("blobs")));
        let e = execution_pack_manifest(&config, &blobs(1), &uri, "yesterday").unwrap_err();
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
            assert_eq!(parse_execution_pack_manifest(text).unwrap_err().code, ErrorCode::OciInvalid);
        }
    }
}
