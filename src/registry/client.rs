//! The registry client every host uses: its settings, and the one request path every operation goes through —
//! authorization (only ever to the registry's own origin), redirects, retries with backoff, deadlines. The
//! operations live beside it: `manifests.rs`, `blob_pull.rs`, `blob_push.rs`; authentication in `session.rs`.

use super::auth::is_insufficient_scope;
use super::challenge::{parse_challenges, Challenge};
use super::deadline::{timeout_error, Stall, Timeouts};
use super::reference::RegistryRef;
use super::response::status_error;
use super::retry::{is_retryable_status, parse_retry_after, RetryPolicy};
use super::scope::Scopes;
use super::session::Session;
use super::transport::{Failure, Outcome, Request, RequestBody, Response, TimeoutKind, Transport, TransportError};
use super::upload::resolve_location;
use super::url::{same_origin, HttpUrl, Scheme};
use super::DEFAULT_MAX_MANIFEST_BYTES;
use crate::error::{Error, ErrorCode, Result};

/// How much of a failure's body is read for its message.
pub(super) const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Redirects followed for one request, as browsers and curl allow.
const MAX_REDIRECTS: u32 = 10;

/// What a client is configured with; every field but `registry` has a default.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub registry: RegistryRef,
    pub insecure: bool,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
    /// PATCH size for chunked uploads (default 8 MiB, 4 MiB for ghcr.io).
    pub chunk_bytes: Option<u64>,
    /// Blobs up to this size go in one PUT (default: the chunk size).
    pub monolithic_max_bytes: Option<u64>,
    pub max_manifest_bytes: u64,
}

impl ClientConfig {
    /// The defaults for `registry` ("[http(s)://]<host>[:port]/<repository>").
    pub fn new(registry: &str, insecure: bool) -> Result<ClientConfig> {
        Ok(ClientConfig {
            registry: RegistryRef::parse(registry, insecure)?,
            insecure,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            chunk_bytes: None,
            monolithic_max_bytes: None,
            max_manifest_bytes: DEFAULT_MAX_MANIFEST_BYTES,
        })
    }
}

/// A client for one repository of one registry, over a host's transport. Operations take `&self` and may
/// run concurrently; the shared state (credentials, tokens) lives in cells never borrowed across an await.
pub struct Client<H: Transport> {
    pub registry: RegistryRef,
    pub insecure: bool,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
    pub chunk_bytes: u64,
    pub monolithic_max_bytes: u64,
    pub max_manifest_bytes: u64,
    pub host: H,
    /// `<scheme>://<api host>`: the only origin the registry's credentials and tokens are sent to.
    pub(super) origin: HttpUrl,
    pub(super) session: Session,
}

/// An owned request as an operation builds it; `execute` adds authorization and sends it.
pub struct HttpRequest<B> {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<RequestBody<B>>,
}

impl<B> HttpRequest<B> {
    pub fn new(method: &'static str, url: impl Into<String>) -> Self {
        HttpRequest { method, url: url.into(), headers: Vec::new(), body: None }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: RequestBody<B>) -> Self {
        self.body = Some(body);
        self
    }
}

/// One request as an operation describes it.
pub(super) struct Call<'a, B> {
    pub request: HttpRequest<B>,
    pub scopes: &'a Scopes,
    /// What the request is about, for messages ("manifest ctx-…", "blob sha256:…").
    pub what: &'a str,
    /// Whether transient failures are retried here. Upload-session requests are not: after a cut `PATCH`
    /// nobody knows what the registry kept, so `blob_push` starts a new session instead.
    pub retry: bool,
    /// The operation's progress clock, when it spans several requests (a download and its resumes);
    /// otherwise the request's retries get a clock of their own.
    pub stall: Option<Stall>,
}

/// Why sending (with redirects) got no usable answer.
enum SendFailure {
    Transport(TransportError),
    Core(Error),
}

impl<H: Transport> Client<H> {
    pub fn new(config: ClientConfig, host: H) -> Result<Client<H>> {
        let ClientConfig { registry, insecure, retry, timeouts, chunk_bytes, monolithic_max_bytes, max_manifest_bytes } =
            config;
        let chunk_bytes = super::upload::chunk_size(chunk_bytes, &registry.host, None);
        let origin = HttpUrl::parse(&registry.api_base())?;
        Ok(Client {
            insecure,
            retry,
            timeouts,
            chunk_bytes,
            monolithic_max_bytes: monolithic_max_bytes.unwrap_or(chunk_bytes),
            max_manifest_bytes,
            host,
            origin,
            session: Session::default(),
            registry,
        })
    }

