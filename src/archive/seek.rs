//! One file out of a layer without reading the rest of it (spec §10, the block index).
//!
//! The manifest fixes the tar stream byte for byte (spec §7.1): every header's length follows from the entry's
//! name, type and size ([`tar_header::encoded_len`]), so the offset of a file's data in its layer's tar stream
//! is a sum over the entries before it. The block index turns that into the deflated bytes to fetch: the
//! blocks covering the file, each a fresh raw deflate stream, so a fresh inflater reads them. What comes out
//! is checked against the manifest's size and digest ([`FileInflater::finish`]); a wrong index shows as
//! `CTX_GZIP_CORRUPT`, `CTX_TRUNCATED` or `CTX_DIGEST_MISMATCH`, and the caller reads the layer from its start.

use super::block_index::BlockIndex;
use super::gzip::BLOCK_SIZE;
use super::limits::artifact_name;
use super::partition::partition;
use super::tar_header::{self, padded};
use super::writer::MANIFEST_NAME;
use super::PackEntryKind;
use crate::digest::{Digest, Hasher};
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::PackManifest;
use crate::tree::{EntryKind, TreeEntry};
use flate2::{Decompress, FlushDecompress, Status};
use std::ops::Range;

/// Symlinks followed before giving up (as Linux's `MAXSYMLINKS`).
const MAX_SYMLINK_HOPS: usize = 40;
/// Inflated bytes produced per inflater call.
const SCRATCH_BYTES: usize = 64 * 1024;

/// Where one file's content sits in its layer's tar stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpan {
    /// The file's path in the pack (the target's, when the path asked for was a symlink).
    pub path: String,
    pub size: u64,
    pub digest: Digest,
    /// The layer of the pack's layout that holds it.
    pub layer: usize,
    /// Offset of its first byte in the layer's (inflated) tar stream.
    pub data_start: u64,
    /// Length of the layer's whole tar stream, end-of-archive marker included.
    pub tar_len: u64,
}

/// Locates `path` in a verified manifest (`manifest_len` bytes as stored): its layer and the offset of its data,
/// following symlinks inside the pack. `CTX_NOT_FOUND` when the pack has no such file.
pub fn file_span(manifest: &PackManifest, manifest_len: u64, path: &str) -> Result<FileSpan> {
    let entries = manifest.outputs.entries();
    let (index, size, digest) = resolve_file(entries, path, &manifest.uri.to_string())?;
    let groups = partition(entries);
    let layer = groups.iter().position(|g| g.entries.contains(&index)).expect("every entry is in a group");
    let group = &groups[layer];
    // A single-layer pack starts with manifest.json.
    let mut offset = if groups.len() == 1 {
        let kind = PackEntryKind::File { size: manifest_len, executable: false };
        tar_header::encoded_len(MANIFEST_NAME, &kind) + padded(manifest_len)
    } else {
        0
    };
    let mut data_start = 0;
    for (i, entry) in entries[group.entries.clone()].iter().enumerate() {
        let kind = PackEntryKind::from(&entry.kind);
        offset += tar_header::encoded_len(&artifact_name(&entry.path), &kind);
        if group.entries.start + i == index {
            data_start = offset;
        }
        if let PackEntryKind::File { size, .. } = kind {
            offset += padded(size);
        }
    }
    let tar_len = offset + 2 * tar_header::BLOCK as u64;
    Ok(FileSpan { path: entries[index].path.clone(), size, digest, layer, data_start, tar_len })
}

/// The entry `path` names, its symlinks followed: (index, size, digest).
fn resolve_file(entries: &[TreeEntry], path: &str, pack: &str) -> Result<(usize, u64, Digest)> {
    let mut current = path.to_string();
    for _ in 0..=MAX_SYMLINK_HOPS {
        let found = entries.binary_search_by(|e| e.path.as_bytes().cmp(current.as_bytes())).ok();
        let Some(index) = found else {
            let via = if current == path { String::new() } else { format!(" (a symlink to {current:?})") };
            return Err(Error::new(ErrorCode::NotFound, format!("{pack} has no file {path:?}{via}"))
                .at(path)
                .hint("list the pack's files with `ctxpack ls <uri>` and give one of their paths"));
        };
        match &entries[index].kind {
            EntryKind::File { size, digest, .. } => return Ok((index, *size, *digest)),
            EntryKind::Symlink { target } => current = join_target(&current, target),
        }
    }
    Err(Error::new(ErrorCode::NotFound, format!("{path:?} is a chain of more than {MAX_SYMLINK_HOPS} symlinks"))
        .at(path)
        .hint("give the path of a file"))
}

/// The path a relative symlink target names, from the link's own directory (tree/v1 keeps targets inside).
fn join_target(link: &str, target: &str) -> String {
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// The deflated bytes to fetch for a file, and where it starts in what they inflate to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeekPlan {
    pub span: FileSpan,
    /// Byte range of the layer blob to fetch (empty for an empty file).
    pub range: Range<u64>,
    /// Inflated bytes before the file's first byte.
    skip: u64,
    /// Inflated bytes the fetched blocks hold at most.
    capacity: u64,
}

