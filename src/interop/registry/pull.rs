//! `client.pullPack(uri, { path?, limits? })`: a pack straight from the registry, verified as it streams, for
//! hosts without a pantry. The image manifest and `manifest.json` are checked before the promise resolves; the
//! layers then stream through the core's verifying reader into a `ReadableStream` that errors with a
//! `CtxpackError` at the first failed check and closes only when everything read was verified.
//! `client.openPack(uri)` checks the same and returns the manifest without reading a layer;
//! `client.readFile(uri, path)` reads one file with HTTP ranges through the layer's block index.

use super::client::{promise, RegistryClient, Shared};
use crate::archive::FileSpan;
use crate::archive::{Event, Limits};
use crate::error::{Error, ErrorCode};
use crate::interop::archive::{data_event, end_event, entry_event, function_option, limits_option};
use crate::interop::stream_queue::StreamQueue;
use crate::interop::{field, object, to_js_error, value_to_js};
use crate::oci::Descriptor;
use crate::pull::{file_of, open_pack, read_file, stream_layer, FileBytes, PackEvents, RemotePack};
use crate::registry::transport::{Failure, Flow};
use crate::uri::CtxUri;
use js_sys::{Array, Function, Promise, Uint8Array};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export interface PullPackOptions {
  /** One file of the pack: only the layer that holds it is fetched, and only up to the file's end. */
  path?: string | null;
  limits?: Partial<Limits> | null;
}

/** A pack whose image manifest and manifest.json were verified; its layers stream through `events`. */
export interface PulledPack {
  uri: string;
  /** The image manifest's digest. */
  digest: string;
  manifest: PackManifest;
  layers: number;
  /** Every layer's entry, data and end events; errors with a CtxpackError at the first failed check. */
  events: ReadableStream<ReaderEvent>;
}

/** A pack's verified manifest and its layer descriptors (with their block indexes), no layer read. */
export interface OpenedPack {
  uri: string;
  digest: string;
  manifest: PackManifest;
  layers: Descriptor[];
}

export interface ReadFileOptions {
  limits?: Partial<Limits> | null;
  /** Receives the file: whole once verified when it fits maxBufferBytes, else piece by piece before its check. */
  onData?: ((chunk: Uint8Array) => void | Promise<void>) | null;
  /** Default 64 MiB. */
  maxBufferBytes?: number | null;
}

export interface ReadFileResult {
  uri: string;
  file: { path: string; size: number; digest: string };
  /** The verified file, when no onData was given. */
  bytes?: Uint8Array;
  /** Bytes the registry sent. */
  fetchedBytes: number;
  /** Only the blocks holding the file were fetched (the layer's block index). */
  seeked: boolean;
  /** Why the block index could not be used, when the layer had one. */
  fallback?: string;
}

/** One file of a verified pack; `body` closes only after the file's size and digest were checked. */
export interface PulledFile {
  uri: string;
  digest: string;
  manifest: PackManifest;
  file: { path: string; size: number; digest: string };
  body: ReadableStream<Uint8Array>;
}
"#;

#[wasm_bindgen]
impl RegistryClient {
    /// `(uri, { path?, limits? })` → `{ uri, digest, manifest, layers, events }` where `events` is a
    /// `ReadableStream` of reader events (`entry`, `data`, `end`) over every layer; with `path`, → `{ uri, digest,
    /// manifest, file: { path, size, digest }, body }` where `body` streams that one file's bytes, fetching only
    /// the layer that holds it and stopping once the file's digest has been checked.
    #[wasm_bindgen(js_name = pullPack, unchecked_return_type = "Promise<PulledPack | PulledFile>")]
    pub fn pull_pack(
        &self,
        uri: String,
        #[wasm_bindgen(unchecked_param_type = "PullPackOptions | null")] options: JsValue,
    ) -> Promise {
        promise(&self.client, move |client| async move {
            let uri = CtxUri::parse(&uri)?;
            let limits = limits_option(&options)?;
            let path = field(&options, "path").as_string();
            let pack = open_pack(&client, &uri, &limits).await?;
            let mut pairs = vec![
                ("uri", JsValue::from(pack.uri.to_string())),
                ("digest", pack.digest.to_string().into()),
                ("manifest", value_to_js(&pack.manifest.to_value())),
            ];
            let (stream, queue) = StreamQueue::stream().map_err(Failure::Host)?;
            match path {
                None => {
                    pairs.push(("layers", (pack.layers() as f64).into()));
                    pairs.push(("events", stream.into()));
                    spawn_local(stream_all(client, pack, limits, queue));
                }
                Some(path) => {
                    let (layer, index) = pack.locate(&path)?;
                    let (size, digest) = file_of(&pack, index).ok_or_else(|| {
                        Error::new(ErrorCode::InvalidState, "a symlink has no content to stream").at(path.as_str())
                    })?;
                    let file = object(&[
                        ("path", path.clone().into()),
                        ("size", (size as f64).into()),
                        ("digest", digest.to_string().into()),
                    ]);
                    pairs.push(("file", file));
                    pairs.push(("body", stream.into()));
                    spawn_local(stream_file(client, pack, limits, layer, path, queue));
                }
            }
            Ok(object(&pairs))
        })
    }
}