    pub fn emit(&self, kind: &str, message: &str) {
        self.host.event(kind, message);
    }

    /// Whether a URL is on the registry's own origin (where its credentials may go).
    pub(super) fn is_registry_origin(&self, url: &str) -> bool {
        HttpUrl::parse(url).is_ok_and(|url| url.same_origin(&self.origin))
    }

    /// Sends a request with the registry's authorization (when it is addressed to the registry's origin),
    /// answering one `401` challenge, following redirects and retrying transient failures. Returns every other
    /// response for the caller to judge.
    pub(super) async fn execute(&self, call: Call<'_, H::Body>) -> Outcome<Response<H::Stream>, H> {
        let to_registry = self.is_registry_origin(&call.request.url);
        let mut challenge_scope: Option<String> = None;
        let mut challenged = false;
        loop {
            let authorization = match to_registry {
                true => self.authorization(call.scopes, challenge_scope.as_deref()).await?,
                false => None,
            };
            let response =
                self.send_retrying(&call.request, authorization.as_deref(), call.what, call.retry, call.stall).await?;
            if response.status != 401 {
                return Ok(response);
            }
            if !self.is_registry_origin(&response.url) {
                self.host.discard(response.body).await;
                return Err(self.foreign_challenge(&response.url, call.what).into());
            }
            let header = response.header("www-authenticate").unwrap_or_default().to_string();
            let challenges = parse_challenges(&header).map_err(|e| e.at(call.what))?;
            if challenged {
                let body = self.read_error_body(response.body, ERROR_BODY_LIMIT).await;
                return Err(self.refused(&challenges, &body, call.what).into());
            }
            self.host.discard(response.body).await;
            challenged = true;
            challenge_scope = self.adopt_challenge(&challenges, call.scopes)?;
        }
    }

    /// A host other than the registry (an upload location, a redirect target) asked for credentials: they
    /// belong to the registry alone, so the request fails instead.
    fn foreign_challenge(&self, url: &str, what: &str) -> Error {
        let elsewhere = HttpUrl::parse(url).map(|u| u.origin()).unwrap_or_else(|_| "another host".into());
        Error::new(
            ErrorCode::AuthFailed,
            format!(
                "{elsewhere} asks for credentials; ctxpack sends the credentials of {} only to {}",
                self.registry.host,
                self.origin.origin()
            ),
        )
        .at(what)
        .hint("the registry sent the request to another host that wants to be logged in to; ask the registry owner")
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
        match self.session.has_credentials() {
            true => error,
            false => error.hint("the registry needs credentials; none were found for it"),
        }
    }

    /// Sends a request, retrying network failures, timeouts and transient statuses per the policy (when
    /// `retry`), until the attempts are used up or no progress was made for the stall deadline.
    pub(super) async fn send_retrying(
        &self,
        request: &HttpRequest<H::Body>,
        authorization: Option<&str>,
        what: &str,
        retry: bool,
        stall: Option<Stall>,
    ) -> Outcome<Response<H::Stream>, H> {
        let stall = stall.unwrap_or_else(|| Stall::start(self.host.now_ms(), &self.timeouts));
        let mut attempt = 1;
        loop {
            let (problem, retry_after, timed_out) = match self.send_following(request, authorization).await {
                Ok(response) if !is_retryable_status(response.status) => return Ok(response),
                Ok(response) => {
                    let retry_after =
                        response.header("retry-after").and_then(|v| parse_retry_after(v, self.host.now_ms()));
                    let delay = self.delay(retry, attempt, retry_after, &stall);
                    if delay.is_none() {
                        let status = response.status;
                        let body = self.read_error_body(response.body, ERROR_BODY_LIMIT).await;
                        let error = status_error(status, &body, what, &self.registry.host);
                        return Err(after_attempts(error, attempt).into());
                    }
                    let problem = format!("{} answered {}", self.registry.host, response.status);
                    self.host.discard(response.body).await;
                    (problem, retry_after, None)
                }
                Err(SendFailure::Core(error)) => return Err(error.at(what).into()),
                Err(SendFailure::Transport(failure)) => match failure {
                    TransportError::Tls { code, message } => return Err(self.tls_error(&code, &message, what).into()),
                    TransportError::Blocked(message) => return Err(self.blocked_error(&message, what).into()),
                    TransportError::Timeout(kind) => (
                        format!("{} gave {} within {} s", self.registry.host, kind.describe(), self.wait_s(kind)),
                        None,
                        Some(kind),
                    ),
                    TransportError::Network(network) => {
                        (format!("cannot reach {}: {network}", self.registry.host), None, None)
                    }
                },
            };
            let Some(delay) = self.delay(retry, attempt, retry_after, &stall) else {
                let now = self.host.now_ms();
                let error = match timed_out {
                    Some(kind) => timeout_error(&self.registry.host, kind, stall.stalled_for_s(now), what),
                    None => Error::new(ErrorCode::RegistryUnreachable, problem).at(what),
                };
                return Err(after_attempts(error, attempt).into());
            };
            let max = self.retry.max_attempts;
            self.emit(
                "retry",
                &format!("{what}: {problem}; retrying in {delay} ms (attempt {} of {max})", attempt + 1),
            );
            self.host.sleep(delay).await;
            attempt += 1;
        }
    }

