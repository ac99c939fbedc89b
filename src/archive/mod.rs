//! The pack byte format: a reproducible `.tar.gz`, written and verified as a stream in bounded memory.
//!
//! # Tar layer
//!
//! A POSIX ustar archive. The first entry is `manifest.json`, holding the exact manifest bytes; then every
//! entry of the manifest's output tree, in the tree's order (UTF-8 byte order of the path), named
//! `artifacts/<path>`. There are no directory entries.
//!
//! Every header: uid and gid 0, empty uname and gname, mtime a constant the host gives (default 0; hosts
//! pass `SOURCE_DATE_EPOCH` when set), magic `ustar\0` version `00`, devmajor/devminor `0000000\0`,
//! numeric fields as zero-padded octal with a NUL terminator (base-256 when a value does not fit, e.g. an
//! mtime beyond 8^11 - 1 or a size of 8 GiB or more), checksum as six octal digits, NUL, space.
//! - Regular files: typeflag `0`, mode `0000644`, or `0000755` when executable.
//! - Symlinks: typeflag `2`, mode `0000777`, size 0, linkname = the target.
//! - Names up to 100 bytes go in `name`; longer ASCII names are split at the last `/` that leaves at most
//!   155 bytes of prefix and 1–100 bytes of name.
//! - A PAX `x` header precedes an entry when its name is not ASCII or cannot be split, when its link
//!   target is not ASCII or is longer than 100 bytes, or when its size is 8 GiB or more. It holds, in this
//!   order, the records `linkpath`, `path`, `size` that are needed, and nothing else. Its own header is
//!   named `././@PaxHeader`, mode `0000644`, same mtime and owner rules. The ustar `name`/`linkname` of the
//!   entry then hold the value truncated to 100 bytes at a UTF-8 character boundary (prefix empty), and
//!   the size field holds the size in base-256.
//! - Entry data is padded with zeros to a multiple of 512 bytes. The archive ends with two zero blocks
//!   (1024 bytes) and no further record padding.
//!
//! # Gzip layer
//!
//! The fixed header `1f 8b 08 00 00 00 00 00 00 ff`; then the tar stream cut into blocks of exactly
//! 1 MiB (the last shorter, possibly empty), each raw-deflated by a fresh deflater at level 6 (level 0 when
//! a sample shows the block does not compress), ending with a sync flush, except the last which finishes the deflate stream; then the CRC-32 and the length mod
//! 2^32 of the tar stream, little-endian. See [`deflate_block`].
//!
//! # Reading
//!
//! The reader accepts any gzip (header fields, several members) and any ustar/PAX/GNU writer, but only
//! what a pack may contain: `manifest.json` first (a regular file no larger than the manifest limit),
//! then `artifacts/<p>` regular files and symlinks where `p` is a valid relative NFC path, each recorded
//! in the manifest exactly once with the same type, size, executable bit (owner execute, `0o100`), link
//! target and content digest; after the end-of-archive marker only zero bytes. Hard links, devices,
//! FIFOs, directories, GNU sparse files and any other type are rejected. PAX `x` records `path`,
//! `linkpath` and `size` and GNU `L`/`K` long names are honoured; PAX `g` headers are ignored; at most
//! [`limits::MAX_EXTENSION_HEADERS`] extension headers of at most [`limits::MAX_EXTENSION_BYTES`] each
//! may precede an entry. The inflated stream may never exceed [`limits::inflated_ceiling`], and past
//! 64 MiB its ratio to the compressed bytes read may not exceed [`Limits::max_ratio`].
//!
//! # Layers
//!
//! A pack of more than 64 MiB of files is stored as several layers ([`partition`]): each an archive of
//! one group's `artifacts/<path>` entries, without `manifest.json`, in the same tar and gzip profile. The
//! manifest travels beside them (the OCI config), and a reader verifies each layer against it
//! ([`PackReader::layer`]).

pub mod block_index;
mod crc;
pub mod gzip;
pub mod legacy;
pub mod limits;
pub mod partition;
pub mod reader;
pub mod seek;
pub mod stream;
pub mod tar_header;
mod tar_scan;
pub mod writer;

