//! Checks the Rust core against every vector of docs/spec-vectors.json (generated independently by
//! docs/vectors/gen_vectors.py), so the spec, the reference model and the core cannot drift apart.

use ctxpack::contract::{self, Contract, InputKind, Need, ResolvedInput};
use ctxpack::manifest::PackManifest;
use ctxpack::oci::{self, Descriptor};
use ctxpack::tree::{Tree, TreeEntry};
use ctxpack::{jcs, path, CtxUri, Digest, Error, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn vectors(section: &str) -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/spec-vectors.json");
    let text = std::fs::read_to_string(path).expect("docs/spec-vectors.json is readable");
    let all: Value = serde_json::from_str(&text).expect("docs/spec-vectors.json is JSON");
    let items = all[section].as_array().unwrap_or_else(|| panic!("section {section:?} is missing")).clone();
    assert!(!items.is_empty(), "section {section:?} is empty");
    items
}

fn text<'a>(vector: &'a Value, key: &str) -> &'a str {
    vector[key].as_str().unwrap_or_else(|| panic!("{key:?} is not a string in {vector}"))
}

fn canonical(value: &Value) -> String {
    String::from_utf8(jcs::canonicalize(value).unwrap()).unwrap()
}

/// A tree entry in the JS API's shape; `path_hex` stands for a name the host could not decode.
fn tree_entry(entry: &Value) -> Result<TreeEntry> {
    let path = match entry.get("path_hex") {
        Some(hex) => {
            let hex = hex.as_str().unwrap();
            let bytes: Vec<u8> =
                (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
            path::from_bytes(&bytes)?.to_string()
        }
        None => text(entry, "path").to_string(),
    };
    Ok(match text(entry, "type") {
        "file" => TreeEntry::file(
            path,
            entry["size"].as_u64().unwrap(),
            Digest::parse(text(entry, "digest")).unwrap(),
            entry["executable"].as_bool().unwrap(),
        ),
        "symlink" => TreeEntry::symlink(path, text(entry, "target")),
        other => panic!("unknown entry type {other}"),
    })
}

fn tree(entries: &Value) -> Result<Tree> {
    Tree::new(entries.as_array().unwrap().iter().map(tree_entry).collect::<Result<Vec<_>>>()?)
}

/// `{ inputs: {name: {type, digest}}, code: {"<index>": digest} }`, as resolveContract takes it.
fn resolutions(value: &Value) -> (BTreeMap<String, ResolvedInput>, BTreeMap<usize, Digest>) {
    let inputs = value["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, answer)| {
            let kind = InputKind::parse(text(answer, "type")).unwrap();
            (name.clone(), ResolvedInput { kind, digest: Digest::parse(text(answer, "digest")).unwrap() })
        })
        .collect();
    let code = value["code"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(index, digest)| (index.parse().unwrap(), Digest::parse(digest.as_str().unwrap()).unwrap()))
        .collect();
    (inputs, code)
}

fn resolve(contract_text: &str, answers: &Value) -> Result<contract::ResolvedContract> {
    let (inputs, code) = resolutions(answers);
    Contract::parse(contract_text.as_bytes())?.resolve(&inputs, &code)
}

/// A plan in the JS API's shape, to compare with the vector's.
fn plan_value(contract: &Contract) -> Value {
    let plan = contract.plan();
    let needs: Vec<Value> = plan
        .needs
        .iter()
        .map(|need| match need {
            Need::Input { name, path } => json!({"kind": "input", "name": name, "path": path}),
            Need::Code { transform, path } => json!({"kind": "code", "transform": transform, "path": path}),
        })
        .collect();
    let outputs: Vec<Value> = plan.outputs.iter().map(|o| json!({"path": o.path})).collect();
    json!({"needs": needs, "outputs": outputs})
}

