//! Tests of multi-layer packs: `PackWriter::layer` and `PackReader::layer` round trips, single-layer
//! packs unchanged, and every way a layer can disagree with its group.

use super::super::partition::{partition, LayerGroup};
use super::super::tar_header::encode_entry;
use super::super::test_support::{file, gzip, manifest_for, push_entry, symlink, ustar, Artifact};
use super::super::writer::{PackWriter, WriterOptions};
use super::*;
use std::io::Read;
use std::sync::OnceLock;

const MIB: usize = 1 << 20;

/// A pack of 90 one-MiB files (several layers) plus a symlink, built once for every test.
fn big_pack() -> &'static (Vec<u8>, Vec<Artifact>) {
    static PACK: OnceLock<(Vec<u8>, Vec<Artifact>)> = OnceLock::new();
    PACK.get_or_init(|| {
        let mut artifacts: Vec<Artifact> = (0..90u32)
            .map(|i| {
                // Cheap, moderately compressible content, different for every file.
                let content = (0..MIB as u32).map(|j| (j.wrapping_mul(2_654_435_761 ^ i) >> 24) as u8 & 0x3f).collect();
                file(&format!("data/part-{i:03}.bin"), content, i % 7 == 0)
            })
            .collect();
        artifacts.push(symlink("latest", "data/part-000.bin"));
        manifest_for(artifacts)
    })
}

fn groups_of(manifest: &[u8]) -> Vec<LayerGroup> {
    partition(PackManifest::parse(manifest).unwrap().outputs.entries())
}

fn write_layer(manifest: &[u8], artifacts: &[Artifact], layer: usize) -> Vec<u8> {
    let mut w = PackWriter::layer(manifest, layer, WriterOptions::default()).unwrap();
    let mut out = Vec::new();
    while let Some((path, kind)) = w.next_entry().unwrap() {
        if let PackEntryKind::File { .. } = kind {
            let artifact = artifacts.iter().find(|a| a.entry.path == path).unwrap();
            w.write(&artifact.content).unwrap();
            w.end_entry(None).unwrap();
        }
        out.extend(w.take_output());
    }
    w.finish().unwrap();
    out.extend(w.take_output());
    out
}

/// Reads one layer; returns the paths it delivered (content checked against the artifacts) and the summary.
fn read_layer(manifest: &[u8], layer: usize, gz: &[u8], options: ReaderOptions) -> Result<(Vec<String>, Summary)> {
    let mut reader = PackReader::layer(manifest, layer, options)?;
    let mut paths = Vec::new();
    for chunk in gz.chunks(300_000) {
        reader.push(chunk)?;
        while let Some(event) = reader.next()? {
            match event {
                Event::Manifest { .. } => panic!("layer mode gives no manifest event"),
                Event::Entry { path, .. } => paths.push(path),
                Event::Data(_) | Event::End => {}
            }
        }
    }
    Ok((paths, reader.finish()?))
}

fn tar_names(gz: &[u8]) -> Vec<String> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut tar).unwrap();
    let mut archive = tar::Archive::new(&tar[..]);
    archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect()
}

#[test]
fn every_layer_round_trips_and_together_they_hold_the_pack() {
    let (manifest, artifacts) = big_pack();
    let groups = groups_of(manifest);
    assert!(groups.len() >= 2, "{groups:?}");
    let mut all = Vec::new();
    for (k, group) in groups.iter().enumerate() {
        let gz = write_layer(manifest, artifacts, k);
        let expected: Vec<String> = artifacts[group.entries.clone()].iter().map(|a| a.entry.path.clone()).collect();
        let names = tar_names(&gz);
        assert_eq!(names, expected.iter().map(|p| format!("artifacts/{p}")).collect::<Vec<_>>(), "no manifest.json");
        let (paths, summary) = read_layer(manifest, k, &gz, defaults()).unwrap();
        assert_eq!(paths, expected);
        assert_eq!(summary.bytes, group.bytes);
        assert_eq!(summary.compressed_bytes, gz.len() as u64);
        all.extend(paths);
    }
    assert_eq!(all, artifacts.iter().map(|a| a.entry.path.clone()).collect::<Vec<_>>());
}

