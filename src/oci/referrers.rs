//! The referrers of a manifest as an image index (OCI 1.1): what the referrers API answers, and what the
//! referrers tag schema stores under the tag `sha256-<hex>` on registries without that API (and in layouts).
//! Updating it keeps every entry it already has: another signer's signature must never be dropped.

use super::*;

/// One referrer listed in a referrers index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub descriptor: Descriptor,
    pub artifact_type: Option<String>,
}

/// The tag of the referrers tag schema for a subject: `sha256-<hex>`.
pub fn referrers_tag(subject: &Digest) -> String {
    format!("sha256-{}", subject.hex())
}

/// The referrers index with `referrer` (a manifest's descriptor) added, its `artifactType` and annotations
/// copied into the entry as the OCI spec asks. `None` starts an empty index. Entries already there are kept as
/// they are (other tools' too); the same manifest is not listed twice.
pub fn referrers_index_add(index: Option<&[u8]>, referrer: &Descriptor, artifact_type: &str) -> Result<Vec<u8>> {
    let mut index = match index {
        Some(bytes) => parse_referrers(bytes)?,
        None => json!({ "schemaVersion": 2, "mediaType": MEDIA_TYPE_INDEX, "manifests": [] }),
    };
    let digest = referrer.digest.to_string();
    let entries = index["manifests"].as_array_mut().expect("parse_referrers checked manifests");
    if !entries.iter().any(|entry| entry.get("digest").and_then(Value::as_str) == Some(digest.as_str())) {
        let mut entry = referrer.to_value()?;
        entry["artifactType"] = artifact_type.into();
        entries.push(entry);
    }
    jcs::canonicalize(&index)
}

/// The referrers an index lists, optionally only those of one artifact type. Entries that are not descriptors
/// of sha256 manifests (other tools') are skipped, not errors: one bad entry must not hide the others.
pub fn referrers_list(index: &[u8], artifact_type: Option<&str>) -> Result<Vec<Referrer>> {
    let index = parse_referrers(index)?;
    let mut referrers = Vec::new();
    for (i, entry) in index["manifests"].as_array().into_iter().flatten().enumerate() {
        let Ok(descriptor) = Descriptor::from_value(entry, &format!("manifests[{i}]")) else { continue };
        let entry_type = entry.get("artifactType").and_then(Value::as_str).map(str::to_string);
        if artifact_type.is_none_or(|wanted| entry_type.as_deref() == Some(wanted)) {
            referrers.push(Referrer { descriptor, artifact_type: entry_type });
        }
    }
    Ok(referrers)
}

fn parse_referrers(bytes: &[u8]) -> Result<Value> {
    let index = parse_document(bytes, "referrers index")?;
    expect_header(&index, MEDIA_TYPE_INDEX)?;
    if !index.get("manifests").is_some_and(Value::is_array) {
        return Err(invalid("must be an array of descriptors").at("manifests"));
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn adding_keeps_every_existing_referrer() {
        let first = manifest_descriptor("sig 1");
        let second = manifest_descriptor("sig 2");
        let index = referrers_index_add(None, &first, "application/vnd.dsse.envelope.v1+json").unwrap();
        // Another tool's referrer, with fields ctxpack does not know, stays as written.
        let mut value: Value = serde_json::from_slice(&index).unwrap();
        value["manifests"].as_array_mut().unwrap().push(json!({
            "mediaType": MEDIA_TYPE_MANIFEST, "digest": Digest::of(b"sbom").to_string(), "size": 4,
            "artifactType": "application/spdx+json", "platform": {"os": "linux"}
        }));
        let index = referrers_index_add(Some(value.to_string().as_bytes()), &second, ARTIFACT_TYPE_SIGNATURE).unwrap();
        let index = referrers_index_add(Some(&index), &first, ARTIFACT_TYPE_SIGNATURE).unwrap();
        let all = referrers_list(&index, None).unwrap();
        assert_eq!(
            all.iter().map(|r| r.descriptor.digest).collect::<Vec<_>>(),
            vec![first.digest, Digest::of(b"sbom"), second.digest]
        );
        let signatures = referrers_list(&index, Some(ARTIFACT_TYPE_SIGNATURE)).unwrap();
        assert_eq!(signatures.len(), 2);
        assert!(String::from_utf8(index).unwrap().contains("\"platform\":{\"os\":\"linux\"}"));
        assert_eq!(referrers_tag(&Digest::of(b"x")), format!("sha256-{}", Digest::of(b"x").hex()));
        assert_eq!(referrers_list(b"{\"schemaVersion\":2}", None).unwrap_err().subject.as_deref(), Some("manifests"));
    }
}
