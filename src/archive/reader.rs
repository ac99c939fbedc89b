//! `PackReader`: push compressed bytes in, pull verified events out, in bounded memory.
//!
//! Memory is one pushed chunk, a [`TAR_BUFFER`](super::stream::TAR_BUFFER) of inflated bytes, the manifest, one bit per manifest
//! entry and at most [`limits::MAX_EXTENSION_HEADERS`] small extension headers — whatever the pack's
//! size or compression ratio, because inflation happens inside `next()` only into that buffer.
//!
//! Content is unverified until the entry's `End` event (or, when the host hashes, until `entry_digest`
//! accepted the digest): hosts write data to a temporary place and commit it only after that.
//!
//! [`PackReader::layer`] verifies one layer of a pack's layout against the manifest the host already has
//! (the OCI config): exactly that group's entries, in tree order, with every check of a whole pack. A
//! single-layer pack's layer 0 must still start with `manifest.json`, byte-identical to the given one.

use super::crc::HostCrc;
use super::limits::{self, artifact_name, Limits, ARTIFACTS_PREFIX};
use super::partition::partition;
use super::tar_header::typeflag;
use super::tar_scan::{RawEntry, TarEvent, TarScanner};
use super::writer::{no_such_layer, MANIFEST_NAME};
use super::PackEntryKind;
use crate::digest::{Digest, Hasher};
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::PackManifest;
use crate::path;
use crate::tree::EntryKind;
use crate::uri::CtxUri;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;
// The tests glob-import this module and check the extension-header caps the tar layer enforces.
#[cfg(test)]
use super::limits::{MAX_EXTENSION_BYTES, MAX_EXTENSION_HEADERS};

thread_local! {
    /// The manifest the last [`PackReader::layer`] on this thread verified, with its bytes and the limits it was
    /// checked under. A thread reads the layers of one pack one after another (pull, verify, unpack), and
    /// re-verifying a manifest of many entries (URI and tree digest re-derived) costs far more than comparing its
    /// bytes (a 1.7 MB manifest: ~25 ms to verify, ~4 ms to hash, well under 1 ms to compare): each thread
    /// verifies it once.
    static LAST_VERIFIED: RefCell<Option<VerifiedManifest>> = const { RefCell::new(None) };
}

/// A layer's manifest as verified: its bytes, the limits it was checked under, the parsed manifest.
struct VerifiedManifest {
    bytes: Vec<u8>,
    limits: Limits,
    manifest: Arc<PackManifest>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderOptions {
    pub limits: Limits,
    /// Hash file content in the core; when false the host passes each file's digest to `entry_digest`.
    pub hash_content: bool,
    /// The URI the pack must have (as when it was fetched by URI).
    pub expect_uri: Option<CtxUri>,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions { limits: Limits::default(), hash_content: true, expect_uri: None }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The verified manifest (URI and tree digest re-derived) and its exact bytes. Always first. The reader
    /// keeps the same manifest (shared, not copied: it may hold a million entries).
    Manifest { manifest: Arc<PackManifest>, bytes: Vec<u8> },
    /// An artifact begins; `path` is relative to `artifacts/` and listed in the manifest.
    Entry { path: String, kind: PackEntryKind },
    /// The next piece of the current file's content (at most [`super::stream::TAR_BUFFER`] bytes).
    Data(Vec<u8>),
    /// The current artifact is complete; with core hashing its size and digest have been verified.
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub uri: CtxUri,
    pub manifest: Arc<PackManifest>,
    /// Regular files read.
    pub files: u64,
    /// Content bytes of those files.
    pub bytes: u64,
    /// Compressed bytes read (the size of the pack).
    pub compressed_bytes: u64,
}

/// Where the reader is within the artifacts; the tar layer tracks the rest.
enum State {
    /// Between entries, or at the end of a symlink's (empty) data.
    Between,
    /// Inside a file's data; `hasher` when the core hashes content.
    File { index: usize, hasher: Option<Hasher> },
    /// `hash_content` is off: the host must call `entry_digest` for this file before reading on.
    AwaitingDigest { index: usize },
    /// Inside the `manifest.json` of a single-layer pack's layer, which must be the given manifest: hashed as
    /// it streams rather than held.
    ManifestCopy { hasher: Hasher },
}

/// A reader's first error (shared with the legacy reader): once one call fails, every call reports it.
#[derive(Default)]
pub(super) struct FirstFailure(Option<Error>);

impl FirstFailure {
    /// The recorded error, if any.
    pub fn check(&self) -> Result<()> {
        self.0.clone().map_or(Ok(()), Err)
    }