impl SeekPlan {
    /// With the layer's block index (the annotation's text) and the layer blob's size. `CTX_OCI_INVALID` when the
    /// index is malformed or does not fit the layer.
    pub fn new(span: FileSpan, block_index: &str, blob_size: u64) -> Result<SeekPlan> {
        let index = BlockIndex::decode(block_index)?;
        index.check(span.tar_len, blob_size)?;
        if span.size == 0 {
            return Ok(SeekPlan { span, range: 0..0, skip: 0, capacity: 0 });
        }
        let block = BLOCK_SIZE as u64;
        let first = span.data_start / block;
        let last = (span.data_start + span.size - 1) / block;
        let range = index.compressed_range(first as usize..last as usize + 1);
        let skip = span.data_start - first * block;
        Ok(SeekPlan { span, range, skip, capacity: (last - first + 1) * block })
    }
}

/// Inflates the fetched blocks and keeps the file's bytes, hashing them; push the range's bytes in order.
pub struct FileInflater {
    inflater: Decompress,
    span: FileSpan,
    skip: u64,
    remaining: u64,
    /// Inflated bytes the blocks may still produce.
    capacity: u64,
    ended: bool,
    hasher: Hasher,
    scratch: Vec<u8>,
}

impl FileInflater {
    pub fn new(plan: &SeekPlan) -> FileInflater {
        FileInflater {
            inflater: Decompress::new(false),
            span: plan.span.clone(),
            skip: plan.skip,
            remaining: plan.span.size,
            capacity: plan.capacity,
            ended: false,
            hasher: Hasher::new(),
            scratch: Vec::with_capacity(SCRATCH_BYTES),
        }
    }

    pub fn span(&self) -> &FileSpan {
        &self.span
    }

    /// True once every byte of the file came out: later input is not needed.
    pub fn is_complete(&self) -> bool {
        self.remaining == 0
    }

    /// Inflates `input` and appends the file's bytes among what it yields to `out`. Input after the file's last
    /// byte is ignored. Bytes handed out are not verified until [`FileInflater::finish`] succeeds.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        // A full scratch buffer may leave output inside the inflater (a match being copied) after the last input
        // byte was taken: call again until it yields less than a buffer.
        let mut full = false;
        while self.remaining > 0 && (!input.is_empty() || full) {
            if self.ended {
                return Err(self.wrong("the deflate stream ends before the file does", ErrorCode::Truncated));
            }
            self.scratch.clear();
            let before = self.inflater.total_in();
            let status = self
                .inflater
                .decompress_vec(input, &mut self.scratch, FlushDecompress::None)
                .map_err(|e| self.wrong(&format!("the fetched blocks do not inflate ({e})"), ErrorCode::GzipCorrupt))?;
            let used = (self.inflater.total_in() - before) as usize;
            input = &input[used..];
            self.ended = status == Status::StreamEnd;
            let produced = self.scratch.len() as u64;
            full = self.scratch.len() == self.scratch.capacity();
            if produced > self.capacity {
                return Err(self.wrong("the fetched blocks inflate to more than their size", ErrorCode::GzipCorrupt));
            }
            self.capacity -= produced;
            let skipped = self.skip.min(produced);
            self.skip -= skipped;
            let take = (produced - skipped).min(self.remaining);
            let bytes = &self.scratch[skipped as usize..(skipped + take) as usize];
            self.hasher.update(bytes);
            out.extend_from_slice(bytes);
            self.remaining -= take;
            if used == 0 && produced == 0 && !self.ended && !input.is_empty() {
                return Err(self.wrong("the fetched blocks cannot be decoded", ErrorCode::GzipCorrupt));
            }
        }
        Ok(())
    }

    /// After the whole range: the file must be complete, with the manifest's digest.
    pub fn finish(self) -> Result<()> {
        if self.remaining > 0 {
            let message = format!("the fetched blocks end {} bytes before the file does", self.remaining);
            return Err(self.wrong(&message, ErrorCode::Truncated));
        }
        let actual = self.hasher.finish();
        if actual != self.span.digest {
            let message = format!("the bytes read hash to {actual}, the manifest records {}", self.span.digest);
            return Err(Error::new(ErrorCode::DigestMismatch, message)
                .at(artifact_name(&self.span.path))
                .hint("the layer's block index or the registry's bytes are wrong; read the layer from its start"));
        }
        Ok(())
    }

    fn wrong(&self, what: &str, code: ErrorCode) -> Error {
        Error::new(code, format!("{what}: the layer's block index does not match it"))
            .at(artifact_name(&self.span.path))
            .hint("the index is only a hint: read the layer from its start instead")
    }
}

#[cfg(test)]
#[path = "seek_tests.rs"]
mod tests;
