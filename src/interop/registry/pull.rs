//! `client.pullPack(uri, { path?, limits? })`: a pack straight from the registry, verified as it streams, for
//! hosts without a pantry. The image manifest and `manifest.json` are checked before the promise resolves; the
//! layers then stream through the core's verifying reader into a `ReadableStream` that errors with a
//! `CtxpackError` at the first failed check and closes only when everything read was verified.

use super::client::{promise, RegistryClient, Shared};
use crate::archive::{Event, Limits};
use crate::error::{Error, ErrorCode};
use crate::interop::archive::{data_event, end_event, entry_event, limits_option};
use crate::interop::stream_queue::StreamQueue;
use crate::interop::{field, object, to_js_error, value_to_js};
use crate::pull::{file_of, open_pack, stream_layer, PackEvents, RemotePack};
use crate::registry::transport::{Failure, Flow};
use crate::uri::CtxUri;
use js_sys::{Promise, Uint8Array};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

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

/// Every layer, in order, as reader events.
async fn stream_all(client: Shared, pack: RemotePack, limits: Limits, queue: Rc<StreamQueue>) {
    let mut events = AllEvents { queue: queue.clone() };
    for layer in 0..pack.layers() {
        if let Err(failure) = stream_layer(&client, &pack, layer, &limits, &mut events).await {
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
    finish(&queue, result);
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
