//! Streaming, verified blob download. Every chunk goes to the hasher and the sink as the JS `Uint8Array`
//! the body yielded (with a host hasher, bytes never enter wasm memory). A cut connection resumes with
//! `Range: bytes=<received>-`; a registry that answers the whole blob again makes the sink start over.
//! Size and digest are checked at the end, so the sink must not trust its bytes before the promise resolves.

use super::client::{Call, Client};
use super::fetch::{self, HttpRequest};
use super::{resolve, BlobDescriptor, Failure, Outcome};
use crate::digest::Hasher;
use crate::error::{Error, ErrorCode};
use crate::interop::field;
use crate::registry::download::{judge_resume, resume_range, Resume};
use crate::registry::response::check_header_digest;
use crate::registry::retry::RetryPolicy;
use crate::registry::scope::{Scope, Scopes};
use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub(super) async fn fetch_blob(
    client: &Client,
    descriptor: &BlobDescriptor,
    sink: &JsValue,
    on_bytes: Option<&Function>,
) -> Outcome<()> {
    let what = descriptor.what();
    let write = sink_method(sink, "write")?;
    let reset = sink_method(sink, "reset")?;
    let scopes = Scopes::new([Scope::pull(&client.registry.repository)]);
    // Resumes are counted apart from request retries: up to `maxAttempts` of them.
    let resumes_policy = RetryPolicy { max_attempts: client.retry.max_attempts + 1, ..client.retry };
    let mut hasher = BlobHasher::new(client)?;
    let mut received = 0u64;
    let mut resumes = 0u32;
    let mut sink_has_bytes = false;
    loop {
        let mut request =
            HttpRequest::new("GET", client.registry.blob_url(&descriptor.digest)).header("Accept-Encoding", "identity");
        if received > 0 {
            request = request.header("Range", resume_range(received));
        }
        let response = client.execute(Call { request, scopes: &scopes, what: &what, retry: true }).await?;
        if !matches!(response.status(), 200 | 206) {
            return Err(client.unexpected(&response, &what).await);
        }
        let content_range = fetch::header(&response, "Content-Range");
        let judged = judge_resume(response.status(), content_range.as_deref(), received, descriptor.size);
        let resume = match judged {
            Ok(resume) => resume,
            Err(error) => {
                fetch::discard(&response).await;
                return Err(error.at(what.as_str()).into());
            }
        };
        if resume == Resume::Restart {
            if sink_has_bytes {
                client.emit("resume", &format!("{what}: the registry sent the whole blob again; starting over"));
                resolve(reset.call0(sink).map_err(Failure::Js)?).await.map_err(Failure::Js)?;
                hasher = BlobHasher::new(client)?;
                received = 0;
                sink_has_bytes = false;
            }
            if let Err(error) = check_whole_response(&response, descriptor, &what) {
                fetch::discard(&response).await;
                return Err(error.into());
            }
        }
        let Some(reader) = fetch::reader(&response) else {
            return Err(Error::new(ErrorCode::RegistryProtocol, "the registry sent no body").at(what.as_str()).into());
        };
        let cut = loop {
            let chunk = match fetch::read_chunk(&reader).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break None,
                Err(network) => break Some(network),
            };
            let length = chunk.length() as u64;
            if received + length > descriptor.size {
                fetch::cancel(&reader).await;
                let message = format!("the registry sent more than the {} bytes the descriptor says", descriptor.size);
                return Err(Error::new(ErrorCode::SizeMismatch, message).at(what.as_str()).into());
            }
            hasher.update(&chunk)?;
            resolve(write.call1(sink, &chunk).map_err(Failure::Js)?).await.map_err(Failure::Js)?;
            received += length;
            sink_has_bytes = true;
            if let Some(on_bytes) = on_bytes {
                let _ = on_bytes.call1(&JsValue::NULL, &(received as f64).into());
            }
        };
        if received == descriptor.size {
            break;
        }
        resumes += 1;
        let why = cut.unwrap_or_else(|| "the body ended early".into());
        let Some(delay) = resumes_policy.delay_ms(resumes, None, fetch::random()) else {
            let message = format!(
                "download stopped after {received} of {} bytes ({why}); gave up after {} resumes",
                descriptor.size,
                resumes - 1
            );
            return Err(Error::new(ErrorCode::Truncated, message).at(what.as_str()).into());
        };
        client.emit(
            "resume",
            &format!(
                "{what}: connection cut after {received} of {} bytes ({why}); resuming in {delay} ms",
                descriptor.size
            ),
        );
        fetch::sleep(delay).await;
    }
    let digest = hasher.finish()?;
    if digest != descriptor.digest.to_string() {
        let message = format!("the downloaded bytes hash to {digest}");
        let hint = "the registry holds corrupt content under this digest; fetch from another source, or re-push it";
        return Err(Error::new(ErrorCode::DigestMismatch, message).at(what.as_str()).hint(hint).into());
    }
    Ok(())
}

