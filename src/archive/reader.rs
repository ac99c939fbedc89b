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

use super::limits::{
    self, artifact_name, Limits, ARTIFACTS_PREFIX, MAX_EXTENSION_BYTES, MAX_EXTENSION_HEADERS, MAX_TRAILING_ZEROS,
};
use super::partition::partition;
use super::stream::TarStream;
use super::tar_header::{self, is_zero_block, padding, typeflag, PaxOverrides, BLOCK};
use super::writer::{no_such_layer, MANIFEST_NAME};
use super::PackEntryKind;
use crate::digest::{Digest, Hasher};
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::PackManifest;
use crate::path;
use crate::tree::EntryKind;
use crate::uri::CtxUri;
use std::ops::Range;

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
    /// The verified manifest (URI and tree digest re-derived) and its exact bytes. Always first.
    Manifest { manifest: PackManifest, bytes: Vec<u8> },
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
    pub manifest: PackManifest,
    /// Regular files read.
    pub files: u64,
    /// Content bytes of those files.
    pub bytes: u64,
    /// Compressed bytes read (the size of the pack).
    pub compressed_bytes: u64,
}

/// Extension headers seen since the last entry header (shared with the legacy reader).
#[derive(Default)]
pub(super) struct Extensions {
    pub pax: PaxOverrides,
    pub long_name: Option<Vec<u8>>,
    pub long_link: Option<Vec<u8>>,
    pub headers: usize,
}

impl Extensions {
    /// Records one extension header's payload.
    pub fn apply(&mut self, typeflag: u8, data: &[u8]) -> Result<()> {
        match typeflag {
            typeflag::PAX_EXTENDED => self.pax.apply(data)?,
            typeflag::GNU_LONG_NAME => self.long_name = Some(tar_header::gnu_long_name(data)),
            typeflag::GNU_LONG_LINK => self.long_link = Some(tar_header::gnu_long_name(data)),
            _ => {} // PAX global headers set defaults for other tools' metadata; nothing a pack relies on.
        }
        Ok(())
    }

    /// Counts an extension header about to be read; its payload must be small.
    pub fn begin(&mut self, size: u64) -> Result<usize> {
        self.headers += 1;
        if self.headers > MAX_EXTENSION_HEADERS {
            return Err(Error::new(
                ErrorCode::TarCorrupt,
                format!("more than {MAX_EXTENSION_HEADERS} extension headers precede one entry"),
            ));
        }
        if size > MAX_EXTENSION_BYTES {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("an extension header of {size} bytes is above the limit of {MAX_EXTENSION_BYTES}"),
            ));
        }
        Ok(size as usize)
    }
}

/// True for the header types that only describe the next entry.
pub(super) fn is_extension(typeflag: u8) -> bool {
    matches!(
        typeflag,
        typeflag::PAX_EXTENDED | typeflag::PAX_GLOBAL | typeflag::GNU_LONG_NAME | typeflag::GNU_LONG_LINK
    )
}

enum State {
    Header,
    Extension {
        typeflag: u8,
        size: usize,
        data: Vec<u8>,
    },
    ManifestData {
        size: usize,
        data: Vec<u8>,
    },
    FileData {
        index: usize,
        size: u64,
        remaining: u64,
        hasher: Option<Hasher>,
    },
    SymlinkEnd,
    /// `hash_content` is off: the host must call `entry_digest` for this file before reading on.
    AwaitingDigest {
        index: usize,
    },
    /// One zero block was read; the end-of-archive marker needs a second.
    SecondZeroBlock,
    /// After the end-of-archive marker: only zero bytes may follow, at most [`MAX_TRAILING_ZEROS`].
    Trailing {
        zeros: u64,
    },
}

/// Which layer of the pack is being read, and where the reader is in its group.
struct LayerScope {
    /// The group's entries, by tree index.
    entries: Range<usize>,
    /// Tree index of the entry the layer must hold next (entries come in tree order).
    next: usize,
    /// A single-layer pack's archive starts with `manifest.json`; these are the bytes it must hold,
    /// until it has been read.
    manifest_entry: Option<Vec<u8>>,
}

