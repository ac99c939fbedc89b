//! `RegistryClient`: the JS class over the engine's `Client`, its options and the conversion of each
//! operation's arguments and results (see docs/architecture.md, "RegistryClient").

use super::fetch::Fetch;
use super::{failure_to_js, JsHost, JsSink, JsSource};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::interop::archive::function_option;
use crate::interop::{field, object, to_js_error};
use crate::registry::deadline::Timeouts;
use crate::registry::transport::Failure;
use crate::registry::{Client, ClientConfig, DigestCheck, MANIFEST_ACCEPT};
use js_sys::{Array, Promise, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

pub(super) type Shared = Rc<Client<JsHost>>;
type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export interface RegistryClientOptions {
  /**
   * "<host>[:port]/<repository>", optionally with "http://" or "https://" first; without a scheme, http for
   * loopback hosts and https for every other host.
   */
  registry: string;
  /** Allow an explicit http:// to a host that is not loopback (else CTX_REGISTRY_INSECURE). */
  insecure?: boolean;
  /** Asked lazily, once per client. */
  credentials?: (host: string) => Credentials | null | undefined | PromiseLike<Credentials | null | undefined>;
  /** A faster SHA-256 than the core's (node:crypto). */
  createHasher?: () => BlobHasher;
  /** Default: the global fetch. */
  fetch?: RegistryFetch;
  /** Seconds: connect min(10, t), response and idle t, stall 4t (default 30). */
  timeout?: number;
  timeouts?: { connectMs?: number; responseMs?: number; idleMs?: number; stallMs?: number };
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; maxRetryAfterMs?: number };
  /** PATCH size of chunked uploads; default 8 MiB, 4 MiB for ghcr.io. */
  chunkBytes?: number;
  /** Blobs up to this size go in one PUT; default chunkBytes. */
  monolithicMaxBytes?: number;
  /** Default 4 MiB. */
  maxManifestBytes?: number;
  onEvent?: (event: RegistryEvent) => void;
}

export interface RegistryLocation {
  scheme: "http" | "https";
  host: string;
  repository: string;
}

/** A manifest as fetched: its bytes hashed and checked against the digest asked for and Docker-Content-Digest. */
export interface FetchedManifest {
  bytes: Uint8Array;
  digest: string;
  size: number;
  mediaType: string;
}

/** A blob to check, fetch or push: what the client needs of a descriptor. */
export type BlobDescriptor = Pick<Descriptor, "digest" | "size"> & Partial<Descriptor>;

export interface BlobTransferOptions {
  /** Told the bytes transferred so far. */
  onBytes?: ((bytes: number) => void) | null;
}

export interface BlobFetchOptions extends BlobTransferOptions {
  /** false: the caller hashes every byte the sink kept and compares the digest itself; the client checks the size. */
  checkDigest?: boolean | null;
}
"#;

/// A client for one repository of an OCI registry.
#[wasm_bindgen]
pub struct RegistryClient {
    pub(super) client: Shared,
}

fn config_from(options: &JsValue) -> Result<ClientConfig> {
    let registry = field(options, "registry").as_string().ok_or_else(|| {
        Error::new(ErrorCode::RegistryInvalid, "must be a string like ghcr.io/acme/packs").at("registry")
    })?;
    let insecure = field(options, "insecure").as_bool().unwrap_or(false);
    let mut config = ClientConfig::new(&registry, insecure)?;
    let retry = field(options, "retry");
    if let Some(n) = positive_option(&retry, "maxAttempts")? {
        config.retry.max_attempts = n.min(100) as u32;
    }
    if let Some(ms) = positive_option(&retry, "baseDelayMs")? {
        config.retry.base_delay_ms = ms;
    }
    if let Some(ms) = positive_option(&retry, "maxDelayMs")? {
        config.retry.max_delay_ms = ms;
    }
    if let Some(ms) = positive_option(&retry, "maxRetryAfterMs")? {
        config.retry.max_retry_after_ms = ms;
    }
    if let Some(seconds) = positive_option(options, "timeout")? {
        config.timeouts = Timeouts::from_seconds(seconds);
    }
    let timeouts = field(options, "timeouts");
    for (key, slot) in [
        ("connectMs", &mut config.timeouts.connect_ms),
        ("responseMs", &mut config.timeouts.response_ms),
        ("idleMs", &mut config.timeouts.idle_ms),
        ("stallMs", &mut config.timeouts.stall_ms),
    ] {
        if let Some(ms) = positive_option(&timeouts, key)? {
            *slot = ms;
        }
    }
    config.chunk_bytes = positive_option(options, "chunkBytes")?;
    config.monolithic_max_bytes = positive_option(options, "monolithicMaxBytes")?;
    if let Some(n) = positive_option(options, "maxManifestBytes")? {
        config.max_manifest_bytes = n;
    }
    Ok(config)
}

