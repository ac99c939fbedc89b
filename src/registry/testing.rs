//! A scripted host for the engine's native tests: every request is recorded (with its `Authorization`) and
//! answered by the test's handler; time is virtual (sleeps and timeouts advance the clock, nothing waits), so a
//! two-minute stall runs in microseconds and every future completes on its first poll.

use super::auth::Credentials;
use super::client::{Client, ClientConfig};
use super::transport::{BlobSink, BlobSource, ChunkHasher, Failure, Flow, Request, RequestBody, Response, TimeoutKind};
use super::transport::{Transport, TransportError, Wait};
use crate::digest::Hasher;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// Runs a future of the fake host to completion.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the fake host never waits: a future stayed pending"),
    }
}

/// A request as it reached the fake network.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
    pub at_ms: u64,
}

impl Sent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The URL's path and query.
    pub fn path(&self) -> &str {
        let after = self.url.split_once("://").map_or(self.url.as_str(), |(_, rest)| rest);
        after.find('/').map_or("", |i| &after[i..])
    }

    pub fn origin(&self) -> &str {
        let end = self
            .url
            .split_once("://")
            .map_or(0, |(scheme, rest)| scheme.len() + 3 + rest.find('/').unwrap_or(rest.len()));
        &self.url[..end]
    }
}

/// What the body of a reply does, piece by piece.
#[derive(Debug, Clone)]
pub enum Piece {
    Bytes(Vec<u8>),
    /// Nothing arrives: the reader's idle deadline passes.
    Silence,
    /// The connection breaks.
    Cut,
}

#[derive(Debug, Clone)]
pub enum Reply {
    Answer { status: u16, headers: Vec<(String, String)>, body: Vec<Piece> },
    Fail(TransportError),
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply::Answer { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn ok(body: &[u8]) -> Reply {
        Reply::status(200).header("content-length", &body.len().to_string()).body(body)
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Answer { headers, .. } = &mut self {
            headers.push((name.to_ascii_lowercase(), value.to_string()));
        }
        self
    }

    /// The body in pieces of at most 4 bytes, so readers see several chunks.
    pub fn body(mut self, bytes: &[u8]) -> Reply {
        if let Reply::Answer { body, .. } = &mut self {
            body.extend(bytes.chunks(4).map(|c| Piece::Bytes(c.to_vec())));
        }
        self
    }

    pub fn then(mut self, piece: Piece) -> Reply {
        if let Reply::Answer { body, .. } = &mut self {
            body.push(piece);
        }
        self
    }

    pub fn challenge(value: &str) -> Reply {
        Reply::status(401).header("www-authenticate", value)
    }
}

type Handler = Box<dyn FnMut(&Sent) -> Reply>;

pub struct FakeHost {
    pub clock: Cell<u64>,
    pub sent: RefCell<Vec<Sent>>,
    pub events: RefCell<Vec<(String, String)>>,
    pub credentials: Option<Credentials>,
    pub credential_asks: Cell<u32>,
    handler: RefCell<Handler>,
}

impl FakeHost {
    pub fn new(handler: impl FnMut(&Sent) -> Reply + 'static) -> FakeHost {
        FakeHost {
            clock: Cell::new(1_000_000),
            sent: RefCell::new(Vec::new()),
            events: RefCell::new(Vec::new()),
            credentials: None,
            credential_asks: Cell::new(0),
            handler: RefCell::new(Box::new(handler)),
        }
    }

    pub fn with_credentials(mut self, credentials: Credentials) -> FakeHost {
        self.credentials = Some(credentials);
        self
    }

    pub fn basic(self, username: &str, password: &str) -> FakeHost {
        self.with_credentials(Credentials::Basic { username: username.into(), password: password.into() })
    }

    fn advance(&self, ms: u64) {
        self.clock.set(self.clock.get() + ms);
    }

    pub fn requests(&self) -> Vec<Sent> {
        self.sent.borrow().clone()
    }

    pub fn event_kinds(&self) -> Vec<String> {
        self.events.borrow().iter().map(|(kind, _)| kind.clone()).collect()
    }
}

/// A client for `registry` ("127.0.0.1:5000/packs" style) over a fake host.
pub fn client(registry: &str, host: FakeHost) -> Client<FakeHost> {
    Client::new(ClientConfig::new(registry, false).unwrap(), host).unwrap()
}

impl Transport for FakeHost {
    type Body = Vec<u8>;
    type Stream = VecDeque<Piece>;
    type Chunk = Vec<u8>;
    type Thrown = String;
    type Hasher = FakeHasher;

