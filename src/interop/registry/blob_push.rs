//! Blob upload: skip what the registry has, mount from a sibling repository when asked, else upload in one
//! `PUT` (small blobs) or in `PATCH` chunks closed by a `PUT`. Bytes go from the host's source straight into
//! `fetch` as JS `Uint8Array`s. A session that fails transiently is abandoned and a new one started: after
//! a cut `PATCH` nobody knows how much of it the registry kept.

use super::client::{Call, Client};
use super::fetch::{self, HttpRequest};
use super::{field, resolve, BlobDescriptor, Failure, Outcome};
use crate::error::{Error, ErrorCode};
use crate::registry::response::check_header_digest;
use crate::registry::scope::{Scope, Scopes};
use crate::registry::upload::{
    chunk_size, content_range, parse_chunk_min_length, parse_upload_range, resolve_location, with_digest,
};
use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Response;

pub(super) struct Pushed {
    pub uploaded: bool,
    pub mounted: bool,
}

pub(super) async fn push_blob(
    client: &Client,
    descriptor: &BlobDescriptor,
    source: &JsValue,
    mount_from: Option<&str>,
    on_bytes: Option<&Function>,
) -> Outcome<Pushed> {
    let source = BlobSource::from_js(source, descriptor)?;
    let mount_from = mount_from.map(|name| client.registry.other_repository(name)).transpose()?;
    if client.blob_exists(descriptor).await? {
        return Ok(Pushed { uploaded: false, mounted: false });
    }
    let mut scopes = Scopes::new([Scope::push(&client.registry.repository)]);
    if let Some(from) = &mount_from {
        scopes.add(Scope::pull(from));
    }
    let upload = Upload { client, descriptor, source: &source, scopes: &scopes, what: descriptor.what(), on_bytes };
    let mut attempt = 1;
    loop {
        match upload.run(mount_from.as_deref()).await {
            Err(failure) if failure.is_transient() => {
                let Some(delay) = client.retry.delay_ms(attempt, None, fetch::random()) else { return Err(failure) };
                let why = match &failure {
                    Failure::Core(error) => error.message.clone(),
                    Failure::Js(_) => String::new(),
                };
                client.emit(
                    "retry",
                    &format!(
                        "{why}; starting the upload over in {delay} ms (attempt {} of {})",
                        attempt + 1,
                        client.retry.max_attempts
                    ),
                );
                fetch::sleep(delay).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

struct Upload<'a> {
    client: &'a Client,
    descriptor: &'a BlobDescriptor,
    source: &'a BlobSource,
    scopes: &'a Scopes,
    what: String,
    on_bytes: Option<&'a Function>,
}

impl Upload<'_> {
    async fn run(&self, mount_from: Option<&str>) -> Outcome<Pushed> {
        let registry = &self.client.registry;
        let start_url = match mount_from {
            Some(from) => registry.mount_url(&self.descriptor.digest, from),
            None => registry.upload_url(),
        };
        let response = self.send(HttpRequest::new("POST", start_url.clone()), true).await?;
        match (response.status(), mount_from) {
            (201, Some(from)) => {
                fetch::discard(&response).await;
                self.check_stored_digest(&response)?;
                self.client.emit("mount", &format!("{}: mounted from {from}", self.what));
                return Ok(Pushed { uploaded: false, mounted: true });
            }
            (202, from) => {
                fetch::discard(&response).await;
                if let Some(from) = from {
                    self.client.emit("mount", &format!("{}: {from} cannot lend it; uploading", self.what));
                }
            }
            _ => return Err(self.client.unexpected(&response, &self.what).await),
        }
        let location = self.location(&start_url, &response)?;
        let min_chunk = parse_chunk_min_length(fetch::header(&response, "OCI-Chunk-Min-Length").as_deref());
        let size = self.descriptor.size;
        let closing = if size <= self.client.monolithic_max_bytes {
            let body = self.source.read(0, size).await?;
            let closing = self.put(&location, Some(body)).await?;
            self.progress(size);
            closing
        } else {
            let chunk = chunk_size(Some(self.client.chunk_bytes), &registry.host, min_chunk);
            let location = self.patch_chunks(location, chunk).await?;
            self.put(&location, None).await?
        };
        self.check_stored_digest(&closing)?;
        Ok(Pushed { uploaded: true, mounted: false })
    }

    async fn send(&self, request: HttpRequest, retry: bool) -> Outcome<Response> {
        self.client.execute(Call { request, scopes: self.scopes, what: &self.what, retry }).await
    }

    /// `PATCH`es the blob in `chunk`-byte pieces, following each new `Location`; returns the last one.
    async fn patch_chunks(&self, mut location: String, chunk: u64) -> Outcome<String> {
        let size = self.descriptor.size;
        let mut offset = 0;
        while offset < size {
            let length = chunk.min(size - offset);
            let body = self.source.read(offset, length).await?;
            let request = HttpRequest::new("PATCH", location.clone())
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", content_range(offset, length))
                .body(body.into());
            let response = self.send(request, false).await?;
            if response.status() != 202 {
                return Err(self.client.unexpected(&response, &self.what).await);
            }
            fetch::discard(&response).await;
            let end = offset + length - 1;
            if let Some(range) = fetch::header(&response, "Range") {
                let stored_end = parse_upload_range(&range).map_err(|e| e.at(self.what.as_str()))?;
                if stored_end != end {
                    let message = format!("after sending bytes up to {end}, the registry holds bytes 0-{stored_end}");
                    return Err(Error::new(ErrorCode::RegistryProtocol, message).at(self.what.as_str()).into());
                }
            }
            location = self.location(&location, &response)?;
            offset += length;
            self.progress(offset);
        }
        Ok(location)
    }

    /// The closing `PUT <location>&digest=…`, with the whole blob or (after chunks) no body.
    async fn put(&self, location: &str, body: Option<Uint8Array>) -> Outcome<Response> {
        let mut request = HttpRequest::new("PUT", with_digest(location, &self.descriptor.digest))
            .header("Content-Type", "application/octet-stream");
        if let Some(body) = body {
            request = request.body(body.into());
        }
        let response = self.send(request, false).await?;
        if response.status() != 201 {
            return Err(self.client.unexpected(&response, &self.what).await);
        }
        fetch::discard(&response).await;
        Ok(response)
    }

    fn location(&self, request_url: &str, response: &Response) -> Result<String, Error> {
        let location = fetch::header(response, "Location").ok_or_else(|| {
            Error::new(
                ErrorCode::RegistryProtocol,
                format!("{} answered {} without a Location header", self.client.registry.host, response.status()),
            )
            .at(self.what.as_str())
        })?;
        resolve_location(request_url, &location).map_err(|e| e.at(self.what.as_str()))
    }

    /// The registry's `Docker-Content-Digest` for what it stored, when it reports a comparable one.
    fn check_stored_digest(&self, response: &Response) -> Result<(), Error> {
        check_header_digest(
            fetch::header(response, "Docker-Content-Digest").as_deref(),
            &self.descriptor.digest,
            &self.what,
        )
        .map(|_| ())
        .map_err(|e| Error { code: ErrorCode::RegistryProtocol, ..e })
    }

    fn progress(&self, bytes: u64) {
        if let Some(on_bytes) = self.on_bytes {
            let _ = on_bytes.call1(&JsValue::NULL, &(bytes as f64).into());
        }
    }
}

/// Where the bytes come from: one `Uint8Array` (sliced without copying), or an object whose
/// `read(offset, length)` returns (a promise of) a `Uint8Array` of exactly that length.
enum BlobSource {
    Bytes(Uint8Array),
    Reader { object: JsValue, read: Function },
}

impl BlobSource {
    fn from_js(source: &JsValue, descriptor: &BlobDescriptor) -> Outcome<BlobSource> {
        if let Some(bytes) = source.dyn_ref::<Uint8Array>() {
            if bytes.length() as u64 != descriptor.size {
                let message =
                    format!("the source has {} bytes, the descriptor says {}", bytes.length(), descriptor.size);
                return Err(Error::new(ErrorCode::SizeMismatch, message).at(descriptor.what()).into());
            }
            return Ok(BlobSource::Bytes(bytes.clone()));
        }
        let read = field(source, "read").dyn_into::<Function>().map_err(|_| {
            Error::new(ErrorCode::InvalidState, "the source must be a Uint8Array or have a read(offset, length) method")
                .at("source")
        })?;
        Ok(BlobSource::Reader { object: source.clone(), read })
    }

    async fn read(&self, offset: u64, length: u64) -> Outcome<Uint8Array> {
        let bytes = match self {
            BlobSource::Bytes(bytes) => return Ok(bytes.subarray(offset as u32, (offset + length) as u32)),
            BlobSource::Reader { object, read } => {
                let answer =
                    read.call2(object, &(offset as f64).into(), &(length as f64).into()).map_err(Failure::Js)?;
                resolve(answer).await.map_err(Failure::Js)?
            }
        };
        match bytes.dyn_into::<Uint8Array>() {
            Ok(bytes) if bytes.length() as u64 == length => Ok(bytes),
            Ok(bytes) => {
                let message = format!("source.read({offset}, {length}) returned {} bytes", bytes.length());
                Err(Error::new(ErrorCode::SizeMismatch, message)
                    .at("source")
                    .hint("the blob changed or is shorter than its descriptor")
                    .into())
            }
            Err(_) => Err(Error::new(
                ErrorCode::InvalidState,
                format!("source.read({offset}, {length}) did not return a Uint8Array"),
            )
            .at("source")
            .into()),
        }
    }
}
