//! A pack straight from a registry, verified on the way, for hosts without a pantry (browsers, edge functions):
//! resolve `ctx-<hex>`, check the image manifest and the pack's `manifest.json` (its URI re-derived from the
//! contract), then stream any layer through a verifying reader, handing each event on, or read one file with
//! HTTP ranges through the layer's block index ([`read_file`]). Nothing here touches a file system; the
//! consumer decides what to keep.

use crate::archive::{
    file_span, partition, Event, FileInflater, FileSpan, Limits, PackReader, ReaderOptions, SeekPlan,
};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::manifest::PackManifest;
use crate::oci::{block_index, parse_pack_manifest, PackOciManifest, MEDIA_TYPE_MANIFEST};
use crate::registry::transport::{BlobSink, Failure, Flow, Outcome, Transport};
use crate::registry::Client;
use crate::registry::Ranged;
use crate::tree::EntryKind;
use crate::uri::CtxUri;
use std::marker::PhantomData;

/// A pack whose image manifest and `manifest.json` were fetched and verified; its layers are not read yet.
pub struct RemotePack {
    pub uri: CtxUri,
    /// The digest of the image manifest the tag named.
    pub digest: Digest,
    pub oci: PackOciManifest,
    /// `manifest.json`, exactly as stored.
    pub manifest_bytes: Vec<u8>,
    pub manifest: PackManifest,
}

impl RemotePack {
    /// The layer holding `path` (a path of the pack's outputs), and the entry's index in the manifest.
    pub fn locate(&self, path: &str) -> Result<(usize, usize), Error> {
        let entries = self.manifest.outputs.entries();
        let index = entries.iter().position(|e| e.path == path).ok_or_else(|| {
            Error::new(ErrorCode::NotFound, format!("{} has no file {path:?}", self.uri))
                .at(path)
                .hint("list the pack's files (its manifest's outputs) and give one of their paths")
        })?;
        let layer = partition(entries).iter().position(|g| g.entries.contains(&index)).unwrap_or(0);
        Ok((layer, index))
    }

    /// The number of archive layers.
    pub fn layers(&self) -> usize {
        self.oci.pack_layers.len()
    }
}

/// Where a layer's verified events go; a pending `event` holds the download back, `Flow::Enough` ends it (the
/// consumer has what it needs, e.g. one file whose end event — after its digest check — it just received).
#[allow(async_fn_in_trait)]
pub trait PackEvents<T> {
    async fn event(&mut self, event: Event) -> Result<Flow, Failure<T>>;
}

/// Resolves `ctx-<hex>` on the client's repository and verifies what it names: an image manifest of a pack whose
/// annotation is `uri`, a `manifest.json` that hashes to its descriptor, re-derives `uri` from its contract and
/// has the tree digest of its entries, within `limits`, laid out in as many layers as the image manifest has.
pub async fn open_pack<H: Transport>(client: &Client<H>, uri: &CtxUri, limits: &Limits) -> Outcome<RemotePack, H> {
    let tag = uri.tag();
    let fetched = client.fetch_manifest(&tag, MEDIA_TYPE_MANIFEST).await?;
    let what = format!("{}:{tag}", client.registry);
    let oci = parse_pack_manifest(&fetched.bytes).map_err(|e| {
        Error::new(e.code, format!("{what} is not a ctxpack pack: {}", e.message))
            .at(what.as_str())
            .hint("the tag holds another kind of artifact; check the URI and the repository")
    })?;
    if oci.uri != *uri {
        let message = format!("the registry tags {tag} with the manifest of {}", oci.uri);
        return Err(Error::new(ErrorCode::UriMismatch, message).at(what.as_str()).into());
    }
    let size = limits.check_manifest_size(oci.manifest_json.size)?;
    let mut sink = BytesSink::<H> { bytes: Vec::with_capacity(size), limit: size as u64, host: PhantomData };
    client.fetch_blob(&oci.manifest_json.digest, oci.manifest_json.size, &mut sink).await?;
    let manifest = PackManifest::parse(&sink.bytes).map_err(|e| e.at("manifest.json"))?;
    if manifest.uri != *uri {
        let message = format!("manifest.json re-derives {}, not {uri}", manifest.uri);
        return Err(Error::new(ErrorCode::UriMismatch, message).at(what.as_str()).into());
    }
    limits.check_outputs(manifest.outputs.entries())?;
    let layout = partition(manifest.outputs.entries()).len();
    if layout != oci.pack_layers.len() {
        let message = format!("the pack's layout has {layout} layers, its image manifest {}", oci.pack_layers.len());
        return Err(Error::new(ErrorCode::OciInvalid, message).at(what.as_str()).into());
    }
    Ok(RemotePack { uri: *uri, digest: fetched.digest, oci, manifest_bytes: sink.bytes, manifest })
}

