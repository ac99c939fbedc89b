//! The registry client for JavaScript: an HTTP driver over the host's global `fetch`. Protocol decisions
//! live in `crate::registry`; this module sends requests, moves bytes between JS objects (without copying
//! them into wasm memory when it can avoid it) and talks to the host's callbacks.

mod auth;
mod blob_pull;
mod blob_push;
mod client;
mod fetch;

use super::{field, to_js_error};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Why an operation failed: a core error, or an exception a host callback threw (a sink's `write`, the
/// `credentials` callback), passed through to the caller untouched.
pub(crate) enum Failure {
    Core(Error),
    Js(JsValue),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Core(error)
    }
}

impl Failure {
    fn into_js(self) -> JsValue {
        match self {
            Failure::Core(error) => to_js_error(error),
            Failure::Js(value) => value,
        }
    }

    /// Whether trying again later may succeed (network trouble, 5xx, 429).
    fn is_transient(&self) -> bool {
        matches!(
            self,
            Failure::Core(Error {
                code: ErrorCode::RegistryUnreachable | ErrorCode::RegistryUnavailable | ErrorCode::RateLimited,
                ..
            })
        )
    }
}

type Outcome<T> = std::result::Result<T, Failure>;

/// The `{ digest, size }` of a JS descriptor (other fields are the caller's business).
#[derive(Clone)]
struct BlobDescriptor {
    digest: Digest,
    size: u64,
}

impl BlobDescriptor {
    fn from_js(value: &JsValue) -> Result<BlobDescriptor> {
        let digest = field(value, "digest").as_string().ok_or_else(|| {
            Error::new(ErrorCode::JsonInvalid, "must be a sha256:<hex> string").at("descriptor.digest")
        })?;
        let digest = Digest::parse(&digest).map_err(|e| e.at("descriptor.digest"))?;
        let size = integer(&field(value, "size")).ok_or_else(|| {
            Error::new(ErrorCode::JsonInvalid, "must be a non-negative integer").at("descriptor.size")
        })?;
        Ok(BlobDescriptor { digest, size })
    }

    fn what(&self) -> String {
        format!("blob {}", self.digest)
    }
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

/// An optional function option.
fn function_option(options: &JsValue, key: &str) -> Result<Option<js_sys::Function>> {
    let value = field(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .dyn_into::<js_sys::Function>()
        .map(Some)
        .map_err(|_| Error::new(ErrorCode::JsonInvalid, "must be a function").at(key))
}

/// Awaits a value that may be a Promise or any thenable (host callbacks may be sync or async).
/// Plain values come back without a trip through the microtask queue (sinks are called once per chunk).
async fn resolve(value: JsValue) -> std::result::Result<JsValue, JsValue> {
    let thenable = value.is_object() && field(&value, "then").is_function();
    if !thenable {
        return Ok(value);
    }
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&value)).await
}