    /// Records the error of `result`, if any, and passes `result` on.
    pub fn record<T>(&mut self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            self.0 = Some(e.clone());
        }
        result
    }
}

/// Which layer of the pack is being read, and where the reader is in its group.
struct LayerScope {
    /// The group's entries, by tree index.
    entries: Range<usize>,
    /// Tree index of the entry the layer must hold next (entries come in tree order).
    next: usize,
    /// A single-layer pack's archive starts with `manifest.json`; the digest and size of the bytes it must
    /// hold, until it has been read.
    manifest_entry: Option<(Digest, u64)>,
}

/// Verifying pack reader. Host loop: `push` a chunk, then call `next` until it returns None (handling
/// events; with `hash_content` off, `entry_digest` after each file's `End`), repeat; at end of input
/// call `finish`. After any verification error every call returns that error.
pub struct PackReader {
    options: ReaderOptions,
    tar: TarScanner,
    state: State,
    manifest: Option<Arc<PackManifest>>,
    /// Set when reading one layer of a pack.
    layer: Option<LayerScope>,
    /// Which manifest entries the archive has delivered, by tree index.
    seen: Vec<bool>,
    files: u64,
    bytes: u64,
    /// The first verification failure; once set every call reports it.
    failed: FirstFailure,
}

impl PackReader {
    pub fn new(options: ReaderOptions) -> PackReader {
        PackReader {
            tar: TarScanner::new(options.limits),
            options,
            state: State::Between,
            manifest: None,
            layer: None,
            seen: Vec::new(),
            files: 0,
            bytes: 0,
            failed: FirstFailure::default(),
        }
    }

    /// Layer `layer` of the pack whose `manifest.json` is `manifest_bytes`: the manifest is parsed and
    /// verified (URI re-derived, `expect_uri` and the limits checked) before any input, and no manifest
    /// event is produced.
    pub fn layer(manifest_bytes: &[u8], layer: usize, options: ReaderOptions) -> Result<PackReader> {
        let mut reader = PackReader::new(options);
        let manifest = reader.accept_layer_manifest(manifest_bytes)?;
        let groups = partition(manifest.outputs.entries());
        let group = groups.get(layer).ok_or_else(|| no_such_layer(layer, groups.len()))?;
        let single = groups.len() == 1;
        if !single {
            let entries = &manifest.outputs.entries()[group.entries.clone()];
            reader.tar.set_ceiling(limits::inflated_ceiling(0, entries));
        }
        reader.layer = Some(LayerScope {
            entries: group.entries.clone(),
            next: group.entries.start,
            manifest_entry: single.then(|| (Digest::of(manifest_bytes), manifest_bytes.len() as u64)),
        });
        reader.seen = vec![false; manifest.outputs.entries().len()];
        reader.manifest = Some(manifest);
        Ok(reader)
    }

    /// The host computes the gzip CRC-32 (before any input); this reader still compares it with the trailer.
    pub fn use_host_crc(&mut self, crc: HostCrc) {
        self.tar.use_host_crc(crc);
    }

    /// True when every pushed byte has been taken in, so `push` may be called. Events from bytes already
    /// taken in may still be pending: `next` returns None only when it truly needs more input.
    pub fn wants_input(&self) -> bool {
        self.tar.stream().wants_input()
    }

