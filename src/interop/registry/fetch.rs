//! The engine's transport over WHATWG `fetch`: the global one (browsers, workerd, Node), or one the host passes
//! in (Node's, built on `node:https`, which can also honour a connect timeout and a private CA). Deadlines are
//! an `AbortController` per request fired by a timer; a timer that fired turns the abort into a timeout.
//! Redirects come back to the engine as they are (`redirect: "manual"`), except where the runtime only gives
//! an opaque answer (browsers): there `fetch` follows them itself, dropping `Authorization` across origins.

use crate::registry::transport::{RequestBody, Response, TimeoutKind, TransportError, Wait};
use js_sys::{Function, Promise, Reflect, Uint8Array};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/**
 * A `fetch` for the registry client: the WHATWG signature, told the connect timeout too when the host gave it. The
 * request is `redirect: "manual"` (the client follows redirects itself) and aborted through `signal` at a deadline.
 */
export type RegistryFetch = (url: string, init: RequestInit & { connectTimeout?: number }) => Promise<Response>;
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// A response body being read, with the controller whose abort ends it.
pub struct BodyStream {
    reader: Option<ReadableStreamDefaultReader>,
    controller: AbortController,
}

pub struct Fetch {
    function: Function,
    /// Whether `fetch` was given by the host (then it is told the connect timeout too).
    custom: bool,
    /// Set once the runtime answered a manual redirect opaquely: from then on `fetch` follows them.
    follows_redirects: Cell<bool>,
}

impl Fetch {
    /// The host's `fetch`, else the global one.
    pub fn new(custom: Option<Function>) -> Result<Fetch, JsValue> {
        let (function, custom) = match custom {
            Some(function) => (function, true),
            None => {
                let global = Reflect::get(&js_sys::global(), &"fetch".into())?;
                let function = global.dyn_into::<Function>().map_err(|_| JsValue::from_str("no global fetch"))?;
                (function, false)
            }
        };
        Ok(Fetch { function, custom, follows_redirects: Cell::new(false) })
    }

    pub async fn send(
        &self,
        request: crate::registry::transport::Request<'_, JsValue>,
        wait: Wait,
    ) -> Result<Response<BodyStream>, TransportError> {
        loop {
            let controller = AbortController::new().map_err(|e| TransportError::Network(describe(&e)))?;
            let init = self.init(&request, &controller, wait).map_err(|e| TransportError::Network(describe(&e)))?;
            let timer = Timer::abort_after(&controller, wait.response_ms);
            let called = self.function.call2(&JsValue::UNDEFINED, &request.url.into(), &init);
            let answer = match called {
                Ok(promise) => JsFuture::from(Promise::resolve(&promise)).await,
                Err(thrown) => Err(thrown),
            };
            let fired = timer.clear();
            let response = match answer {
                Ok(response) => response.dyn_into::<web_sys::Response>().map_err(|_| {
                    TransportError::Network("fetch resolved to something that is not a Response".into())
                })?,
                Err(_) if fired => return Err(TransportError::Timeout(TimeoutKind::Response)),
                Err(error) => return Err(classify(&error, request.url)),
            };
            if response.type_() == web_sys::ResponseType::Opaqueredirect && !self.follows_redirects.get() {
                self.follows_redirects.set(true);
                continue;
            }
            let reader = response.body().and_then(|body| ReadableStreamDefaultReader::new(&body).ok());
            return Ok(Response {
                status: response.status(),
                headers: headers(&response.headers()),
                url: response.url(),
                body: BodyStream { reader, controller },
            });
        }
    }

    fn init(
        &self,
        request: &crate::registry::transport::Request<'_, JsValue>,
        controller: &AbortController,
        wait: Wait,
    ) -> Result<JsValue, JsValue> {
        let headers = web_sys::Headers::new()?;
        for (name, value) in request.headers {
            headers.append(name, value)?;
        }
        if let Some(authorization) = request.authorization {
            headers
                .append("Authorization", authorization)
                .map_err(|_| JsValue::from_str("the Authorization value is not a valid header"))?;
        }
        let init = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| Reflect::set(&init, &key.into(), value).map(|_| ());
        set("method", &request.method.into())?;
        set("headers", &headers)?;
        set("redirect", &(if self.follows_redirects.get() { "follow" } else { "manual" }).into())?;
        set("signal", &controller.signal())?;
        match request.body {
            Some(RequestBody::Bytes(bytes)) => set("body", &Uint8Array::from(bytes.as_slice()))?,
            Some(RequestBody::Host(body)) => set("body", body)?,
            None => {}
        }
        if self.custom {
            set("connectTimeout", &(wait.connect_ms as f64).into())?;
        }
        Ok(init.into())
    }

