//! `PackWriter`: turns a manifest and the content of its artifacts into the reproducible `.tar.gz`.
//!
//! The host loop is: `while let Some((path, kind)) = next_entry()` — for a file, `write` its content and
//! `end_entry`; a symlink is already written, so just continue — then `finish`. Drain `take_output` as
//! often as convenient; the writer itself buffers at most one 1 MiB block of tar.
//!
//! [`PackWriter::layer`] writes one layer of the pack's layout ([`super::partition`]): only that group's
//! entries, and `manifest.json` only when the pack has a single layer (whose layer 0 is then exactly the
//! archive [`PackWriter::new`] writes).

use super::gzip::BlockGzipEncoder;
use super::limits::artifact_name;
use super::partition::partition;
use super::tar_header::{self, padding};
use super::PackEntryKind;
use crate::digest::{Digest, Hasher};
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::PackManifest;
use crate::tree::EntryKind;
use std::ops::Range;

/// Name of the first entry of every pack.
pub const MANIFEST_NAME: &str = "manifest.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    /// Modification time of every entry, in seconds since the epoch (`SOURCE_DATE_EPOCH`, or 0).
    pub mtime: u64,
    /// Hash file content in the core; when false the host passes each file's digest to `end_entry`.
    pub hash_content: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { mtime: 0, hash_content: true }
    }
}

/// The file whose content is being written.
struct OpenFile {
    index: usize,
    written: u64,
    hasher: Option<Hasher>,
}

/// Streaming pack writer; see the module documentation for the host loop. After a size or digest error
/// every call returns that error (the output is unusable); out-of-order calls are `InvalidState` and
/// change nothing.
pub struct PackWriter {
    manifest: PackManifest,
    options: WriterOptions,
    gzip: BlockGzipEncoder,
    /// The entries this archive holds (all, or one layer's group), by tree index.
    scope: Range<usize>,
    /// Index in the tree of the next entry `next_entry` hands out.
    next_index: usize,
    open: Option<OpenFile>,
    finished: bool,
    /// The first failure; once set every call reports it, since the output is unusable.
    failed: Option<Error>,
}

impl PackWriter {
    /// The whole pack as one archive: verifies the manifest (as a reader would) and writes its entry.
    pub fn new(manifest_bytes: &[u8], options: WriterOptions) -> Result<PackWriter> {
        let manifest = PackManifest::parse(manifest_bytes)?;
        let scope = 0..manifest.outputs.entries().len();
        Ok(PackWriter::start(manifest, manifest_bytes, scope, true, options))
    }

    /// Layer `layer` of the pack's layout: its group's entries, with `manifest.json` first only when the
    /// layout has a single layer.
    pub fn layer(manifest_bytes: &[u8], layer: usize, options: WriterOptions) -> Result<PackWriter> {
        let manifest = PackManifest::parse(manifest_bytes)?;
        let groups = partition(manifest.outputs.entries());
        let group = groups.get(layer).ok_or_else(|| no_such_layer(layer, groups.len()))?;
        let scope = group.entries.clone();
        Ok(PackWriter::start(manifest, manifest_bytes, scope, groups.len() == 1, options))
    }

    fn start(
        manifest: PackManifest,
        manifest_bytes: &[u8],
        scope: Range<usize>,
        with_manifest: bool,
        options: WriterOptions,
    ) -> PackWriter {
        let mut writer = PackWriter {
            manifest,
            options,
            gzip: BlockGzipEncoder::new(),
            next_index: scope.start,
            scope,
            open: None,
            finished: false,
            failed: None,
        };
        if with_manifest {
            let kind = PackEntryKind::File { size: manifest_bytes.len() as u64, executable: false };
            writer.write_entry(MANIFEST_NAME, &kind, manifest_bytes);
        }
        writer
    }

    pub fn manifest(&self) -> &PackManifest {
        &self.manifest
    }

