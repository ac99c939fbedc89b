use super::super::test_support::{file, manifest_for, sample, symlink, Artifact};
use super::super::{PackWriter, WriterOptions};
use super::*;
use crate::archive::gzip::BLOCK_SIZE;

/// A written layer: its gzip bytes and block index.
struct Layer {
    gz: Vec<u8>,
    index: String,
}

/// Writes every layer of the pack, feeding each file in one piece.
fn write_layers(manifest: &[u8], artifacts: &[Artifact]) -> Vec<Layer> {
    let parsed = PackManifest::parse(manifest).unwrap();
    let layers = partition(parsed.outputs.entries()).len();
    (0..layers)
        .map(|k| {
            let mut writer = PackWriter::layer(manifest, k, WriterOptions::default()).unwrap();
            let mut gz = writer.take_output();
            while let Some((path, kind)) = writer.next_entry().unwrap() {
                if let PackEntryKind::File { .. } = kind {
                    let artifact = artifacts.iter().find(|a| a.entry.path == path).unwrap();
                    writer.write(&artifact.content).unwrap();
                    writer.end_entry(None).unwrap();
                }
                gz.extend(writer.take_output());
            }
            writer.finish().unwrap();
            gz.extend(writer.take_output());
            let index = BlockIndex::encode(writer.block_sizes().unwrap());
            Layer { gz, index }
        })
        .collect()
}

/// Reads `path` through the block index, pushing the fetched range in `chunk`-byte pieces.
fn seek_read(manifest: &[u8], layers: &[Layer], path: &str, index: Option<&str>, chunk: usize) -> Result<Vec<u8>> {
    let parsed = PackManifest::parse(manifest).unwrap();
    let span = file_span(&parsed, manifest.len() as u64, path)?;
    let layer = &layers[span.layer];
    let plan = SeekPlan::new(span, index.unwrap_or(&layer.index), layer.gz.len() as u64)?;
    let mut inflater = FileInflater::new(&plan);
    let mut out = Vec::new();
    let range = &layer.gz[plan.range.start as usize..plan.range.end as usize];
    for piece in range.chunks(chunk.max(1)) {
        inflater.push(piece, &mut out)?;
    }
    inflater.finish()?;
    Ok(out)
}

/// Deterministic incompressible bytes (the writer stores them: level 0).
fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn single_layer_pack() -> (Vec<u8>, Vec<Artifact>) {
    manifest_for(vec![
        file("a.txt", b"alpha\n".to_vec(), false),
        file("empty", Vec::new(), false),
        file("data/spans.bin", sample(2 * BLOCK_SIZE + 777, 1), false),
        file(&format!("deep/{}/long-name.txt", "d".repeat(120)), b"split into prefix and name\n".to_vec(), false),
        file(&format!("pax/{}", "p".repeat(200)), b"a PAX path record\n".to_vec(), true),
        file("ünïcode/naïve.txt", b"a non-ASCII name\n".to_vec(), false),
        symlink("latest", "data/spans.bin"),
        symlink("links/up", "../latest"),
        file("z-last.bin", random(BLOCK_SIZE / 2 + 3, 2), false),
    ])
}

#[test]
fn every_file_of_a_single_layer_pack_reads_back_through_the_index() {
    let (manifest, artifacts) = single_layer_pack();
    let layers = write_layers(&manifest, &artifacts);
    assert_eq!(layers.len(), 1);
    for artifact in artifacts.iter().filter(|a| matches!(a.entry.kind, EntryKind::File { .. })) {
        for chunk in [1 << 30, 4096, 7] {
            let read = seek_read(&manifest, &layers, &artifact.entry.path, None, chunk).unwrap();
            assert!(read == artifact.content, "{} in {chunk}-byte pieces", artifact.entry.path);
        }
    }
}

