//! Every identity check of verify.rs fails with its own code, on real pack and execution manifests.

use super::super::test_support::CREATED;
use super::*;
use crate::execution::manifest::plan;
use crate::execution::{ExecutionLog, LogOptions};
use crate::tree::{Tree, TreeEntry};

const MIB: u64 = 1 << 20;

fn contract(seed: &str) -> Value {
    json!({
        "ctxpack": "contract/v1",
        "inputs": [{"name": "docs", "type": "tree", "digest": Digest::of(seed.as_bytes()).to_string()}],
        "transforms": [{"tool": "ocr", "tool_version": "1.2", "params": {"dpi": 300}}],
    })
}

/// manifest.json of a pack with `files` files of `size` bytes each (declared only: no content is needed).
fn manifest_json(seed: &str, files: usize, size: u64) -> Vec<u8> {
    let entries = (0..files)
        .map(|i| TreeEntry::file(format!("d/f-{i:03}.bin"), size, Digest::of(format!("{seed}{i}").as_bytes()), false))
        .collect();
    let tree = Tree::new(entries).unwrap();
    PackManifest::build(contract(seed), tree, json!({})).unwrap().to_bytes().unwrap()
}

/// The image manifest of that pack, with one layer descriptor per group of its layout.
fn image_manifest_of(manifest_json: &[u8], fallback: bool) -> Vec<u8> {
    let parsed = PackManifest::parse(manifest_json).unwrap();
    let groups = partition(parsed.outputs.entries()).len();
    let config = Descriptor::for_blob(MEDIA_TYPE_PACK_CONFIG, manifest_json);
    let layers: Vec<Descriptor> =
        (0..groups).map(|i| Descriptor::for_blob(MEDIA_TYPE_LAYER, format!("layer {i}").as_bytes())).collect();
    let build = if fallback { pack_manifest_fallback } else { pack_manifest };
    build(&config, &layers, &parsed.uri, CREATED).unwrap()
}

fn edited(bytes: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(bytes).unwrap();
    edit(&mut value);
    value.to_string().into_bytes()
}

fn code_and_subject(error: Error) -> (ErrorCode, Option<String>) {
    (error.code, error.subject)
}

#[test]
fn a_pack_verifies_in_both_forms_and_returns_its_layout() {
    let json = manifest_json("a", 10, 40 * MIB);
    for fallback in [false, true] {
        let oci = image_manifest_of(&json, fallback);
        let uri = PackManifest::parse(&json).unwrap().uri;
        let verified = verify_pack(&oci, &json, Some(&uri), &Limits::default()).unwrap();
        assert!(verified.groups.len() > 1, "400 MiB of files make several layers");
        assert_eq!(verified.groups.len(), verified.oci.pack_layers.len());
        assert_eq!((verified.oci.fallback, verified.manifest.uri), (fallback, uri));
        assert_eq!(verified.groups.iter().map(|g| g.entries.len()).sum::<usize>(), 10);
        assert!(verify_pack(&oci, &json, None, &Limits::default()).is_ok());
    }
}

#[test]
fn each_pack_identity_check_fails_with_its_code() {
    let json = manifest_json("a", 1, 5);
    let oci = image_manifest_of(&json, false);
    let uri = PackManifest::parse(&json).unwrap().uri;
    let other_json = manifest_json("b", 1, 5);
    let other_uri = PackManifest::parse(&other_json).unwrap().uri;
    let limits = Limits::default();
    let uri_at = Some(format!("annotations.{ANNOTATION_URI}"));

    // Not a pack's image manifest.
    let e = verify_pack(b"{}", &json, None, &limits).unwrap_err();
    assert_eq!(e.code, ErrorCode::OciInvalid);
    // The tag holds another pack.
    let e = verify_pack(&oci, &json, Some(&other_uri), &limits).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::UriMismatch, uri_at.clone()));
    // manifest.json tampered with: other bytes than the descriptor names.
    let mut tampered = json.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    let e = verify_pack(&oci, &tampered, None, &limits).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::DigestMismatch, Some("manifest.json".into())));
    let e = verify_pack(&oci, &json[..json.len() - 1], None, &limits).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::SizeMismatch, Some("manifest.json".into())));
    // The annotation names another pack than manifest.json (both consistent on their own).
    let relabelled = edited(&oci, |v| v["annotations"][ANNOTATION_URI] = json!(other_uri.to_string()));
    let e = verify_pack(&relabelled, &json, None, &limits).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::UriMismatch, uri_at));
    // manifest.json whose URI does not derive from its contract, with a descriptor that matches its bytes.
    let mut lying: Value = serde_json::from_slice(&json).unwrap();
    lying["uri"] = json!(other_uri.to_string());
    let lying = jcs::canonicalize(&lying).unwrap();
    let config = Descriptor::for_blob(MEDIA_TYPE_PACK_CONFIG, &lying);
    let layer = Descriptor::for_blob(MEDIA_TYPE_LAYER, b"layer");
    let lying_oci = pack_manifest(&config, std::slice::from_ref(&layer), &other_uri, CREATED).unwrap();
    let e = verify_pack(&lying_oci, &lying, None, &limits).unwrap_err();
    assert_eq!(e.code, ErrorCode::UriMismatch);
    // Limits: manifest size and declared outputs.
    let small = Limits { max_manifest_bytes: 10, ..limits };
    assert_eq!(verify_pack(&oci, &json, None, &small).unwrap_err().code, ErrorCode::LimitExceeded);
    let few = Limits { max_entries: 0, ..limits };
    assert_eq!(verify_pack(&oci, &json, None, &few).unwrap_err().code, ErrorCode::LimitExceeded);
    // One layer more than the layout.
    let config = Descriptor::for_blob(MEDIA_TYPE_PACK_CONFIG, &json);
    let two = pack_manifest(&config, &[layer.clone(), layer], &uri, CREATED).unwrap();
    let e = verify_pack(&two, &json, None, &limits).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::OciInvalid, Some("layers".into())));
}