    /// The wait before another try, or `None` when the policy or the stall deadline says stop.
    pub(super) fn delay(&self, retry: bool, attempt: u32, retry_after: Option<u64>, stall: &Stall) -> Option<u64> {
        if !retry {
            return None;
        }
        let delay = self.retry.delay_ms(attempt, retry_after, self.host.random())?;
        (!stall.exceeded(self.host.now_ms(), delay)).then_some(delay)
    }

    fn wait_s(&self, kind: TimeoutKind) -> u64 {
        match kind {
            TimeoutKind::Connect => self.timeouts.connect_ms,
            TimeoutKind::Response => self.timeouts.response_ms,
            TimeoutKind::Idle => self.timeouts.idle_ms,
        }
        .div_ceil(1000)
    }

    /// Sends a request once, following redirects. `authorization` goes only to the origin the request was
    /// addressed to: a redirect elsewhere (a CDN holding blobs) is followed without it, and never from https
    /// down to plain http on another machine.
    async fn send_following(
        &self,
        request: &HttpRequest<H::Body>,
        authorization: Option<&str>,
    ) -> std::result::Result<Response<H::Stream>, SendFailure> {
        let body_len = match &request.body {
            Some(RequestBody::Bytes(bytes)) => bytes.len() as u64,
            Some(RequestBody::Host(body)) => H::body_len(body),
            None => 0,
        };
        let wait = self.timeouts.wait(body_len);
        let mut url = request.url.clone();
        let mut method = request.method;
        let mut body = request.body.as_ref();
        for _ in 0..=MAX_REDIRECTS {
            let view = Request {
                method,
                url: &url,
                headers: &request.headers,
                authorization: authorization.filter(|_| same_origin(&request.url, &url)),
                body,
            };
            let mut response = self.host.send(view, wait).await.map_err(SendFailure::Transport)?;
            let location = match response.status {
                301 | 302 | 303 | 307 | 308 => response.header("location").map(str::to_string),
                _ => None,
            };
            let Some(location) = location else {
                if response.url.is_empty() {
                    response.url = url;
                }
                return Ok(response);
            };
            self.host.discard(response.body).await;
            let next = resolve_location(&url, &location).map_err(SendFailure::Core)?;
            self.check_redirect(&url, &next).map_err(SendFailure::Core)?;
            if !same_origin(&url, &next) {
                let to = HttpUrl::parse(&next).map(|u| u.origin()).unwrap_or_default();
                self.emit(
                    "redirect",
                    &format!("{} redirected to {to}; credentials are not sent there", self.registry.host),
                );
            }
            // 303 (and 301/302 after a POST, as browsers do) turn into a GET without a body.
            if response.status == 303 || (matches!(response.status, 301 | 302) && method == "POST") {
                method = "GET";
                body = None;
            }
            url = next;
        }
        Err(SendFailure::Core(Error::new(
            ErrorCode::RegistryProtocol,
            format!("{} redirected more than {MAX_REDIRECTS} times", self.registry.host),
        )))
    }

    /// A redirect from https to plain http is refused unless it stays on this machine.
    fn check_redirect(&self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (HttpUrl::parse(from)?, HttpUrl::parse(to)?);
        if from.scheme == Scheme::Https && to.scheme == Scheme::Http && !to.is_loopback() {
            return Err(Error::new(
                ErrorCode::RegistryInsecure,
                format!("{} redirected from https to plain http ({})", self.registry.host, to.origin()),
            ));
        }
        Ok(())
    }

    fn tls_error(&self, code: &str, message: &str, what: &str) -> Error {
        let host = &self.registry.host;
        let lower = format!("{code} {message}").to_ascii_lowercase();
        if lower.contains("wrong_version_number") || lower.contains("wrong version number") {
            return Error::new(
                ErrorCode::RegistryTls,
                format!("{host} does not speak TLS on this port: it looks like a plain-HTTP registry"),
            )
            .at(what)
            .hint("write the registry as http://<host>[:port]/<repository> (plain HTTP to another machine also needs the insecure option)");
        }
        let detail = if code.is_empty() { message.to_string() } else { format!("{message} ({code})") };
        Error::new(ErrorCode::RegistryTls, format!("TLS connection to {host} failed: {detail}"))
            .at(what)
            .hint("if the registry uses a private certificate authority, trust its CA certificate (a CA file); otherwise check the address")
    }

