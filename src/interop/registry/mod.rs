//! The registry engine (`crate::registry`) for JavaScript: the `fetch` transport (`fetch.rs`), the JS class
//! (`client.rs`), and here the host's side of the `Transport` trait — its callbacks (credentials, hasher,
//! events) and the sinks and sources of blobs — converted between JS values and the engine's types. Nothing
//! here decides anything.

mod client;
mod fetch;
mod pull;
mod signatures;

use super::{field, to_js_error};
use crate::digest::Hasher;
use crate::error::{Error, ErrorCode, Result};
use crate::registry::auth::Credentials;
use crate::registry::transport::{BlobSink, BlobSource, ChunkHasher, Failure, Flow, Request, Response, Transport};
use crate::registry::transport::{TransportError, Wait};
use fetch::{BodyStream, Fetch};
use js_sys::{Function, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Registry credentials: a user and password (or token as password), a Docker identity token, or a registry token. */
export type Credentials = { username: string; password: string } | { identityToken: string } | { registryToken: string };

/** A host's SHA-256 (e.g. node:crypto), used instead of the core's for blob digests. */
export interface BlobHasher {
  update(chunk: Uint8Array): unknown;
  /** "sha256:<hex>" */
  digest(): string;
}

/**
 * Where a downloaded blob goes. `write` may keep the chunk (the client never touches it again) and may return a
 * promise, which holds the download back until it settles; `reset` starts over (the registry resent the whole blob).
 */
export interface BlobSink {
  write(chunk: Uint8Array): void | PromiseLike<unknown>;
  reset(): void | PromiseLike<unknown>;
}

/**
 * A request body that produces its bytes while it is sent (the host's fetch must accept it as a body):
 * exactly `byteLength` bytes from the iterator.
 */
export interface StreamBody extends AsyncIterable<Uint8Array> {
  readonly byteLength: number;
}

/**
 * An upload's bytes: one array, or `read(offset, length)` giving (a promise of) exactly that many bytes; with
 * `stream(offset, length)` too, a blob too big for one `PUT` goes in one streamed `PATCH`.
 */
export type BlobSource =
  | Uint8Array
  | {
      read(offset: number, length: number): Uint8Array | PromiseLike<Uint8Array>;
      stream?(offset: number, length: number): StreamBody | PromiseLike<StreamBody>;
    };

/** What the registry client reports along the way; never secrets. */
export interface RegistryEvent {
  kind: "retry" | "auth" | "resume" | "mount" | "redirect";
  message: string;
}
"#;

pub(crate) fn failure_to_js(failure: Failure<JsValue>) -> JsValue {
    match failure {
        Failure::Core(error) => to_js_error(error),
        Failure::Host(value) => value,
    }
}

/// The JS host: `fetch`, the timers, and the callbacks given to `new RegistryClient(options)`.
pub struct JsHost {
    fetch: Fetch,
    credentials: Option<Function>,
    /// The credentials callback's answer, shared by every request that needs it while it is pending.
    asked: RefCell<Option<Promise>>,
    create_hasher: Option<Function>,
    on_event: Option<Function>,
}

impl Transport for JsHost {
    type Body = JsValue;
    type Stream = BodyStream;
    type Chunk = Uint8Array;
    type Thrown = JsValue;
    type Hasher = JsHasher;

    async fn send(
        &self,
        request: Request<'_, JsValue>,
        wait: Wait,
    ) -> std::result::Result<Response<BodyStream>, TransportError> {
        self.fetch.send(request, wait).await
    }

    async fn read(
        &self,
        body: &mut BodyStream,
        idle_ms: u64,
    ) -> std::result::Result<Option<Uint8Array>, TransportError> {
        self.fetch.read(body, idle_ms).await
    }

    async fn discard(&self, body: BodyStream) {
        self.fetch.discard(body).await
    }

    async fn sleep(&self, ms: u64) {
        fetch::sleep(ms).await
    }

    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn chunk_len(chunk: &Uint8Array) -> u64 {
        chunk.length() as u64
    }

    fn chunk_bytes(chunk: &Uint8Array, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + chunk.length() as usize, 0);
        chunk.copy_to(&mut out[start..]);
    }

    fn body_len(body: &JsValue) -> u64 {
        match body.dyn_ref::<Uint8Array>() {
            Some(bytes) => bytes.length() as u64,
            None if body.is_object() => byte_length(body).unwrap_or(0),
            None => body.as_string().map_or(0, |text| text.len() as u64),
        }
    }

    async fn credentials(&self, host: &str) -> std::result::Result<Option<Credentials>, Failure<JsValue>> {
        let Some(callback) = &self.credentials else { return Ok(None) };
        let pending = self.asked.borrow().clone();
        let promise = match pending {
            Some(promise) => promise,
            None => {
                let answer = callback.call1(&JsValue::NULL, &host.into()).map_err(Failure::Host)?;
                let promise = Promise::resolve(&answer);
                *self.asked.borrow_mut() = Some(promise.clone());
                promise
            }
        };
        match JsFuture::from(promise).await {
            Ok(answer) => Ok(credentials_from_js(&answer)?),
            Err(thrown) => {
                *self.asked.borrow_mut() = None;
                Err(Failure::Host(thrown))
            }
        }
    }

    fn hasher(&self) -> std::result::Result<JsHasher, Failure<JsValue>> {
        let Some(create) = &self.create_hasher else {
            return Ok(JsHasher::Core { hasher: Hasher::new(), buffer: Vec::new() });
        };
        let hasher = create.call0(&JsValue::NULL).map_err(Failure::Host)?;
        let method = |name: &str| {
            field(&hasher, name).dyn_into::<Function>().map_err(|_| {
                Error::new(ErrorCode::InvalidState, format!("createHasher() returned an object without {name}()"))
                    .at("createHasher")
            })
        };
        Ok(JsHasher::Host { update: method("update")?, digest: method("digest")?, hasher })
    }

    /// A throwing listener is ignored: it must not break a transfer.
    fn event(&self, kind: &str, message: &str) {
        if let Some(on_event) = &self.on_event {
            let event = super::object(&[("kind", kind.into()), ("message", message.into())]);
            let _ = on_event.call1(&JsValue::NULL, &event);
        }
    }
}

