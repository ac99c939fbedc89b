//! Streaming, verified blob download. Every chunk goes to the hasher and then to the sink, as the host's own
//! chunk (in wasm a `Uint8Array` that never enters wasm memory when the host hashes). A cut or silent
//! connection resumes with `Range: bytes=<received>-`; a registry that answers with the whole blob again
//! makes the sink start over. Size and digest are checked at the end, so the sink must not trust its bytes
//! before the operation succeeds. A caller that hashes the bytes anyway (a pull reading each layer in a thread
//! of its own) may take the digest check over ([`DigestCheck::Caller`]). A download that makes no progress for
//! the stall deadline ends with `CTX_REGISTRY_TIMEOUT`.

use super::client::{Call, Client, HttpRequest};
use super::deadline::{timeout_error, Stall};
use super::download::{judge_resume, parse_content_range, resume_range, Resume};
use super::response::check_header_digest;
use super::retry::RetryPolicy;
use super::transport::{BlobSink, ChunkHasher, Flow, Outcome, Response, TimeoutKind, Transport, TransportError};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use std::ops::Range;

/// Who checks a downloaded blob's digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestCheck {
    /// The client hashes every byte and fails the download on a mismatch.
    Client,
    /// The caller hashes every byte the sink kept and compares the digest before it trusts them; the client
    /// checks the size only.
    Caller,
}

impl<H: Transport> Client<H> {
    pub async fn fetch_blob<S: BlobSink<H::Chunk, H::Thrown>>(
        &self,
        digest: &Digest,
        size: u64,
        sink: &mut S,
    ) -> Outcome<(), H> {
        self.fetch_blob_checked(digest, size, sink, DigestCheck::Client).await
    }

    pub async fn fetch_blob_checked<S: BlobSink<H::Chunk, H::Thrown>>(
        &self,
        digest: &Digest,
        size: u64,
        sink: &mut S,
        check: DigestCheck,
    ) -> Outcome<(), H> {
        let what = format!("blob {digest}");
        let scopes = self.pull_scopes();
        // Resumes are counted apart from request retries: up to `max_attempts` of them.
        let resumes_policy = RetryPolicy { max_attempts: self.retry.max_attempts + 1, ..self.retry };
        let mut stall = Stall::start(self.host.now_ms(), &self.timeouts);
        let new_hasher = || match check {
            DigestCheck::Client => self.host.hasher().map(Some),
            DigestCheck::Caller => Ok(None),
        };
        let mut hasher = new_hasher()?;
        let mut received = 0u64;
        let mut resumes = 0u32;
        let mut sink_has_bytes = false;
        loop {
            let mut request =
                HttpRequest::new("GET", self.registry.blob_url(digest)).header("Accept-Encoding", "identity");
            if received > 0 {
                request = request.header("Range", resume_range(received));
            }
            let call = Call { request, scopes: &scopes, what: &what, retry: true, stall: Some(stall) };
            let mut response = self.execute(call).await?;
            if !matches!(response.status, 200 | 206) {
                return Err(self.unexpected(response, &what).await);
            }
            let judged = judge_resume(response.status, response.header("content-range"), received, size);
            let resume = match judged {
                Ok(resume) => resume,
                Err(error) => {
                    self.host.discard(response.body).await;
                    return Err(error.at(what.as_str()).into());
                }
            };
            if resume == Resume::Restart {
                if sink_has_bytes {
                    self.emit("resume", &format!("{what}: the registry sent the whole blob again; starting over"));
                    sink.reset().await?;
                    hasher = new_hasher()?;
                    received = 0;
                    sink_has_bytes = false;
                }
                if let Err(error) = check_whole_response(&response, digest, size, &what) {
                    self.host.discard(response.body).await;
                    return Err(error.into());
                }
            }
            let cut = loop {
                let chunk = match self.host.read(&mut response.body, self.timeouts.idle_ms).await {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => break None,
                    Err(failure) => break Some(failure),
                };
                let length = H::chunk_len(&chunk);
                if received + length > size {
                    self.host.discard(response.body).await;
                    let message = format!("the registry sent more than the {size} bytes the descriptor says");
                    return Err(Error::new(ErrorCode::SizeMismatch, message).at(what.as_str()).into());
                }
                if let Some(hasher) = &mut hasher {
                    hasher.update(&chunk)?;
                }
                let flow = sink.write(chunk).await?;
                received += length;
                sink_has_bytes = true;
                stall.progressed(self.host.now_ms());
                sink.progress(received);
                if flow == Flow::Enough {
                    self.host.discard(response.body).await;
                    return Ok(());
                }
            };
            if received == size && cut.is_none() {
                break;
            }
            if let Some(failure) = &cut {
                self.host.discard(response.body).await;
                if let TransportError::Tls { .. } | TransportError::Blocked(_) = failure {
                    let message = format!("download stopped after {received} of {size} bytes: {failure:?}");
                    return Err(Error::new(ErrorCode::RegistryUnreachable, message).at(what.as_str()).into());
                }
            }
            if received == size {
                break;
            }
            resumes += 1;
            let why = match &cut {
                Some(TransportError::Timeout(kind)) => {
                    format!("{} for {} s", kind.describe(), self.timeouts.idle_ms / 1000)
                }
                Some(TransportError::Network(text)) => text.clone(),
                _ => "the body ended early".into(),
            };
            let delay = resumes_policy.delay_ms(resumes, None, self.host.random());
            let now = self.host.now_ms();
            let Some(delay) = delay.filter(|&delay| !stall.exceeded(now, delay)) else {
                if let Some(TransportError::Timeout(kind)) = cut {
                    return Err(timeout_error(&self.registry.host, kind, stall.stalled_for_s(now), &what).into());
                }
                if stall.exceeded(now, 0) {
                    let error = timeout_error(&self.registry.host, TimeoutKind::Idle, stall.stalled_for_s(now), &what);
                    return Err(error.into());
                }
                let message = format!(
                    "download stopped after {received} of {size} bytes ({why}); gave up after {} resumes",
                    resumes - 1
                );
                return Err(Error::new(ErrorCode::Truncated, message).at(what.as_str()).into());
            };
            self.emit(
                "resume",
                &format!("{what}: stopped after {received} of {size} bytes ({why}); resuming in {delay} ms"),
            );
            self.host.sleep(delay).await;
        }
        let Some(hasher) = hasher else {
            return Ok(());
        };
        let computed = hasher.finish()?;
        if computed != digest.to_string() {
            let message = format!("the downloaded bytes hash to {computed}");
            let hint = "the registry holds corrupt content under this digest; fetch from another source, or re-push it";
            return Err(Error::new(ErrorCode::DigestMismatch, message).at(what.as_str()).hint(hint).into());
        }
        Ok(())
    }
}