    fn blocked_error(&self, message: &str, what: &str) -> Error {
        Error::new(
            ErrorCode::RegistryUnreachable,
            format!("the browser blocked the request to {} ({message})", self.registry.host),
        )
        .at(what)
        .hint("the registry most likely sends no CORS headers (Access-Control-Allow-Origin): open the pack through a same-origin proxy, or configure the registry's CORS headers")
    }

    /// The error for a response whose status the operation did not expect.
    pub(super) async fn unexpected(&self, response: Response<H::Stream>, what: &str) -> Failure<H::Thrown> {
        let status = response.status;
        let body = self.read_error_body(response.body, ERROR_BODY_LIMIT).await;
        status_error(status, &body, what, &self.registry.host).into()
    }
}

pub(super) fn after_attempts(error: Error, attempts: u32) -> Error {
    if attempts <= 1 {
        return error;
    }
    Error { message: format!("{} (after {attempts} attempts)", error.message), ..error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::registry::testing::{block_on, client, FakeHost, MemorySink, Reply};

    const BASIC_CHALLENGE: &str = r#"Basic realm="test""#;

    #[test]
    fn retries_transient_statuses_honouring_retry_after() {
        let mut calls = 0;
        let host = FakeHost::new(move |_| {
            calls += 1;
            match calls {
                1 => Reply::status(503),
                2 => Reply::status(429).header("retry-after", "2"),
                _ => Reply::status(404),
            }
        });
        let c = client("127.0.0.1:5000/packs", host);
        let start = c.host.now_ms();
        assert_eq!(block_on(c.head_manifest("v1")).unwrap(), None);
        let sent = c.host.requests();
        assert_eq!(sent.len(), 3);
        assert!(sent[2].at_ms - sent[1].at_ms >= 2000, "Retry-After: 2 waits two seconds");
        assert!(c.host.now_ms() - start < 3000);
        assert_eq!(c.host.event_kinds(), ["retry", "retry"]);
    }

    #[test]
    fn a_silent_registry_ends_in_a_timeout_error_within_about_two_minutes() {
        let host = FakeHost::new(|_| Reply::Fail(TransportError::Timeout(TimeoutKind::Response)));
        let c = client("127.0.0.1:5000/packs", host);
        let start = c.host.now_ms();
        let Err(Failure::Core(error)) = block_on(c.head_manifest("v1")) else { panic!("expected an error") };
        let elapsed = c.host.now_ms() - start;
        assert_eq!(error.code, ErrorCode::RegistryTimeout, "{error:?}");
        assert!((90_000..=125_000).contains(&elapsed), "gave up after {elapsed} ms");
        assert!(error.message.contains("gave no answer"), "{}", error.message);
    }

    #[test]
    fn tls_failures_are_not_retried_and_say_what_to_do() {
        let host = FakeHost::new(|_| {
            Reply::Fail(TransportError::Tls {
                code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE".into(),
                message: "unable to verify the first certificate".into(),
            })
        });
        let c = client("https://registry.example.com/packs", host);
        let Err(Failure::Core(error)) = block_on(c.head_manifest("v1")) else { panic!("expected an error") };
        assert_eq!(error.code, ErrorCode::RegistryTls);
        assert_eq!(c.host.requests().len(), 1);
        assert!(error.hint.contains("CA certificate"));

        let host = FakeHost::new(|_| {
            Reply::Fail(TransportError::Tls {
                code: "ERR_SSL_WRONG_VERSION_NUMBER".into(),
                message: "wrong version number".into(),
            })
        });
        let c = client("https://127.0.0.1:5000/packs", host);
        let Err(Failure::Core(error)) = block_on(c.head_manifest("v1")) else { panic!("expected an error") };
        assert!(error.message.contains("plain-HTTP registry"), "{}", error.message);
        assert!(error.hint.contains("http://"));
    }

    #[test]
    fn a_browser_block_is_named_as_cors_and_not_retried() {
        let host = FakeHost::new(|_| Reply::Fail(TransportError::Blocked("Failed to fetch".into())));
        let c = client("registry.example.com/packs", host);
        let Err(Failure::Core(error)) = block_on(c.head_manifest("v1")) else { panic!("expected an error") };
        assert_eq!((error.code, c.host.requests().len()), (ErrorCode::RegistryUnreachable, 1));
        assert!(error.hint.contains("CORS"));
    }

    /// A registry with Basic auth whose blobs live on a CDN at another origin.
    fn registry_with_cdn(blob: &'static [u8]) -> FakeHost {
        FakeHost::new(move |sent| match (sent.origin(), sent.authorization.as_deref()) {
            ("http://127.0.0.1:5000", None) => Reply::challenge(BASIC_CHALLENGE),
            ("http://127.0.0.1:5000", Some(_)) => {
                Reply::status(307).header("location", "http://127.0.0.2:6000/blob?sig=1")
            }
            ("http://127.0.0.2:6000", None) => Reply::ok(blob),
            _ => Reply::status(400),
        })
        .basic("alice", "s3cret")
    }

    #[test]
    fn redirects_to_another_origin_are_followed_without_credentials() {
        let blob = b"the blob's bytes";
        let c = client("127.0.0.1:5000/packs", registry_with_cdn(blob));
        let mut sink = MemorySink::default();
        block_on(c.fetch_blob(&Digest::of(blob), blob.len() as u64, &mut sink)).unwrap();
        assert_eq!(sink.bytes, blob);
        let sent = c.host.requests();
        let to_cdn: Vec<_> = sent.iter().filter(|s| s.origin() == "http://127.0.0.2:6000").collect();
        assert_eq!(to_cdn.len(), 1);
        assert_eq!(to_cdn[0].authorization, None);
        assert!(sent.iter().any(|s| s.origin() == "http://127.0.0.1:5000" && s.authorization.is_some()));
        assert!(c.host.event_kinds().contains(&"redirect".to_string()));
    }

    #[test]
    fn another_origin_asking_for_credentials_gets_none() {
        let host = FakeHost::new(|sent| match sent.origin() {
            "http://127.0.0.1:5000" if sent.authorization.is_none() => Reply::challenge(BASIC_CHALLENGE),
            "http://127.0.0.1:5000" => Reply::status(302).header("location", "http://127.0.0.1:7000/elsewhere"),
            _ => Reply::challenge(BASIC_CHALLENGE),
        })
        .basic("alice", "s3cret");
        let c = client("127.0.0.1:5000/packs", host);
        let Err(Failure::Core(error)) = block_on(c.fetch_manifest("v1", "application/json")) else {
            panic!("expected an error")
        };
        assert_eq!(error.code, ErrorCode::AuthFailed);
        assert!(error.message.contains("http://127.0.0.1:7000 asks for credentials"), "{}", error.message);
        assert!(c
            .host
            .requests()
            .iter()
            .filter(|s| s.origin() != "http://127.0.0.1:5000")
            .all(|s| s.authorization.is_none()));
    }

    #[test]
    fn redirect_rules_refuse_downgrades_and_loops() {
        let host = FakeHost::new(|_| Reply::status(302).header("location", "http://cdn.example.com/x"));
        let c = client("registry.example.com/packs", host);
        let Err(Failure::Core(error)) = block_on(c.head_manifest("v1")) else { panic!("expected an error") };
        assert_eq!(error.code, ErrorCode::RegistryInsecure);

        let host = FakeHost::new(|sent| Reply::status(301).header("location", &format!("{}x", sent.url)));
        let c = client("127.0.0.1:5000/packs", host);
        let Err(Failure::Core(error)) = block_on(c.head_manifest("v1")) else { panic!("expected an error") };
        assert_eq!(error.code, ErrorCode::RegistryProtocol);
        assert_eq!(c.host.requests().len(), MAX_REDIRECTS as usize + 1);
    }

    #[test]
    fn see_other_turns_a_post_into_a_get_without_body() {
        let host = FakeHost::new(|sent| match (sent.method.as_str(), sent.path()) {
            ("POST", _) => Reply::status(303).header("location", "/v2/packs/blobs/uploads/next"),
            ("GET", "/v2/packs/blobs/uploads/next") => Reply::status(204),
            _ => Reply::status(400),
        });
        let c = client("127.0.0.1:5000/packs", host);
        let request = HttpRequest::new("POST", "http://127.0.0.1:5000/v2/packs/blobs/uploads/")
            .body(RequestBody::Bytes(b"x".to_vec()));
        let response = block_on(c.send_retrying(&request, None, "upload", true, None)).ok().unwrap();
        assert_eq!(response.status, 204);
        let sent = c.host.requests();
        assert_eq!((sent[1].method.as_str(), sent[1].body.len()), ("GET", 0));
    }
}