    async fn send(&self, request: Request<'_, Vec<u8>>, wait: Wait) -> Result<Response<Self::Stream>, TransportError> {
        let body = match request.body {
            Some(RequestBody::Bytes(bytes)) | Some(RequestBody::Host(bytes)) => bytes.clone(),
            None => Vec::new(),
        };
        let sent = Sent {
            method: request.method.to_string(),
            url: request.url.to_string(),
            headers: request.headers.iter().map(|(n, v)| (n.to_string(), v.clone())).collect(),
            authorization: request.authorization.map(str::to_string),
            body,
            at_ms: self.clock.get(),
        };
        self.sent.borrow_mut().push(sent.clone());
        self.advance(1);
        let reply = (self.handler.borrow_mut())(&sent);
        match reply {
            Reply::Answer { status, headers, body } => {
                Ok(Response { status, headers, url: String::new(), body: body.into_iter().collect() })
            }
            Reply::Fail(error) => {
                match &error {
                    TransportError::Timeout(TimeoutKind::Connect) => self.advance(wait.connect_ms),
                    TransportError::Timeout(_) => self.advance(wait.response_ms),
                    _ => {}
                }
                Err(error)
            }
        }
    }

    async fn read(&self, body: &mut Self::Stream, idle_ms: u64) -> Result<Option<Vec<u8>>, TransportError> {
        match body.pop_front() {
            None => Ok(None),
            Some(Piece::Bytes(bytes)) => Ok(Some(bytes)),
            Some(Piece::Silence) => {
                self.advance(idle_ms);
                body.clear();
                Err(TransportError::Timeout(TimeoutKind::Idle))
            }
            Some(Piece::Cut) => {
                body.clear();
                Err(TransportError::Network("socket hang up".into()))
            }
        }
    }

    async fn discard(&self, _body: Self::Stream) {}

    async fn sleep(&self, ms: u64) {
        self.advance(ms);
    }

    fn now_ms(&self) -> u64 {
        self.clock.get()
    }

    fn random(&self) -> f64 {
        0.5
    }

    fn chunk_len(chunk: &Vec<u8>) -> u64 {
        chunk.len() as u64
    }

    fn chunk_bytes(chunk: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(chunk);
    }

    fn body_len(body: &Vec<u8>) -> u64 {
        body.len() as u64
    }

    async fn credentials(&self, _host: &str) -> Result<Option<Credentials>, Failure<String>> {
        self.credential_asks.set(self.credential_asks.get() + 1);
        Ok(self.credentials.clone())
    }

    fn hasher(&self) -> Result<FakeHasher, Failure<String>> {
        Ok(FakeHasher(Hasher::new()))
    }

    fn event(&self, kind: &str, message: &str) {
        self.events.borrow_mut().push((kind.to_string(), message.to_string()));
    }
}

pub struct FakeHasher(Hasher);

impl ChunkHasher<Vec<u8>, String> for FakeHasher {
    fn update(&mut self, chunk: &Vec<u8>) -> Result<(), Failure<String>> {
        self.0.update(chunk);
        Ok(())
    }

    fn finish(self) -> Result<String, Failure<String>> {
        Ok(self.0.finish().to_string())
    }
}

/// Collects a download; counts restarts.
#[derive(Default)]
pub struct MemorySink {
    pub bytes: Vec<u8>,
    pub resets: u32,
    pub progress: u64,
}

impl BlobSink<Vec<u8>, String> for MemorySink {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<Flow, Failure<String>> {
        self.bytes.extend_from_slice(&chunk);
        Ok(Flow::More)
    }

    async fn reset(&mut self) -> Result<(), Failure<String>> {
        self.bytes.clear();
        self.resets += 1;
        Ok(())
    }

    fn progress(&mut self, bytes: u64) {
        self.progress = bytes;
    }
}

/// Serves an upload from memory.
pub struct MemorySource(pub Vec<u8>);

impl BlobSource<Vec<u8>, String> for MemorySource {
    async fn read(&self, offset: u64, length: u64) -> Result<Vec<u8>, Failure<String>> {
        Ok(self.0[offset as usize..(offset + length) as usize].to_vec())
    }
}