fn defaults() -> ReaderOptions {
    ReaderOptions::default()
}

#[test]
fn a_single_layer_pack_is_unchanged_in_layer_mode() {
    let (manifest, artifacts) = manifest_for(vec![file("a.txt", b"hello".to_vec(), false), symlink("l", "a.txt")]);
    let whole = {
        let mut w = PackWriter::new(&manifest, WriterOptions::default()).unwrap();
        w.next_entry().unwrap();
        w.write(b"hello").unwrap();
        w.end_entry(None).unwrap();
        w.next_entry().unwrap();
        w.finish().unwrap();
        w.take_output()
    };
    assert!(write_layer(&manifest, &artifacts, 0) == whole, "layer 0 of a single-layer pack is the whole archive");
    let (paths, summary) = read_layer(&manifest, 0, &whole, defaults()).unwrap();
    assert_eq!((paths, summary.files), (vec!["a.txt".to_string(), "l".to_string()], 1));

    let e = PackWriter::layer(&manifest, 1, WriterOptions::default()).err().unwrap();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::InvalidState, Some("layer")));
    assert_eq!(PackReader::layer(&manifest, 1, defaults()).err().unwrap().code, ErrorCode::InvalidState);

    // The manifest inside must be the given one.
    let (other, _) = manifest_for(vec![file("a.txt", b"hello".to_vec(), true), symlink("l", "a.txt")]);
    let e = read_layer(&other, 0, &whole, defaults()).err().unwrap();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::ManifestInvalid, Some("manifest.json")));
    // Of the same size, differing in one digest: caught by hashing the copy as it streams.
    let (same_size, _) = manifest_for(vec![file("a.txt", b"hellp".to_vec(), false), symlink("l", "a.txt")]);
    assert_eq!(same_size.len(), manifest.len());
    let e = read_layer(&same_size, 0, &whole, defaults()).err().unwrap();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::ManifestInvalid, Some("manifest.json")));
    // A layer that is only the end marker lacks it.
    let e = read_layer(&manifest, 0, &gzip(&[0; 1024]), defaults()).err().unwrap();
    assert_eq!(e.code, ErrorCode::ManifestInvalid);
}

#[test]
fn the_manifest_is_verified_before_any_layer_byte() {
    let (manifest, _) = big_pack();
    let uri = PackManifest::parse(manifest).unwrap().uri;
    PackReader::layer(manifest, 0, ReaderOptions { expect_uri: Some(uri), ..defaults() }).unwrap();
    let other = Some(CtxUri::from_digest(Digest::of(b"other")));
    let e = PackReader::layer(manifest, 0, ReaderOptions { expect_uri: other, ..defaults() }).err().unwrap();
    assert_eq!(e.code, ErrorCode::UriMismatch);
    let small = Limits { max_total_bytes: 10, ..Limits::default() };
    let e = PackReader::layer(manifest, 0, ReaderOptions { limits: small, ..defaults() }).err().unwrap();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    let e = PackReader::layer(b"{}", 0, defaults()).err().unwrap();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::ManifestInvalid, Some("manifest.json")));
}

#[test]
fn a_manifest_verified_once_per_thread_vouches_only_for_the_same_bytes_and_limits() {
    let (manifest, _) = big_pack();
    PackReader::layer(manifest, 0, defaults()).unwrap();
    PackReader::layer(manifest, 1, defaults()).unwrap();
    // The same length, one entry digest changed: other bytes, so verified again (the tree digest differs).
    let mut tampered = manifest.clone();
    let text = String::from_utf8_lossy(manifest);
    let entries = text.find("\"entries\"").unwrap();
    let at = entries + text[entries..].find("sha256:").unwrap() + "sha256:".len();
    tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
    let e = PackReader::layer(&tampered, 1, defaults()).err().unwrap();
    assert_eq!(e.code, ErrorCode::DigestMismatch);
    // Tighter limits than the ones it was verified under: checked again.
    PackReader::layer(manifest, 0, defaults()).unwrap();
    let few = Limits { max_entries: 3, ..Limits::default() };
    let e = PackReader::layer(manifest, 0, ReaderOptions { limits: few, ..defaults() }).err().unwrap();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
}