    /// Hands the next chunk of the compressed pack to the reader. Only when `wants_input()`.
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        self.failed.check()?;
        if !self.wants_input() {
            return Err(Error::new(
                ErrorCode::InvalidState,
                "push() while the previous chunk is unread: call next() until it returns nothing",
            ));
        }
        self.tar.push(chunk);
        Ok(())
    }

    /// The next verified event, or None when more input is needed (or, at the end, none remain).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Event>> {
        self.failed.check()?;
        if let State::AwaitingDigest { index } = self.state {
            let name = self.artifact_name(index);
            return Err(Error::new(
                ErrorCode::InvalidState,
                "hashContent is off: call entryDigest() after each file's end event",
            )
            .at(name));
        }
        let result = self.step();
        self.failed.record(result)
    }

    /// With `hash_content` off: the digest the host computed for the file that just ended.
    pub fn entry_digest(&mut self, digest: Digest) -> Result<()> {
        self.failed.check()?;
        let State::AwaitingDigest { index } = self.state else {
            return Err(Error::new(
                ErrorCode::InvalidState,
                "entryDigest() is only expected after a file's end event with hashContent off",
            ));
        };
        self.failed.record(self.check_digest(index, digest))?;
        self.state = State::Between;
        Ok(())
    }

    /// Ends the input: the archive and the gzip stream must be complete.
    pub fn finish(&mut self) -> Result<Summary> {
        self.failed.check()?;
        if !self.wants_input() || matches!(self.state, State::AwaitingDigest { .. }) {
            return Err(Error::new(
                ErrorCode::InvalidState,
                "finish() before the reader is drained: call next() (and entryDigest()) until next() returns nothing",
            ));
        }
        let truncated = |what: String| Error::new(ErrorCode::Truncated, what);
        let error = match (&self.state, &self.manifest) {
            _ if self.tar.at_end() && !self.tar.stream().at_end_of_gzip() => {
                Some(truncated("the gzip stream ends before its trailer".into()))
            }
            (_, Some(_)) if self.tar.at_end() => None,
            (State::File { index, .. }, _) => {
                Some(truncated("the pack ends inside this file".into()).at(self.artifact_name(*index)))
            }
            (_, None) => Some(truncated("the pack ends before its manifest".into())),
            _ => Some(truncated("the pack ends before its end-of-archive marker".into())),
        };
        if let Some(e) = error {
            return self.failed.record(Err(e));
        }
        let manifest = self.manifest.clone().expect("matched above");
        Ok(Summary {
            uri: manifest.uri,
            manifest,
            files: self.files,
            bytes: self.bytes,
            compressed_bytes: self.tar.stream().compressed(),
        })
    }

    fn step(&mut self) -> Result<Option<Event>> {
        while let Some(event) = self.tar.next()? {
            let event = match event {
                TarEvent::Entry(entry) => self.on_entry(entry)?,
                TarEvent::Collected(bytes) => self.on_manifest(bytes)?,
                TarEvent::Data(data) => match &mut self.state {
                    State::ManifestCopy { hasher } => {
                        hasher.update(&data);
                        None
                    }
                    state => {
                        if let State::File { hasher: Some(hasher), .. } = state {
                            hasher.update(&data);
                        }
                        self.bytes += data.len() as u64;
                        Some(Event::Data(data))
                    }
                },
                TarEvent::DataEnd => match std::mem::replace(&mut self.state, State::Between) {
                    State::ManifestCopy { hasher } => self.on_manifest_copy(hasher.finish())?,
                    State::File { index, hasher } => {
                        self.files += 1;
                        match hasher {
                            Some(hasher) => self.check_digest(index, hasher.finish())?,
                            None => self.state = State::AwaitingDigest { index },
                        }
                        Some(Event::End)
                    }
                    _ => Some(Event::End),
                },
                TarEvent::EndOfArchive => {
                    self.check_nothing_missing()?;
                    None
                }
            };
            if event.is_some() {
                return Ok(event);
            }
        }
        Ok(None)
    }

    /// Handles one entry's header; returns the event it produces, if any, and sets the next state.
    fn on_entry(&mut self, entry: RawEntry) -> Result<Option<Event>> {
        let size = entry.size;
        let name = path::from_bytes(&entry.name)?.to_string();
        let printable = path::printable(&name);
        let unsupported = |what: &str| {
            Error::new(ErrorCode::UnsupportedEntryType, format!("is {what}; packs hold only files and symlinks"))
                .at(printable.clone())
        };
        let is_symlink = match entry.typeflag {
            _ if entry.sparse => return Err(unsupported("a GNU sparse file")),
            typeflag::REGULAR | typeflag::REGULAR_OLD if name.ends_with('/') => return Err(unsupported("a directory")),
            typeflag::REGULAR | typeflag::REGULAR_OLD => false,
            typeflag::SYMLINK => true,
            typeflag::DIRECTORY => return Err(unsupported("a directory")),
            typeflag::HARD_LINK => return Err(unsupported("a hard link")),
            b'3' => return Err(unsupported("a character device")),
            b'4' => return Err(unsupported("a block device")),
            b'6' => return Err(unsupported("a FIFO")),
            b'S' => return Err(unsupported("a GNU sparse file")),
            other => return Err(unsupported(&format!("an entry of tar type {:?}", other as char))),
        };

        let manifest_pending = match &self.layer {
            Some(scope) => scope.manifest_entry.is_some(),
            None => self.manifest.is_none(),
        };
        if manifest_pending {
            if is_symlink || name != MANIFEST_NAME {
                return Err(Error::new(
                    ErrorCode::ManifestInvalid,
                    format!("the first entry must be the file {MANIFEST_NAME}, found {printable:?}"),
                )
                .hint("this is not a ctxpack pack, or it is damaged"));
            }
            if let Some((_, expected_size)) = self.layer.as_ref().and_then(|scope| scope.manifest_entry) {
                if size != expected_size {
                    return Err(manifest_differs());
                }
                self.state = State::ManifestCopy { hasher: Hasher::new() };
                return Ok(None);
            }
            self.tar.collect_data(self.options.limits.check_manifest_size(size)?);
            return Ok(None);
        }

        let relative = self.artifact_path(&name)?;
        let index = self.tree_index(relative).ok_or_else(|| {
            Error::new(ErrorCode::EntryUnexpected, "is not an entry of the manifest").at(printable.clone())
        })?;
        if self.seen[index] {
            return Err(Error::new(ErrorCode::EntryDuplicate, "appears more than once").at(printable));
        }
        if let Some(scope) = &self.layer {
            self.check_layer_order(scope, index, &printable)?;
        }
        let recorded = &self.manifest.as_ref().expect("checked above").outputs.entries()[index];
        let mismatch = |why: String| Error::new(ErrorCode::EntryUnexpected, why).at(printable.clone());
        let kind = match (&recorded.kind, is_symlink) {
            (EntryKind::File { size: recorded_size, executable, .. }, false) => {
                if size != *recorded_size {
                    return Err(Error::new(
                        ErrorCode::SizeMismatch,
                        format!("the archive holds {size} bytes, the manifest records {recorded_size}"),
                    )
                    .at(printable));
                }
                if (entry.mode & 0o100 != 0) != *executable {
                    return Err(mismatch(format!(
                        "executable bit is {}, the manifest records {executable}",
                        !executable
                    )));
                }
                PackEntryKind::File { size, executable: *executable }
            }
            (EntryKind::Symlink { target }, true) => {
                if size != 0 {
                    return Err(Error::new(
                        ErrorCode::TarCorrupt,
                        format!("a symlink entry declares {size} bytes of data"),
                    )
                    .at(printable));
                }
                if entry.link_name != target.as_bytes() {
                    let link = String::from_utf8_lossy(&entry.link_name);
                    return Err(mismatch(format!(
                        "links to {:?}, the manifest records {target:?}",
                        path::printable(&link)
                    )));
                }
                PackEntryKind::Symlink { target: target.clone() }
            }
            (EntryKind::File { .. }, true) => return Err(mismatch("is a symlink, the manifest records a file".into())),
            (EntryKind::Symlink { .. }, false) => {
                return Err(mismatch("is a file, the manifest records a symlink".into()))
            }
        };
        self.seen[index] = true;
        if let Some(scope) = &mut self.layer {
            scope.next += 1;
        }
        if let PackEntryKind::File { .. } = kind {
            self.state = State::File { index, hasher: self.options.hash_content.then(Hasher::new) };
        }
        Ok(Some(Event::Entry { path: relative.to_string(), kind }))
    }

    /// `artifacts/<p>` with `p` a valid relative path already in NFC form; returns `p`.
    fn artifact_path<'n>(&self, name: &'n str) -> Result<&'n str> {
        let normalized = path::normalize_relative(name)?;
        if normalized != name {
            return Err(Error::new(ErrorCode::PathInvalid, "is not in NFC form").at(path::printable(name)));
        }
        name.strip_prefix(ARTIFACTS_PREFIX).ok_or_else(|| {
            Error::new(
                ErrorCode::EntryUnexpected,
                format!("only {ARTIFACTS_PREFIX}… entries may follow {MANIFEST_NAME}"),
            )
            .at(path::printable(name))
        })
    }

    fn tree_index(&self, relative: &str) -> Option<usize> {
        let entries = self.manifest.as_ref()?.outputs.entries();
        entries.binary_search_by(|e| e.path.as_bytes().cmp(relative.as_bytes())).ok()
    }

    /// A whole pack's manifest gives the manifest event.
    fn on_manifest(&mut self, bytes: Vec<u8>) -> Result<Option<Event>> {
        let manifest = Arc::new(self.accept_manifest(&bytes)?);
        let manifest_end = self.tar.next_header_offset();
        self.tar.set_ceiling(limits::inflated_ceiling(manifest_end, manifest.outputs.entries()));
        self.seen = vec![false; manifest.outputs.entries().len()];
        self.manifest = Some(Arc::clone(&manifest));
        Ok(Some(Event::Manifest { manifest, bytes }))
    }

    /// A single-layer pack's layer 0 holds the given manifest again: its bytes (of the size already checked)
    /// must hash to the given manifest's digest.
    fn on_manifest_copy(&mut self, digest: Digest) -> Result<Option<Event>> {
        let scope = self.layer.as_mut().expect("only layers copy the manifest");
        if scope.manifest_entry.take().is_some_and(|(given, _)| given != digest) {
            return Err(manifest_differs());
        }
        let manifest_end = self.tar.next_header_offset();
        let entries = &self.manifest.as_ref().expect("given up front").outputs.entries()[scope.entries.clone()];
        self.tar.set_ceiling(limits::inflated_ceiling(manifest_end, entries));
        Ok(None)
    }

    /// Parses and verifies a manifest: URI and tree digest re-derived, the expected URI, the limits.
    fn accept_manifest(&self, bytes: &[u8]) -> Result<PackManifest> {
        let manifest = self.verify_manifest(bytes)?;
        self.check_accepted(&manifest)?;
        Ok(manifest)
    }

    /// [`Self::accept_manifest`] for a layer's manifest, verified once per thread (see [`LAST_VERIFIED`]).
    fn accept_layer_manifest(&self, bytes: &[u8]) -> Result<Arc<PackManifest>> {
        let limits = self.options.limits;
        let cached = LAST_VERIFIED.with(|last| {
            let last = last.borrow();
            last.as_ref().filter(|v| v.bytes == bytes && v.limits == limits).map(|v| v.manifest.clone())
        });
        let manifest = match cached {
            Some(manifest) => manifest,
            None => {
                let manifest = Arc::new(self.verify_manifest(bytes)?);
                let verified = VerifiedManifest { bytes: bytes.to_vec(), limits, manifest: manifest.clone() };
                LAST_VERIFIED.with(|last| *last.borrow_mut() = Some(verified));
                manifest
            }
        };
        self.check_accepted(&manifest)?;
        Ok(manifest)
    }

    /// The manifest parsed, its URI and tree digest re-derived.
    fn verify_manifest(&self, bytes: &[u8]) -> Result<PackManifest> {
        PackManifest::parse_limited(bytes, &self.options.limits.manifest_limits()).map_err(|e| {
            if e.subject.is_none() {
                e.at(MANIFEST_NAME)
            } else {
                e
            }
        })
    }

    /// The pack is the one expected, and its outputs are within the limits.
    fn check_accepted(&self, manifest: &PackManifest) -> Result<()> {
        if let Some(expected) = self.options.expect_uri {
            if manifest.uri != expected {
                return Err(Error::new(
                    ErrorCode::UriMismatch,
                    format!("the pack is {}, but {expected} was expected", manifest.uri),
                )
                .hint("the source returned a different pack than the one asked for; do not trust it"));
            }
        }
        self.options.limits.check_outputs(manifest.outputs.entries())
    }

    /// A layer holds exactly its group's entries, in tree order.
    fn check_layer_order(&self, scope: &LayerScope, index: usize, printable: &str) -> Result<()> {
        let unexpected = |why: String| Error::new(ErrorCode::EntryUnexpected, why).at(printable);
        if !scope.entries.contains(&index) {
            return Err(unexpected("belongs to another layer of the pack".into()));
        }
        if index != scope.next {
            let expected = self.artifact_name(scope.next);
            return Err(unexpected(format!("is out of order: the layer holds {expected} first")));
        }
        Ok(())
    }

    fn check_digest(&self, index: usize, actual: Digest) -> Result<()> {
        let EntryKind::File { digest: recorded, .. } =
            self.manifest.as_ref().expect("entries follow the manifest").outputs.entries()[index].kind
        else {
            unreachable!("only files carry data");
        };
        if actual != recorded {
            return Err(Error::new(
                ErrorCode::DigestMismatch,
                format!("content hashes to {actual}, the manifest records {recorded}"),
            )
            .at(self.artifact_name(index)));
        }
        Ok(())
    }

    fn check_nothing_missing(&self) -> Result<()> {
        let manifest_entry_pending = self.layer.as_ref().is_some_and(|scope| scope.manifest_entry.is_some());
        let Some(manifest) = self.manifest.as_ref().filter(|_| !manifest_entry_pending) else {
            return Err(Error::new(ErrorCode::ManifestInvalid, format!("the archive ends without a {MANIFEST_NAME}")));
        };
        let scope = self.layer.as_ref().map_or(0..self.seen.len(), |scope| scope.entries.clone());
        match scope.clone().find(|&index| !self.seen[index]) {
            Some(index) => Err(Error::new(ErrorCode::EntryMissing, "is recorded in the manifest but not in the pack")
                .at(artifact_name(&manifest.outputs.entries()[index].path))),
            None => Ok(()),
        }
    }

    fn artifact_name(&self, index: usize) -> String {
        self.manifest.as_ref().map_or_else(String::new, |m| artifact_name(&m.outputs.entries()[index].path))
    }
}

fn manifest_differs() -> Error {
    Error::new(ErrorCode::ManifestInvalid, "differs from the pack's manifest (its config)")
        .at(MANIFEST_NAME)
        .hint("the layer belongs to another pack, or the store is damaged; do not trust it")
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "layer_tests.rs"]
mod layer_tests;
