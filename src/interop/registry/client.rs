//! `RegistryClient`: the JS class, its options, the request loop every operation goes through (auth dance,
//! retries with backoff) and the manifest operations.

use super::auth::AuthState;
use super::fetch::{self, HttpRequest};
use super::{blob_pull, blob_push, function_option, positive_option, BlobDescriptor, Failure, Outcome};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::interop::{field, object, to_js_error};
use crate::registry::auth::is_insufficient_scope;
use crate::registry::challenge::{parse_challenges, Challenge};
use crate::registry::response::{self, check_header_digest, status_error};
use crate::registry::retry::{is_retryable_status, parse_retry_after, RetryPolicy};
use crate::registry::scope::{Scope, Scopes};
use crate::registry::{upload, ManifestRef, RegistryRef, DEFAULT_MAX_MANIFEST_BYTES, MANIFEST_ACCEPT};
use js_sys::{Array, Function, Promise, Uint8Array};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;
use web_sys::Response;

/// How much of a failure's body is read for its message.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// The client's state, shared by every operation in flight (JS promises hold clones).
#[derive(Clone)]
pub(super) struct Client(Rc<Inner>);

pub(super) struct Inner {
    pub registry: RegistryRef,
    pub insecure: bool,
    pub retry: RetryPolicy,
    pub chunk_bytes: u64,
    pub monolithic_max_bytes: u64,
    pub max_manifest_bytes: u64,
    pub create_hasher: Option<Function>,
    on_event: Option<Function>,
    pub auth: AuthState,
}

impl std::ops::Deref for Client {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// One request as an operation describes it; `execute` adds authorization and retries.
pub(super) struct Call<'a> {
    pub request: HttpRequest,
    pub scopes: &'a Scopes,
    /// What the request is about, for messages ("manifest ctx-…", "blob sha256:…").
    pub what: &'a str,
    /// Whether transient failures are retried here. Upload-session requests are not: a half-sent PATCH
    /// leaves the session in an unknown state, so `blob_push` starts a new session instead.
    pub retry: bool,
}

