//! A signature as an OCI artifact that refers to its pack (OCI 1.1): an image manifest whose `subject` is the
//! pack's image manifest, `artifactType` the DSSE envelope type, config the OCI empty descriptor, and one layer,
//! the envelope. Registries and layouts keep it beside the pack; `referrers` lists it.

use super::*;

/// The `artifactType` of a signature manifest and the media type of its one layer.
pub const ARTIFACT_TYPE_SIGNATURE: &str = "application/vnd.dsse.envelope.v1+json";
/// The signer's key id, on the signature manifest (and so on its referrers index entry).
pub const ANNOTATION_KEYID: &str = "dev.ctxpack.signature.keyid";

/// What a signature manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureManifest {
    /// The signed pack's image manifest.
    pub subject: Descriptor,
    /// The envelope blob.
    pub envelope: Descriptor,
    pub keyid: Option<String>,
    pub created: Option<String>,
}

/// The signature manifest (JCS) of an envelope over the pack whose image manifest is `subject`.
pub fn signature_manifest(subject: &Descriptor, envelope: &[u8], keyid: &str, created: &str) -> Result<Vec<u8>> {
    check_rfc3339(created)?;
    if subject.media_type != MEDIA_TYPE_MANIFEST {
        return Err(invalid(format!("a signature's subject is a pack's image manifest, not {:?}", subject.media_type))
            .at("subject.mediaType"));
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_MANIFEST,
        "artifactType": ARTIFACT_TYPE_SIGNATURE,
        "config": empty_config_value(),
        "layers": [Descriptor::for_blob(ARTIFACT_TYPE_SIGNATURE, envelope).to_value()?],
        "subject": subject.to_value()?,
        "annotations": { ANNOTATION_KEYID: keyid, ANNOTATION_CREATED: created },
    });
    jcs::canonicalize(&manifest)
}

/// Reads a signature manifest: the right artifact type, the empty config, exactly one envelope layer, a subject.
pub fn parse_signature_manifest(bytes: &[u8]) -> Result<SignatureManifest> {
    let manifest = parse_image_manifest(bytes)?;
    if manifest.get("artifactType").and_then(Value::as_str) != Some(ARTIFACT_TYPE_SIGNATURE) {
        return Err(
            invalid(format!("a signature manifest has artifactType {ARTIFACT_TYPE_SIGNATURE}")).at("artifactType")
        );
    }
    if manifest_config(&manifest)?.media_type != MEDIA_TYPE_EMPTY_CONFIG {
        return Err(invalid(format!("must be {MEDIA_TYPE_EMPTY_CONFIG}")).at("config.mediaType"));
    }
    let layers = manifest_layers(&manifest)?;
    let [envelope] = <[Descriptor; 1]>::try_from(layers)
        .map_err(|_| invalid("a signature manifest has exactly one layer, the envelope").at("layers"))?;
    if envelope.media_type != ARTIFACT_TYPE_SIGNATURE {
        return Err(invalid(format!("must be {ARTIFACT_TYPE_SIGNATURE}")).at("layers[0].mediaType"));
    }
    let subject = Descriptor::from_value(manifest.get("subject").unwrap_or(&Value::Null), "subject")?;
    let annotations = match manifest.get("annotations") {
        None => BTreeMap::new(),
        Some(value) => string_map(value, "annotations")?,
    };
    Ok(SignatureManifest {
        subject,
        envelope,
        keyid: annotations.get(ANNOTATION_KEYID).cloned(),
        created: annotations.get(ANNOTATION_CREATED).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn a_signature_manifest_refers_to_its_pack_and_round_trips() {
        let subject = manifest_descriptor("pack");
        let bytes = signature_manifest(&subject, b"{\"envelope\":1}", "sha256:aa", CREATED).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["config"]["mediaType"], MEDIA_TYPE_EMPTY_CONFIG);
        assert_eq!(value["subject"]["digest"], subject.digest.to_string());
        let parsed = parse_signature_manifest(&bytes).unwrap();
        assert_eq!(parsed.subject, subject);
        assert_eq!(parsed.envelope, Descriptor::for_blob(ARTIFACT_TYPE_SIGNATURE, b"{\"envelope\":1}"));
        assert_eq!((parsed.keyid.as_deref(), parsed.created.as_deref()), (Some("sha256:aa"), Some(CREATED)));
        // A pack manifest is not a signature, and a signature needs its subject.
        let pack = serde_json::to_vec(&manifest_value()).unwrap();
        assert_eq!(parse_signature_manifest(&pack).unwrap_err().subject.as_deref(), Some("artifactType"));
        let mut orphan = value.clone();
        orphan.as_object_mut().unwrap().remove("subject");
        let error = parse_signature_manifest(orphan.to_string().as_bytes()).unwrap_err();
        assert_eq!((error.code, error.subject.as_deref()), (ErrorCode::OciInvalid, Some("subject")));
    }
}