    /// The next artifact in tree order, or None when all are written. A file must then be streamed with
    /// `write` and closed with `end_entry`; a symlink has already been written.
    pub fn next_entry(&mut self) -> Result<Option<(String, PackEntryKind)>> {
        self.guard(|w| {
            w.check_not_finished()?;
            if let Some(open) = &w.open {
                let name = artifact_name(&w.manifest.outputs.entries()[open.index].path);
                return Err(
                    Error::new(ErrorCode::InvalidState, "endEntry() must close this file before nextEntry()").at(name)
                );
            }
            if w.next_index == w.scope.end {
                return Ok(None);
            }
            let entry = &w.manifest.outputs.entries()[w.next_index];
            let (index, path, kind) = (w.next_index, entry.path.clone(), PackEntryKind::from(&entry.kind));
            w.next_index += 1;
            let name = artifact_name(&path);
            match kind {
                PackEntryKind::File { .. } => {
                    w.write_header(&name, &kind);
                    let hasher = w.options.hash_content.then(Hasher::new);
                    w.open = Some(OpenFile { index, written: 0, hasher });
                }
                PackEntryKind::Symlink { .. } => w.write_header(&name, &kind),
            }
            Ok(Some((path, kind)))
        })
    }

    /// Appends content to the open file.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        self.guard(|w| {
            let (index, written) = match &w.open {
                Some(open) => (open.index, open.written),
                None => {
                    return Err(Error::new(
                        ErrorCode::InvalidState,
                        "write() needs an open file: call nextEntry() first",
                    ))
                }
            };
            let size = w.recorded_size(index);
            if written + data.len() as u64 > size {
                return Err(Error::new(
                    ErrorCode::SizeMismatch,
                    format!("more than the {size} bytes the manifest records were written"),
                )
                .at(artifact_name(&w.manifest.outputs.entries()[index].path))
                .hint("the file changed after the manifest was built; rebuild it"));
            }
            let open = w.open.as_mut().expect("checked above");
            open.written += data.len() as u64;
            if let Some(hasher) = &mut open.hasher {
                hasher.update(data);
            }
            w.gzip.write(data);
            Ok(())
        })
    }

    /// Closes the open file: its size must match the manifest, and so must its digest (the core's own
    /// when hashing content, and the host's whenever given; the host's is required when not hashing).
    pub fn end_entry(&mut self, host_digest: Option<Digest>) -> Result<()> {
        self.guard(|w| {
            let Some(open) = w.open.take() else {
                return Err(Error::new(
                    ErrorCode::InvalidState,
                    "endEntry() needs an open file: call nextEntry() first",
                ));
            };
            let entry = &w.manifest.outputs.entries()[open.index];
            let name = artifact_name(&entry.path);
            let EntryKind::File { size, digest: recorded, .. } = entry.kind else {
                unreachable!("only files are opened");
            };
            if open.written != size {
                return Err(Error::new(
                    ErrorCode::SizeMismatch,
                    format!("{} bytes were written, the manifest records {size}", open.written),
                )
                .at(name)
                .hint("the file changed after the manifest was built; rebuild it"));
            }
            if host_digest.is_none() && open.hasher.is_none() {
                return Err(Error::new(
                    ErrorCode::InvalidState,
                    "hashContent is off, so endEntry() needs the file's digest",
                )
                .at(name));
            }
            for actual in open.hasher.map(Hasher::finish).into_iter().chain(host_digest) {
                if actual != recorded {
                    return Err(Error::new(
                        ErrorCode::DigestMismatch,
                        format!("content hashes to {actual}, the manifest records {recorded}"),
                    )
                    .at(name)
                    .hint("the file changed after the manifest was built; rebuild it"));
                }
            }
            w.write_padding(size);
            Ok(())
        })
    }

    /// Writes the end-of-archive marker and the gzip trailer. Every entry must have been written.
    pub fn finish(&mut self) -> Result<()> {
        self.guard(|w| {
            w.check_not_finished()?;
            let pending = w.open.as_ref().map(|o| o.index).or_else(|| {
                let remaining = w.scope.end > w.next_index;
                remaining.then_some(w.next_index)
            });
            if let Some(index) = pending {
                let name = artifact_name(&w.manifest.outputs.entries()[index].path);
                return Err(
                    Error::new(ErrorCode::InvalidState, "finish() was called before every entry was written").at(name)
                );
            }
            w.gzip.write(&[0u8; 2 * tar_header::BLOCK]);
            w.gzip.finish();
            w.finished = true;
            Ok(())
        })
    }

    /// Drains the gzip bytes produced so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.gzip.take_output()
    }

    /// Gzip bytes produced and not taken yet.
    pub fn output_len(&self) -> usize {
        self.gzip.output_len()
    }

    /// Moves up to `target.len()` bytes of the output into `target` (the host's own buffer); returns how many.
    pub fn take_output_into(&mut self, target: &mut [u8]) -> usize {
        self.gzip.take_output_into(target)
    }

    /// After `finish`: the deflated size of each 1 MiB block of the archive, the layer's block index (spec §10)
    /// with which a reader fetches one file without the rest.
    pub fn block_sizes(&self) -> Result<&[u64]> {
        if !self.finished {
            return Err(Error::new(ErrorCode::InvalidState, "the block index is known only after finish()"));
        }
        Ok(self.gzip.block_sizes())
    }

    fn guard<T>(&mut self, op: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = op(self);
        if let Err(e) = &result {
            if e.code != ErrorCode::InvalidState {
                self.failed = Some(e.clone());
            }
        }
        result
    }

    fn check_not_finished(&self) -> Result<()> {
        if self.finished {
            return Err(Error::new(ErrorCode::InvalidState, "the pack is already finished"));
        }
        Ok(())
    }

    fn recorded_size(&self, index: usize) -> u64 {
        match self.manifest.outputs.entries()[index].kind {
            EntryKind::File { size, .. } => size,
            EntryKind::Symlink { .. } => 0,
        }
    }

    fn write_header(&mut self, name: &str, kind: &PackEntryKind) {
        let mut header = Vec::with_capacity(3 * tar_header::BLOCK);
        tar_header::encode_entry(&mut header, name, kind, self.options.mtime);
        self.gzip.write(&header);
    }

    fn write_entry(&mut self, name: &str, kind: &PackEntryKind, data: &[u8]) {
        self.write_header(name, kind);
        self.gzip.write(data);
        self.write_padding(data.len() as u64);
    }

    fn write_padding(&mut self, size: u64) {
        self.gzip.write(&[0u8; tar_header::BLOCK][..padding(size) as usize]);
    }
}