/// `null`/`undefined`, `{username, password}`, `{identityToken}` or `{registryToken}`.
fn credentials_from_js(value: &JsValue) -> Result<Option<Credentials>> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let text = |key: &str| field(value, key).as_string().filter(|s| !s.is_empty());
    if let (Some(username), Some(password)) = (text("username"), text("password")) {
        return Ok(Some(Credentials::Basic { username, password }));
    }
    if let Some(token) = text("identityToken") {
        return Ok(Some(Credentials::IdentityToken(token)));
    }
    if let Some(token) = text("registryToken") {
        return Ok(Some(Credentials::RegistryToken(token)));
    }
    Err(Error::new(
        ErrorCode::InvalidState,
        "the credentials callback must return null, {username, password}, {identityToken} or {registryToken}",
    )
    .at("credentials"))
}

/// The host's hasher (`createHasher`, e.g. node:crypto) fed the JS chunks directly, or the core's SHA-256 fed
/// copies of them.
pub enum JsHasher {
    Host { hasher: JsValue, update: Function, digest: Function },
    Core { hasher: Hasher, buffer: Vec<u8> },
}

impl ChunkHasher<Uint8Array, JsValue> for JsHasher {
    fn update(&mut self, chunk: &Uint8Array) -> std::result::Result<(), Failure<JsValue>> {
        match self {
            JsHasher::Host { hasher, update, .. } => update.call1(hasher, chunk).map(|_| ()).map_err(Failure::Host),
            JsHasher::Core { hasher, buffer } => {
                buffer.resize(chunk.length() as usize, 0);
                chunk.copy_to(buffer);
                hasher.update(buffer);
                Ok(())
            }
        }
    }

    fn finish(self) -> std::result::Result<String, Failure<JsValue>> {
        match self {
            JsHasher::Core { hasher, .. } => Ok(hasher.finish().to_string()),
            JsHasher::Host { hasher, digest, .. } => {
                digest.call0(&hasher).map_err(Failure::Host)?.as_string().ok_or_else(|| {
                    Error::new(ErrorCode::InvalidState, "the host hasher's digest() did not return a string")
                        .at("createHasher")
                        .into()
                })
            }
        }
    }
}

/// `{ write(chunk), reset() }` (each may return a promise) and the `onBytes` option.
struct JsSink {
    sink: JsValue,
    write: Function,
    reset: Function,
    on_bytes: Option<Function>,
}

impl JsSink {
    fn from_js(sink: JsValue, on_bytes: Option<Function>) -> Result<JsSink> {
        let method = |name: &str| {
            field(&sink, name)
                .dyn_into::<Function>()
                .map_err(|_| Error::new(ErrorCode::InvalidState, format!("the sink has no {name}() method")).at("sink"))
        };
        Ok(JsSink { write: method("write")?, reset: method("reset")?, sink, on_bytes })
    }
}

impl BlobSink<Uint8Array, JsValue> for JsSink {
    async fn write(&mut self, chunk: Uint8Array) -> std::result::Result<Flow, Failure<JsValue>> {
        let answer = self.write.call1(&self.sink, &chunk).map_err(Failure::Host)?;
        resolve(answer).await.map(|_| Flow::More).map_err(Failure::Host)
    }

    async fn reset(&mut self) -> std::result::Result<(), Failure<JsValue>> {
        let answer = self.reset.call0(&self.sink).map_err(Failure::Host)?;
        resolve(answer).await.map(|_| ()).map_err(Failure::Host)
    }