/// A layer crafted by hand: `first` as a manifest.json entry, then the pack's artifacts at `indices`.
fn crafted_layer(indices: &[usize], first: Option<&[u8]>) -> Vec<u8> {
    let (_, artifacts) = big_pack();
    let mut tar = Vec::new();
    if let Some(manifest) = first {
        push_entry(&mut tar, &ustar("manifest.json", b'0', 0o644, manifest.len() as u64, ""), manifest);
    }
    for &i in indices {
        let artifact = &artifacts[i];
        let mut header = Vec::new();
        encode_entry(&mut header, &format!("artifacts/{}", artifact.entry.path), &(&artifact.entry.kind).into(), 0);
        push_entry(&mut tar, &header, &artifact.content);
    }
    tar.extend_from_slice(&[0; 1024]);
    gzip(&tar)
}

#[test]
fn a_layer_must_hold_exactly_its_group_in_order() {
    let (manifest, artifacts) = big_pack();
    let groups = groups_of(manifest);
    let g0: Vec<usize> = groups[0].entries.clone().collect();
    let g1_first = groups[1].entries.start;
    let name = |i: usize| format!("artifacts/{}", artifacts[i].entry.path);
    let last = *g0.last().unwrap();
    let mut swapped = g0.clone();
    swapped.swap(0, 1);
    let cases: Vec<(Vec<u8>, ErrorCode, String)> = vec![
        (crafted_layer(&g0[..g0.len() - 1], None), ErrorCode::EntryMissing, name(last)),
        (crafted_layer(&[g0.clone(), vec![g1_first]].concat(), None), ErrorCode::EntryUnexpected, name(g1_first)),
        (crafted_layer(&swapped, None), ErrorCode::EntryUnexpected, name(g0[1])),
        (crafted_layer(&[g0[0], g0[0]], None), ErrorCode::EntryDuplicate, name(g0[0])),
        (crafted_layer(&g0, Some(manifest)), ErrorCode::EntryUnexpected, "manifest.json".into()),
    ];
    crafted_layer_reads(&g0);
    for (gz, code, subject) in cases {
        let e = read_layer(manifest, 0, &gz, defaults()).err().unwrap();
        assert_eq!((e.code, e.subject.as_deref()), (code, Some(subject.as_str())), "{e}");
    }
    // Layer 1's bytes are not layer 0.
    let layer1 = write_layer(manifest, artifacts, 1);
    let e = read_layer(manifest, 0, &layer1, defaults()).err().unwrap();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::EntryUnexpected, Some(name(g1_first).as_str())));
}

fn crafted_layer_reads(group: &[usize]) {
    let (manifest, _) = big_pack();
    read_layer(manifest, 0, &crafted_layer(group, None), defaults()).expect("the crafted layer itself is valid");
}

#[test]
fn tampered_content_in_a_later_layer_is_caught() {
    let (manifest, artifacts) = big_pack();
    let groups = groups_of(manifest);
    let indices: Vec<usize> = groups[1].entries.clone().collect();
    let mut tampered = artifacts[indices[0]].content.clone();
    tampered[1000] ^= 1;
    let mut tar = Vec::new();
    for (n, &i) in indices.iter().enumerate() {
        let artifact = &artifacts[i];
        let mut header = Vec::new();
        encode_entry(&mut header, &format!("artifacts/{}", artifact.entry.path), &(&artifact.entry.kind).into(), 0);
        push_entry(&mut tar, &header, if n == 0 { &tampered } else { &artifact.content });
    }
    tar.extend_from_slice(&[0; 1024]);
    let e = read_layer(manifest, 1, &gzip(&tar), defaults()).err().unwrap();
    let subject = format!("artifacts/{}", artifacts[indices[0]].entry.path);
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::DigestMismatch, Some(subject.as_str())));
}