impl Client {
    fn from_options(options: &JsValue) -> Outcome<Client> {
        let registry = field(options, "registry").as_string().ok_or_else(|| {
            Error::new(ErrorCode::RegistryInvalid, "must be a string like ghcr.io/acme/packs").at("registry")
        })?;
        let insecure = field(options, "insecure").as_bool().unwrap_or(false);
        let registry = RegistryRef::parse(&registry, insecure)?;
        let retry_options = field(options, "retry");
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            max_attempts: positive_option(&retry_options, "maxAttempts")?
                .map_or(defaults.max_attempts, |n| n.min(100) as u32),
            base_delay_ms: positive_option(&retry_options, "baseDelayMs")?.unwrap_or(defaults.base_delay_ms),
            max_delay_ms: positive_option(&retry_options, "maxDelayMs")?.unwrap_or(defaults.max_delay_ms),
            max_retry_after_ms: positive_option(&retry_options, "maxRetryAfterMs")?
                .unwrap_or(defaults.max_retry_after_ms),
        };
        let chunk_bytes = upload::chunk_size(positive_option(options, "chunkBytes")?, &registry.host, None);
        let inner = Inner {
            insecure,
            retry,
            chunk_bytes,
            monolithic_max_bytes: positive_option(options, "monolithicMaxBytes")?.unwrap_or(chunk_bytes),
            max_manifest_bytes: positive_option(options, "maxManifestBytes")?.unwrap_or(DEFAULT_MAX_MANIFEST_BYTES),
            create_hasher: function_option(options, "createHasher")?,
            on_event: function_option(options, "onEvent")?,
            auth: AuthState::new(function_option(options, "credentials")?),
            registry,
        };
        Ok(Client(Rc::new(inner)))
    }

    /// Tells the host what is happening (`retry`, `auth`, `resume`, `mount`). Messages never hold secrets;
    /// a throwing listener is ignored, it must not break a transfer.
    pub fn emit(&self, kind: &str, message: &str) {
        if let Some(on_event) = &self.on_event {
            let _ = on_event.call1(&JsValue::NULL, &object(&[("kind", kind.into()), ("message", message.into())]));
        }
    }

    /// Sends a request with authorization, answering one `401` challenge, and retrying network failures
    /// and transient statuses. Returns every other response for the caller to judge.
    pub async fn execute(&self, call: Call<'_>) -> Outcome<Response> {
        let mut challenge_scope: Option<String> = None;
        let mut challenged = false;
        loop {
            let authorization = self.authorization(call.scopes, challenge_scope.as_deref()).await?;
            let response = self.send_retrying(&call.request, authorization.as_deref(), call.what, call.retry).await?;
            if response.status() != 401 {
                return Ok(response);
            }
            let header = fetch::header(&response, "WWW-Authenticate").unwrap_or_default();
            let challenges = parse_challenges(&header).map_err(|e| e.at(call.what))?;
            if challenged {
                let body = fetch::read_error_body(&response, ERROR_BODY_LIMIT).await;
                return Err(self.refused(&challenges, &body, call.what).into());
            }
            fetch::discard(&response).await;
            challenged = true;
            challenge_scope = self.adopt_challenge(&challenges, call.scopes)?;
        }
    }

    /// `401` after authenticating: bad credentials, or (`insufficient_scope`) credentials without the right.
    fn refused(&self, challenges: &[Challenge], body: &[u8], what: &str) -> Error {
        let host = &self.registry.host;
        if is_insufficient_scope(challenges) {
            let message = format!(
                "{host} denied access to {}: the token lacks the permission asked for",
                self.registry.repository
            );
            return Error::new(ErrorCode::AuthDenied, message).at(what);
        }
        let error = status_error(401, body, what, host);
        if self.auth.has_credentials() {
            return error;
        }
        error.hint("the registry needs credentials: `ctxpack login <registry>`, or set CTXPACK_USER and CTXPACK_TOKEN")
    }

    /// Sends a request, retrying network failures and transient statuses per the policy (when `retry`).
    pub async fn send_retrying(
        &self,
        request: &HttpRequest,
        authorization: Option<&str>,
        what: &str,
        retry: bool,
    ) -> Outcome<Response> {
        let mut attempt = 1;
        loop {
            let (problem, delay) = match fetch::send(request, authorization).await {
                Ok(response) if !is_retryable_status(response.status()) => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let retry_after =
                        fetch::header(&response, "Retry-After").and_then(|v| parse_retry_after(&v, fetch::now_ms()));
                    let delay = if retry { self.retry.delay_ms(attempt, retry_after, fetch::random()) } else { None };
                    let Some(delay) = delay else {
                        let body = fetch::read_error_body(&response, ERROR_BODY_LIMIT).await;
                        let error = status_error(status, &body, what, &self.registry.host);
                        return Err(self.after_attempts(error, attempt).into());
                    };
                    fetch::discard(&response).await;
                    (format!("{} answered {status}", self.registry.host), delay)
                }
                Err(network) => {
                    let problem = format!("cannot reach {}: {network}", self.registry.host);
                    let delay = if retry { self.retry.delay_ms(attempt, None, fetch::random()) } else { None };
                    let Some(delay) = delay else {
                        let error = Error::new(ErrorCode::RegistryUnreachable, problem).at(what);
                        return Err(self.after_attempts(error, attempt).into());
                    };
                    (problem, delay)
                }
            };
            let max = self.retry.max_attempts;
            self.emit(
                "retry",
                &format!("{what}: {problem}; retrying in {delay} ms (attempt {} of {max})", attempt + 1),
            );
            fetch::sleep(delay).await;
            attempt += 1;
        }
    }

    fn after_attempts(&self, error: Error, attempts: u32) -> Error {
        if attempts <= 1 {
            return error;
        }
        Error { message: format!("{} (after {attempts} attempts)", error.message), ..error }
    }

    /// The error for a response whose status the operation did not expect.
    pub async fn unexpected(&self, response: &Response, what: &str) -> Failure {
        let body = fetch::read_error_body(response, ERROR_BODY_LIMIT).await;
        status_error(response.status(), &body, what, &self.registry.host).into()
    }

    fn pull_scopes(&self) -> Scopes {
        Scopes::new([Scope::pull(&self.registry.repository)])
    }

    fn push_scopes(&self) -> Scopes {
        Scopes::new([Scope::push(&self.registry.repository)])
    }

    fn manifest_request(&self, method: &'static str, reference: &ManifestRef, accept: &str) -> HttpRequest {
        HttpRequest::new(method, self.registry.manifest_url(reference)).header("Accept", accept)
    }

    async fn fetch_manifest(&self, reference: String, accept: String) -> Outcome<JsValue> {
        let reference = ManifestRef::parse(&reference)?;
        let what = format!("manifest {reference}");
        let scopes = self.pull_scopes();
        let mut attempt = 1;
        let (response, bytes) = loop {
            let request = self.manifest_request("GET", &reference, &accept);
            let response = self.execute(Call { request, scopes: &scopes, what: &what, retry: true }).await?;
            if response.status() != 200 {
                return Err(self.unexpected(&response, &what).await);
            }
            let limit = self.max_manifest_bytes;
            if fetch::content_length(&response).is_some_and(|n| n > limit) {
                fetch::discard(&response).await;
                return Err(too_large(&what, limit).into());
            }
            match fetch::read_limited(&response, limit).await {
                Ok(bytes) => break (response, bytes),
                Err(fetch::ReadFailure::TooLarge) => return Err(too_large(&what, limit).into()),
                Err(fetch::ReadFailure::Network(network)) => {
                    match self.retry.delay_ms(attempt, None, fetch::random()) {
                        Some(delay) => {
                            self.emit(
                                "retry",
                                &format!("{what}: connection cut while reading ({network}); retrying in {delay} ms"),
                            );
                            fetch::sleep(delay).await;
                            attempt += 1;
                        }
                        None => {
                            let message = format!("connection to {} cut while reading: {network}", self.registry.host);
                            return Err(Error::new(ErrorCode::RegistryUnreachable, message).at(what.as_str()).into());
                        }
                    }
                }
            }
        };
        let digest = Digest::of(&bytes);
        if let ManifestRef::Digest(wanted) = &reference {
            if *wanted != digest {
                let message = format!("the registry sent content that hashes to {digest}");
                return Err(Error::new(ErrorCode::DigestMismatch, message).at(what.as_str()).into());
            }
        }
        check_header_digest(fetch::header(&response, "Docker-Content-Digest").as_deref(), &digest, &what)?;
        let media_type = response::media_type(fetch::header(&response, "Content-Type").as_deref())
            .or_else(|| response::manifest_media_type(&bytes))
            .unwrap_or_default();
        Ok(object(&[
            ("bytes", Uint8Array::from(bytes.as_slice()).into()),
            ("digest", digest.to_string().into()),
            ("size", (bytes.len() as f64).into()),
            ("mediaType", media_type.into()),
        ]))
    }

    async fn head_manifest(&self, reference: String) -> Outcome<JsValue> {
        let parsed = ManifestRef::parse(&reference)?;
        let what = format!("manifest {parsed}");
        let scopes = self.pull_scopes();
        let request = self.manifest_request("HEAD", &parsed, &MANIFEST_ACCEPT.join(", "));
        let response = self.execute(Call { request, scopes: &scopes, what: &what, retry: true }).await?;
        match response.status() {
            200 => {}
            404 => return Ok(JsValue::NULL),
            _ => return Err(self.unexpected(&response, &what).await),
        }
        let header_digest =
            fetch::header(&response, "Docker-Content-Digest").and_then(|d| Digest::parse(d.trim()).ok());
        let digest = match (&parsed, header_digest) {
            (ManifestRef::Digest(wanted), Some(claimed)) if *wanted != claimed => {
                let message = format!("the registry says manifest {wanted} has digest {claimed}");
                return Err(Error::new(ErrorCode::DigestMismatch, message).at(what.as_str()).into());
            }
            (_, Some(claimed)) => Some(claimed),
            (ManifestRef::Digest(wanted), None) => Some(*wanted),
            (ManifestRef::Tag(_), None) => None,
        };
        let media_type = response::media_type(fetch::header(&response, "Content-Type").as_deref());
        match (digest, fetch::content_length(&response), media_type) {
            (Some(digest), Some(size), Some(media_type)) => Ok(object(&[
                ("digest", digest.to_string().into()),
                ("size", (size as f64).into()),
                ("mediaType", media_type.into()),
            ])),
            // Older registries leave headers out of HEAD answers: fetch the manifest and describe it.
            _ => {
                let manifest = self.fetch_manifest(reference, MANIFEST_ACCEPT.join(", ")).await?;
                Ok(object(&[
                    ("digest", field(&manifest, "digest")),
                    ("size", field(&manifest, "size")),
                    ("mediaType", field(&manifest, "mediaType")),
                ]))
            }
        }
    }

    async fn push_manifest(&self, reference: String, bytes: Uint8Array, media_type: String) -> Outcome<JsValue> {
        let reference = ManifestRef::parse(&reference)?;
        let what = format!("manifest {reference}");
        let digest = Digest::of(&bytes.to_vec());
        if let ManifestRef::Digest(wanted) = &reference {
            if *wanted != digest {
                let message = format!("pushing bytes that hash to {digest} under digest {wanted}");
                return Err(Error::new(ErrorCode::DigestMismatch, message).at(what.as_str()).into());
            }
        }
        let request = HttpRequest::new("PUT", self.registry.manifest_url(&reference))
            .header("Content-Type", media_type)
            .body(bytes.into());
        let scopes = self.push_scopes();
        let response = self.execute(Call { request, scopes: &scopes, what: &what, retry: true }).await?;
        if !matches!(response.status(), 200 | 201) {
            return Err(self.unexpected(&response, &what).await);
        }
        fetch::discard(&response).await;
        let stored = check_header_digest(fetch::header(&response, "Docker-Content-Digest").as_deref(), &digest, &what);
        if let Err(Error { code: ErrorCode::DigestMismatch, message, .. }) = &stored {
            let message = format!("the registry did not store the manifest byte for byte: {message}");
            return Err(Error::new(ErrorCode::RegistryProtocol, message).at(what.as_str()).into());
        }
        stored?;
        Ok(object(&[("digest", digest.to_string().into())]))
    }

    /// Whether the registry holds the blob; a blob of the same digest but another size is an error.
    pub async fn blob_exists(&self, descriptor: &BlobDescriptor) -> Outcome<bool> {
        let what = descriptor.what();
        let scopes = self.pull_scopes();
        let request = HttpRequest::new("HEAD", self.registry.blob_url(&descriptor.digest));
        let response = self.execute(Call { request, scopes: &scopes, what: &what, retry: true }).await?;
        match response.status() {
            200 => {}
            404 => return Ok(false),
            _ => return Err(self.unexpected(&response, &what).await),
        }
        if let Some(size) = fetch::content_length(&response).filter(|&n| n != descriptor.size) {
            let message = format!("the registry holds it with {size} bytes, the descriptor says {}", descriptor.size);
            return Err(Error::new(ErrorCode::SizeMismatch, message).at(what.as_str()).into());
        }
        check_header_digest(fetch::header(&response, "Docker-Content-Digest").as_deref(), &descriptor.digest, &what)?;
        Ok(true)
    }
}

