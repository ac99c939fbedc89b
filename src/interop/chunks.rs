//! Bytes from whatever a JS host has: a `Uint8Array`, a `Response`, a `ReadableStream<Uint8Array>`, or an async
//! iterable of chunks (a Node `Readable`, an async generator), read one chunk at a time into wasm memory in pieces
//! of at most `MAX_PIECE` bytes, so a huge array or chunk is never copied whole.

use super::field;
use crate::error::{Error, ErrorCode, Result};
use js_sys::{Function, Reflect, Symbol, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::ReadableStreamDefaultReader;

const MAX_PIECE: u32 = 1024 * 1024;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Bytes from whatever a host has: one array, a fetch Response, a web stream, or an async iterable of chunks (a Node Readable). */
export type ByteSource = Uint8Array | Response | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
"#;

enum Source {
    Bytes,
    Reader(ReadableStreamDefaultReader),
    Iterator { iterator: JsValue, next: Function },
}

pub struct Chunks {
    source: Source,
    /// The chunk being handed out in pieces, and how far.
    current: Option<(Uint8Array, u32)>,
    done: bool,
}

impl Chunks {
    pub fn from_js(value: &JsValue) -> Result<Chunks> {
        let unsupported = || {
            Error::new(
                ErrorCode::InvalidState,
                "the source must be a Uint8Array, a Response, a ReadableStream of Uint8Array or an async iterable of them",
            )
            .at("source")
        };
        if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
            return Ok(Chunks { source: Source::Bytes, current: Some((bytes.clone(), 0)), done: false });
        }
        let stream = match value.dyn_ref::<web_sys::Response>() {
            Some(response) => match response.body() {
                Some(body) => Some(body),
                None => return Ok(Chunks { source: Source::Bytes, current: None, done: true }),
            },
            None => value.dyn_ref::<web_sys::ReadableStream>().cloned(),
        };
        if let Some(stream) = stream {
            let reader = ReadableStreamDefaultReader::new(&stream).map_err(|_| {
                Error::new(ErrorCode::InvalidState, "the stream is locked by another reader").at("source")
            })?;
            return Ok(Chunks { source: Source::Reader(reader), current: None, done: false });
        }
        let make = Reflect::get(value, &Symbol::async_iterator()).ok().and_then(|f| f.dyn_into::<Function>().ok());
        let iterator = make.ok_or_else(unsupported)?.call0(value).map_err(|_| unsupported())?;
        let next = field(&iterator, "next").dyn_into::<Function>().map_err(|_| unsupported())?;
        Ok(Chunks { source: Source::Iterator { iterator, next }, current: None, done: false })
    }

    /// The next piece, `None` at the end. `Err` holds what the source threw (passed through untouched).
    pub async fn next(&mut self) -> std::result::Result<Option<Vec<u8>>, JsValue> {
        loop {
            if let Some((chunk, offset)) = &mut self.current {
                if *offset < chunk.length() {
                    let end = (*offset + MAX_PIECE).min(chunk.length());
                    let piece = chunk.subarray(*offset, end).to_vec();
                    *offset = end;
                    return Ok(Some(piece));
                }
                self.current = None;
            }
            if self.done {
                return Ok(None);
            }
            let result = match &self.source {
                Source::Bytes => {
                    self.done = true;
                    continue;
                }
                Source::Reader(reader) => JsFuture::from(reader.read()).await?,
                Source::Iterator { iterator, next } => {
                    JsFuture::from(js_sys::Promise::resolve(&next.call0(iterator)?)).await?
                }
            };
            if field(&result, "done").as_bool().unwrap_or(false) {
                self.done = true;
                continue;
            }
            let value = field(&result, "value");
            let chunk = value.dyn_into::<Uint8Array>().map_err(|_| {
                super::to_js_error(
                    Error::new(ErrorCode::InvalidState, "the source yielded something other than a Uint8Array")
                        .at("source"),
                )
            })?;
            self.current = Some((chunk, 0));
        }
    }

    /// Stops a source that will not be read to its end (an error was found), so it can free its connection.
    pub async fn cancel(self) {
        match self.source {
            Source::Reader(reader) => {
                let _ = JsFuture::from(reader.cancel()).await;
            }
            Source::Iterator { iterator, .. } => {
                if let Ok(done) = field(&iterator, "return").dyn_into::<Function>() {
                    if let Ok(promise) = done.call0(&iterator) {
                        let _ = JsFuture::from(js_sys::Promise::resolve(&promise)).await;
                    }
                }
            }
            Source::Bytes => {}
        }
    }
}