#[test]
fn spans_match_the_tar_stream_the_writer_wrote() {
    let (manifest, artifacts) = single_layer_pack();
    let layers = write_layers(&manifest, &artifacts);
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&layers[0].gz[..]), &mut tar).unwrap();
    let parsed = PackManifest::parse(&manifest).unwrap();
    for artifact in artifacts.iter().filter(|a| matches!(a.entry.kind, EntryKind::File { .. })) {
        let span = file_span(&parsed, manifest.len() as u64, &artifact.entry.path).unwrap();
        assert_eq!(span.tar_len, tar.len() as u64);
        let start = span.data_start as usize;
        assert!(tar[start..start + artifact.content.len()] == artifact.content[..], "{}", artifact.entry.path);
    }
}

#[test]
fn a_file_spanning_blocks_fetches_only_its_blocks() {
    let (manifest, artifacts) = single_layer_pack();
    let layers = write_layers(&manifest, &artifacts);
    let parsed = PackManifest::parse(&manifest).unwrap();
    let span = file_span(&parsed, manifest.len() as u64, "data/spans.bin").unwrap();
    let plan = SeekPlan::new(span.clone(), &layers[0].index, layers[0].gz.len() as u64).unwrap();
    let index = BlockIndex::decode(&layers[0].index).unwrap();
    assert_eq!(index.blocks(), 3, "2.5 MiB of tar: two full blocks and the final one");
    let first = (span.data_start / BLOCK_SIZE as u64) as usize;
    let last = ((span.data_start + span.size - 1) / BLOCK_SIZE as u64) as usize;
    assert_eq!((first, last), (0, 2));
    assert_eq!(plan.range, index.compressed_range(0..3));

    // The last file: its blocks include the final one, which ends the deflate stream.
    let span = file_span(&parsed, manifest.len() as u64, "z-last.bin").unwrap();
    let plan = SeekPlan::new(span, &layers[0].index, layers[0].gz.len() as u64).unwrap();
    assert_eq!(plan.range.end, layers[0].gz.len() as u64 - 8);
}

#[test]
fn an_empty_file_needs_no_bytes_and_symlinks_are_followed() {
    let (manifest, artifacts) = single_layer_pack();
    let layers = write_layers(&manifest, &artifacts);
    let parsed = PackManifest::parse(&manifest).unwrap();
    let span = file_span(&parsed, manifest.len() as u64, "empty").unwrap();
    let plan = SeekPlan::new(span, &layers[0].index, layers[0].gz.len() as u64).unwrap();
    assert!(plan.range.is_empty());
    assert_eq!(seek_read(&manifest, &layers, "empty", None, 10).unwrap(), b"");

    let spans = &artifacts.iter().find(|a| a.entry.path == "data/spans.bin").unwrap().content;
    assert!(seek_read(&manifest, &layers, "links/up", None, 1 << 20).unwrap() == *spans);
    assert_eq!(file_span(&parsed, manifest.len() as u64, "latest").unwrap().path, "data/spans.bin");
    let missing = file_span(&parsed, manifest.len() as u64, "nope").unwrap_err();
    assert_eq!((missing.code, missing.subject.as_deref()), (ErrorCode::NotFound, Some("nope")));
}

#[test]
fn a_wrong_index_is_caught() {
    let (manifest, artifacts) = single_layer_pack();
    let layers = write_layers(&manifest, &artifacts);
    let sizes: Vec<u64> = {
        let index = BlockIndex::decode(&layers[0].index).unwrap();
        (0..index.blocks()).map(|b| index.compressed_range(b..b + 1)).map(|r| r.end - r.start).collect()
    };
    // Too few blocks, or sizes that do not add up to the blob: refused before any byte is fetched.
    let short = BlockIndex::encode(&sizes[1..]);
    let error = seek_read(&manifest, &layers, "a.txt", Some(&short), 4096).unwrap_err();
    assert_eq!(error.code, ErrorCode::OciInvalid);
    let mut longer = sizes.clone();
    longer[0] += 1;
    let error = seek_read(&manifest, &layers, "a.txt", Some(&BlockIndex::encode(&longer)), 4096).unwrap_err();
    assert_eq!(error.code, ErrorCode::OciInvalid);

    // Consistent totals, wrong boundaries: the fetched bytes do not inflate, or not to the file.
    let mut shifted = sizes.clone();
    shifted[1] -= 1000;
    shifted[2] += 1000;
    let wrong = BlockIndex::encode(&shifted);
    for path in ["z-last.bin".to_string(), format!("pax/{}", "p".repeat(200))] {
        let error = seek_read(&manifest, &layers, &path, Some(&wrong), 4096).unwrap_err();
        assert!(
            matches!(error.code, ErrorCode::GzipCorrupt | ErrorCode::Truncated | ErrorCode::DigestMismatch),
            "{path}: {error:?}"
        );
    }
}