fn too_large(what: &str, limit: u64) -> Error {
    Error::new(ErrorCode::LimitExceeded, format!("is larger than the {limit}-byte manifest limit"))
        .at(what)
        .hint("this is not a ctxpack manifest, or raise maxManifestBytes if you trust the registry")
}

/// A client for one repository of an OCI registry (see docs/architecture.md, "RegistryClient").
#[wasm_bindgen]
pub struct RegistryClient {
    client: Client,
}

type JsResult<T> = std::result::Result<T, JsValue>;

/// Runs an operation on a clone of the shared client, as a JS promise.
fn promise<F, Fut>(client: &Client, operation: F) -> Promise
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Outcome<JsValue>> + 'static,
{
    let future = operation(client.clone());
    future_to_promise(async move { future.await.map_err(Failure::into_js) })
}

#[wasm_bindgen]
impl RegistryClient {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> JsResult<RegistryClient> {
        Client::from_options(&options).map(|client| RegistryClient { client }).map_err(Failure::into_js)
    }

    /// `{ scheme, host, repository }`
    #[wasm_bindgen(getter)]
    pub fn registry(&self) -> JsValue {
        let registry = &self.client.registry;
        object(&[
            ("scheme", registry.scheme.as_str().into()),
            ("host", registry.host.as_str().into()),
            ("repository", registry.repository.as_str().into()),
        ])
    }