/// Verifying pack reader. Host loop: `push` a chunk, then call `next` until it returns None (handling
/// events; with `hash_content` off, `entry_digest` after each file's `End`), repeat; at end of input
/// call `finish`. After any verification error every call returns that error.
pub struct PackReader {
    options: ReaderOptions,
    stream: TarStream,
    state: State,
    /// Padding to skip before the state proceeds.
    skip: u64,
    extensions: Extensions,
    manifest: Option<PackManifest>,
    /// Set when reading one layer of a pack.
    layer: Option<LayerScope>,
    /// Which manifest entries the archive has delivered, by tree index.
    seen: Vec<bool>,
    files: u64,
    bytes: u64,
    /// The first verification failure; once set every call reports it.
    failed: Option<Error>,
}

impl PackReader {
    pub fn new(options: ReaderOptions) -> PackReader {
        PackReader {
            stream: TarStream::new(options.limits),
            options,
            state: State::Header,
            skip: 0,
            extensions: Extensions::default(),
            manifest: None,
            layer: None,
            seen: Vec::new(),
            files: 0,
            bytes: 0,
            failed: None,
        }
    }

    /// Layer `layer` of the pack whose `manifest.json` is `manifest_bytes`: the manifest is parsed and
    /// verified (URI re-derived, `expect_uri` and the limits checked) before any input, and no manifest
    /// event is produced.
    pub fn layer(manifest_bytes: &[u8], layer: usize, options: ReaderOptions) -> Result<PackReader> {
        let mut reader = PackReader::new(options);
        let manifest = reader.accept_manifest(manifest_bytes)?;
        let groups = partition(manifest.outputs.entries());
        let group = groups.get(layer).ok_or_else(|| no_such_layer(layer, groups.len()))?;
        let single = groups.len() == 1;
        if !single {
            let entries = &manifest.outputs.entries()[group.entries.clone()];
            reader.stream.set_ceiling(limits::inflated_ceiling(0, entries));
        }
        reader.layer = Some(LayerScope {
            entries: group.entries.clone(),
            next: group.entries.start,
            manifest_entry: single.then(|| manifest_bytes.to_vec()),
        });
        reader.seen = vec![false; manifest.outputs.entries().len()];
        reader.manifest = Some(manifest);
        Ok(reader)
    }

    /// True when every pushed byte has been taken in, so `push` may be called. Events from bytes already
    /// taken in may still be pending: `next` returns None only when it truly needs more input.
    pub fn wants_input(&self) -> bool {
        self.stream.wants_input()
    }