#[test]
fn a_multi_layer_pack_with_too_few_or_reordered_layers_is_refused() {
    let json = manifest_json("a", 10, 40 * MIB);
    let oci = image_manifest_of(&json, false);
    let limits = Limits::default();
    let dropped = edited(&oci, |v| {
        v["layers"].as_array_mut().unwrap().pop();
    });
    let e = verify_pack(&dropped, &json, None, &limits).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::OciInvalid, Some("layers".into())));
    let swapped = edited(&oci, |v| v["layers"].as_array_mut().unwrap().swap(0, 1));
    let e = verify_pack(&swapped, &json, None, &limits).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::OciInvalid, Some("layers[0]".into())));
    // The fallback form counts its positions after manifest.json.
    let fallback = image_manifest_of(&json, true);
    let swapped = edited(&fallback, |v| v["layers"].as_array_mut().unwrap().swap(1, 2));
    let e = verify_pack(&swapped, &json, None, &limits).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::OciInvalid, Some("layers[1]".into())));
}

fn execution_log(note: &str) -> Vec<u8> {
    let text = include_str!("../../tests/fixtures/execution/tool-heavy-agent.json");
    let mut value: Value = serde_json::from_str(text).unwrap();
    value["model"]["identifier"] = json!(format!("model-{note}"));
    value.to_string().into_bytes()
}

/// The execution manifest bytes, and the descriptors of its blobs.
fn execution(note: &str) -> (Vec<u8>, Vec<Descriptor>) {
    let plan = plan(&ExecutionLog::parse(&execution_log(note), LogOptions::default()).unwrap()).unwrap();
    let blobs = plan.blobs.iter().map(|b| Descriptor::for_blob(MEDIA_TYPE_BLOB, &b.bytes)).collect();
    (plan.bytes, blobs)
}

fn execution_image(config: &[u8], blobs: &[Descriptor]) -> Vec<u8> {
    let descriptor = Descriptor::for_blob(MEDIA_TYPE_EXECUTION_CONFIG, config);
    let uri = CtxUri::from_digest(descriptor.digest);
    execution_pack_manifest(&descriptor, blobs, &uri, CREATED).unwrap()
}

#[test]
fn an_execution_pack_verifies_and_names_its_blobs() {
    let (config, blobs) = execution("a");
    let oci = execution_image(&config, &blobs);
    let uri = CtxUri::from_digest(Digest::of(&config));
    let verified = verify_execution_pack(&oci, &config, Some(&uri)).unwrap();
    assert_eq!(verified.manifest.uri, uri);
    assert_eq!(
        verified.blobs.iter().map(|b| b.digest).collect::<Vec<_>>(),
        blobs.iter().map(|b| b.digest).collect::<Vec<_>>()
    );
    // Layers in another order are the same set of blobs.
    let mut reversed = blobs.clone();
    reversed.reverse();
    assert!(verify_execution_pack(&execution_image(&config, &reversed), &config, None).is_ok());
}

#[test]
fn each_execution_identity_check_fails_with_its_code() {
    let (config, blobs) = execution("a");
    let (other_config, _) = execution("b");
    let oci = execution_image(&config, &blobs);
    let other_uri = CtxUri::from_digest(Digest::of(&other_config));
    assert!(blobs.len() >= 2);

    // The config digest is not the URI.
    let relabelled = edited(&oci, |v| v["annotations"][ANNOTATION_URI] = json!(other_uri.to_string()));
    let e = verify_execution_pack(&relabelled, &config, None).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::UriMismatch, Some("config.digest".into())));
    // The tag holds another execution pack.
    let e = verify_execution_pack(&oci, &config, Some(&other_uri)).unwrap_err();
    assert_eq!(e.code, ErrorCode::UriMismatch);
    // Config bytes that are not the descriptor's.
    let e = verify_execution_pack(&oci, &other_config, None).unwrap_err();
    assert!(matches!(e.code, ErrorCode::DigestMismatch | ErrorCode::SizeMismatch), "{e:?}");
    // A config that is not an execution manifest, though it is the URI's preimage.
    let bogus = b"{\"not\":\"an execution\"}";
    let e = verify_execution_pack(&execution_image(bogus, &blobs), bogus, None).unwrap_err();
    assert_eq!(e.code, ErrorCode::ManifestInvalid);
    // A blob missing, one extra, one of another size, one twice.
    let e = verify_execution_pack(&execution_image(&config, &blobs[1..]), &config, None).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::OciInvalid, Some("layers".into())));
    let mut extra = blobs.clone();
    extra.push(Descriptor::for_blob(MEDIA_TYPE_BLOB, b"nobody names me"));
    let e = verify_execution_pack(&execution_image(&config, &extra), &config, None).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::OciInvalid, Some(format!("layers[{}]", blobs.len()))));
    let mut resized = blobs.clone();
    resized[0].size += 1;
    let e = verify_execution_pack(&execution_image(&config, &resized), &config, None).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::OciInvalid, Some("layers[0].size".into())));
    let mut twice = blobs.clone();
    twice.push(blobs[0].clone());
    let e = verify_execution_pack(&execution_image(&config, &twice), &config, None).unwrap_err();
    assert_eq!(code_and_subject(e), (ErrorCode::OciInvalid, Some(format!("layers[{}]", blobs.len()))));
}