/// The error for a layer index beyond the pack's layout.
pub(crate) fn no_such_layer(layer: usize, layers: usize) -> Error {
    Error::new(ErrorCode::InvalidState, format!("the pack has {layers} layer(s); there is no layer {layer}"))
        .at("layer")
        .hint("take the layer count from packLayout(manifest)")
}

#[cfg(test)]
mod tests {
    use super::super::gzip::{deflate_block, gzip_trailer, BLOCK_SIZE, GZIP_HEADER};
    use super::super::test_support::{file, manifest_for, sample, symlink, Artifact};
    use super::*;
    use std::io::Read;

    /// Runs the host loop, writing each file in `chunk`-byte pieces and draining after every call.
    fn write_pack(manifest: &[u8], artifacts: &[Artifact], options: WriterOptions, chunk: usize) -> Result<Vec<u8>> {
        let mut w = PackWriter::new(manifest, options)?;
        let mut out = w.take_output();
        let mut artifacts = artifacts.iter();
        while let Some((path, kind)) = w.next_entry()? {
            let artifact = artifacts.next().unwrap();
            assert_eq!(path, artifact.entry.path);
            if let PackEntryKind::File { .. } = kind {
                for piece in artifact.content.chunks(chunk) {
                    w.write(piece)?;
                    out.extend(w.take_output());
                }
                let digest = (!options.hash_content).then(|| Digest::of(&artifact.content));
                w.end_entry(digest)?;
            }
            out.extend(w.take_output());
        }
        w.finish()?;
        out.extend(w.take_output());
        Ok(out)
    }