/// How a registry answered a ranged read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranged {
    /// The sink got the range (or stopped early with `Flow::Enough`).
    Served,
    /// The registry answered `200` with the whole blob: it ignores `Range`. Nothing reached the sink.
    Ignored,
}

impl<H: Transport> Client<H> {
    /// Streams bytes `range` of a blob of `size` bytes to `sink` with `Range: bytes=<a>-<b>`, answered by `206`
    /// with the matching `Content-Range`; a cut resumes for the rest of the range. A `200` (the registry ignores
    /// ranges) is dropped unread and reported as [`Ranged::Ignored`], for the caller to read the blob another
    /// way. The bytes are not hashed: part of a blob has no digest, so the caller checks what it makes of them.
    pub async fn fetch_blob_range<S: BlobSink<H::Chunk, H::Thrown>>(
        &self,
        digest: &Digest,
        size: u64,
        range: Range<u64>,
        sink: &mut S,
    ) -> Outcome<Ranged, H> {
        if range.end > size {
            let message = format!("bytes {}-{} are beyond the blob's {size}", range.start, range.end);
            return Err(Error::new(ErrorCode::InvalidState, message).into());
        }
        let wanted = range.end.saturating_sub(range.start);
        if wanted == 0 {
            return Ok(Ranged::Served);
        }
        let what = format!("blob {digest}");
        let scopes = self.pull_scopes();
        let resumes_policy = RetryPolicy { max_attempts: self.retry.max_attempts + 1, ..self.retry };
        let mut stall = Stall::start(self.host.now_ms(), &self.timeouts);
        let (mut received, mut resumes) = (0u64, 0u32);
        loop {
            let from = range.start + received;
            let request = HttpRequest::new("GET", self.registry.blob_url(digest))
                .header("Accept-Encoding", "identity")
                .header("Range", format!("bytes={from}-{}", range.end - 1));
            let call = Call { request, scopes: &scopes, what: &what, retry: true, stall: Some(stall) };
            let mut response = self.execute(call).await?;
            match response.status {
                200 if received == 0 => {
                    self.host.discard(response.body).await;
                    return Ok(Ranged::Ignored);
                }
                206 => {
                    let header = response.header("content-range").map(str::to_string);
                    if let Err(error) = check_range(header.as_deref(), from, range.end - 1, size) {
                        self.host.discard(response.body).await;
                        return Err(error.at(what.as_str()).into());
                    }
                }
                200 => {
                    self.host.discard(response.body).await;
                    let message = "the registry answered a resumed range with the whole blob";
                    return Err(Error::new(ErrorCode::RegistryProtocol, message).at(what.as_str()).into());
                }
                _ => return Err(self.unexpected(response, &what).await),
            }
            let cut = loop {
                let chunk = match self.host.read(&mut response.body, self.timeouts.idle_ms).await {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => break None,
                    Err(failure) => break Some(failure),
                };
                let length = H::chunk_len(&chunk);
                if received + length > wanted {
                    self.host.discard(response.body).await;
                    let message = format!("the registry sent more than the {wanted} bytes of the range");
                    return Err(Error::new(ErrorCode::RegistryProtocol, message).at(what.as_str()).into());
                }
                let flow = sink.write(chunk).await?;
                received += length;
                stall.progressed(self.host.now_ms());
                sink.progress(received);
                if flow == Flow::Enough {
                    self.host.discard(response.body).await;
                    return Ok(Ranged::Served);
                }
            };
            if cut.is_some() {
                self.host.discard(response.body).await;
            }
            if received == wanted {
                return Ok(Ranged::Served);
            }
            if let Some(failure @ (TransportError::Tls { .. } | TransportError::Blocked(_))) = &cut {
                let message = format!("ranged read stopped after {received} of {wanted} bytes: {failure:?}");
                return Err(Error::new(ErrorCode::RegistryUnreachable, message).at(what.as_str()).into());
            }
            resumes += 1;
            let now = self.host.now_ms();
            let delay = resumes_policy.delay_ms(resumes, None, self.host.random());
            let Some(delay) = delay.filter(|&delay| !stall.exceeded(now, delay)) else {
                if let Some(TransportError::Timeout(kind)) = cut {
                    return Err(timeout_error(&self.registry.host, kind, stall.stalled_for_s(now), &what).into());
                }
                let message = format!(
                    "ranged read stopped after {received} of {wanted} bytes; gave up after {} resumes",
                    resumes - 1
                );
                return Err(Error::new(ErrorCode::Truncated, message).at(what.as_str()).into());
            };
            self.emit(
                "resume",
                &format!("{what}: ranged read stopped after {received} of {wanted} bytes; resuming in {delay} ms"),
            );
            self.host.sleep(delay).await;
        }
    }
}