/// Streams layer `layer` of `pack` through a verifying reader: every entry, data piece and end goes to `events`
/// as it is verified (each file's size and digest before its end event; the layer's own digest at the end). A
/// consumer must not trust what it received before this returns `Ok`, or before the end event of a file.
/// Returns the number of layer bytes fetched.
pub async fn stream_layer<H: Transport, E: PackEvents<H::Thrown>>(
    client: &Client<H>,
    pack: &RemotePack,
    layer: usize,
    limits: &Limits,
    events: &mut E,
) -> Outcome<u64, H> {
    let descriptor = pack.oci.pack_layers.get(layer).ok_or_else(|| {
        Error::new(ErrorCode::InvalidState, format!("the pack has {} layers, not {}", pack.layers(), layer + 1))
    })?;
    let options = ReaderOptions { limits: *limits, hash_content: true, expect_uri: Some(pack.uri) };
    let reader = PackReader::layer(&pack.manifest_bytes, layer, options)?;
    let mut sink =
        LayerSink::<H, E> { reader, events, buffer: Vec::new(), stopped: false, received: 0, host: PhantomData };
    client.fetch_blob(&descriptor.digest, descriptor.size, &mut sink).await?;
    if !sink.stopped {
        sink.reader.finish()?;
    }
    Ok(sink.received)
}

/// Where the bytes of a file read by [`read_file`] go. Until `read_file` returns `Ok` they are not verified.
#[allow(async_fn_in_trait)]
pub trait FileBytes<T> {
    /// Called once, before any byte, with the file about to be read: a consumer may refuse it (too large).
    fn start(&mut self, _file: &FileSpan) -> Result<(), Failure<T>> {
        Ok(())
    }
    async fn write(&mut self, bytes: &[u8]) -> Result<(), Failure<T>>;
    /// Forgets everything written, so that a failed seek can be retried by streaming the layer; false when the
    /// bytes are gone already (streamed on), and the failure is then final.
    fn restart(&mut self) -> bool;
}

/// What [`read_file`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    /// The file read (the target's, when the path was a symlink), its size and digest from the manifest.
    pub span: FileSpan,
    /// Layer bytes received from the registry.
    pub fetched_bytes: u64,
    /// True when the block index was used; false when the layer was streamed from its start.
    pub seeked: bool,
    /// Why the block index was not used, when the layer has one.
    pub fallback: Option<String>,
}

/// Why a seek gives way to streaming: problems of the index or of the ranged answer, never of the connection.
const FALLBACK_CODES: [ErrorCode; 6] = [
    ErrorCode::OciInvalid,
    ErrorCode::GzipCorrupt,
    ErrorCode::Truncated,
    ErrorCode::DigestMismatch,
    ErrorCode::SizeMismatch,
    ErrorCode::RegistryProtocol,
];