    pub async fn read(&self, body: &mut BodyStream, idle_ms: u64) -> Result<Option<Uint8Array>, TransportError> {
        let Some(reader) = &body.reader else { return Ok(None) };
        let timer = Timer::abort_after(&body.controller, idle_ms);
        let result = JsFuture::from(reader.read()).await;
        let fired = timer.clear();
        let result = match result {
            Ok(result) => result,
            Err(_) if fired => return Err(TransportError::Timeout(TimeoutKind::Idle)),
            Err(error) => return Err(TransportError::Network(describe(&error))),
        };
        if Reflect::get(&result, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            body.reader = None;
            return Ok(None);
        }
        let value = Reflect::get(&result, &"value".into()).map_err(|e| TransportError::Network(describe(&e)))?;
        value
            .dyn_into::<Uint8Array>()
            .map(Some)
            .map_err(|_| TransportError::Network("the response body yielded something other than bytes".into()))
    }

    pub async fn discard(&self, body: BodyStream) {
        if let Some(reader) = body.reader {
            let _ = JsFuture::from(reader.cancel()).await;
        }
    }
}

/// A timer that aborts a controller; `clear` says whether it fired. Always cleared, so no pending timer keeps a
/// Node process alive after the work is done.
struct Timer {
    handle: JsValue,
    fired: Rc<Cell<bool>>,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    fn abort_after(controller: &AbortController, ms: u64) -> Timer {
        let fired = Rc::new(Cell::new(false));
        let (flag, controller) = (fired.clone(), controller.clone());
        let callback = Closure::<dyn FnMut()>::new(move || {
            flag.set(true);
            controller.abort();
        });
        let handle = set_timeout(callback.as_ref().unchecked_ref(), ms as f64);
        Timer { handle, fired, _callback: callback }
    }

    fn clear(self) -> bool {
        self.fired.get()
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

/// Waits `ms` milliseconds on the host's timer.
pub async fn sleep(ms: u64) {
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms as f64);
    });
    let _ = JsFuture::from(promise).await;
}

fn headers(headers: &web_sys::Headers) -> Vec<(String, String)> {
    let Ok(Some(entries)) = js_sys::try_iter(headers) else { return Vec::new() };
    entries
        .filter_map(|entry| {
            let pair = js_sys::Array::from(&entry.ok()?);
            Some((pair.get(0).as_string()?.to_ascii_lowercase(), pair.get(1).as_string()?))
        })
        .collect()
}

/// TLS failures by the codes Node, undici and OpenSSL give them.
const TLS_CODES: [&str; 12] = [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "CERT_HAS_EXPIRED",
    "CERT_NOT_YET_VALID",
    "CERT_UNTRUSTED",
    "CERT_REVOKED",
    "CERT_SIGNATURE_FAILURE",
    "HOSTNAME_MISMATCH",
    "EPROTO",
];

/// Why `fetch` rejected: a TLS failure, a connect timeout (undici's own, or the host fetch's), a browser's
/// refusal to show a cross-origin answer, or a network failure.
fn classify(error: &JsValue, url: &str) -> TransportError {
    let text = |value: &JsValue, key: &str| Reflect::get(value, &key.into()).ok().and_then(|v| v.as_string());
    let cause = Reflect::get(error, &"cause".into()).ok().filter(|c| c.is_object());
    let code = cause.as_ref().and_then(|c| text(c, "code")).or_else(|| text(error, "code")).unwrap_or_default();
    let cause_message = cause.as_ref().and_then(|c| text(c, "message")).unwrap_or_default();
    if code.starts_with("ERR_TLS_") || code.starts_with("ERR_SSL_") || TLS_CODES.contains(&code.as_str()) {
        return TransportError::Tls { code, message: cause_message };
    }
    if code == "UND_ERR_CONNECT_TIMEOUT" || code == "CTXPACK_CONNECT_TIMEOUT" {
        return TransportError::Timeout(TimeoutKind::Connect);
    }
    if cause.is_none() && cross_origin_page(url) {
        return TransportError::Blocked(describe(error));
    }
    TransportError::Network(describe(error))
}

/// Whether this runs in a page or web worker with an origin other than the URL's: only there can CORS hide an
/// answer (Node and workerd have no `location`).
fn cross_origin_page(url: &str) -> bool {
    let location = Reflect::get(&js_sys::global(), &"location".into()).ok().filter(|l| l.is_object());
    let origin = location.and_then(|l| Reflect::get(&l, &"origin".into()).ok()).and_then(|o| o.as_string());
    origin.is_some_and(|origin| !crate::registry::url::same_origin(&origin, url))
}

/// An exception as text: the runtime's message plus its cause's code (`fetch failed (ECONNREFUSED)`).
pub fn describe(error: &JsValue) -> String {
    let text = |value: &JsValue, key: &str| Reflect::get(value, &key.into()).ok().and_then(|v| v.as_string());
    let message = text(error, "message").or_else(|| error.as_string()).unwrap_or_else(|| "unknown error".into());
    let cause = Reflect::get(error, &"cause".into()).ok().filter(|c| c.is_object());
    match cause.and_then(|c| text(&c, "code").or_else(|| text(&c, "message"))) {
        Some(cause) => format!("{message} ({cause})"),
        None => message,
    }
}