#[wasm_bindgen]
impl RegistryClient {
    /// `(uri, { limits? })` → `{ uri, digest, manifest, layers }`: the pack's verified manifest and its layer
    /// descriptors (with their block indexes), without reading a layer.
    #[wasm_bindgen(js_name = openPack, unchecked_return_type = "Promise<OpenedPack>")]
    pub fn open_pack(
        &self,
        uri: String,
        #[wasm_bindgen(unchecked_param_type = "{ limits?: Partial<Limits> | null } | null")] options: JsValue,
    ) -> Promise {
        promise(&self.client, move |client| async move {
            let uri = CtxUri::parse(&uri)?;
            let pack = open_pack(&client, &uri, &limits_option(&options)?).await?;
            let layers = pack.oci.pack_layers.iter().map(Descriptor::to_value).collect::<Result<Vec<_>, Error>>()?;
            Ok(object(&[
                ("uri", pack.uri.to_string().into()),
                ("digest", pack.digest.to_string().into()),
                ("manifest", value_to_js(&pack.manifest.to_value())),
                ("layers", layers.iter().map(value_to_js).collect::<Array>().into()),
            ]))
        })
    }

    /// `(uri, path, { limits?, onData?, maxBufferBytes? })` → `{ uri, file: { path, size, digest }, bytes?,
    /// fetchedBytes, seeked, fallback? }`: one file, verified against the manifest's size and digest. With the
    /// layer's block index only the deflated blocks holding it are fetched (HTTP ranges, `seeked: true`);
    /// without one, or when the index or the registry's answer is wrong, the layer streams from its start up to
    /// the file (`fallback` says why, when the layer had an index). Without `onData` the file is returned in
    /// `bytes` (`CTX_LIMIT_EXCEEDED` past `maxBufferBytes`, default 64 MiB). With `onData(chunk)` (awaited when it
    /// returns a promise) a file of at most `maxBufferBytes` is handed over whole once verified; a larger one
    /// piece by piece as it is read, before its check: the promise then rejects if the check fails, and a seek
    /// that fails after a piece went out does not fall back.
    #[wasm_bindgen(js_name = readFile, unchecked_return_type = "Promise<ReadFileResult>")]
    pub fn read_file(
        &self,
        uri: String,
        path: String,
        #[wasm_bindgen(unchecked_param_type = "ReadFileOptions | null")] options: JsValue,
    ) -> Promise {
        promise(&self.client, move |client| async move {
            let uri = CtxUri::parse(&uri)?;
            let limits = limits_option(&options)?;
            let on_data = function_option(&options, "onData")?;
            let max_buffer = match field(&options, "maxBufferBytes").as_f64() {
                None => DEFAULT_MAX_BUFFER_BYTES,
                Some(n) if n.fract() == 0.0 && n >= 0.0 => n as u64,
                Some(_) => {
                    let error = Error::new(ErrorCode::JsonInvalid, "must be a non-negative integer");
                    return Err(error.at("maxBufferBytes").into());
                }
            };
            let pack = open_pack(&client, &uri, &limits).await?;
            let mut out = JsFileBytes { on_data, max_buffer, streaming: false, bytes: Vec::new(), handed_on: false };
            let read = read_file(&client, &pack, &path, &limits, &mut out).await?;
            let file = object(&[
                ("path", read.span.path.clone().into()),
                ("size", (read.span.size as f64).into()),
                ("digest", read.span.digest.to_string().into()),
            ]);
            let mut pairs = vec![
                ("uri", JsValue::from(pack.uri.to_string())),
                ("file", file),
                ("fetchedBytes", (read.fetched_bytes as f64).into()),
                ("seeked", read.seeked.into()),
                ("fallback", read.fallback.map_or(JsValue::UNDEFINED, JsValue::from)),
            ];
            match &out.on_data {
                None => pairs.push(("bytes", Uint8Array::from(out.bytes.as_slice()).into())),
                Some(_) if !out.streaming => {
                    let verified = std::mem::take(&mut out.bytes);
                    out.hand_on(&verified).await?
                }
                Some(_) => {}
            }
            Ok(object(&pairs))
        })
    }
}