/// Reads one file of `pack` into `out`, verified against the manifest's size and digest: with the layer's block
/// index, only the deflated blocks that hold it (HTTP ranges); without one, or when the index or the registry's
/// answer turns out wrong (and `out` can restart), by streaming the layer through the verifying reader up to the
/// file's end. Symlinks inside the pack are followed.
pub async fn read_file<H: Transport, O: FileBytes<H::Thrown>>(
    client: &Client<H>,
    pack: &RemotePack,
    path: &str,
    limits: &Limits,
    out: &mut O,
) -> Outcome<FileRead, H> {
    let span = file_span(&pack.manifest, pack.manifest_bytes.len() as u64, path)?;
    out.start(&span)?;
    let descriptor = &pack.oci.pack_layers[span.layer];
    let mut fetched = 0;
    let fallback = match block_index(descriptor) {
        None => None,
        Some(index) => match SeekPlan::new(span.clone(), index, descriptor.size) {
            Err(error) => Some(error.message),
            Ok(plan) => {
                let mut sink = SeekSink::<H, O> {
                    inflater: FileInflater::new(&plan),
                    out: &mut *out,
                    buffer: Vec::new(),
                    bytes: Vec::new(),
                    received: 0,
                    host: PhantomData,
                };
                let ranged = client.fetch_blob_range(&descriptor.digest, descriptor.size, plan.range, &mut sink).await;
                fetched = sink.received;
                let outcome = match ranged {
                    Ok(Ranged::Served) => sink.inflater.finish().map(|()| None),
                    Ok(Ranged::Ignored) => Ok(Some("the registry ignores HTTP range requests".to_string())),
                    Err(Failure::Core(error)) => Err(error),
                    Err(host) => return Err(host),
                };
                match outcome {
                    Ok(None) => return Ok(FileRead { span, fetched_bytes: fetched, seeked: true, fallback: None }),
                    Ok(Some(reason)) => Some(reason),
                    Err(error) if FALLBACK_CODES.contains(&error.code) && out.restart() => Some(error.message),
                    Err(error) => return Err(error.into()),
                }
            }
        },
    };
    let mut events = OneFile::<O> { out, path: span.path.clone(), inside: false };
    fetched += stream_layer(client, pack, span.layer, limits, &mut events).await?;
    Ok(FileRead { span, fetched_bytes: fetched, seeked: false, fallback })
}

/// The size and digest a file of the pack must have.
pub fn file_of(pack: &RemotePack, index: usize) -> Option<(u64, Digest)> {
    match &pack.manifest.outputs.entries().get(index)?.kind {
        EntryKind::File { size, digest, .. } => Some((*size, *digest)),
        EntryKind::Symlink { .. } => None,
    }
}

/// Collects a small blob, refusing more than `limit` bytes.
struct BytesSink<H> {
    bytes: Vec<u8>,
    limit: u64,
    host: PhantomData<H>,
}

impl<H: Transport> BlobSink<H::Chunk, H::Thrown> for BytesSink<H> {
    async fn write(&mut self, chunk: H::Chunk) -> Result<Flow, Failure<H::Thrown>> {
        H::chunk_bytes(&chunk, &mut self.bytes);
        if self.bytes.len() as u64 > self.limit {
            return Err(Error::new(ErrorCode::SizeMismatch, "the blob is larger than its descriptor says").into());
        }
        Ok(Flow::More)
    }

    async fn reset(&mut self) -> Result<(), Failure<H::Thrown>> {
        self.bytes.clear();
        Ok(())
    }
}

/// Inflates a ranged read's blocks into the file's bytes.
struct SeekSink<'a, H, O> {
    inflater: FileInflater,
    out: &'a mut O,
    buffer: Vec<u8>,
    bytes: Vec<u8>,
    received: u64,
    host: PhantomData<H>,
}

impl<H: Transport, O: FileBytes<H::Thrown>> BlobSink<H::Chunk, H::Thrown> for SeekSink<'_, H, O> {
    async fn write(&mut self, chunk: H::Chunk) -> Result<Flow, Failure<H::Thrown>> {
        self.buffer.clear();
        H::chunk_bytes(&chunk, &mut self.buffer);
        self.bytes.clear();
        self.inflater.push(&self.buffer, &mut self.bytes)?;
        if !self.bytes.is_empty() {
            self.out.write(&self.bytes).await?;
        }
        Ok(if self.inflater.is_complete() { Flow::Enough } else { Flow::More })
    }

    /// A ranged read never restarts: a resumed range continues where it stopped.
    async fn reset(&mut self) -> Result<(), Failure<H::Thrown>> {
        Err(Error::new(ErrorCode::RegistryProtocol, "a ranged read cannot start over").into())
    }

    fn progress(&mut self, bytes: u64) {
        self.received = bytes;
    }
}

/// The bytes of one file of a streamed layer; the download stops once its end (its digest checked) passed.
struct OneFile<'a, O> {
    out: &'a mut O,
    path: String,
    inside: bool,
}