/// A `206` must carry `Content-Range: bytes <first>-<last>/<size or *>`, exactly the bytes asked for.
fn check_range(header: Option<&str>, first: u64, last: u64, size: u64) -> Result<(), Error> {
    let header = header
        .ok_or_else(|| Error::new(ErrorCode::RegistryProtocol, "206 Partial Content without a Content-Range header"))?;
    let (start, end, total) = parse_content_range(header)?;
    if start != first || end != last || total.is_some_and(|t| t != size) {
        let message = format!("asked for bytes {first}-{last} of {size}, the registry sent Content-Range {header:?}");
        return Err(Error::new(ErrorCode::RegistryProtocol, message));
    }
    Ok(())
}

/// A `200`: its length (when stated and not re-encoded) and `Docker-Content-Digest` must fit the descriptor.
fn check_whole_response<S>(response: &Response<S>, digest: &Digest, size: u64, what: &str) -> Result<(), Error> {
    let encoded = response.header("content-encoding").is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
    if let Some(length) = response.content_length().filter(|&n| n != size && !encoded) {
        let message = format!("the registry is sending {length} bytes, the descriptor says {size}");
        return Err(Error::new(ErrorCode::SizeMismatch, message).at(what));
    }
    check_header_digest(response.header("docker-content-digest"), digest, what)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::testing::{block_on, client, FakeHost, MemorySink, Piece, Reply, Sent};
    use crate::registry::transport::Failure;

    const BLOB: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

    /// Serves BLOB, honouring `Range`; the first whole-blob answer ends with `first_ending`.
    fn serving(first_ending: Piece) -> impl FnMut(&Sent) -> Reply {
        let mut first = true;
        move |sent| {
            let start = sent.header("range").map_or(0, |r| r["bytes=".len()..r.len() - 1].parse::<usize>().unwrap());
            if start > 0 {
                let header = format!("bytes {start}-{}/{}", BLOB.len() - 1, BLOB.len());
                return Reply::status(206).header("content-range", &header).body(&BLOB[start..]);
            }
            if std::mem::take(&mut first) {
                return Reply::status(200).body(&BLOB[..12]).then(first_ending.clone());
            }
            Reply::ok(BLOB)
        }
    }

    fn fetch(c: &Client<FakeHost>, sink: &mut MemorySink) -> Outcome<(), FakeHost> {
        block_on(c.fetch_blob(&Digest::of(BLOB), BLOB.len() as u64, sink))
    }

    #[test]
    fn a_cut_or_silent_download_resumes_with_range() {
        for ending in [Piece::Cut, Piece::Silence] {
            let c = client("127.0.0.1:5000/packs", FakeHost::new(serving(ending)));
            let mut sink = MemorySink::default();
            fetch(&c, &mut sink).unwrap();
            assert_eq!((sink.bytes.as_slice(), sink.resets, sink.progress), (BLOB, 0, BLOB.len() as u64));
            let sent = c.host.requests();
            assert_eq!(sent.len(), 2);
            assert_eq!(sent[1].header("range"), Some("bytes=12-"));
            assert_eq!(c.host.event_kinds(), ["resume"]);
        }
    }

    #[test]
    fn a_registry_that_ignores_range_makes_the_sink_start_over() {
        let mut first = true;
        let host = FakeHost::new(move |_| match std::mem::take(&mut first) {
            true => Reply::status(200).body(&BLOB[..8]).then(Piece::Cut),
            false => Reply::ok(BLOB),
        });
        let c = client("127.0.0.1:5000/packs", host);
        let mut sink = MemorySink::default();
        fetch(&c, &mut sink).unwrap();
        assert_eq!((sink.bytes.as_slice(), sink.resets), (BLOB, 1));
    }

    #[test]
    fn corrupt_short_or_long_content_is_refused() {
        let mut corrupt = BLOB.to_vec();
        corrupt[3] ^= 1;
        let c = client("127.0.0.1:5000/packs", FakeHost::new(move |_| Reply::ok(&corrupt)));
        let Err(Failure::Core(error)) = fetch(&c, &mut MemorySink::default()) else { panic!() };
        assert_eq!(error.code, ErrorCode::DigestMismatch);

        let c = client("127.0.0.1:5000/packs", FakeHost::new(|_| Reply::status(200).body(BLOB).body(b"more")));
        let Err(Failure::Core(error)) = fetch(&c, &mut MemorySink::default()) else { panic!() };
        assert_eq!(error.code, ErrorCode::SizeMismatch);

        let c = client("127.0.0.1:5000/packs", FakeHost::new(|_| Reply::status(200).body(&BLOB[..5])));
        let Err(Failure::Core(error)) = fetch(&c, &mut MemorySink::default()) else { panic!() };
        assert_eq!(error.code, ErrorCode::Truncated);
    }

    /// `bytes=<a>-<b>` → (a, b).
    fn asked_range(sent: &Sent) -> (usize, usize) {
        let range = sent.header("range").unwrap().strip_prefix("bytes=").unwrap();
        let (a, b) = range.split_once('-').unwrap();
        (a.parse().unwrap(), b.parse().unwrap())
    }

    /// Honours `Range` with a `206`; the first answer is cut after `cut_after` bytes when given.
    fn ranges(mut cut_after: Option<usize>) -> impl FnMut(&Sent) -> Reply {
        move |sent| {
            let (a, b) = asked_range(sent);
            let header = format!("bytes {a}-{b}/{}", BLOB.len());
            let reply = Reply::status(206).header("content-range", &header);
            match cut_after.take() {
                Some(n) => reply.body(&BLOB[a..a + n]).then(Piece::Cut),
                None => reply.body(&BLOB[a..=b]),
            }
        }
    }

    fn fetch_range(c: &Client<FakeHost>, range: Range<u64>, sink: &mut MemorySink) -> Outcome<Ranged, FakeHost> {
        block_on(c.fetch_blob_range(&Digest::of(BLOB), BLOB.len() as u64, range, sink))
    }

    #[test]
    fn a_ranged_read_gets_exactly_its_bytes_and_resumes_after_a_cut() {
        let c = client("127.0.0.1:5000/packs", FakeHost::new(ranges(None)));
        let mut sink = MemorySink::default();
        assert_eq!(fetch_range(&c, 10..20, &mut sink).unwrap(), Ranged::Served);
        assert_eq!(sink.bytes, &BLOB[10..20]);
        assert_eq!(c.host.requests()[0].header("range"), Some("bytes=10-19"));

        let c = client("127.0.0.1:5000/packs", FakeHost::new(ranges(Some(4))));
        let mut sink = MemorySink::default();
        assert_eq!(fetch_range(&c, 10..30, &mut sink).unwrap(), Ranged::Served);
        assert_eq!(sink.bytes, &BLOB[10..30]);
        let asked: Vec<_> = c.host.requests().iter().map(asked_range).collect();
        assert_eq!(asked, [(10, 29), (14, 29)]);
        assert_eq!(c.host.event_kinds(), ["resume"]);

        let c = client("127.0.0.1:5000/packs", FakeHost::new(ranges(None)));
        assert_eq!(fetch_range(&c, 5..5, &mut MemorySink::default()).unwrap(), Ranged::Served);
        assert!(c.host.requests().is_empty(), "an empty range needs no request");
    }

    #[test]
    fn a_registry_that_ignores_range_is_reported_not_read() {
        let c = client("127.0.0.1:5000/packs", FakeHost::new(|_| Reply::ok(BLOB)));
        let mut sink = MemorySink::default();
        assert_eq!(fetch_range(&c, 10..20, &mut sink).unwrap(), Ranged::Ignored);
        assert!(sink.bytes.is_empty());
    }

    #[test]
    fn a_wrong_partial_answer_is_a_protocol_error() {
        let wrong_range = |_: &Sent| Reply::status(206).header("content-range", "bytes 0-9/36").body(&BLOB[..10]);
        let no_range = |_: &Sent| Reply::status(206).body(&BLOB[10..20]);
        let other_size = |_: &Sent| Reply::status(206).header("content-range", "bytes 10-19/99").body(&BLOB[10..20]);
        let too_long = |_: &Sent| Reply::status(206).header("content-range", "bytes 10-19/36").body(&BLOB[10..25]);
        type Handler = Box<dyn FnMut(&Sent) -> Reply>;
        let handlers: Vec<Handler> =
            vec![Box::new(wrong_range), Box::new(no_range), Box::new(other_size), Box::new(too_long)];
        for (i, handler) in handlers.into_iter().enumerate() {
            let c = client("127.0.0.1:5000/packs", FakeHost::new(handler));
            let Err(Failure::Core(error)) = fetch_range(&c, 10..20, &mut MemorySink::default()) else { panic!("{i}") };
            assert_eq!(error.code, ErrorCode::RegistryProtocol, "{i}: {error:?}");
        }
        let c = client("127.0.0.1:5000/packs", FakeHost::new(|_| Reply::status(416)));
        assert!(fetch_range(&c, 10..20, &mut MemorySink::default()).is_err());
    }

    #[test]
    fn a_registry_gone_silent_mid_blob_ends_in_a_timeout() {
        let host = FakeHost::new(|sent| match sent.header("range") {
            None => Reply::status(200).body(&BLOB[..12]).then(Piece::Silence),
            Some(_) => Reply::Fail(TransportError::Timeout(TimeoutKind::Response)),
        });
        let c = client("127.0.0.1:5000/packs", host);
        let start = c.host.now_ms();
        let Err(Failure::Core(error)) = fetch(&c, &mut MemorySink::default()) else { panic!() };
        let elapsed = c.host.now_ms() - start;
        assert_eq!(error.code, ErrorCode::RegistryTimeout, "{error:?}");
        assert!(elapsed <= 130_000, "gave up after {elapsed} ms");
    }
}
