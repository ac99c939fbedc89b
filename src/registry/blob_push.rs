//! Blob upload: skip what the registry has, mount from a sibling repository when asked, else upload in one
//! `PUT` (small blobs) or in `PATCH` chunks closed by a `PUT`, following each new `Location` (one `PATCH` for
//! the whole blob when the source streams). Bytes go from
//! the host's source straight to the transport. A session that fails transiently is abandoned and a new one
//! started: after a cut `PATCH` nobody knows how much of it the registry kept. An upload `Location` on another
//! origin is used without the registry's credentials.

use super::client::{Call, Client, HttpRequest};
use super::response::check_header_digest;
use super::scope::{Scope, Scopes};
use super::transport::{BlobSource, Failure, Outcome, RequestBody, Response, Transport};
use super::upload::{
    chunk_size, content_range, parse_chunk_min_length, parse_upload_range, resolve_location, with_digest,
};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pushed {
    pub uploaded: bool,
    pub mounted: bool,
}

impl<H: Transport> Client<H> {
    /// `mount_from`: another repository of the same registry that may lend the blob.
    pub async fn push_blob<S: BlobSource<H::Body, H::Thrown>>(
        &self,
        digest: &Digest,
        size: u64,
        source: &S,
        mount_from: Option<&str>,
    ) -> Outcome<Pushed, H> {
        let mount_from = mount_from.map(|name| self.registry.other_repository(name)).transpose()?;
        if self.blob_exists(digest, size).await? {
            return Ok(Pushed { uploaded: false, mounted: false });
        }
        let mut scopes = self.push_scopes();
        if let Some(from) = &mount_from {
            scopes.add(Scope::pull(from));
        }
        let upload = Upload { client: self, digest, size, source, scopes: &scopes, what: format!("blob {digest}") };
        let mut attempt = 1;
        loop {
            match upload.run(mount_from.as_deref()).await {
                Err(Failure::Core(error)) if is_transient(&error) => {
                    let Some(delay) = self.retry.delay_ms(attempt, None, self.host.random()) else {
                        return Err(error.into());
                    };
                    let max = self.retry.max_attempts;
                    let why = &error.message;
                    self.emit(
                        "retry",
                        &format!("{why}; starting the upload over in {delay} ms (attempt {} of {max})", attempt + 1),
                    );
                    self.host.sleep(delay).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

/// Whether starting the upload over may succeed (network trouble, timeouts, 5xx, 429).
fn is_transient(error: &Error) -> bool {
    matches!(
        error.code,
        ErrorCode::RegistryUnreachable
            | ErrorCode::RegistryUnavailable
            | ErrorCode::RateLimited
            | ErrorCode::RegistryTimeout
    )
}

struct Upload<'a, H: Transport, S> {
    client: &'a Client<H>,
    digest: &'a Digest,
    size: u64,
    source: &'a S,
    scopes: &'a Scopes,
    what: String,
}

impl<H: Transport, S: BlobSource<H::Body, H::Thrown>> Upload<'_, H, S> {
    async fn run(&self, mount_from: Option<&str>) -> Outcome<Pushed, H> {
        let client = self.client;
        let registry = &client.registry;
        let start_url = match mount_from {
            Some(from) => registry.mount_url(self.digest, from),
            None => registry.upload_url(),
        };
        let response = self.send(HttpRequest::new("POST", start_url.clone()), true).await?;
        match (response.status, mount_from) {
            (201, Some(from)) => {
                let stored = self.check_stored_digest(&response);
                client.host.discard(response.body).await;
                stored?;
                client.emit("mount", &format!("{}: mounted from {from}", self.what));
                return Ok(Pushed { uploaded: false, mounted: true });
            }
            (202, from) => {
                if let Some(from) = from {
                    client.emit("mount", &format!("{}: {from} cannot lend it; uploading", self.what));
                }
            }
            _ => return Err(client.unexpected(response, &self.what).await),
        }
        let location = self.location(&start_url, &response);
        let min_chunk = parse_chunk_min_length(response.header("oci-chunk-min-length"));
        client.host.discard(response.body).await;
        let location = location?;
        let closing = if self.size <= client.monolithic_max_bytes {
            let body = self.source.read(0, self.size).await?;
            let closing = self.put(&location, Some(body)).await?;
            self.source.progress(self.size);
            closing
        } else {
            // A streaming source sends the blob in one PATCH (capped where a registry caps chunks).
            let requested = if self.source.streams() { self.size } else { client.chunk_bytes };
            let chunk = chunk_size(Some(requested), &registry.host, min_chunk);
            let location = self.patch_chunks(location, chunk).await?;
            self.put(&location, None).await?
        };
        let stored = self.check_stored_digest(&closing);
        client.host.discard(closing.body).await;
        stored?;
        Ok(Pushed { uploaded: true, mounted: false })
    }

    async fn send(&self, request: HttpRequest<H::Body>, retry: bool) -> Outcome<Response<H::Stream>, H> {
        self.client.execute(Call { request, scopes: self.scopes, what: &self.what, retry, stall: None }).await
    }

    /// `PATCH`es the blob in `chunk`-byte pieces, following each new `Location`; returns the last one.
    async fn patch_chunks(&self, mut location: String, chunk: u64) -> Outcome<String, H> {
        let client = self.client;
        let mut offset = 0;
        while offset < self.size {
            let length = chunk.min(self.size - offset);
            let body = self.source.stream(offset, length).await?;
            let request = HttpRequest::new("PATCH", location.clone())
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", content_range(offset, length))
                .body(RequestBody::Host(body));
            let response = self.send(request, false).await?;
            if response.status != 202 {
                return Err(client.unexpected(response, &self.what).await);
            }
            let end = offset + length - 1;
            let stored_end = response.header("range").map(parse_upload_range).transpose();
            let next = self.location(&location, &response);
            client.host.discard(response.body).await;
            if let Some(stored_end) = stored_end.map_err(|e| e.at(self.what.as_str()))? {
                if stored_end != end {
                    let message = format!("after sending bytes up to {end}, the registry holds bytes 0-{stored_end}");
                    return Err(Error::new(ErrorCode::RegistryProtocol, message).at(self.what.as_str()).into());
                }
            }
            location = next?;
            offset += length;
            self.source.progress(offset);
        }
        Ok(location)
    }

    /// The closing `PUT <location>&digest=…`, with the whole blob or (after chunks) no body.
    async fn put(&self, location: &str, body: Option<H::Body>) -> Outcome<Response<H::Stream>, H> {
        let mut request = HttpRequest::new("PUT", with_digest(location, self.digest))
            .header("Content-Type", "application/octet-stream");
        if let Some(body) = body {
            request = request.body(RequestBody::Host(body));
        }
        let response = self.send(request, false).await?;
        if response.status != 201 {
            return Err(self.client.unexpected(response, &self.what).await);
        }
        Ok(response)
    }

    /// The session's next URL; one on another origin is announced, since it gets no credentials.
    fn location(&self, request_url: &str, response: &Response<H::Stream>) -> Result<String, Error> {
        let client = self.client;
        let location = response.header("location").ok_or_else(|| {
            Error::new(
                ErrorCode::RegistryProtocol,
                format!("{} answered {} without a Location header", client.registry.host, response.status),
            )
            .at(self.what.as_str())
        })?;
        let next = resolve_location(request_url, location).map_err(|e| e.at(self.what.as_str()))?;
        if client.is_registry_origin(request_url) && !client.is_registry_origin(&next) {
            client.emit(
                "redirect",
                &format!("{}: the upload continues on another host; credentials are not sent there", self.what),
            );
        }
        Ok(next)
    }

    /// The registry's `Docker-Content-Digest` for what it stored, when it reports a comparable one.
    fn check_stored_digest(&self, response: &Response<H::Stream>) -> Result<(), Error> {
        check_header_digest(response.header("docker-content-digest"), self.digest, &self.what)
            .map(|_| ())
            .map_err(|e| Error { code: ErrorCode::RegistryProtocol, ..e })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::testing::{block_on, FakeHost, MemorySource, Reply, Sent};
    use crate::registry::ClientConfig;

    const BLOB: &[u8] = b"a blob of twenty-six bytes";

    /// An upload session whose every answer moves it to a new Location (as GCS-backed registries do), on the
    /// registry's origin or, with `elsewhere`, on another one.
    fn uploads(elsewhere: Option<&'static str>) -> impl FnMut(&Sent) -> Reply {
        let mut step = 0;
        move |sent| {
            let base = elsewhere.unwrap_or("http://127.0.0.1:5000");
            match (sent.method.as_str(), sent.origin()) {
                ("HEAD", _) => Reply::status(404),
                ("POST", _) => Reply::status(202).header("location", &format!("{base}/upload/0")),
                ("PATCH", _) => {
                    step += 1;
                    let end = sent.header("content-range").unwrap().split('-').nth(1).unwrap().to_string();
                    Reply::status(202)
                        .header("location", &format!("{base}/upload/{step}"))
                        .header("range", &format!("0-{end}"))
                }
                ("PUT", _) => Reply::status(201).header("docker-content-digest", &Digest::of(BLOB).to_string()),
                _ => Reply::status(400),
            }
        }
    }

    fn chunked_client(host: FakeHost) -> Client<FakeHost> {
        let mut config = ClientConfig::new("127.0.0.1:5000/packs", false).unwrap();
        config.chunk_bytes = Some(10);
        Client::new(config, host).unwrap()
    }

    #[test]
    fn chunked_uploads_follow_every_new_location() {
        let c = chunked_client(FakeHost::new(uploads(None)));
        let pushed =
            block_on(c.push_blob(&Digest::of(BLOB), BLOB.len() as u64, &MemorySource(BLOB.to_vec()), None)).unwrap();
        assert_eq!(pushed, Pushed { uploaded: true, mounted: false });
        let sent = c.host.requests();
        let patches: Vec<_> = sent.iter().filter(|s| s.method == "PATCH").collect();
        assert_eq!(patches.len(), 3);
        assert_eq!(patches.iter().map(|p| p.path()).collect::<Vec<_>>(), ["/upload/0", "/upload/1", "/upload/2"]);
        assert_eq!(
            patches.iter().map(|p| p.header("content-range").unwrap()).collect::<Vec<_>>(),
            ["0-9", "10-19", "20-25"]
        );
        assert_eq!(patches.iter().flat_map(|p| p.body.clone()).collect::<Vec<_>>(), BLOB);
        let put = sent.last().unwrap();
        assert_eq!(put.path(), format!("/upload/3?digest={}", Digest::of(BLOB).to_string().replace(':', "%3A")));
    }

    /// A source whose ranges are produced as they are sent (as the Node pantry's reader).
    struct StreamingSource(Vec<u8>);

    impl BlobSource<Vec<u8>, String> for StreamingSource {
        async fn read(&self, _offset: u64, _length: u64) -> Result<Vec<u8>, Failure<String>> {
            Err(Failure::Host("a streaming source is read only by stream()".into()))
        }
        fn streams(&self) -> bool {
            true
        }
        async fn stream(&self, offset: u64, length: u64) -> Result<Vec<u8>, Failure<String>> {
            Ok(self.0[offset as usize..(offset + length) as usize].to_vec())
        }
    }

    #[test]
    fn a_streaming_source_goes_in_one_patch() {
        let c = chunked_client(FakeHost::new(uploads(None)));
        let size = BLOB.len() as u64;
        block_on(c.push_blob(&Digest::of(BLOB), size, &StreamingSource(BLOB.to_vec()), None)).unwrap();
        let sent = c.host.requests();
        let patches: Vec<_> = sent.iter().filter(|s| s.method == "PATCH").collect();
        assert_eq!(patches.len(), 1);
        assert_eq!(patches[0].header("content-range"), Some("0-25"));
        assert_eq!(patches[0].body, BLOB);
        assert_eq!(sent.last().unwrap().method, "PUT");
    }

    #[test]
    fn an_upload_location_on_another_host_gets_no_credentials() {
        let mut serve = uploads(Some("http://127.0.0.1:7000"));
        let host = FakeHost::new(move |sent| match (sent.origin(), sent.authorization.is_some()) {
            ("http://127.0.0.1:5000", false) => Reply::challenge(r#"Basic realm="r""#),
            _ => serve(sent),
        })
        .basic("alice", "s3cret");
        let c = chunked_client(host);
        block_on(c.push_blob(&Digest::of(BLOB), BLOB.len() as u64, &MemorySource(BLOB.to_vec()), None)).unwrap();
        let sent = c.host.requests();
        assert!(sent.iter().any(|s| s.origin() == "http://127.0.0.1:7000"));
        for s in &sent {
            assert_eq!(
                s.authorization.is_some(),
                s.origin() == "http://127.0.0.1:5000" && s.at_ms > sent[0].at_ms,
                "{} {}",
                s.method,
                s.url
            );
        }
        assert!(c.host.event_kinds().contains(&"redirect".to_string()));

        // The other host then asks for credentials: refused, none sent.
        let host = FakeHost::new(|sent| match (sent.origin(), sent.authorization.is_some(), sent.method.as_str()) {
            ("http://127.0.0.1:5000", false, _) => Reply::challenge(r#"Basic realm="r""#),
            (_, _, "HEAD") => Reply::status(404),
            ("http://127.0.0.1:5000", true, "POST") => Reply::status(202).header("location", "http://127.0.0.1:7000/u"),
            _ => Reply::challenge(r#"Basic realm="other""#),
        })
        .basic("alice", "s3cret");
        let c = chunked_client(host);
        let result = block_on(c.push_blob(&Digest::of(BLOB), BLOB.len() as u64, &MemorySource(BLOB.to_vec()), None));
        let Err(Failure::Core(error)) = result else { panic!("expected an error") };
        assert_eq!(error.code, ErrorCode::AuthFailed);
        assert!(c
            .host
            .requests()
            .iter()
            .filter(|s| s.origin() == "http://127.0.0.1:7000")
            .all(|s| s.authorization.is_none()));
    }

    #[test]
    fn blobs_already_there_or_mountable_are_not_uploaded() {
        let c = chunked_client(FakeHost::new(|sent| match sent.method.as_str() {
            "HEAD" => Reply::status(200).header("content-length", &BLOB.len().to_string()),
            _ => Reply::status(400),
        }));
        let pushed =
            block_on(c.push_blob(&Digest::of(BLOB), BLOB.len() as u64, &MemorySource(BLOB.to_vec()), None)).unwrap();
        assert_eq!(pushed, Pushed { uploaded: false, mounted: false });

        let c = chunked_client(FakeHost::new(|sent| match sent.method.as_str() {
            "HEAD" => Reply::status(404),
            "POST" if sent.url.contains("mount=") && sent.url.contains("from=other") => Reply::status(201),
            _ => Reply::status(400),
        }));
        let pushed =
            block_on(c.push_blob(&Digest::of(BLOB), BLOB.len() as u64, &MemorySource(BLOB.to_vec()), Some("other")))
                .unwrap();
        assert_eq!(pushed, Pushed { uploaded: false, mounted: true });
    }

    #[test]
    fn a_failed_session_is_started_over() {
        let mut posts = 0;
        let mut serve = uploads(None);
        let host = FakeHost::new(move |sent| match sent.method.as_str() {
            "POST" => {
                posts += 1;
                serve(sent)
            }
            "PATCH" if posts == 1 => Reply::status(503),
            _ => serve(sent),
        });
        let c = chunked_client(host);
        block_on(c.push_blob(&Digest::of(BLOB), BLOB.len() as u64, &MemorySource(BLOB.to_vec()), None)).unwrap();
        assert_eq!(c.host.requests().iter().filter(|s| s.method == "POST").count(), 2);
    }
}
