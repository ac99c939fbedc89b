//! `LegacyReader`: reads a layer of the original Python CtxPack ("v0", spec §7.4) so its content can be
//! extracted safely. Push compressed bytes in, pull events out, as with [`super::PackReader`].
//!
//! A v0 layer is what Python's `tarfile` writes for `tar.add(item)` over the pack folder: `manifest.json`
//! and the output files and directories at the root, in any order, PAX headers, real owners and mtimes.
//! Nothing in it can be verified (no per-file digests; the URI hashes input folders the pack does not
//! hold), so this reader enforces only what keeps extraction safe and bounded: valid relative paths, no
//! duplicates, only files, directories and symlinks that stay inside, the limits, and the manifest's URI
//! being the one asked for. The whole tree is checked at `finish` (collisions, symlink escapes through
//! other links); hosts create symlinks and commit the extraction only after that.

use super::limits::Limits;
use super::reader::FirstFailure;
use super::tar_header::typeflag;
use super::tar_scan::{RawEntry, TarEvent, TarScanner};
use super::writer::MANIFEST_NAME;
use super::PackEntryKind;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::path;
use crate::tree::{Tree, TreeEntry};
use crate::uri::CtxUri;
use serde_json::Value;
use std::collections::HashSet;

/// What cannot be checked in a v0 layer, reported to the user with every read.
pub const UNVERIFIED: [&str; 2] = [
    "v0 packs record no per-file digests: the content cannot be checked against anything",
    "the v0 URI hashes the original input folders, which the pack does not contain: it cannot be re-derived",
];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LegacyOptions {
    pub limits: Limits,
    /// The URI `manifest.json` must name (as when the layer was fetched for that URI).
    pub expect_uri: Option<CtxUri>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LegacyEvent {
    /// `manifest.json`, parsed; its `uri` is valid (and the expected one). Comes wherever the tar has it.
    Manifest {
        manifest: Value,
        bytes: Vec<u8>,
    },
    /// A directory entry (possibly empty in the pack).
    Directory {
        path: String,
    },
    /// A file or symlink begins; a symlink's target is normalised and stays inside the tree lexically.
    Entry {
        path: String,
        kind: PackEntryKind,
    },
    Data(Vec<u8>),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LegacySummary {
    pub uri: CtxUri,
    pub manifest: Value,
    pub files: u64,
    pub bytes: u64,
    pub compressed_bytes: u64,
    /// Why the content is not verified ([`UNVERIFIED`]).
    pub unverified: Vec<String>,
}

pub struct LegacyReader {
    options: LegacyOptions,
    tar: TarScanner,
    manifest: Option<(CtxUri, Value)>,
    /// Every name seen (files, symlinks, directories), to reject duplicates as they come.
    names: HashSet<String>,
    /// Files and symlinks, for the whole-tree check at the end (digests are not known: placeholders).
    entries: Vec<TreeEntry>,
    directories: Vec<String>,
    files: u64,
    /// Sizes the file headers declared so far, checked against `max_total_bytes` before any data.
    declared_bytes: u64,
    bytes: u64,
    failed: FirstFailure,
}

impl LegacyReader {
    pub fn new(options: LegacyOptions) -> LegacyReader {
        LegacyReader {
            tar: TarScanner::new(options.limits),
            options,
            manifest: None,
            names: HashSet::new(),
            entries: Vec::new(),
            directories: Vec::new(),
            files: 0,
            declared_bytes: 0,
            bytes: 0,
            failed: FirstFailure::default(),
        }
    }

    pub fn wants_input(&self) -> bool {
        self.tar.stream().wants_input()
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        self.failed.check()?;
        if !self.wants_input() {
            return Err(Error::new(ErrorCode::InvalidState, "push() while the previous chunk is unread"));
        }
        self.tar.push(chunk);
        Ok(())
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<LegacyEvent>> {
        self.failed.check()?;
        let result = self.step();
        self.failed.record(result)
    }

    /// Ends the input: the archive must be complete, hold `manifest.json`, and form a safe tree.
    pub fn finish(&mut self) -> Result<LegacySummary> {
        self.failed.check()?;
        if !self.wants_input() {
            return Err(Error::new(ErrorCode::InvalidState, "finish() before next() returned nothing"));
        }
        let result = self.check_complete();
        self.failed.record(result)
    }

    fn check_complete(&mut self) -> Result<LegacySummary> {
        if !self.tar.at_end() {
            return Err(Error::new(ErrorCode::Truncated, "the layer ends before its end-of-archive marker"));
        }
        if !self.tar.stream().at_end_of_gzip() {
            return Err(Error::new(ErrorCode::Truncated, "the gzip stream ends before its trailer"));
        }
        let Some((uri, manifest)) = self.manifest.clone() else {
            return Err(Error::new(ErrorCode::ManifestInvalid, format!("the v0 layer has no {MANIFEST_NAME}")));
        };
        let tree = Tree::new(std::mem::take(&mut self.entries))?;
        if let Some(dir) = self.directories.iter().find(|dir| tree.get(dir).is_some()) {
            return Err(
                Error::new(ErrorCode::PathCollision, "is both a directory and a file or symlink").at(dir.clone())
            );
        }
        Ok(LegacySummary {
            uri,
            manifest,
            files: self.files,
            bytes: self.bytes,
            compressed_bytes: self.tar.stream().compressed(),
            unverified: UNVERIFIED.iter().map(|s| s.to_string()).collect(),
        })
    }

    fn step(&mut self) -> Result<Option<LegacyEvent>> {
        while let Some(event) = self.tar.next()? {
            let event = match event {
                TarEvent::Entry(entry) => self.on_entry(entry)?,
                TarEvent::Collected(bytes) => Some(self.on_manifest(bytes)?),
                TarEvent::Data(data) => {
                    self.bytes += data.len() as u64;
                    Some(LegacyEvent::Data(data))
                }
                TarEvent::DataEnd => Some(LegacyEvent::End),
                TarEvent::EndOfArchive => None,
            };
            if event.is_some() {
                return Ok(event);
            }
        }
        Ok(None)
    }

    fn on_entry(&mut self, entry: RawEntry) -> Result<Option<LegacyEvent>> {
        let size = entry.size;
        let raw_name = path::from_bytes(&entry.name)?;
        let printable = path::printable(raw_name);
        let unsupported = |what: &str| {
            Error::new(
                ErrorCode::UnsupportedEntryType,
                format!("is {what}; only files, directories and symlinks are extracted"),
            )
            .at(printable.clone())
        };
        let is_directory = match entry.typeflag {
            _ if entry.sparse => return Err(unsupported("a GNU sparse file")),
            typeflag::DIRECTORY => true,
            typeflag::REGULAR | typeflag::REGULAR_OLD => raw_name.ends_with('/'),
            typeflag::SYMLINK => false,
            typeflag::HARD_LINK => return Err(unsupported("a hard link")),
            b'3' => return Err(unsupported("a character device")),
            b'4' => return Err(unsupported("a block device")),
            b'6' => return Err(unsupported("a FIFO")),
            other => return Err(unsupported(&format!("an entry of tar type {:?}", other as char))),
        };
        // tarfile names members as added: "name", or "./name" when the folder was added as ".".
        let trimmed = raw_name.strip_prefix("./").unwrap_or(raw_name);
        let trimmed = if is_directory { trimmed.trim_end_matches('/') } else { trimmed };
        if is_directory && (trimmed.is_empty() || trimmed == ".") {
            self.tar.ignore_data();
            return Ok(None); // the root itself
        }
        let name = path::normalize_relative(trimmed)?;
        if !self.names.insert(name.clone()) {
            return Err(Error::new(ErrorCode::EntryDuplicate, "appears more than once").at(printable));
        }
        if self.names.len() as u64 > self.options.limits.max_entries.saturating_add(1) {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("the layer has more than {} entries", self.options.limits.max_entries),
            ));
        }

        if is_directory {
            self.directories.push(name.clone());
            self.tar.skip_data();
            return Ok(Some(LegacyEvent::Directory { path: name }));
        }
        if entry.typeflag == typeflag::SYMLINK {
            if size != 0 {
                return Err(Error::new(
                    ErrorCode::TarCorrupt,
                    format!("a symlink entry declares {size} bytes of data"),
                )
                .at(printable));
            }
            let target = path::normalize_link_target(&name, path::from_bytes(&entry.link_name)?)?;
            check_link_stays_inside(&name, &target)?;
            self.entries.push(TreeEntry::symlink(name.clone(), target.clone()));
            return Ok(Some(LegacyEvent::Entry { path: name, kind: PackEntryKind::Symlink { target } }));
        }
        if name == MANIFEST_NAME {
            self.tar.collect_data(self.options.limits.check_manifest_size(size)?);
            return Ok(None);
        }
        self.check_file_size(&name, size)?;
        self.declared_bytes += size;
        let executable = entry.mode & 0o100 != 0;
        // Files carry no digest in v0; the tree check at the end needs one, so a placeholder stands in.
        self.entries.push(TreeEntry::file(name.clone(), size, Digest::of(b""), executable));
        self.files += 1;
        Ok(Some(LegacyEvent::Entry { path: name, kind: PackEntryKind::File { size, executable } }))
    }

    fn check_file_size(&self, name: &str, size: u64) -> Result<()> {
        let limits = &self.options.limits;
        if size > limits.max_entry_bytes {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("file is {size} bytes, above the limit of {} bytes", limits.max_entry_bytes),
            )
            .at(name));
        }
        if self.declared_bytes.saturating_add(size) > limits.max_total_bytes {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("files total more than the limit of {} bytes", limits.max_total_bytes),
            )
            .at(name));
        }
        Ok(())
    }

    fn on_manifest(&mut self, bytes: Vec<u8>) -> Result<LegacyEvent> {
        let invalid = |why: String| Error::new(ErrorCode::ManifestInvalid, why).at(MANIFEST_NAME);
        let manifest: Value = serde_json::from_slice(&bytes).map_err(|e| invalid(format!("is not valid JSON: {e}")))?;
        let uri = manifest
            .get("uri")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("has no \"uri\" string".into()))
            .and_then(|uri| CtxUri::parse(uri).map_err(|e| invalid(e.message)))?;
        if let Some(expected) = self.options.expect_uri {
            if uri != expected {
                return Err(Error::new(
                    ErrorCode::UriMismatch,
                    format!("the v0 pack is {uri}, but {expected} was expected"),
                )
                .at(MANIFEST_NAME)
                .hint("the source returned a different pack than the one asked for; do not trust it"));
            }
        }
        self.manifest = Some((uri, manifest.clone()));
        Ok(LegacyEvent::Manifest { manifest, bytes })
    }
}

/// A symlink's target, resolved lexically from the link's directory, must not climb above the root.
/// (Escapes through other symlinks are caught by the tree check at the end.)
fn check_link_stays_inside(link: &str, target: &str) -> Result<()> {
    let mut depth = link.matches('/').count() as i64;
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return Err(
                Error::new(ErrorCode::SymlinkEscapes, format!("link target {target:?} leaves the tree")).at(link)
            );
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "legacy_tests.rs"]
mod tests;