    /// `(reference, { accept?: string[] })` → `{ bytes, digest, size, mediaType }`
    #[wasm_bindgen(js_name = fetchManifest)]
    pub fn fetch_manifest(&self, reference: String, options: JsValue) -> Promise {
        let accept = match accept_option(&options) {
            Ok(accept) => accept,
            Err(error) => return Promise::reject(&to_js_error(error)),
        };
        promise(&self.client, move |client| async move { client.fetch_manifest(reference, accept).await })
    }

    /// `(reference)` → `{ digest, size, mediaType }`, or `null` when there is no such manifest.
    #[wasm_bindgen(js_name = headManifest)]
    pub fn head_manifest(&self, reference: String) -> Promise {
        promise(&self.client, move |client| async move { client.head_manifest(reference).await })
    }

    /// `(reference, bytes, mediaType)` → `{ digest }`
    #[wasm_bindgen(js_name = pushManifest)]
    pub fn push_manifest(&self, reference: String, bytes: Uint8Array, media_type: String) -> Promise {
        promise(&self.client, move |client| async move { client.push_manifest(reference, bytes, media_type).await })
    }

    /// `(descriptor)` → `boolean`
    #[wasm_bindgen(js_name = blobExists)]
    pub fn blob_exists(&self, descriptor: JsValue) -> Promise {
        promise(&self.client, move |client| async move {
            let descriptor = BlobDescriptor::from_js(&descriptor)?;
            client.blob_exists(&descriptor).await.map(JsValue::from)
        })
    }

