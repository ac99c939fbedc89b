//! What a reader is willing to process: configurable limits, and the fixed bounds that keep an untrusted
//! stream from making the reader do unbounded work (the inflated-size ceiling and extension-header caps).

use super::tar_header::{padded, BLOCK};
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::ManifestLimits;
use crate::tree::{EntryKind, TreeEntry};

/// Limits on an untrusted pack. Every one is checked against the declared sizes before data is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest `manifest.json`, in bytes.
    pub max_manifest_bytes: u64,
    /// Largest `provenance` in a manifest, as written. It is not identity, so it has no reason to be large.
    pub max_provenance_bytes: u64,
    /// Largest single file, in bytes.
    pub max_entry_bytes: u64,
    /// Largest total of all file sizes, in bytes.
    pub max_total_bytes: u64,
    /// Most entries (files and symlinks) in the manifest.
    pub max_entries: u64,
    /// Largest ratio of inflated to compressed bytes, checked once more than [`RATIO_CHECK_AFTER`] bytes
    /// have been inflated.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_manifest_bytes: 64 << 20,
            max_provenance_bytes: ManifestLimits::default().max_provenance_bytes,
            max_entry_bytes: 64 << 30,
            max_total_bytes: 256 << 30,
            // As many as a default-size manifest.json can name (an entry takes about 140 bytes there), so that
            // with the defaults the parsed manifest stays well under 256 MiB of memory.
            max_entries: 400_000,
            max_ratio: 1000,
        }
    }
}

/// Below this many inflated bytes the ratio is not checked: small, very compressible packs are normal.
pub const RATIO_CHECK_AFTER: u64 = 64 << 20;
/// Largest payload of one extension header (PAX `x`/`g`, GNU `L`/`K`).
pub const MAX_EXTENSION_BYTES: u64 = 64 << 10;
/// Most extension headers in a row before an entry's own header.
pub const MAX_EXTENSION_HEADERS: usize = 8;
/// Header bytes allowed per entry on top of its names: its own header and up to seven extension headers.
const ENTRY_HEADER_ALLOWANCE: u64 = 8 * BLOCK as u64;
/// Zero bytes allowed after the end-of-archive marker (record padding of blocking factors up to 2048).
pub const MAX_TRAILING_ZEROS: u64 = 1 << 20;
/// The end-of-archive marker: two zero blocks.
pub const END_MARKER: u64 = 2 * BLOCK as u64;
/// Every artifact entry's name starts with this.
pub const ARTIFACTS_PREFIX: &str = "artifacts/";

impl Limits {
    /// What the manifest parser enforces while it reads (so a hostile manifest stops early).
    pub fn manifest_limits(&self) -> ManifestLimits {
        ManifestLimits { max_provenance_bytes: self.max_provenance_bytes, max_entries: self.max_entries }
    }

    /// Checks a `manifest.json`'s declared size; returns it as the length of the buffer that holds it.
    pub fn check_manifest_size(&self, size: u64) -> Result<usize> {
        if size > self.max_manifest_bytes {
            return Err(exceeded(format!(
                "manifest.json is {size} bytes, above the limit of {} bytes",
                self.max_manifest_bytes
            ))
            .at("manifest.json"));
        }
        usize::try_from(size).map_err(|_| exceeded("manifest.json does not fit in memory".into()).at("manifest.json"))
    }

    /// Checks the manifest's declared outputs: entry count, each file's size, and the total.
    pub fn check_outputs(&self, entries: &[TreeEntry]) -> Result<()> {
        if entries.len() as u64 > self.max_entries {
            return Err(exceeded(format!(
                "the pack has {} entries, above the limit of {}",
                entries.len(),
                self.max_entries
            )));
        }
        let mut total: u64 = 0;
        for entry in entries {
            if let EntryKind::File { size, .. } = entry.kind {
                if size > self.max_entry_bytes {
                    return Err(exceeded(format!(
                        "file is {size} bytes, above the limit of {} bytes",
                        self.max_entry_bytes
                    ))
                    .at(artifact_name(&entry.path)));
                }
                total = total.saturating_add(size);
            }
        }
        if total > self.max_total_bytes {
            return Err(exceeded(format!(
                "files total {total} bytes, above the limit of {} bytes",
                self.max_total_bytes
            )));
        }
        Ok(())
    }

    /// Rejects a stream that inflates too far beyond its compressed size (a gzip bomb).
    pub fn check_ratio(&self, inflated: u64, compressed: u64) -> Result<()> {
        if inflated > RATIO_CHECK_AFTER && inflated / compressed.max(1) > self.max_ratio {
            return Err(exceeded(format!(
                "{compressed} compressed bytes inflated to {inflated}, a ratio above the limit of {}:1",
                self.max_ratio
            ))
            .hint("this looks like a gzip bomb; raise maxRatio only if you trust the pack"));
        }
        Ok(())
    }
}

