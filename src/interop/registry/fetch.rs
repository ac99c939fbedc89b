//! The host's HTTP and timers: the GLOBAL `fetch` and `setTimeout` (Node ≥ 20, browsers, workerd — there is
//! no `window` outside browsers), and small helpers over `Response` bodies.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStreamDefaultReader, Request, RequestInit, RequestRedirect, Response};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> Promise;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
}

/// One HTTP request. The body is a JS value (a `Uint8Array` or a string) so the same bytes can be sent
/// again on a retry without passing through wasm memory.
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<JsValue>,
}

impl HttpRequest {
    pub fn new(method: &'static str, url: impl Into<String>) -> HttpRequest {
        HttpRequest { method, url: url.into(), headers: Vec::new(), body: None }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: JsValue) -> HttpRequest {
        self.body = Some(body);
        self
    }
}

/// Sends a request with an optional `Authorization` value. `Err` is a network failure (no HTTP answer),
/// described without the request's headers. Redirects are followed by `fetch`, which drops
/// `Authorization` when a redirect leaves the origin (blob downloads often go to a CDN).
pub async fn send(request: &HttpRequest, authorization: Option<&str>) -> Result<Response, String> {
    let headers = Headers::new().map_err(describe_js_error)?;
    for (name, value) in &request.headers {
        headers.append(name, value).map_err(describe_js_error)?;
    }
    if let Some(authorization) = authorization {
        headers
            .append("Authorization", authorization)
            .map_err(|_| "the Authorization value is not a valid header".to_string())?;
    }
    let init = RequestInit::new();
    init.set_method(request.method);
    init.set_headers(&headers);
    init.set_redirect(RequestRedirect::Follow);
    if let Some(body) = &request.body {
        init.set_body(body);
    }
    let js_request = Request::new_with_str_and_init(&request.url, &init).map_err(describe_js_error)?;
    let response = JsFuture::from(global_fetch(&js_request)).await.map_err(describe_js_error)?;
    response.dyn_into::<Response>().map_err(|_| "fetch resolved to something that is not a Response".to_string())
}

/// A response header, when present.
pub fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).ok().flatten()
}

/// `Content-Length`, when present and a number.
pub fn content_length(response: &Response) -> Option<u64> {
    header(response, "Content-Length").and_then(|v| v.trim().parse().ok())
}

/// Why reading a body stopped early.
pub enum ReadFailure {
    /// The connection broke (the description has no secrets: it is the runtime's own message).
    Network(String),
    /// The body is longer than the limit the caller set.
    TooLarge,
}

/// The whole body, up to `limit` bytes.
pub async fn read_limited(response: &Response, limit: u64) -> Result<Vec<u8>, ReadFailure> {
    let Some(reader) = reader(response) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    loop {
        match read_chunk(&reader).await.map_err(ReadFailure::Network)? {
            None => return Ok(out),
            Some(chunk) => {
                if out.len() as u64 + chunk.length() as u64 > limit {
                    cancel(&reader).await;
                    return Err(ReadFailure::TooLarge);
                }
                let start = out.len();
                out.resize(start + chunk.length() as usize, 0);
                chunk.copy_to(&mut out[start..]);
            }
        }
    }
}

/// At most `limit` bytes of a failure's body (for its error message); read problems give what was read.
pub async fn read_error_body(response: &Response, limit: u64) -> Vec<u8> {
    let Some(reader) = reader(response) else { return Vec::new() };
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = read_chunk(&reader).await {
        let start = out.len();
        out.resize(start + chunk.length() as usize, 0);
        chunk.copy_to(&mut out[start..]);
        if out.len() as u64 >= limit {
            cancel(&reader).await;
            out.truncate(limit as usize);
            break;
        }
    }
    out
}

/// Drops a body nobody will read, so the runtime can reuse or close the connection now rather than at GC.
pub async fn discard(response: &Response) {
    if let Some(body) = response.body() {
        if !body.locked() {
            let _ = JsFuture::from(body.cancel()).await;
        }
    }
}

pub fn reader(response: &Response) -> Option<ReadableStreamDefaultReader> {
    response.body().and_then(|body| ReadableStreamDefaultReader::new(&body).ok())
}

/// The next chunk, `None` at the end of the body, `Err` when the connection broke.
pub async fn read_chunk(reader: &ReadableStreamDefaultReader) -> Result<Option<Uint8Array>, String> {
    let result = JsFuture::from(reader.read()).await.map_err(describe_js_error)?;
    if Reflect::get(&result, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
        return Ok(None);
    }
    let value = Reflect::get(&result, &"value".into()).map_err(describe_js_error)?;
    value
        .dyn_into::<Uint8Array>()
        .map(Some)
        .map_err(|_| "the response body yielded something other than bytes".to_string())
}

pub async fn cancel(reader: &ReadableStreamDefaultReader) {
    let _ = JsFuture::from(reader.cancel()).await;
}

/// Waits `ms` milliseconds on the host's timer.
pub async fn sleep(ms: u64) {
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms as f64);
    });
    let _ = JsFuture::from(promise).await;
}

/// The host's clock, in ms since the Unix epoch.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Uniform in [0, 1), for backoff jitter.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// A network error as text: the runtime's message plus its cause's code (`fetch failed (ECONNREFUSED)`).
pub fn describe_js_error(error: JsValue) -> String {
    let text = |value: &JsValue, key: &str| Reflect::get(value, &key.into()).ok().and_then(|v| v.as_string());
    let message = text(&error, "message").or_else(|| error.as_string()).unwrap_or_else(|| "unknown error".into());
    let cause = Reflect::get(&error, &"cause".into()).ok().filter(|c| c.is_object());
    match cause.and_then(|c| text(&c, "code").or_else(|| text(&c, "message"))) {
        Some(cause) => format!("{message} ({cause})"),
        None => message,
    }
}