fn host_from(options: &JsValue) -> JsResult<JsHost> {
    let fetch = Fetch::new(function_option(options, "fetch").map_err(to_js_error)?)?;
    let callbacks = || -> Result<_> {
        Ok((
            function_option(options, "credentials")?,
            function_option(options, "createHasher")?,
            function_option(options, "onEvent")?,
        ))
    };
    let (credentials, create_hasher, on_event) = callbacks().map_err(to_js_error)?;
    Ok(JsHost { fetch, credentials, asked: RefCell::new(None), create_hasher, on_event })
}

/// Runs an operation on the shared client, as a JS promise.
pub(super) fn promise<F, Fut>(client: &Shared, operation: F) -> Promise
where
    F: FnOnce(Shared) -> Fut,
    Fut: std::future::Future<Output = std::result::Result<JsValue, Failure<JsValue>>> + 'static,
{
    let future = operation(client.clone());
    future_to_promise(async move { future.await.map_err(failure_to_js) })
}

#[wasm_bindgen]
impl RegistryClient {
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "RegistryClientOptions")] options: JsValue,
    ) -> JsResult<RegistryClient> {
        let config = config_from(&options).map_err(to_js_error)?;
        let host = host_from(&options)?;
        let client = Client::new(config, host).map_err(to_js_error)?;
        Ok(RegistryClient { client: Rc::new(client) })
    }

    /// `{ scheme, host, repository }`
    #[wasm_bindgen(getter, unchecked_return_type = "RegistryLocation")]
    pub fn registry(&self) -> JsValue {
        let registry = &self.client.registry;
        object(&[
            ("scheme", registry.scheme.as_str().into()),
            ("host", registry.host.as_str().into()),
            ("repository", registry.repository.as_str().into()),
        ])
    }

    /// `(reference, { accept?: string[] })` → `{ bytes, digest, size, mediaType }`
    #[wasm_bindgen(js_name = fetchManifest, unchecked_return_type = "Promise<FetchedManifest>")]
    pub fn fetch_manifest(
        &self,
        reference: String,
        #[wasm_bindgen(unchecked_optional_param_type = "{ accept?: string[] | null } | null")] options: JsValue,
    ) -> Promise {
        let accept = match accept_option(&options) {
            Ok(accept) => accept,
            Err(error) => return Promise::reject(&to_js_error(error)),
        };
        promise(&self.client, move |client| async move {
            let manifest = client.fetch_manifest(&reference, &accept).await?;
            Ok(object(&[
                ("size", (manifest.bytes.len() as f64).into()),
                ("bytes", Uint8Array::from(manifest.bytes.as_slice()).into()),
                ("digest", manifest.digest.to_string().into()),
                ("mediaType", manifest.media_type.into()),
            ]))
        })
    }

    /// `(reference)` → `{ digest, size, mediaType }`, or `null` when there is no such manifest.
    #[wasm_bindgen(js_name = headManifest, unchecked_return_type = "Promise<Omit<FetchedManifest, \"bytes\"> | null>")]
    pub fn head_manifest(&self, reference: String) -> Promise {
        promise(&self.client, move |client| async move {
            Ok(match client.head_manifest(&reference).await? {
                None => JsValue::NULL,
                Some(head) => object(&[
                    ("digest", head.digest.to_string().into()),
                    ("size", (head.size as f64).into()),
                    ("mediaType", head.media_type.into()),
                ]),
            })
        })
    }

    /// `(reference, bytes, mediaType)` → `{ digest }`
    #[wasm_bindgen(js_name = pushManifest, unchecked_return_type = "Promise<{ digest: string }>")]
    pub fn push_manifest(
        &self,
        reference: String,
        bytes: Uint8Array,
        #[wasm_bindgen(js_name = mediaType)] media_type: String,
    ) -> Promise {
        promise(&self.client, move |client| async move {
            let digest = client.push_manifest(&reference, bytes.to_vec(), &media_type).await?;
            Ok(object(&[("digest", digest.to_string().into())]))
        })
    }

    /// `(descriptor)` → `boolean`
    #[wasm_bindgen(js_name = blobExists, unchecked_return_type = "Promise<boolean>")]
    pub fn blob_exists(&self, #[wasm_bindgen(unchecked_param_type = "BlobDescriptor")] descriptor: JsValue) -> Promise {
        promise(&self.client, move |client| async move {
            let (digest, size) = descriptor_from(&descriptor)?;
            Ok(client.blob_exists(&digest, size).await?.into())
        })
    }

    /// `(descriptor, sink, { onBytes?, checkDigest? })` → `undefined`, once every byte is written and verified
    /// (with `checkDigest: false`, its size only).
    #[wasm_bindgen(js_name = fetchBlob, unchecked_return_type = "Promise<void>")]
    pub fn fetch_blob(
        &self,
        #[wasm_bindgen(unchecked_param_type = "BlobDescriptor")] descriptor: JsValue,
        #[wasm_bindgen(unchecked_param_type = "BlobSink")] sink: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "BlobFetchOptions | null")] options: JsValue,
    ) -> Promise {
        promise(&self.client, move |client| async move {
            let (digest, size) = descriptor_from(&descriptor)?;
            let mut sink = JsSink::from_js(sink, function_option(&options, "onBytes")?)?;
            let check = match field(&options, "checkDigest").as_bool() {
                Some(false) => DigestCheck::Caller,
                _ => DigestCheck::Client,
            };
            client.fetch_blob_checked(&digest, size, &mut sink, check).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `(descriptor, source, { mountFrom?, onBytes? })` → `{ uploaded, mounted }`
    #[wasm_bindgen(js_name = pushBlob, unchecked_return_type = "Promise<{ uploaded: boolean; mounted: boolean }>")]
    pub fn push_blob(
        &self,
        #[wasm_bindgen(unchecked_param_type = "BlobDescriptor")] descriptor: JsValue,
        #[wasm_bindgen(unchecked_param_type = "BlobSource")] source: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "BlobTransferOptions & { mountFrom?: string | null } | null")]
        options: JsValue,
    ) -> Promise {
        promise(&self.client, move |client| async move {
            let (digest, size) = descriptor_from(&descriptor)?;
            let mount_from =
                match field(&options, "mountFrom") {
                    value if value.is_undefined() || value.is_null() => None,
                    value => Some(value.as_string().ok_or_else(|| {
                        Error::new(ErrorCode::JsonInvalid, "must be a repository name").at("mountFrom")
                    })?),
                };
            let source =
                JsSource::from_js(&source, size, &format!("blob {digest}"), function_option(&options, "onBytes")?)?;
            let pushed = client.push_blob(&digest, size, &source, mount_from.as_deref()).await?;
            Ok(object(&[("uploaded", pushed.uploaded.into()), ("mounted", pushed.mounted.into())]))
        })
    }

    /// Checks the credentials against the registry (`GET /v2/`), as `docker login` does.
    #[wasm_bindgen(js_name = checkLogin, unchecked_return_type = "Promise<void>")]
    pub fn check_login(&self) -> Promise {
        promise(&self.client, move |client| async move {
            client.check_login().await?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// The `{ digest, size }` of a JS descriptor (other fields are the caller's business).
fn descriptor_from(value: &JsValue) -> Result<(Digest, u64)> {
    let digest = field(value, "digest")
        .as_string()
        .ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "must be a sha256:<hex> string").at("descriptor.digest"))?;
    let digest = Digest::parse(&digest).map_err(|e| e.at("descriptor.digest"))?;
    let size = integer(&field(value, "size"))
        .ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "must be a non-negative integer").at("descriptor.size"))?;
    Ok((digest, size))
}

/// A JS number that is a non-negative integer exact in a double.
fn integer(value: &JsValue) -> Option<u64> {
    value.as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= 9_007_199_254_740_992.0).map(|n| n as u64)
}

/// An optional positive integer option.
fn positive_option(options: &JsValue, key: &str) -> Result<Option<u64>> {
    let value = field(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    integer(&value)
        .filter(|&n| n > 0)
        .map(Some)
        .ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "must be a positive integer").at(key))
}

/// The `accept` option: media types to ask for, default the OCI and Docker manifest and index types.
fn accept_option(options: &JsValue) -> Result<String> {
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