/// The most bytes a well-formed tar stream can hold once its manifest is known: everything up to the end
/// of the manifest's data, then per entry its padded content, [`ENTRY_HEADER_ALLOWANCE`] and three
/// padded copies of its name and link target (PAX records plus GNU long names), then the end marker and
/// [`MAX_TRAILING_ZEROS`]. Inflating past this is an error, whatever the compression ratio.
pub fn inflated_ceiling(manifest_end: u64, entries: &[TreeEntry]) -> u64 {
    let per_entry = entries.iter().map(|entry| {
        let (size, target_len) = match &entry.kind {
            EntryKind::File { size, .. } => (*size, 0),
            EntryKind::Symlink { target } => (0, target.len() as u64),
        };
        let names = (ARTIFACTS_PREFIX.len() + entry.path.len()) as u64 + target_len + 1;
        padded(size).saturating_add(ENTRY_HEADER_ALLOWANCE).saturating_add(3 * padded(names))
    });
    per_entry.fold(manifest_end.saturating_add(END_MARKER + MAX_TRAILING_ZEROS), u64::saturating_add)
}

/// The tar name of an artifact.
pub fn artifact_name(path: &str) -> String {
    format!("{ARTIFACTS_PREFIX}{path}")
}

fn exceeded(message: String) -> Error {
    Error::new(ErrorCode::LimitExceeded, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    fn file(path: &str, size: u64) -> TreeEntry {
        TreeEntry::file(path, size, Digest::of(b""), false)
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let l = Limits::default();
        assert_eq!(l.max_manifest_bytes, 64 * 1024 * 1024);
        assert_eq!(l.max_provenance_bytes, 1024 * 1024);
        assert_eq!(l.max_entry_bytes, 64 * 1024 * 1024 * 1024);
        assert_eq!(l.max_total_bytes, 256 * 1024 * 1024 * 1024);
        assert_eq!((l.max_entries, l.max_ratio), (400_000, 1000));
    }

    #[test]
    fn manifest_size_limit() {
        let l = Limits { max_manifest_bytes: 100, ..Limits::default() };
        l.check_manifest_size(100).unwrap();
        let e = l.check_manifest_size(101).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::LimitExceeded, Some("manifest.json")));
    }

    #[test]
    fn output_limits_name_the_entry_and_do_not_overflow() {
        let l = Limits { max_entry_bytes: 10, max_total_bytes: 15, max_entries: 2, ..Limits::default() };
        l.check_outputs(&[file("a", 10), file("b", 5)]).unwrap();
        let e = l.check_outputs(&[file("a", 11)]).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::LimitExceeded, Some("artifacts/a")));
        assert_eq!(l.check_outputs(&[file("a", 10), file("b", 6)]).unwrap_err().code, ErrorCode::LimitExceeded);
        let three = [file("a", 1), file("b", 1), TreeEntry::symlink("c", "a")];
        assert_eq!(l.check_outputs(&three).unwrap_err().code, ErrorCode::LimitExceeded);
        let huge = Limits { max_entry_bytes: u64::MAX, max_total_bytes: u64::MAX - 1, ..Limits::default() };
        assert_eq!(
            huge.check_outputs(&[file("a", u64::MAX), file("b", 2)]).unwrap_err().code,
            ErrorCode::LimitExceeded
        );
    }

    #[test]
    fn ratio_is_checked_only_past_the_threshold() {
        let l = Limits::default();
        l.check_ratio(RATIO_CHECK_AFTER, 1).unwrap();
        l.check_ratio(RATIO_CHECK_AFTER + 1000, (RATIO_CHECK_AFTER + 1000) / 1000).unwrap();
        assert_eq!(l.check_ratio(RATIO_CHECK_AFTER + 1, 1000).unwrap_err().code, ErrorCode::LimitExceeded);
        assert_eq!(l.check_ratio(RATIO_CHECK_AFTER + 1, 0).unwrap_err().code, ErrorCode::LimitExceeded);
    }

    #[test]
    fn ceiling_covers_content_headers_names_and_end() {
        let entries = [file("a", 1), file("b", 513), TreeEntry::symlink("c", "a")];
        let expected = 1536 + END_MARKER + MAX_TRAILING_ZEROS + (512 + 1024) + 3 * (ENTRY_HEADER_ALLOWANCE + 3 * 512);
        assert_eq!(inflated_ceiling(1536, &entries), expected);
        assert_eq!(inflated_ceiling(u64::MAX - 5, &entries), u64::MAX, "saturates");
    }
}
