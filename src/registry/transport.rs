//! What the registry engine needs from its host, and nothing more: send a request and get the response head,
//! read the body a chunk at a time, wait, tell the time, draw a random number; plus the host's credentials,
//! hashing and event listener. The engine (`client.rs` and the files beside it) makes every protocol
//! decision over this trait, the way oras-go layers its clients over `http.RoundTripper`: the wasm host
//! implements it over `fetch` (`interop::registry`), the tests over a scripted fake (`testing.rs`).

use super::auth::Credentials;
use crate::error::Error;

/// Why an operation failed: a core error, or an exception thrown by host code (a sink, a source, the
/// credentials callback), handed back to the caller untouched.
#[derive(Debug)]
pub enum Failure<T> {
    Core(Error),
    Host(T),
}

impl<T> From<Error> for Failure<T> {
    fn from(error: Error) -> Self {
        Failure::Core(error)
    }
}

pub type Outcome<T, H> = std::result::Result<T, Failure<<H as Transport>::Thrown>>;

/// A request body: bytes the engine made (a manifest, a token form), or a host value sent as is (a chunk of a
/// blob the host read; in wasm a `Uint8Array` that never enters wasm memory).
pub enum RequestBody<B> {
    Bytes(Vec<u8>),
    Host(B),
}

/// One HTTP request as a transport sends it. Redirects are the engine's business: a transport that can return
/// a `3xx` as it came does so; one that cannot (a browser's `fetch`) follows it itself, and then strips
/// `Authorization` when the redirect leaves the origin, as the Fetch standard requires.
pub struct Request<'a, B> {
    pub method: &'static str,
    pub url: &'a str,
    pub headers: &'a [(&'static str, String)],
    /// The `Authorization` value, apart from the other headers so that no code path can log it with them.
    pub authorization: Option<&'a str>,
    pub body: Option<&'a RequestBody<B>>,
}

/// A response head and the handle to read its body with.
pub struct Response<S> {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    /// The URL that answered: the request's, or where a transport that follows redirects ended up.
    pub url: String,
    pub body: S,
}

impl<S> Response<S> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// `Content-Length`, when present and a number.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length").and_then(|v| v.trim().parse().ok())
    }
}

/// How long a transport waits, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// For the connection to open (hosts whose HTTP stack can tell connecting apart; `fetch` cannot, so there
    /// it is part of `response_ms`).
    pub connect_ms: u64,
    /// For the response head, once the request is sent.
    pub response_ms: u64,
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The connection failed or broke (DNS, refused, reset): worth another try. The text is the runtime's
    /// own description, which never holds request headers.
    Network(String),
    /// A deadline passed: connecting, waiting for the response head, or (reading) no byte arrived in time.
    Timeout(TimeoutKind),
    /// The TLS handshake failed: an untrusted or expired certificate, a wrong host name, or TLS spoken to a
    /// plain-HTTP server. Trying again cannot help. `code` is the runtime's (`CERT_HAS_EXPIRED`, …).
    Tls { code: String, message: String },
    /// A browser refused to let the page see the answer (most often: the registry sends no CORS headers).
    Blocked(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect,
    Response,
    Idle,
}

impl TimeoutKind {
    pub fn describe(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "no connection",
            TimeoutKind::Response => "no answer",
            TimeoutKind::Idle => "no data",
        }
    }
}

/// The host's HTTP, clock and randomness, and the services only it can provide. Async methods are not
/// `Send`: wasm hosts are single-threaded.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// A request body the host made (a slice of a blob).
    type Body;
    /// A response body being read.
    type Stream;
    /// A piece of a response body, handed to hashers and sinks without copying.
    type Chunk;
    /// An exception from host code.
    type Thrown;
    /// A running SHA-256 over chunks.
    type Hasher: ChunkHasher<Self::Chunk, Self::Thrown>;

    async fn send(
        &self,
        request: Request<'_, Self::Body>,
        wait: Wait,
    ) -> Result<Response<Self::Stream>, TransportError>;
    /// The next chunk of a body, `None` at its end; `Timeout(Idle)` when nothing arrived for `idle_ms`.
    async fn read(&self, body: &mut Self::Stream, idle_ms: u64) -> Result<Option<Self::Chunk>, TransportError>;
    /// Drops a body nobody will read, so the connection can be reused or closed now.
    async fn discard(&self, body: Self::Stream);
    async fn sleep(&self, ms: u64);
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Uniform in [0, 1), for backoff jitter.
    fn random(&self) -> f64;

    fn chunk_len(chunk: &Self::Chunk) -> u64;
    /// Appends a chunk's bytes (only for the small bodies the engine reads whole: manifests, tokens, errors).
    fn chunk_bytes(chunk: &Self::Chunk, out: &mut Vec<u8>);
    fn body_len(body: &Self::Body) -> u64;

    /// The credentials for a registry host, or `None` for anonymous access. Asked once per client, only when
    /// a registry asks for authentication.
    async fn credentials(&self, host: &str) -> Result<Option<Credentials>, Failure<Self::Thrown>>;
    fn hasher(&self) -> Result<Self::Hasher, Failure<Self::Thrown>>;
    /// Tells the host what is happening (`retry`, `resume`, `auth`, `mount`, `redirect`). Never a secret.
    fn event(&self, kind: &str, message: &str);
}

pub trait ChunkHasher<C, T> {
    fn update(&mut self, chunk: &C) -> Result<(), Failure<T>>;
    /// `sha256:<hex>`
    fn finish(self) -> Result<String, Failure<T>>;
}

/// Whether a sink wants the rest of the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    More,
    /// The sink has what it needs (one file out of a layer, already verified): stop downloading. The blob's
    /// own size and digest are then not checked.
    Enough,
}

/// Where a downloaded blob goes. `write` may keep the chunk; a pending `write` holds the download back.
#[allow(async_fn_in_trait)]
pub trait BlobSink<C, T> {
    async fn write(&mut self, chunk: C) -> Result<Flow, Failure<T>>;
    /// The registry is sending the whole blob again: forget what was written.
    async fn reset(&mut self) -> Result<(), Failure<T>>;
    /// Bytes received so far.
    fn progress(&mut self, _bytes: u64) {}
}

/// Where an uploaded blob comes from: `read` returns exactly `length` bytes at `offset`.
#[allow(async_fn_in_trait)]
pub trait BlobSource<B, T> {
    async fn read(&self, offset: u64, length: u64) -> Result<B, Failure<T>>;
    /// Whether `stream` gives a body that produces its range while it is sent instead of holding it: such a
    /// blob goes in one `PATCH`, as skopeo and docker send it (one request, not one per chunk).
    fn streams(&self) -> bool {
        false
    }
    /// A body for bytes `offset..offset + length` that is read as it is sent; `read` unless `streams`.
    async fn stream(&self, offset: u64, length: u64) -> Result<B, Failure<T>> {
        self.read(offset, length).await
    }
    /// Bytes sent so far.
    fn progress(&self, _bytes: u64) {}
}