pub use block_index::BlockIndex;
pub use crc::HostCrc;
pub use gzip::deflate_block;
pub use limits::Limits;
pub use partition::{partition, LayerGroup};
pub use reader::{Event, PackReader, ReaderOptions, Summary};
pub use seek::{file_span, FileInflater, FileSpan, SeekPlan};
pub use writer::{PackWriter, WriterOptions};

use crate::tree::EntryKind;

/// The type of one artifact entry as the archive records it (without the digest, which is checked
/// against the manifest rather than stored in tar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackEntryKind {
    File { size: u64, executable: bool },
    Symlink { target: String },
}

impl From<&EntryKind> for PackEntryKind {
    fn from(kind: &EntryKind) -> Self {
        match kind {
            EntryKind::File { size, executable, .. } => PackEntryKind::File { size: *size, executable: *executable },
            EntryKind::Symlink { target } => PackEntryKind::Symlink { target: target.clone() },
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Manifests and tar/gzip crafting shared by the writer and reader tests.

    use super::tar_header;
    use crate::digest::Digest;
    use crate::manifest::PackManifest;
    use crate::tree::{Tree, TreeEntry};
    use serde_json::json;

    /// Deterministic, partly compressible bytes.
    pub fn sample(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if i % 7 < 3 {
                    b'a' + (i % 5) as u8
                } else {
                    x as u8
                }
            })
            .collect()
    }

    /// One artifact of a test pack: its tree entry and (for files) its content.
    pub struct Artifact {
        pub entry: TreeEntry,
        pub content: Vec<u8>,
    }

    pub fn file(path: &str, content: Vec<u8>, executable: bool) -> Artifact {
        Artifact { entry: TreeEntry::file(path, content.len() as u64, Digest::of(&content), executable), content }
    }

    pub fn symlink(path: &str, target: &str) -> Artifact {
        Artifact { entry: TreeEntry::symlink(path, target), content: Vec::new() }
    }

    /// A manifest for these artifacts, and the artifacts in tree order.
    pub fn manifest_for(artifacts: Vec<Artifact>) -> (Vec<u8>, Vec<Artifact>) {
        let tree = Tree::new(artifacts.iter().map(|a| a.entry.clone()).collect()).unwrap();
        let contract = json!({"ctxpack": "contract/v1", "inputs": [], "transforms": [{"tool": "test"}]});
        let manifest = PackManifest::build(contract, tree.clone(), json!({"created": "2026-01-01T00:00:00Z"})).unwrap();
        let mut by_path: Vec<Artifact> = artifacts;
        by_path.sort_by(|a, b| a.entry.path.as_bytes().cmp(b.entry.path.as_bytes()));
        assert_eq!(
            by_path.iter().map(|a| &a.entry.path).collect::<Vec<_>>(),
            tree.entries().iter().map(|e| &e.path).collect::<Vec<_>>()
        );
        (manifest.to_bytes().unwrap(), by_path)
    }

    /// A plain ustar header block for crafting archives by hand (no PAX), with any typeflag and mode.
    pub fn ustar(name: &str, typeflag: u8, mode: u32, size: u64, link: &str) -> Vec<u8> {
        let kind = if typeflag == tar_header::typeflag::SYMLINK {
            super::PackEntryKind::Symlink { target: link.to_string() }
        } else {
            super::PackEntryKind::File { size, executable: false }
        };
        let mut out = Vec::new();
        tar_header::encode_entry(&mut out, name, &kind, 0);
        let start = out.len() - tar_header::BLOCK;
        let block = &mut out[start..];
        block[156] = typeflag;
        block[100..108].copy_from_slice(format!("{mode:07o}\0").as_bytes());
        block[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        fix_checksum(block);
        out
    }

    /// Recomputes the checksum of an edited header block.
    pub fn fix_checksum(block: &mut [u8]) {
        block[148..156].fill(b' ');
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }

    /// Appends an entry (header(s) from `ustar`, data, padding) to a tar stream.
    pub fn push_entry(tar: &mut Vec<u8>, header: &[u8], data: &[u8]) {
        tar.extend_from_slice(header);
        tar.extend_from_slice(data);
        tar.resize(tar.len() + tar_header::padding(data.len() as u64) as usize, 0);
    }

    pub fn gzip(tar: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(tar).unwrap();
        enc.finish().unwrap()
    }
}