/// Files up to this size are collected (and, with `onData`, handed over only once verified).
const DEFAULT_MAX_BUFFER_BYTES: u64 = 64 << 20;

/// A file's bytes: collected, or (past the buffer limit) handed to the host's `onData` as they come.
struct JsFileBytes {
    on_data: Option<Function>,
    max_buffer: u64,
    streaming: bool,
    bytes: Vec<u8>,
    handed_on: bool,
}

impl JsFileBytes {
    async fn hand_on(&mut self, bytes: &[u8]) -> Result<(), Failure<JsValue>> {
        let on_data = self.on_data.as_ref().expect("only with onData");
        self.handed_on = true;
        let returned = on_data.call1(&JsValue::NULL, &Uint8Array::from(bytes).into()).map_err(Failure::Host)?;
        if let Ok(pending) = returned.dyn_into::<Promise>() {
            JsFuture::from(pending).await.map_err(Failure::Host)?;
        }
        Ok(())
    }
}

impl FileBytes<JsValue> for JsFileBytes {
    fn start(&mut self, file: &FileSpan) -> Result<(), Failure<JsValue>> {
        if file.size <= self.max_buffer {
            return Ok(());
        }
        if self.on_data.is_none() {
            let message =
                format!("{} holds {} bytes, more than the {} readFile collects", file.path, file.size, self.max_buffer);
            let hint = "pass onData to receive it piece by piece, or raise maxBufferBytes";
            return Err(Error::new(ErrorCode::LimitExceeded, message).at(file.path.as_str()).hint(hint).into());
        }
        self.streaming = true;
        Ok(())
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Failure<JsValue>> {
        if self.streaming {
            return self.hand_on(bytes).await;
        }
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn restart(&mut self) -> bool {
        self.bytes.clear();
        !self.handed_on
    }
}

/// Every layer, in order, as reader events.
async fn stream_all(client: Shared, pack: RemotePack, limits: Limits, queue: Rc<StreamQueue>) {
    let mut events = AllEvents { queue: queue.clone() };
    for layer in 0..pack.layers() {
        if let Err(failure) = stream_layer(&client, &pack, layer, &limits, &mut events).await.map(drop) {
            return finish(&queue, Err(failure));
        }
    }
    finish(&queue, Ok(()));
}

/// One file's bytes; the download stops once its end (and so its digest check) has passed.
async fn stream_file(
    client: Shared,
    pack: RemotePack,
    limits: Limits,
    layer: usize,
    path: String,
    queue: Rc<StreamQueue>,
) {
    let mut events = FileEvents { queue: queue.clone(), path, inside: false };
    let result = stream_layer(&client, &pack, layer, &limits, &mut events).await;
    finish(&queue, result.map(drop));
}

fn finish(queue: &StreamQueue, result: Result<(), Failure<JsValue>>) {
    match result {
        Ok(()) => queue.close(),
        Err(_) if queue.is_cancelled() => {}
        Err(Failure::Core(error)) => queue.error(&to_js_error(error)),
        Err(Failure::Host(thrown)) => queue.error(&thrown),
    }
}

struct AllEvents {
    queue: Rc<StreamQueue>,
}

impl PackEvents<JsValue> for AllEvents {
    async fn event(&mut self, event: Event) -> Result<Flow, Failure<JsValue>> {
        let value = match event {
            Event::Manifest { manifest, bytes } => {
                crate::interop::archive::manifest_event(&manifest.to_value(), &bytes)
            }
            Event::Entry { path, kind } => entry_event(path, kind),
            Event::Data(bytes) => data_event(&bytes),
            Event::End => end_event(),
        };
        self.queue.send(&value).await?;
        Ok(Flow::More)
    }
}

struct FileEvents {
    queue: Rc<StreamQueue>,
    path: String,
    inside: bool,
}

impl PackEvents<JsValue> for FileEvents {
    async fn event(&mut self, event: Event) -> Result<Flow, Failure<JsValue>> {
        match event {
            Event::Entry { path, .. } => self.inside = path == self.path,
            Event::Data(bytes) if self.inside => self.queue.send(&Uint8Array::from(bytes.as_slice()).into()).await?,
            // The file's size and digest were checked before its end event: nothing more is needed.
            Event::End if self.inside => return Ok(Flow::Enough),
            _ => {}
        }
        Ok(Flow::More)
    }
}