/// A `200`: its length (when stated and not re-encoded) and `Docker-Content-Digest` must fit the descriptor.
fn check_whole_response(response: &web_sys::Response, descriptor: &BlobDescriptor, what: &str) -> Result<(), Error> {
    let encoded =
        fetch::header(response, "Content-Encoding").is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
    if let Some(length) = fetch::content_length(response).filter(|&n| n != descriptor.size && !encoded) {
        let message = format!("the registry is sending {length} bytes, the descriptor says {}", descriptor.size);
        return Err(Error::new(ErrorCode::SizeMismatch, message).at(what));
    }
    check_header_digest(fetch::header(response, "Docker-Content-Digest").as_deref(), &descriptor.digest, what)?;
    Ok(())
}

fn sink_method(sink: &JsValue, name: &str) -> Result<Function, Error> {
    field(sink, name)
        .dyn_into::<Function>()
        .map_err(|_| Error::new(ErrorCode::InvalidState, format!("the sink has no {name}() method")).at("sink"))
}

/// The host's hasher (`createHasher`, e.g. node:crypto) fed the JS chunks directly, or the core's SHA-256
/// fed copies of them.
enum BlobHasher {
    Host { hasher: JsValue, update: Function },
    Core { hasher: Hasher, buffer: Vec<u8> },
}

impl BlobHasher {
    fn new(client: &Client) -> Outcome<BlobHasher> {
        let Some(create) = &client.create_hasher else {
            return Ok(BlobHasher::Core { hasher: Hasher::new(), buffer: Vec::new() });
        };
        let hasher = create.call0(&JsValue::NULL).map_err(Failure::Js)?;
        let update = field(&hasher, "update").dyn_into::<Function>().map_err(|_| {
            Error::new(ErrorCode::InvalidState, "createHasher() returned an object without update()").at("createHasher")
        })?;
        Ok(BlobHasher::Host { hasher, update })
    }

    fn update(&mut self, chunk: &Uint8Array) -> Outcome<()> {
        match self {
            BlobHasher::Host { hasher, update } => update.call1(hasher, chunk).map(|_| ()).map_err(Failure::Js),
            BlobHasher::Core { hasher, buffer } => {
                buffer.resize(chunk.length() as usize, 0);
                chunk.copy_to(buffer);
                hasher.update(buffer);
                Ok(())
            }
        }
    }

    /// `sha256:<hex>`
    fn finish(self) -> Outcome<String> {
        match self {
            BlobHasher::Core { hasher, .. } => Ok(hasher.finish().to_string()),
            BlobHasher::Host { hasher, .. } => {
                let digest = field(&hasher, "digest").dyn_into::<Function>().map_err(|_| {
                    Error::new(ErrorCode::InvalidState, "createHasher() returned an object without digest()")
                        .at("createHasher")
                })?;
                digest.call0(&hasher).map_err(Failure::Js)?.as_string().ok_or_else(|| {
                    Error::new(ErrorCode::InvalidState, "the host hasher's digest() did not return a string")
                        .at("createHasher")
                        .into()
                })
            }
        }
    }
}