impl<T, O: FileBytes<T>> PackEvents<T> for OneFile<'_, O> {
    async fn event(&mut self, event: Event) -> Result<Flow, Failure<T>> {
        match event {
            Event::Entry { path, .. } => self.inside = path == self.path,
            Event::Data(bytes) if self.inside => self.out.write(&bytes).await?,
            Event::End if self.inside => return Ok(Flow::Enough),
            _ => {}
        }
        Ok(Flow::More)
    }
}

/// Feeds a layer's bytes to the verifying reader and its events on.
struct LayerSink<'a, H, E> {
    reader: PackReader,
    events: &'a mut E,
    buffer: Vec<u8>,
    stopped: bool,
    received: u64,
    host: PhantomData<H>,
}

impl<H: Transport, E: PackEvents<H::Thrown>> BlobSink<H::Chunk, H::Thrown> for LayerSink<'_, H, E> {
    async fn write(&mut self, chunk: H::Chunk) -> Result<Flow, Failure<H::Thrown>> {
        self.buffer.clear();
        H::chunk_bytes(&chunk, &mut self.buffer);
        self.reader.push(&self.buffer)?;
        while let Some(event) = self.reader.next()? {
            if self.events.event(event).await? == Flow::Enough {
                self.stopped = true;
                return Ok(Flow::Enough);
            }
        }
        Ok(Flow::More)
    }

    /// Events already handed on cannot be taken back: a registry that restarts the blob ends the stream.
    async fn reset(&mut self) -> Result<(), Failure<H::Thrown>> {
        Err(Error::new(
            ErrorCode::RegistryProtocol,
            "the registry sent the whole layer again after a cut, so the stream cannot go on; try again",
        )
        .into())
    }

    fn progress(&mut self, bytes: u64) {
        self.received = bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::test_support::{file, manifest_for, sample, Artifact};
    use crate::archive::{BlockIndex, PackEntryKind, PackWriter, WriterOptions};
    use crate::oci::{pack_manifest, Descriptor, ANNOTATION_BLOCKS, MEDIA_TYPE_LAYER, MEDIA_TYPE_PACK_CONFIG};
    use crate::registry::testing::{block_on, client, FakeHost, Piece, Reply, Sent};
    use std::collections::HashMap;

    /// A pack, its manifest.json and its image manifest, as a registry would hold them.
    struct Stored {
        uri: CtxUri,
        blobs: HashMap<String, Vec<u8>>,
        image: Vec<u8>,
        artifacts: Vec<Artifact>,
    }

    fn stored() -> Stored {
        stored_pack(
            vec![file("a.txt", b"alpha\n".to_vec(), false), file("data/b.bin", sample(300_000, 3), false)],
            false,
        )
    }

    /// A pack of these artifacts, its layer annotated with its block index when `indexed`.
    fn stored_pack(artifacts: Vec<Artifact>, indexed: bool) -> Stored {
        let (manifest, artifacts) = manifest_for(artifacts);
        let mut writer = PackWriter::new(&manifest, WriterOptions::default()).unwrap();
        let mut contents = artifacts.iter();
        while let Some((_, kind)) = writer.next_entry().unwrap() {
            let artifact = contents.next().unwrap();
            if let PackEntryKind::File { .. } = kind {
                writer.write(&artifact.content).unwrap();
                writer.end_entry(None).unwrap();
            }
        }
        writer.finish().unwrap();
        let layer_bytes = writer.take_output();
        let config = Descriptor::for_blob(MEDIA_TYPE_PACK_CONFIG, &manifest);
        let mut layer = Descriptor::for_blob(MEDIA_TYPE_LAYER, &layer_bytes);
        if indexed {
            let index = BlockIndex::encode(writer.block_sizes().unwrap());
            layer.annotations.insert(ANNOTATION_BLOCKS.into(), index);
        }
        let uri = PackManifest::parse(&manifest).unwrap().uri;
        let image = pack_manifest(&config, std::slice::from_ref(&layer), &uri, "2026-01-01T00:00:00Z").unwrap();
        let blobs = HashMap::from([(config.digest.to_string(), manifest), (layer.digest.to_string(), layer_bytes)]);
        Stored { uri, blobs, image, artifacts }
    }

    fn registry(stored: &Stored, tamper: impl Fn(&str, &mut Vec<u8>) + 'static) -> FakeHost {
        let (tag, image, blobs) = (stored.uri.tag(), stored.image.clone(), stored.blobs.clone());
        FakeHost::new(move |sent: &Sent| {
            let path = sent.path().to_string();
            if path.ends_with(&format!("/manifests/{tag}")) {
                return Reply::ok(&image).header("content-type", MEDIA_TYPE_MANIFEST);
            }
            match blobs.iter().find(|(digest, _)| path.ends_with(digest.as_str())) {
                Some((digest, bytes)) => {
                    let mut bytes = bytes.clone();
                    tamper(digest, &mut bytes);
                    Reply::ok(&bytes)
                }
                None => Reply::status(404),
            }
        })
    }

    #[derive(Default)]
    struct Collected {
        files: Vec<(String, Vec<u8>)>,
        stop_after: Option<String>,
    }

    impl PackEvents<String> for Collected {
        async fn event(&mut self, event: Event) -> Result<Flow, Failure<String>> {
            match event {
                Event::Entry { path, .. } => self.files.push((path, Vec::new())),
                Event::Data(bytes) => self.files.last_mut().unwrap().1.extend(bytes),
                Event::End if self.stop_after.as_deref() == self.files.last().map(|f| f.0.as_str()) => {
                    return Ok(Flow::Enough)
                }
                _ => {}
            }
            Ok(Flow::More)
        }
    }

    #[test]
    fn opens_and_streams_a_verified_pack() {
        let stored = stored();
        let c = client("127.0.0.1:5000/packs", registry(&stored, |_, _| {}));
        let pack = block_on(open_pack(&c, &stored.uri, &Limits::default())).ok().unwrap();
        assert_eq!((pack.uri, pack.layers()), (stored.uri, 1));
        assert_eq!(pack.locate("data/b.bin").unwrap(), (0, 1));
        assert_eq!(pack.locate("nope").unwrap_err().code, ErrorCode::NotFound);
        let mut collected = Collected::default();
        block_on(stream_layer(&c, &pack, 0, &Limits::default(), &mut collected)).ok().unwrap();
        let expected: Vec<_> = stored.artifacts.iter().map(|a| (a.entry.path.clone(), a.content.clone())).collect();
        assert_eq!(collected.files, expected);
        assert_eq!(file_of(&pack, 0), Some((6, Digest::of(b"alpha\n"))));

        // One file: the download stops after its end event.
        let mut first = Collected { stop_after: Some("a.txt".into()), ..Collected::default() };
        block_on(stream_layer(&c, &pack, 0, &Limits::default(), &mut first)).ok().unwrap();
        assert_eq!(first.files, expected[..1]);
    }

    #[test]
    fn refuses_a_tampered_manifest_json_or_layer() {
        let stored = stored();
        let config = stored.oci_config_digest();
        let c = client(
            "127.0.0.1:5000/packs",
            registry(&stored, move |digest, bytes| {
                if digest == config {
                    bytes[10] ^= 1;
                }
            }),
        );
        let Err(Failure::Core(error)) = block_on(open_pack(&c, &stored.uri, &Limits::default())) else { panic!() };
        assert_eq!(error.code, ErrorCode::DigestMismatch);

        let layer = stored.layer_digest();
        let c = client(
            "127.0.0.1:5000/packs",
            registry(&stored, move |digest, bytes| {
                if digest == layer {
                    let middle = bytes.len() / 2;
                    bytes[middle] ^= 1;
                }
            }),
        );
        let pack = block_on(open_pack(&c, &stored.uri, &Limits::default())).ok().unwrap();
        let result = block_on(stream_layer(&c, &pack, 0, &Limits::default(), &mut Collected::default()));
        let Err(Failure::Core(error)) = result else { panic!("a flipped byte must fail") };
        assert!(matches!(error.code, ErrorCode::GzipCorrupt | ErrorCode::DigestMismatch), "{error:?}");
    }

    #[test]
    fn refuses_a_tag_that_names_another_pack_or_another_artifact() {
        let stored = stored();
        let other = CtxUri::from_digest(Digest::of(b"another recipe"));
        let (tag, image) = (other.tag(), stored.image.clone());
        let c = client(
            "127.0.0.1:5000/packs",
            FakeHost::new(move |sent| match sent.path().ends_with(&tag) {
                true => Reply::ok(&image),
                false => Reply::status(404),
            }),
        );
        let Err(Failure::Core(error)) = block_on(open_pack(&c, &other, &Limits::default())) else { panic!() };
        assert_eq!(error.code, ErrorCode::UriMismatch);

        let image = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}"#;
        let c = client("127.0.0.1:5000/packs", FakeHost::new(move |_| Reply::ok(image)));
        let Err(Failure::Core(error)) = block_on(open_pack(&c, &stored.uri, &Limits::default())) else { panic!() };
        assert!(error.message.contains("is not a ctxpack pack"), "{}", error.message);
    }

    /// A registry that honours `Range` (when `ranges`), with the layer's bytes passed through `tamper`.
    fn ranged_registry(stored: &Stored, ranges: bool, tamper: impl Fn(&mut Vec<u8>) + 'static) -> FakeHost {
        let (tag, image, blobs, layer) =
            (stored.uri.tag(), stored.image.clone(), stored.blobs.clone(), stored.layer_digest());
        FakeHost::new(move |sent: &Sent| {
            let path = sent.path().to_string();
            if path.ends_with(&format!("/manifests/{tag}")) {
                return Reply::ok(&image).header("content-type", MEDIA_TYPE_MANIFEST);
            }
            let Some((digest, bytes)) = blobs.iter().find(|(digest, _)| path.ends_with(digest.as_str())) else {
                return Reply::status(404);
            };
            let mut bytes = bytes.clone();
            if *digest == layer {
                tamper(&mut bytes);
            }
            // Pieces of 64 KiB: Reply::body's 4-byte pieces would make megabytes slow.
            let answer = |status, headers: Vec<(String, String)>, body: &[u8]| Reply::Answer {
                status,
                headers,
                body: body.chunks(64 * 1024).map(|c| Piece::Bytes(c.to_vec())).collect(),
            };
            match sent.header("range").and_then(|r| r.strip_prefix("bytes=")).filter(|_| ranges) {
                None => answer(200, vec![("content-length".into(), bytes.len().to_string())], &bytes),
                Some(range) => {
                    let (a, b) = range.split_once('-').unwrap();
                    let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap_or(bytes.len() - 1));
                    let header = format!("bytes {a}-{b}/{}", bytes.len());
                    answer(206, vec![("content-range".into(), header)], &bytes[a..=b])
                }
            }
        })
    }

    /// Buffers the file; `streamed` makes it refuse to restart once it holds bytes (like stdout).
    #[derive(Default)]
    struct Bytes {
        bytes: Vec<u8>,
        streamed: bool,
    }

    impl FileBytes<String> for Bytes {
        async fn write(&mut self, bytes: &[u8]) -> Result<(), Failure<String>> {
            self.bytes.extend_from_slice(bytes);
            Ok(())
        }

        fn restart(&mut self) -> bool {
            if self.streamed && !self.bytes.is_empty() {
                return false;
            }
            self.bytes.clear();
            true
        }
    }

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

    fn seekable(indexed: bool) -> Stored {
        stored_pack(
            vec![
                file("a.txt", b"alpha\n".to_vec(), false),
                file("big.bin", random(5 << 20, 1), false),
                file("z.txt", b"the last file\n".to_vec(), false),
            ],
            indexed,
        )
    }

    fn read_one(stored: &Stored, host: FakeHost, path: &str, out: &mut Bytes) -> Outcome<FileRead, FakeHost> {
        let c = client("127.0.0.1:5000/packs", host);
        let pack = block_on(open_pack(&c, &stored.uri, &Limits::default())).ok().unwrap();
        block_on(read_file(&c, &pack, path, &Limits::default(), out))
    }

    fn content<'a>(stored: &'a Stored, path: &str) -> &'a [u8] {
        &stored.artifacts.iter().find(|a| a.entry.path == path).unwrap().content
    }

    #[test]
    fn read_file_fetches_only_the_blocks_that_hold_the_file() {
        let stored = seekable(true);
        let layer_size = stored.blobs[&stored.layer_digest()].len() as u64;
        for path in ["z.txt", "a.txt", "big.bin"] {
            let mut out = Bytes::default();
            let read = read_one(&stored, ranged_registry(&stored, true, |_| {}), path, &mut out).unwrap();
            assert!(out.bytes == content(&stored, path), "{path}");
            assert!(read.seeked && read.fallback.is_none(), "{path}: {read:?}");
            assert_eq!(read.span.size, content(&stored, path).len() as u64);
            if path != "big.bin" {
                assert!(read.fetched_bytes * 4 < layer_size, "{path}: {} of {layer_size}", read.fetched_bytes);
            }
        }
    }

    #[test]
    fn read_file_streams_without_an_index_or_a_registry_that_honours_ranges() {
        let unindexed = seekable(false);
        let mut out = Bytes::default();
        let read = read_one(&unindexed, ranged_registry(&unindexed, true, |_| {}), "z.txt", &mut out).unwrap();
        assert_eq!((out.bytes.as_slice(), read.seeked, read.fallback), (content(&unindexed, "z.txt"), false, None));

        let indexed = seekable(true);
        let mut out = Bytes::default();
        let read = read_one(&indexed, ranged_registry(&indexed, false, |_| {}), "z.txt", &mut out).unwrap();
        assert_eq!((out.bytes.as_slice(), read.seeked), (content(&indexed, "z.txt"), false));
        assert!(read.fallback.unwrap().contains("ignores HTTP range"));
    }

    #[test]
    fn a_wrong_index_falls_back_and_still_verifies() {
        let mut stored = seekable(true);
        let mut value: serde_json::Value = serde_json::from_slice(&stored.image).unwrap();
        let index = BlockIndex::decode(value["layers"][0]["annotations"][ANNOTATION_BLOCKS].as_str().unwrap()).unwrap();
        let mut sizes: Vec<u64> =
            (0..index.blocks()).map(|b| index.compressed_range(b..b + 1)).map(|r| r.end - r.start).collect();
        sizes[4] -= 100;
        sizes[5] += 100;
        value["layers"][0]["annotations"][ANNOTATION_BLOCKS] = BlockIndex::encode(&sizes).into();
        stored.image = crate::jcs::canonicalize(&value).unwrap();
        let mut out = Bytes::default();
        let read = read_one(&stored, ranged_registry(&stored, true, |_| {}), "z.txt", &mut out).unwrap();
        assert_eq!((out.bytes.as_slice(), read.seeked), (content(&stored, "z.txt"), false));
        assert!(read.fallback.is_some());
    }

    #[test]
    fn tampered_bytes_fail_whichever_way_they_are_read() {
        let stored = seekable(true);
        let layer_size = stored.blobs[&stored.layer_digest()].len();
        // Inside big.bin, which is stored: the inflate succeeds, the digest does not.
        let flip = move |bytes: &mut Vec<u8>| bytes[layer_size / 2] ^= 1;
        for streamed in [false, true] {
            let mut out = Bytes { streamed, ..Bytes::default() };
            let result = read_one(&stored, ranged_registry(&stored, true, flip), "big.bin", &mut out);
            let Err(Failure::Core(error)) = result else { panic!("streamed {streamed}: tampered bytes were accepted") };
            // Streaming the layer may meet its CRC-32 before the file's end: either check refuses the bytes.
            let refused = [ErrorCode::DigestMismatch, ErrorCode::GzipCorrupt];
            assert!(refused.contains(&error.code), "streamed {streamed}: {error:?}");
            if streamed {
                assert_eq!(error.code, ErrorCode::DigestMismatch, "bytes already streamed on: no fallback");
            }
        }
        let mut out = Bytes::default();
        let Err(Failure::Core(error)) = read_one(&stored, ranged_registry(&stored, true, |_| {}), "nope", &mut out)
        else {
            panic!()
        };
        assert_eq!(error.code, ErrorCode::NotFound);
    }

    impl Stored {
        fn oci_config_digest(&self) -> String {
            parse_pack_manifest(&self.image).unwrap().manifest_json.digest.to_string()
        }

        fn layer_digest(&self) -> String {
            parse_pack_manifest(&self.image).unwrap().pack_layers[0].digest.to_string()
        }
    }
}