    #[test]
    fn output_taken_into_small_buffers_is_the_same_bytes() {
        let (manifest, artifacts) = sample_pack();
        let expected = write_pack(&manifest, &artifacts, WriterOptions::default(), 65_536).unwrap();
        let mut w = PackWriter::new(&manifest, WriterOptions::default()).unwrap();
        let mut out = Vec::new();
        let mut drain = |w: &mut PackWriter| {
            let mut piece = [0u8; 7_777];
            while w.output_len() > 0 {
                let n = w.take_output_into(&mut piece);
                out.extend_from_slice(&piece[..n]);
            }
            assert_eq!(w.take_output_into(&mut piece), 0);
        };
        let mut artifacts = artifacts.iter();
        while let Some((_, kind)) = w.next_entry().unwrap() {
            let artifact = artifacts.next().unwrap();
            if let PackEntryKind::File { .. } = kind {
                for piece in artifact.content.chunks(300_000) {
                    w.write(piece).unwrap();
                    drain(&mut w);
                }
                w.end_entry(None).unwrap();
            }
            drain(&mut w);
        }
        w.finish().unwrap();
        drain(&mut w);
        assert_eq!(out, expected);
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut tar).unwrap();
        tar
    }

    fn sample_pack() -> (Vec<u8>, Vec<Artifact>) {
        manifest_for(vec![
            file("data/big.bin", sample(BLOCK_SIZE + 70_000, 9), false),
            file("run.sh", b"#!/bin/sh\necho hi\n".to_vec(), true),
            file("empty", Vec::new(), false),
            symlink("latest", "data/big.bin"),
            file(&format!("deep/{}/name-ünïcode.txt", "d".repeat(150)), b"x".to_vec(), false),
        ])
    }

    #[test]
    fn output_is_identical_whatever_the_chunking_or_hashing_mode() {
        let (manifest, artifacts) = sample_pack();
        let reference = write_pack(&manifest, &artifacts, WriterOptions::default(), usize::MAX).unwrap();
        for chunk in [1, 100, 4096, BLOCK_SIZE - 1, BLOCK_SIZE + 1] {
            let chunked = write_pack(&manifest, &artifacts, WriterOptions::default(), chunk).unwrap();
            assert!(chunked == reference, "chunk {chunk} changed the bytes");
        }
        let host_hashed = WriterOptions { hash_content: false, ..WriterOptions::default() };
        assert!(write_pack(&manifest, &artifacts, host_hashed, 8192).unwrap() == reference);
        let other_mtime = WriterOptions { mtime: 1_700_000_000, ..WriterOptions::default() };
        assert!(write_pack(&manifest, &artifacts, other_mtime, 8192).unwrap() != reference);
    }

    #[test]
    fn output_equals_the_profile_built_by_parallel_block_deflate() {
        let (manifest, artifacts) = sample_pack();
        let gz = write_pack(&manifest, &artifacts, WriterOptions::default(), 65_536).unwrap();
        let tar = gunzip(&gz);
        let blocks: Vec<&[u8]> = tar.chunks(BLOCK_SIZE).collect();
        let last = blocks.len() - 1;
        let mut expected = GZIP_HEADER.to_vec();
        std::thread::scope(|s| {
            let workers: Vec<_> =
                blocks.iter().enumerate().map(|(i, &b)| s.spawn(move || deflate_block(b, i == last))).collect();
            workers.into_iter().for_each(|w| expected.extend(w.join().unwrap()));
        });
        expected.extend_from_slice(&gzip_trailer(crc32fast::hash(&tar), tar.len() as u64));
        assert!(gz == expected);
    }

    #[test]
    fn tar_layout_is_manifest_then_artifacts_in_tree_order_with_fixed_fields() {
        let (manifest, artifacts) = sample_pack();
        let tar = gunzip(
            &write_pack(&manifest, &artifacts, WriterOptions { mtime: 1234, hash_content: true }, 4096).unwrap(),
        );
        let mut names = Vec::new();
        let mut archive = tar::Archive::new(&tar[..]);
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let h = entry.header().clone();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()), (0, 0, 1234));
            assert_eq!((h.username_bytes(), h.groupname_bytes()), (Some(&b""[..]), Some(&b""[..])));
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mode = h.mode().unwrap();
            match name.as_str() {
                "manifest.json" => {
                    let mut body = Vec::new();
                    entry.read_to_end(&mut body).unwrap();
                    assert_eq!(body, manifest);
                    assert_eq!(mode, 0o644);
                }
                "artifacts/run.sh" => assert_eq!(mode, 0o755),
                "artifacts/latest" => {
                    assert_eq!(h.entry_type(), tar::EntryType::Symlink);
                    assert_eq!(entry.link_name().unwrap().unwrap().to_str(), Some("data/big.bin"));
                    assert_eq!(mode, 0o777);
                }
                _ => assert_eq!(mode, 0o644, "{name}"),
            }
            names.push(name);
        }
        let mut expected = vec!["manifest.json".to_string()];
        expected.extend(artifacts.iter().map(|a| format!("artifacts/{}", a.entry.path)));
        assert_eq!(names, expected);
        assert!(tar[tar.len() - 1024..].iter().all(|&b| b == 0));
        assert!(
            tar[tar.len() - 1536..tar.len() - 1024].iter().any(|&b| b != 0),
            "exactly two zero blocks end the archive"
        );
    }

    #[test]
    fn size_and_digest_mismatches_are_caught_and_stick() {
        let (manifest, _) = manifest_for(vec![file("a.txt", b"hello".to_vec(), false)]);
        let mut w = PackWriter::new(&manifest, WriterOptions::default()).unwrap();
        w.next_entry().unwrap();
        let e = w.write(b"hello!").unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::SizeMismatch, Some("artifacts/a.txt")));
        assert_eq!(w.finish().unwrap_err(), e, "a failed writer keeps reporting its failure");

        let mut w = PackWriter::new(&manifest, WriterOptions::default()).unwrap();
        w.next_entry().unwrap();
        w.write(b"hell").unwrap();
        assert_eq!(w.end_entry(None).unwrap_err().code, ErrorCode::SizeMismatch);

        let mut w = PackWriter::new(&manifest, WriterOptions::default()).unwrap();
        w.next_entry().unwrap();
        w.write(b"jello").unwrap();
        let e = w.end_entry(None).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::DigestMismatch, Some("artifacts/a.txt")));

        let host = WriterOptions { hash_content: false, ..WriterOptions::default() };
        let mut w = PackWriter::new(&manifest, host).unwrap();
        w.next_entry().unwrap();
        w.write(b"jello").unwrap();
        assert_eq!(w.end_entry(Some(Digest::of(b"jello"))).unwrap_err().code, ErrorCode::DigestMismatch);

        let mut w = PackWriter::new(&manifest, WriterOptions::default()).unwrap();
        w.next_entry().unwrap();
        w.write(b"hello").unwrap();
        assert_eq!(
            w.end_entry(Some(Digest::of(b"other"))).unwrap_err().code,
            ErrorCode::DigestMismatch,
            "a given host digest is checked too"
        );
    }

    #[test]
    fn calls_out_of_order_are_invalid_state_and_recoverable() {
        let (manifest, _) = manifest_for(vec![file("a", b"1".to_vec(), false), file("b", b"2".to_vec(), false)]);
        let host = WriterOptions { hash_content: false, ..WriterOptions::default() };
        let mut w = PackWriter::new(&manifest, host).unwrap();
        assert_eq!(w.write(b"x").unwrap_err().code, ErrorCode::InvalidState);
        assert_eq!(w.end_entry(None).unwrap_err().code, ErrorCode::InvalidState);
        assert_eq!(w.next_entry().unwrap().unwrap().0, "a");
        assert_eq!(w.next_entry().unwrap_err().code, ErrorCode::InvalidState);
        w.write(b"1").unwrap();
        assert_eq!(w.end_entry(None).unwrap_err().code, ErrorCode::InvalidState, "host digest required");
        let mut w = PackWriter::new(&manifest, WriterOptions::default()).unwrap();
        w.next_entry().unwrap();
        w.write(b"1").unwrap();
        w.end_entry(None).unwrap();
        let e = w.finish().unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::InvalidState, Some("artifacts/b")));
        w.next_entry().unwrap();
        w.write(b"2").unwrap();
        w.end_entry(None).unwrap();
        assert!(w.next_entry().unwrap().is_none());
        w.finish().unwrap();
        assert_eq!(w.finish().unwrap_err().code, ErrorCode::InvalidState);
    }

    #[test]
    fn an_invalid_manifest_is_rejected_up_front() {
        let e = PackWriter::new(b"{\"ctxpack\":\"pack/v1\"}", WriterOptions::default()).err().unwrap();
        assert_eq!(e.code, ErrorCode::ManifestInvalid);
    }
}