#[test]
fn a_tampered_block_fails_the_digest_or_the_inflate() {
    let (manifest, artifacts) = single_layer_pack();
    let mut layers = write_layers(&manifest, &artifacts);
    let parsed = PackManifest::parse(&manifest).unwrap();
    let span = file_span(&parsed, manifest.len() as u64, "z-last.bin").unwrap();
    let plan = SeekPlan::new(span, &layers[0].index, layers[0].gz.len() as u64).unwrap();
    // z-last.bin is stored (incompressible): flipping a byte in the middle changes its content only.
    let middle = ((plan.range.start + plan.range.end) / 2) as usize;
    layers[0].gz[middle] ^= 1;
    let error = seek_read(&manifest, &layers, "z-last.bin", None, 4096).unwrap_err();
    assert_eq!((error.code, error.subject.as_deref()), (ErrorCode::DigestMismatch, Some("artifacts/z-last.bin")));
}

#[test]
fn files_of_a_multi_layer_pack_are_found_in_their_layer() {
    // Paths whose hash makes them cut points close a group once it holds 32 MiB.
    let cut = |p: &str| Digest::of(p.as_bytes()).as_bytes()[0] < 64;
    let names: Vec<String> = (0..200).map(|i| format!("f{i:03}")).filter(|p| cut(p)).take(3).collect();
    let mut artifacts: Vec<Artifact> =
        names.iter().enumerate().map(|(i, name)| file(name, random(33 << 20, i as u64 + 10), false)).collect();
    artifacts.push(file(&format!("{}-small.txt", names[1]), b"between the big ones\n".to_vec(), false));
    let (manifest, artifacts) = manifest_for(artifacts);
    let layers = write_layers(&manifest, &artifacts);
    assert!(layers.len() >= 2, "{} layers", layers.len());
    let parsed = PackManifest::parse(&manifest).unwrap();
    for artifact in &artifacts {
        let span = file_span(&parsed, manifest.len() as u64, &artifact.entry.path).unwrap();
        let read = seek_read(&manifest, &layers, &artifact.entry.path, None, 1 << 20).unwrap();
        assert!(read == artifact.content, "{} in layer {}", artifact.entry.path, span.layer);
    }
    let small = file_span(&parsed, manifest.len() as u64, &format!("{}-small.txt", names[1])).unwrap();
    assert!(small.layer >= 1);
}

#[test]
fn highly_compressible_files_come_out_whole_in_one_push_or_many() {
    // Long matches: the inflater holds output back whenever the scratch buffer fills.
    let runs: Vec<u8> =
        (0..3 * BLOCK_SIZE + 4321).map(|i| if (i / 1000) % 3 == 0 { b'x' } else { (i % 251) as u8 }).collect();
    let (manifest, artifacts) =
        manifest_for(vec![file("a.txt", b"a\n".to_vec(), false), file("runs.bin", runs.clone(), false)]);
    let layers = write_layers(&manifest, &artifacts);
    assert!(layers[0].gz.len() < runs.len() / 4, "the file compresses");
    for chunk in [1 << 30, 65_536, 3] {
        assert!(seek_read(&manifest, &layers, "runs.bin", None, chunk).unwrap() == runs, "{chunk}-byte pieces");
    }
}
