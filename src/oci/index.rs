//! The `index.json` of an OCI image layout: one entry per pack or execution pack, named `ctx-<hex>` and
//! recording its kind; entries other tools wrote are kept.

use super::*;

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

/// Adds (or replaces, by ref name) the entry of a pack or an execution pack in `index.json`, recording its
/// kind as the entry's `artifactType`; `None` starts an empty index. Entries ctxpack did not write (other
/// images, entries added by skopeo) are kept as they are.
pub fn index_add(
    index: Option<&[u8]>,
    manifest: &Descriptor,
    uri: &CtxUri,
    artifact_type: ArtifactKind,
) -> Result<Vec<u8>> {
    index_add_all(index, &[(manifest, uri, artifact_type)])
}

/// [`index_add`] for many entries, in order, with one parse and one write (a batch of execution packs).
pub fn index_add_all(index: Option<&[u8]>, entries: &[(&Descriptor, &CtxUri, ArtifactKind)]) -> Result<Vec<u8>> {
    let mut index = index_or_new(index)?;
    for &(manifest, uri, artifact_type) in entries {
        if manifest.media_type != MEDIA_TYPE_MANIFEST {
            return Err(invalid(format!(
                "an index entry for a {} must be an image manifest, not {:?}",
                artifact_type.name(),
                manifest.media_type
            ))
            .at("mediaType"));
        }
        let tag = uri.tag();
        let mut entry = manifest.clone();
        entry.annotations.insert(ANNOTATION_REF_NAME.into(), tag.clone());
        entry.annotations.insert(ANNOTATION_URI.into(), uri.to_string());
        let mut entry = entry.to_value()?;
        entry["artifactType"] = artifact_type.artifact_type().into();
        put_entry(&mut index, &tag, entry);
    }
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

/// Points the layout's `sha256-<hex>` ref name (the referrers tag schema) at the referrers index of the manifest
/// `subject`, replacing the previous one; the blobs it reaches stay reachable for gc through this entry.
pub fn index_set_referrers(index: Option<&[u8]>, referrers: &Descriptor, subject: &Digest) -> Result<Vec<u8>> {
    if referrers.media_type != MEDIA_TYPE_INDEX {
        return Err(
            invalid(format!("a referrers entry is an image index, not {:?}", referrers.media_type)).at("mediaType")
        );
    }
    let mut index = index_or_new(index)?;
    let tag = super::referrers_tag(subject);
    let mut entry = referrers.clone();
    entry.annotations.insert(ANNOTATION_REF_NAME.into(), tag.clone());
    put_entry(&mut index, &tag, entry.to_value()?);
    jcs::canonicalize(&index)
}

/// Drops the `sha256-<hex>` entry of `subject` (when its pack leaves the layout, its signatures go with it at the
/// next gc); an absent entry is not an error.
pub fn index_remove_referrers(index: &[u8], subject: &Digest) -> Result<Vec<u8>> {
    let mut index = parse_index(index)?;
    let tag = super::referrers_tag(subject);
    manifests_mut(&mut index).retain(|e| ref_name(e) != Some(tag.as_str()));
    jcs::canonicalize(&index)
}

/// The layout's referrers indexes: every entry named `sha256-<hex>`, with the subject it names.
pub fn index_referrers(index: &[u8]) -> Result<Vec<(Digest, Descriptor)>> {
    let index = parse_index(index)?;
    let mut found = Vec::new();
    for (i, entry) in index["manifests"].as_array().into_iter().flatten().enumerate() {
        let Some(subject) =
            ref_name(entry).and_then(|tag| tag.strip_prefix("sha256-")).and_then(|hex| Digest::from_hex(hex).ok())
        else {
            continue;
        };
        found.push((subject, Descriptor::from_value(entry, &format!("manifests[{i}]"))?));
    }
    Ok(found)
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

/// The parsed `index.json`, or an empty one.
fn index_or_new(index: Option<&[u8]>) -> Result<Value> {
    match index {
        Some(bytes) => parse_index(bytes),
        None => Ok(json!({ "schemaVersion": 2, "mediaType": MEDIA_TYPE_INDEX, "manifests": [] })),
    }
}

/// Puts `entry` under the ref name `tag`: in place of the entries of that name (so re-adding keeps the order of
/// index.json stable), else at the end.
fn put_entry(index: &mut Value, tag: &str, entry: Value) {
    let entries = manifests_mut(index);
    let position = entries.iter().position(|e| ref_name(e) == Some(tag));
    entries.retain(|e| ref_name(e) != Some(tag));
    entries.insert(position.unwrap_or(entries.len()), entry);
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

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn adding_many_at_once_is_adding_them_one_by_one() {
        let start = index_add(None, &manifest_descriptor("m1"), &uri("a"), ArtifactKind::Pack).unwrap();
        let start = index_add(Some(&start), &manifest_descriptor("m2"), &uri("b"), ArtifactKind::Pack).unwrap();
        let batch = [
            (manifest_descriptor("e1"), uri("c"), ArtifactKind::ExecutionPack),
            (manifest_descriptor("m2-again"), uri("b"), ArtifactKind::Pack),
            (manifest_descriptor("e2"), uri("d"), ArtifactKind::ExecutionPack),
            (manifest_descriptor("e1-again"), uri("c"), ArtifactKind::ExecutionPack),
        ];
        let one_by_one = batch
            .iter()
            .fold(start.clone(), |index, (manifest, uri, kind)| index_add(Some(&index), manifest, uri, *kind).unwrap());
        let entries: Vec<_> = batch.iter().map(|(manifest, uri, kind)| (manifest, uri, *kind)).collect();
        assert_eq!(index_add_all(Some(&start), &entries).unwrap(), one_by_one);
        let tags: Vec<_> = index_list(&one_by_one).unwrap().into_iter().map(|e| e.uri).collect();
        assert_eq!(tags, vec![uri("a"), uri("b"), uri("c"), uri("d")]);
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
    fn referrers_entries_are_set_by_subject_and_listed() {
        let subject = Digest::of(b"pack manifest");
        let first = Descriptor::for_blob(MEDIA_TYPE_INDEX, b"referrers 1");
        let second = Descriptor::for_blob(MEDIA_TYPE_INDEX, b"referrers 2");
        let index = index_add(None, &manifest_descriptor("m1"), &uri("a"), ArtifactKind::Pack).unwrap();
        let index = index_set_referrers(Some(&index), &first, &subject).unwrap();
        let index = index_set_referrers(Some(&index), &second, &subject).unwrap();
        let listed = index_referrers(&index).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].0, listed[0].1.digest), (subject, second.digest));
        // The packs' listing is untouched by referrers entries.
        assert_eq!(index_list(&index).unwrap().len(), 1);
        let removed = index_remove_referrers(&index, &subject).unwrap();
        assert!(index_referrers(&removed).unwrap().is_empty());
        assert_eq!(index_list(&removed).unwrap().len(), 1);
        assert_eq!(index_remove_referrers(&removed, &subject).unwrap(), removed);
        let wrong = index_set_referrers(Some(&index), &manifest_descriptor("m"), &subject).unwrap_err();
        assert_eq!(wrong.subject.as_deref(), Some("mediaType"));
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

    #[test]
    fn index_records_and_lists_both_kinds() {
        let (_, execution) = execution_config("x");
        let index = index_add(None, &manifest_descriptor("p"), &uri("a"), ArtifactKind::Pack).unwrap();
        let index =
            index_add(Some(&index), &manifest_descriptor("e"), &execution, ArtifactKind::ExecutionPack).unwrap();
        let value: Value = serde_json::from_slice(&index).unwrap();
        assert_eq!(value["manifests"][0]["artifactType"], ARTIFACT_TYPE_PACK);
        assert_eq!(value["manifests"][1]["artifactType"], ARTIFACT_TYPE_EXECUTION);
        let listed: Vec<(CtxUri, ArtifactKind)> =
            index_list(&index).unwrap().into_iter().map(|e| (e.uri, e.artifact_type)).collect();
        assert_eq!(listed, vec![(uri("a"), ArtifactKind::Pack), (execution, ArtifactKind::ExecutionPack)]);
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
}
