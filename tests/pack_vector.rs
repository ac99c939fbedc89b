//! The fixed pack of tests/fixtures/pack-vector.json: native output must equal the recorded bytes, which
//! the wasm core must also produce (tests/js/pack-vector.test.mjs), so a pack's layer digest is the same on
//! every machine and host.

use ctxpack::archive::{PackEntryKind, PackWriter, WriterOptions};
use ctxpack::manifest::PackManifest;
use ctxpack::tree::{Tree, TreeEntry};
use ctxpack::Digest;
use serde_json::Value;

fn artifact_bytes(artifact: &Value) -> Option<Vec<u8>> {
    if let Some(text) = artifact["text"].as_str() {
        return Some(text.as_bytes().to_vec());
    }
    if let Some(seed) = artifact["xorshift32"].as_u64() {
        // Incompressible bytes, so the pack also exercises stored deflate blocks.
        let mut x = seed as u32;
        let len = artifact["bytes"].as_u64().unwrap() as usize;
        return Some(
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect(),
        );
    }
    let unit = artifact["repeat"].as_str()?;
    Some(unit.repeat(artifact["times"].as_u64().unwrap() as usize).into_bytes())
}

#[test]
fn the_fixed_pack_has_the_recorded_bytes() {
    let vector: Value = serde_json::from_str(include_str!("fixtures/pack-vector.json")).unwrap();
    let artifacts = vector["artifacts"].as_array().unwrap();
    let entries = artifacts
        .iter()
        .map(|a| {
            let path = a["path"].as_str().unwrap();
            match artifact_bytes(a) {
                Some(bytes) => TreeEntry::file(
                    path,
                    bytes.len() as u64,
                    Digest::of(&bytes),
                    a["executable"].as_bool().unwrap_or(false),
                ),
                None => TreeEntry::symlink(path, a["target"].as_str().unwrap()),
            }
        })
        .collect();
    let manifest =
        PackManifest::build(vector["contract"].clone(), Tree::new(entries).unwrap(), vector["provenance"].clone())
            .unwrap();
    let manifest_bytes = manifest.to_bytes().unwrap();

    let mut writer = PackWriter::new(&manifest_bytes, WriterOptions::default()).unwrap();
    let mut layer = Vec::new();
    while let Some((path, kind)) = writer.next_entry().unwrap() {
        if matches!(kind, PackEntryKind::Symlink { .. }) {
            continue; // the writer has already written it
        }
        let artifact = artifacts.iter().find(|a| a["path"] == path.as_str()).unwrap();
        let bytes = artifact_bytes(artifact).unwrap();
        for chunk in bytes.chunks(100_000) {
            writer.write(chunk).unwrap();
            layer.extend(writer.take_output());
        }
        writer.end_entry(None).unwrap();
    }
    writer.finish().unwrap();
    layer.extend(writer.take_output());

    let expected = &vector["expected"];
    let got = (
        manifest.uri.to_string(),
        Digest::of(&manifest_bytes).to_string(),
        Digest::of(&layer).to_string(),
        layer.len(),
    );
    assert_eq!(
        got,
        (
            expected["uri"].as_str().unwrap().to_string(),
            expected["manifest_digest"].as_str().unwrap().to_string(),
            expected["layer_digest"].as_str().unwrap().to_string(),
            expected["layer_size"].as_u64().unwrap() as usize,
        )
    );
}