    fn progress(&mut self, bytes: u64) {
        if let Some(on_bytes) = &self.on_bytes {
            let _ = on_bytes.call1(&JsValue::NULL, &(bytes as f64).into());
        }
    }
}

/// Where an upload's bytes come from: one `Uint8Array` (sliced without copying), or an object whose
/// `read(offset, length)` returns (a promise of) a `Uint8Array` of exactly that length.
enum JsSourceKind {
    Bytes(Uint8Array),
    Reader { object: JsValue, read: Function, stream: Option<Function> },
}

struct JsSource {
    kind: JsSourceKind,
    on_bytes: Option<Function>,
}

impl JsSource {
    fn from_js(source: &JsValue, size: u64, what: &str, on_bytes: Option<Function>) -> Result<JsSource> {
        if let Some(bytes) = source.dyn_ref::<Uint8Array>() {
            if bytes.length() as u64 != size {
                let message = format!("the source has {} bytes, the descriptor says {size}", bytes.length());
                return Err(Error::new(ErrorCode::SizeMismatch, message).at(what));
            }
            return Ok(JsSource { kind: JsSourceKind::Bytes(bytes.clone()), on_bytes });
        }
        let read = field(source, "read").dyn_into::<Function>().map_err(|_| {
            Error::new(ErrorCode::InvalidState, "the source must be a Uint8Array or have a read(offset, length) method")
                .at("source")
        })?;
        let stream = field(source, "stream").dyn_into::<Function>().ok();
        Ok(JsSource { kind: JsSourceKind::Reader { object: source.clone(), read, stream }, on_bytes })
    }
}

impl BlobSource<JsValue, JsValue> for JsSource {
    async fn read(&self, offset: u64, length: u64) -> std::result::Result<JsValue, Failure<JsValue>> {
        let bytes = match &self.kind {
            JsSourceKind::Bytes(bytes) => return Ok(bytes.subarray(offset as u32, (offset + length) as u32).into()),
            JsSourceKind::Reader { object, read, .. } => call_range(object, read, offset, length).await?,
        };
        match bytes.dyn_into::<Uint8Array>() {
            Ok(bytes) if bytes.length() as u64 == length => Ok(bytes.into()),
            Ok(bytes) => Err(Error::new(
                ErrorCode::SizeMismatch,
                format!("source.read({offset}, {length}) returned {} bytes", bytes.length()),
            )
            .at("source")
            .hint("the blob changed or is shorter than its descriptor")
            .into()),
            Err(_) => Err(Error::new(
                ErrorCode::InvalidState,
                format!("source.read({offset}, {length}) did not return a Uint8Array"),
            )
            .at("source")
            .into()),
        }
    }

    fn streams(&self) -> bool {
        matches!(&self.kind, JsSourceKind::Reader { stream: Some(_), .. })
    }

    async fn stream(&self, offset: u64, length: u64) -> std::result::Result<JsValue, Failure<JsValue>> {
        let JsSourceKind::Reader { object, stream: Some(stream), .. } = &self.kind else {
            return self.read(offset, length).await;
        };
        let body = call_range(object, stream, offset, length).await?;
        match byte_length(&body) {
            Some(bytes) if bytes == length => Ok(body),
            _ => Err(Error::new(
                ErrorCode::InvalidState,
                format!("source.stream({offset}, {length}) did not return a body of byteLength {length}"),
            )
            .at("source")
            .into()),
        }
    }

    fn progress(&self, bytes: u64) {
        if let Some(on_bytes) = &self.on_bytes {
            let _ = on_bytes.call1(&JsValue::NULL, &(bytes as f64).into());
        }
    }
}

/// `method.call(object, offset, length)`, awaited.
async fn call_range(
    object: &JsValue,
    method: &Function,
    offset: u64,
    length: u64,
) -> std::result::Result<JsValue, Failure<JsValue>> {
    let answer = method.call2(object, &(offset as f64).into(), &(length as f64).into()).map_err(Failure::Host)?;
    resolve(answer).await.map_err(Failure::Host)
}

/// A body's `byteLength`, when it is a whole number.
fn byte_length(body: &JsValue) -> Option<u64> {
    let value = Reflect::get(body, &"byteLength".into()).ok()?.as_f64()?;
    (value >= 0.0 && value.fract() == 0.0).then_some(value as u64)
}

/// Awaits a value that may be a Promise or any thenable (host callbacks may be sync or async). Plain values
/// come back without a trip through the microtask queue (sinks are called once per chunk).
async fn resolve(value: JsValue) -> std::result::Result<JsValue, JsValue> {
    let thenable = value.is_object() && field(&value, "then").is_function();
    if !thenable {
        return Ok(value);
    }
    JsFuture::from(Promise::resolve(&value)).await
}