#[test]
fn canonical_json() {
    for v in vectors("jcs") {
        let parsed = jcs::parse(text(&v, "input").as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
        assert_eq!(canonical(&parsed), text(&v, "canonical"), "{}", v["name"]);
    }
}

#[test]
fn file_digests() {
    for v in vectors("file_digests") {
        let hex = text(&v, "content_hex");
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        assert_eq!(Digest::of(&bytes).to_string(), text(&v, "digest"), "{}", v["name"]);
    }
}

#[test]
fn uris_and_tags() {
    for v in vectors("uris") {
        let uri = CtxUri::parse(text(&v, "uri")).unwrap();
        assert_eq!(uri.to_string(), text(&v, "uri"));
        assert_eq!(uri.tag(), text(&v, "tag"));
        assert_eq!(CtxUri::from_tag(text(&v, "tag")).unwrap(), uri);
    }
}

#[test]
fn tree_documents() {
    for v in vectors("trees") {
        let tree = tree(&v["entries"]).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
        assert_eq!(canonical(&tree.to_value()), text(&v, "document"), "{}", v["name"]);
        assert_eq!(tree.digest().to_string(), text(&v, "digest"), "{}", v["name"]);
    }
}

#[test]
fn contracts() {
    for v in vectors("contracts") {
        let name = &v["name"];
        let contract = Contract::parse(text(&v, "contract").as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(plan_value(&contract), v["plan"], "{name}");
        let warned: Vec<Value> = contract
            .plan()
            .warnings
            .iter()
            .map(|w| json!(w["transforms[".len()..w.find(']').unwrap()].parse::<u64>().unwrap()))
            .collect();
        assert_eq!(Value::Array(warned), v["warned_transforms"], "{name}");
        let resolved = resolve(text(&v, "contract"), &v["resolutions"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(String::from_utf8(resolved.canonical).unwrap(), text(&v, "resolved"), "{name}");
        assert_eq!(resolved.uri.to_string(), text(&v, "uri"), "{name}");
        // The stored form re-derives the same URI.
        let stored = jcs::parse(text(&v, "resolved").as_bytes()).unwrap();
        assert_eq!(contract::uri_of_resolved(&stored).unwrap().to_string(), text(&v, "uri"), "{name}");
    }
}

#[test]
fn pack_manifests() {
    for v in vectors("manifests") {
        let outputs = tree(&v["entries"]).unwrap();
        let manifest = PackManifest::build(v["contract"].clone(), outputs, v["provenance"].clone()).unwrap();
        let bytes = manifest.to_bytes().unwrap();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), text(&v, "bytes"), "{}", v["name"]);
        assert_eq!(manifest.uri.to_string(), text(&v, "uri"), "{}", v["name"]);
        assert_eq!(PackManifest::parse(&bytes).unwrap(), manifest, "{}", v["name"]);
    }
}

#[test]
fn oci_mapping() {
    for v in vectors("oci") {
        let config = Descriptor::from_value(&v["config"], "config").unwrap();
        let layers: Vec<Descriptor> = v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|layer| Descriptor::from_value(layer, "layer").unwrap())
            .collect();
        let uri = CtxUri::parse(text(&v, "uri")).unwrap();
        let manifest = oci::pack_manifest(&config, &layers, &uri, text(&v, "created")).unwrap();
        assert_eq!(String::from_utf8(manifest.clone()).unwrap(), text(&v, "manifest"), "{}", v["name"]);
        let descriptor = Descriptor::for_blob(oci::MEDIA_TYPE_MANIFEST, &manifest);
        assert_eq!(descriptor.to_value().unwrap(), v["manifest_descriptor"], "{}", v["name"]);
        assert_eq!(oci::parse_pack_manifest(&manifest).unwrap().uri, uri);
        let index = oci::index_add(None, &descriptor, &uri, oci::ArtifactKind::Pack).unwrap();
        assert_eq!(String::from_utf8(index.clone()).unwrap(), text(&v, "index"), "{}", v["name"]);
        let listed = oci::index_list(&index).unwrap();
        assert_eq!((listed.len(), listed[0].uri, listed[0].descriptor.digest), (1, uri, descriptor.digest));
    }
}

#[test]
fn multi_layer_layouts() {
    for v in vectors("layouts") {
        let tree = tree(&v["entries"]).unwrap();
        let groups: Vec<Value> = ctxpack::archive::partition(tree.entries())
            .iter()
            .map(|g| json!({"start": g.entries.start, "entries": g.entries.len(), "bytes": g.bytes}))
            .collect();
        assert_eq!(Value::Array(groups), v["layers"], "{}", text(&v, "name"));
    }
}

fn rejection(kind: &str, input: &Value) -> Option<Error> {
    let as_text = || input.as_str().unwrap_or_else(|| panic!("{kind} input must be text"));
    let outcome = match kind {
        "json" => jcs::parse(as_text().as_bytes()).and_then(|v| jcs::canonicalize(&v)).map(drop),
        "uri" => CtxUri::parse(as_text()).map(drop),
        "digest" => Digest::parse(as_text()).map(drop),
        "tree" => tree(input).map(drop),
        "contract" => Contract::parse(as_text().as_bytes()).map(drop),
        "resolve" => resolve(text(input, "contract"), &input["resolutions"]).map(drop),
        "resolved_contract" => contract::uri_of_resolved(input).map(drop),
        other => panic!("unknown rejection kind {other:?}"),
    };
    outcome.err()
}

#[test]
fn rejections() {
    for v in vectors("rejections") {
        let error = rejection(text(&v, "kind"), &v["input"]).unwrap_or_else(|| panic!("{} was accepted", v["name"]));
        assert_eq!(error.code.as_str(), text(&v, "error"), "{}: {}", v["name"], error);
    }
}