    /// `(descriptor, sink, { onBytes? })` → `undefined`, once every byte is written and verified.
    #[wasm_bindgen(js_name = fetchBlob)]
    pub fn fetch_blob(&self, descriptor: JsValue, sink: JsValue, options: JsValue) -> Promise {
        promise(&self.client, move |client| async move {
            let descriptor = BlobDescriptor::from_js(&descriptor)?;
            let on_bytes = function_option(&options, "onBytes")?;
            blob_pull::fetch_blob(&client, &descriptor, &sink, on_bytes.as_ref()).await.map(|()| JsValue::UNDEFINED)
        })
    }

    /// `(descriptor, source, { mountFrom?, onBytes? })` → `{ uploaded, mounted }`
    #[wasm_bindgen(js_name = pushBlob)]
    pub fn push_blob(&self, descriptor: JsValue, source: JsValue, options: JsValue) -> Promise {
        promise(&self.client, move |client| async move {
            let descriptor = BlobDescriptor::from_js(&descriptor)?;
            let mount_from =
                match field(&options, "mountFrom") {
                    value if value.is_undefined() || value.is_null() => None,
                    value => Some(value.as_string().ok_or_else(|| {
                        Error::new(ErrorCode::JsonInvalid, "must be a repository name").at("mountFrom")
                    })?),
                };
            let on_bytes = function_option(&options, "onBytes")?;
            let pushed =
                blob_push::push_blob(&client, &descriptor, &source, mount_from.as_deref(), on_bytes.as_ref()).await?;
            Ok(object(&[("uploaded", pushed.uploaded.into()), ("mounted", pushed.mounted.into())]))
        })
    }
}

/// The `accept` option: media types to ask for, default the OCI and Docker manifest and index types.
fn accept_option(options: &JsValue) -> crate::error::Result<String> {
    let accept = field(options, "accept");
    if accept.is_undefined() || accept.is_null() {
        return Ok(MANIFEST_ACCEPT.join(", "));
    }
    let types = accept
        .dyn_into::<Array>()
        .ok()
        .and_then(|array| array.iter().map(|t| t.as_string()).collect::<Option<Vec<String>>>())
        .filter(|types| !types.is_empty() && types.iter().all(|t| !t.is_empty() && !t.contains([',', '\r', '\n'])))
        .ok_or_else(|| {
            Error::new(ErrorCode::JsonInvalid, "must be a non-empty array of media type strings").at("accept")
        })?;
    Ok(types.join(", "))
}