    /// Hands the next chunk of the compressed pack to the reader. Only when `wants_input()`.
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !self.wants_input() {
            return Err(Error::new(
                ErrorCode::InvalidState,
                "push() while the previous chunk is unread: call next() until it returns nothing",
            ));
        }
        self.stream.push(chunk);
        Ok(())
    }

    /// The next verified event, or None when more input is needed (or, at the end, none remain).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Event>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if let State::AwaitingDigest { index } = self.state {
            let name = self.artifact_name(index);
            return Err(Error::new(
                ErrorCode::InvalidState,
                "hashContent is off: call entryDigest() after each file's end event",
            )
            .at(name));
        }
        let result = self.step();
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    /// With `hash_content` off: the digest the host computed for the file that just ended.
    pub fn entry_digest(&mut self, digest: Digest) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let State::AwaitingDigest { index } = self.state else {
            return Err(Error::new(
                ErrorCode::InvalidState,
                "entryDigest() is only expected after a file's end event with hashContent off",
            ));
        };
        if let Err(e) = self.check_digest(index, digest) {
            self.failed = Some(e.clone());
            return Err(e);
        }
        self.state = State::Header;
        Ok(())
    }

    /// Ends the input: the archive and the gzip stream must be complete.
    pub fn finish(&mut self) -> Result<Summary> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !self.wants_input() || matches!(self.state, State::AwaitingDigest { .. }) {
            return Err(Error::new(
                ErrorCode::InvalidState,
                "finish() before the reader is drained: call next() (and entryDigest()) until next() returns nothing",
            ));
        }
        let truncated = |what: String| Error::new(ErrorCode::Truncated, what);
        let error = match (&self.state, &self.manifest) {
            (State::Trailing { .. }, _) if !self.stream.at_end_of_gzip() => {
                Some(truncated("the gzip stream ends before its trailer".into()))
            }
            (State::Trailing { .. }, Some(_)) => None,
            (State::FileData { index, .. }, _) => {
                Some(truncated("the pack ends inside this file".into()).at(self.artifact_name(*index)))
            }
            (_, None) => Some(truncated("the pack ends before its manifest".into())),
            _ => Some(truncated("the pack ends before its end-of-archive marker".into())),
        };
        if let Some(e) = error {
            self.failed = Some(e.clone());
            return Err(e);
        }
        let manifest = self.manifest.clone().expect("matched above");
        Ok(Summary {
            uri: manifest.uri,
            manifest,
            files: self.files,
            bytes: self.bytes,
            compressed_bytes: self.stream.compressed(),
        })
    }

    fn step(&mut self) -> Result<Option<Event>> {
        loop {
            if self.skip > 0 && !self.stream.skip(&mut self.skip)? {
                return Ok(None);
            }
            match &mut self.state {
                State::Header => {
                    if !self.stream.fill(BLOCK)? {
                        return Ok(None);
                    }
                    let block: [u8; BLOCK] = self.stream.available()[..BLOCK].try_into().expect("filled");
                    self.stream.consume(BLOCK);
                    if let Some(event) = self.on_header(&block)? {
                        return Ok(Some(event));
                    }
                }
                State::Extension { typeflag, size, data } => {
                    if !self.stream.take_into(data, *size)? {
                        return Ok(None);
                    }
                    let (typeflag, data) = (*typeflag, std::mem::take(data));
                    self.extensions.apply(typeflag, &data)?;
                    self.skip = padding(data.len() as u64);
                    self.state = State::Header;
                }
                State::ManifestData { size, data } => {
                    if !self.stream.take_into(data, *size)? {
                        return Ok(None);
                    }
                    let bytes = std::mem::take(data);
                    self.skip = padding(bytes.len() as u64);
                    self.state = State::Header;
                    if let Some(event) = self.on_manifest(bytes)? {
                        return Ok(Some(event));
                    }
                }
                State::FileData { index, size, remaining, hasher } => {
                    if *remaining == 0 {
                        let (index, size, hasher) = (*index, *size, hasher.take());
                        self.skip = padding(size);
                        self.state = State::Header;
                        self.files += 1;
                        match hasher {
                            Some(hasher) => self.check_digest(index, hasher.finish())?,
                            None => self.state = State::AwaitingDigest { index },
                        }
                        return Ok(Some(Event::End));
                    }
                    if !self.stream.fill(1)? {
                        return Ok(None);
                    }
                    let available = self.stream.available();
                    let take = available.len().min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    let data = available[..take].to_vec();
                    self.stream.consume(take);
                    *remaining -= take as u64;
                    if let Some(hasher) = hasher {
                        hasher.update(&data);
                    }
                    self.bytes += take as u64;
                    return Ok(Some(Event::Data(data)));
                }
                State::SymlinkEnd => {
                    self.state = State::Header;
                    return Ok(Some(Event::End));
                }
                State::AwaitingDigest { .. } => unreachable!("next() returns before stepping"),
                State::SecondZeroBlock => {
                    if !self.stream.fill(BLOCK)? {
                        return Ok(None);
                    }
                    if self.stream.available()[..BLOCK].iter().any(|&b| b != 0) {
                        return Err(Error::new(ErrorCode::TarCorrupt, "a lone zero block is followed by more entries"));
                    }
                    self.stream.consume(BLOCK);
                    self.check_nothing_missing()?;
                    self.state = State::Trailing { zeros: 0 };
                }
                State::Trailing { zeros } => {
                    if !self.stream.fill(1)? {
                        return Ok(None);
                    }
                    let available = self.stream.available();
                    if available.iter().any(|&b| b != 0) {
                        return Err(Error::new(ErrorCode::TarCorrupt, "data follows the end-of-archive marker"));
                    }
                    *zeros += available.len() as u64;
                    if *zeros > MAX_TRAILING_ZEROS {
                        return Err(Error::new(
                            ErrorCode::LimitExceeded,
                            format!("more than {MAX_TRAILING_ZEROS} zero bytes follow the end-of-archive marker"),
                        ));
                    }
                    self.stream.consume(available.len());
                }
            }
        }
    }

    /// Handles one header block; returns the event it produces, if any, and sets the next state.
    fn on_header(&mut self, block: &[u8; BLOCK]) -> Result<Option<Event>> {
        if is_zero_block(block) {
            if self.extensions.headers > 0 {
                return Err(Error::new(
                    ErrorCode::TarCorrupt,
                    "an extension header is followed by the end-of-archive marker",
                ));
            }
            self.state = State::SecondZeroBlock;
            return Ok(None);
        }
        let header = tar_header::decode(block)?;
        if is_extension(header.typeflag) {
            let size = self.extensions.begin(header.size)?;
            self.state = State::Extension { typeflag: header.typeflag, size, data: Vec::with_capacity(size) };
            return Ok(None);
        }

        let extensions = std::mem::take(&mut self.extensions);
        let size = extensions.pax.size.unwrap_or(header.size);
        let name_bytes = extensions.pax.path.or(extensions.long_name).unwrap_or(header.name);
        let name = path::from_bytes(&name_bytes)?.to_string();
        let printable = path::printable(&name);
        let unsupported = |what: &str| {
            Error::new(ErrorCode::UnsupportedEntryType, format!("is {what}; packs hold only files and symlinks"))
                .at(printable.clone())
        };
        let is_symlink = match header.typeflag {
            _ if extensions.pax.sparse => return Err(unsupported("a GNU sparse file")),
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
            self.options.limits.check_manifest_size(size)?;
            let size = usize::try_from(size).map_err(|_| {
                Error::new(ErrorCode::LimitExceeded, "manifest.json does not fit in memory").at(MANIFEST_NAME)
            })?;
            self.state = State::ManifestData { size, data: Vec::with_capacity(size) };
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
                if (header.mode & 0o100 != 0) != *executable {
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
                let link_bytes = extensions.pax.linkpath.or(extensions.long_link).unwrap_or(header.link_name);
                if link_bytes != target.as_bytes() {
                    let link = String::from_utf8_lossy(&link_bytes);
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
        self.state = match kind {
            PackEntryKind::File { size, .. } => {
                let hasher = self.options.hash_content.then(Hasher::new);
                State::FileData { index, size, remaining: size, hasher }
            }
            PackEntryKind::Symlink { .. } => State::SymlinkEnd,
        };
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

    /// A whole pack's manifest gives the manifest event; a single-layer pack's layer 0 holds the given
    /// manifest again, which must be the same bytes.
    fn on_manifest(&mut self, bytes: Vec<u8>) -> Result<Option<Event>> {
        if let Some(scope) = &mut self.layer {
            if scope.manifest_entry.take().is_some_and(|given| given != bytes) {
                return Err(Error::new(ErrorCode::ManifestInvalid, "differs from the pack's manifest (its config)")
                    .at(MANIFEST_NAME)
                    .hint("the layer belongs to another pack, or the store is damaged; do not trust it"));
            }
            let manifest_end = self.stream.offset() + self.skip;
            let entries = &self.manifest.as_ref().expect("given up front").outputs.entries()[scope.entries.clone()];
            self.stream.set_ceiling(limits::inflated_ceiling(manifest_end, entries));
            return Ok(None);
        }
        let manifest = self.accept_manifest(&bytes)?;
        let manifest_end = self.stream.offset() + self.skip;
        self.stream.set_ceiling(limits::inflated_ceiling(manifest_end, manifest.outputs.entries()));
        self.seen = vec![false; manifest.outputs.entries().len()];
        self.manifest = Some(manifest.clone());
        Ok(Some(Event::Manifest { manifest, bytes }))
    }

    /// Parses and verifies a manifest: URI and tree digest re-derived, the expected URI, the limits.
    fn accept_manifest(&self, bytes: &[u8]) -> Result<PackManifest> {
        let manifest =
            PackManifest::parse(bytes).map_err(|e| if e.subject.is_none() { e.at(MANIFEST_NAME) } else { e })?;
        if let Some(expected) = self.options.expect_uri {
            if manifest.uri != expected {
                return Err(Error::new(
                    ErrorCode::UriMismatch,
                    format!("the pack is {}, but {expected} was expected", manifest.uri),
                )
                .hint("the source returned a different pack than the one asked for; do not trust it"));
            }
        }
        self.options.limits.check_outputs(manifest.outputs.entries())?;
        Ok(manifest)
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

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "layer_tests.rs"]
mod layer_tests;
