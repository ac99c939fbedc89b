//! Manifest operations and the small requests beside them: fetch (hashed, size-capped, checked against the
//! digest asked for and `Docker-Content-Digest`), head, push, blob existence, and the login check.

use super::body::ReadFailure;
use super::client::{Call, Client, HttpRequest};
use super::deadline::{timeout_error, Stall};
use super::response::{self, check_header_digest, status_error};
use super::scope::{Scope, Scopes};
use super::transport::{Failure, Outcome, RequestBody, Response, Transport};
use super::{ManifestRef, MANIFEST_ACCEPT};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};

/// A manifest as fetched: its bytes hashed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    /// From `Content-Type`, else the document's own `mediaType`; empty when neither says.
    pub media_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

impl<H: Transport> Client<H> {
    pub(super) fn pull_scopes(&self) -> Scopes {
        Scopes::new([Scope::pull(&self.registry.repository)])
    }

    pub(super) fn push_scopes(&self) -> Scopes {
        Scopes::new([Scope::push(&self.registry.repository)])
    }

    fn manifest_request(&self, method: &'static str, reference: &ManifestRef, accept: &str) -> HttpRequest<H::Body> {
        HttpRequest::new(method, self.registry.manifest_url(reference)).header("Accept", accept)
    }

    /// `reference` is a tag or a `sha256:` digest; `accept` the media types asked for (`MANIFEST_ACCEPT`).
    pub async fn fetch_manifest(&self, reference: &str, accept: &str) -> Outcome<Manifest, H> {
        let reference = ManifestRef::parse(reference)?;
        let what = format!("manifest {reference}");
        let scopes = self.pull_scopes();
        let limit = self.max_manifest_bytes;
        let mut stall = Stall::start(self.host.now_ms(), &self.timeouts);
        let mut attempt = 1;
        let (header_digest, content_type, bytes) = loop {
            let request = self.manifest_request("GET", &reference, accept);
            let call = Call { request, scopes: &scopes, what: &what, retry: true, stall: Some(stall) };
            let response = self.execute(call).await?;
            if response.status != 200 {
                return Err(self.unexpected(response, &what).await);
            }
            if response.content_length().is_some_and(|n| n > limit) {
                self.host.discard(response.body).await;
                return Err(too_large(&what, limit).into());
            }
            stall.progressed(self.host.now_ms());
            let header_digest = response.header("docker-content-digest").map(str::to_string);
            let content_type = response.header("content-type").map(str::to_string);
            let failure = match self.read_limited(response.body, limit).await {
                Ok(bytes) => break (header_digest, content_type, bytes),
                Err(ReadFailure::TooLarge) => return Err(too_large(&what, limit).into()),
                Err(failure) => failure,
            };
            let Some(delay) = self.delay(true, attempt, None, &stall) else {
                let now = self.host.now_ms();
                let error = match failure.timeout() {
                    Some(kind) => timeout_error(&self.registry.host, kind, stall.stalled_for_s(now), &what),
                    None => Error::new(
                        ErrorCode::RegistryUnreachable,
                        format!("connection to {} cut while reading: {}", self.registry.host, failure.describe()),
                    )
                    .at(what.as_str()),
                };
                return Err(error.into());
            };
            let why = failure.describe();
            self.emit("retry", &format!("{what}: connection cut while reading ({why}); retrying in {delay} ms"));
            self.host.sleep(delay).await;
            attempt += 1;
        };
        let digest = Digest::of(&bytes);
        if let ManifestRef::Digest(wanted) = &reference {
            if *wanted != digest {
                let message = format!("the registry sent content that hashes to {digest}");
                return Err(Error::new(ErrorCode::DigestMismatch, message).at(what.as_str()).into());
            }
        }
        check_header_digest(header_digest.as_deref(), &digest, &what)?;
        let media_type = response::media_type(content_type.as_deref())
            .or_else(|| response::manifest_media_type(&bytes))
            .unwrap_or_default();
        Ok(Manifest { bytes, digest, media_type })
    }

    /// `None` when the registry has no such manifest. Falls back to a GET when the HEAD answer lacks the
    /// digest, the length or the type (older registries).
    pub async fn head_manifest(&self, reference: &str) -> Outcome<Option<ManifestHead>, H> {
        let parsed = ManifestRef::parse(reference)?;
        let what = format!("manifest {parsed}");
        let scopes = self.pull_scopes();
        let request = self.manifest_request("HEAD", &parsed, &MANIFEST_ACCEPT.join(", "));
        let response = self.execute(Call { request, scopes: &scopes, what: &what, retry: true, stall: None }).await?;
        match response.status {
            200 => {}
            404 => {
                self.host.discard(response.body).await;
                return Ok(None);
            }
            _ => {
                let get = self.manifest_request("GET", &parsed, &MANIFEST_ACCEPT.join(", "));
                return Err(self.head_failure(response, get, &scopes, &what).await);
            }
        }
        let header_digest = response.header("docker-content-digest").and_then(|d| Digest::parse(d.trim()).ok());
        let digest = match (&parsed, header_digest) {
            (ManifestRef::Digest(wanted), Some(claimed)) if *wanted != claimed => {
                self.host.discard(response.body).await;
                let message = format!("the registry says manifest {wanted} has digest {claimed}");
                return Err(Error::new(ErrorCode::DigestMismatch, message).at(what.as_str()).into());
            }
            (_, Some(claimed)) => Some(claimed),
            (ManifestRef::Digest(wanted), None) => Some(*wanted),
            (ManifestRef::Tag(_), None) => None,
        };
        let media_type = response::media_type(response.header("content-type"));
        let size = response.content_length();
        self.host.discard(response.body).await;
        match (digest, size, media_type) {
            (Some(digest), Some(size), Some(media_type)) => Ok(Some(ManifestHead { digest, size, media_type })),
            _ => {
                let manifest = self.fetch_manifest(reference, &MANIFEST_ACCEPT.join(", ")).await?;
                let size = manifest.bytes.len() as u64;
                Ok(Some(ManifestHead { digest: manifest.digest, size, media_type: manifest.media_type }))
            }
        }
    }

    /// Stores `bytes` under a tag or its digest; the registry must keep them byte for byte.
    pub async fn push_manifest(&self, reference: &str, bytes: Vec<u8>, media_type: &str) -> Outcome<Digest, H> {
        Ok(self.put_manifest(reference, bytes, media_type).await?.0)
    }

    /// [`Client::push_manifest`], also telling whether the registry indexed the manifest's `subject` itself (its
    /// `OCI-Subject` answer header: it has the referrers API, so no referrers tag is needed).
    pub(super) async fn put_manifest(
        &self,
        reference: &str,
        bytes: Vec<u8>,
        media_type: &str,
    ) -> Outcome<(Digest, bool), H> {
        let reference = ManifestRef::parse(reference)?;
        let what = format!("manifest {reference}");
        let digest = Digest::of(&bytes);
        if let ManifestRef::Digest(wanted) = &reference {
            if *wanted != digest {
                let message = format!("pushing bytes that hash to {digest} under digest {wanted}");
                return Err(Error::new(ErrorCode::DigestMismatch, message).at(what.as_str()).into());
            }
        }
        let request = HttpRequest::new("PUT", self.registry.manifest_url(&reference))
            .header("Content-Type", media_type)
            .body(RequestBody::Bytes(bytes));
        let scopes = self.push_scopes();
        let response = self.execute(Call { request, scopes: &scopes, what: &what, retry: true, stall: None }).await?;
        if !matches!(response.status, 200 | 201) {
            return Err(self.unexpected(response, &what).await);
        }
        let stored = check_header_digest(response.header("docker-content-digest"), &digest, &what);
        let subject_indexed = response.header("oci-subject").is_some();
        self.host.discard(response.body).await;
        if let Err(Error { code: ErrorCode::DigestMismatch, message, .. }) = &stored {
            let message = format!("the registry did not store the manifest byte for byte: {message}");
            return Err(Error::new(ErrorCode::RegistryProtocol, message).at(what.as_str()).into());
        }
        stored?;
        Ok((digest, subject_indexed))
    }

    /// Whether the registry holds the blob; a blob of the same digest but another size is an error.
    pub async fn blob_exists(&self, digest: &Digest, size: u64) -> Outcome<bool, H> {
        let what = format!("blob {digest}");
        let scopes = self.pull_scopes();
        let request = HttpRequest::new("HEAD", self.registry.blob_url(digest));
        let response = self.execute(Call { request, scopes: &scopes, what: &what, retry: true, stall: None }).await?;
        match response.status {
            200 => {}
            404 => {
                self.host.discard(response.body).await;
                return Ok(false);
            }
            _ => {
                let get = HttpRequest::new("GET", self.registry.blob_url(digest));
                return Err(self.head_failure(response, get, &scopes, &what).await);
            }
        }
        let length = response.content_length();
        let checked = check_header_digest(response.header("docker-content-digest"), digest, &what);
        self.host.discard(response.body).await;
        if let Some(length) = length.filter(|&n| n != size) {
            let message = format!("the registry holds it with {length} bytes, the descriptor says {size}");
            return Err(Error::new(ErrorCode::SizeMismatch, message).at(what.as_str()).into());
        }
        checked?;
        Ok(true)
    }

    /// A `HEAD` answer has no body, so its failure cannot say why (an OCI error, or Go's "HTTP request to an
    /// HTTPS server"): the same request as a `GET` is asked once, and its answer explains the failure.
    async fn head_failure(
        &self,
        head: Response<H::Stream>,
        get: HttpRequest<H::Body>,
        scopes: &Scopes,
        what: &str,
    ) -> Failure<H::Thrown> {
        let status = head.status;
        self.host.discard(head.body).await;
        match self.execute(Call { request: get, scopes, what, retry: false, stall: None }).await {
            Ok(answer) if answer.status >= 400 => self.unexpected(answer, what).await,
            Ok(answer) => {
                self.host.discard(answer.body).await;
                status_error(status, b"", what, &self.registry.host).into()
            }
            Err(failure) => failure,
        }
    }

    /// Checks that the registry accepts the host's credentials, as `docker login` does: `GET /v2/`,
    /// authenticating when asked. Without credentials, a registry that needs them fails with
    /// `CTX_AUTH_FAILED`.
    pub async fn check_login(&self) -> Outcome<(), H> {
        let what = format!("login to {}", self.registry.host);
        let url = format!("{}/v2/", self.origin.origin());
        let scopes = Scopes::default();
        let response = self
            .execute(Call {
                request: HttpRequest::new("GET", url),
                scopes: &scopes,
                what: &what,
                retry: true,
                stall: None,
            })
            .await?;
        if response.status != 200 {
            return Err(self.unexpected(response, &what).await);
        }
        self.host.discard(response.body).await;
        Ok(())
    }
}

fn too_large(what: &str, limit: u64) -> Error {
    Error::new(ErrorCode::LimitExceeded, format!("is larger than the {limit}-byte manifest limit"))
        .at(what)
        .hint("this is not a ctxpack manifest, or raise the manifest size limit if you trust the registry")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::testing::{block_on, client, FakeHost, Piece, Reply};
    use crate::registry::transport::Failure;

    const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;

    #[test]
    fn fetched_manifests_are_hashed_and_checked() {
        let c = client("127.0.0.1:5000/packs", FakeHost::new(|_| Reply::ok(MANIFEST)));
        let fetched = block_on(c.fetch_manifest("v1", "application/json")).unwrap();
        assert_eq!(
            (fetched.digest, fetched.media_type.as_str()),
            (Digest::of(MANIFEST), "application/vnd.oci.image.manifest.v1+json")
        );
        let other = Digest::of(b"other").to_string();
        let Err(Failure::Core(error)) = block_on(c.fetch_manifest(&other, "application/json")) else { panic!() };
        assert_eq!(error.code, ErrorCode::DigestMismatch);

        let lying = FakeHost::new(move |_| Reply::ok(MANIFEST).header("docker-content-digest", &other));
        let Err(Failure::Core(error)) = block_on(client("127.0.0.1:5000/packs", lying).fetch_manifest("v1", "a"))
        else {
            panic!()
        };
        assert_eq!(error.code, ErrorCode::DigestMismatch);
    }

    #[test]
    fn a_manifest_cut_while_reading_is_fetched_again() {
        let mut first = true;
        let host = FakeHost::new(move |_| match std::mem::take(&mut first) {
            true => Reply::status(200).body(&MANIFEST[..10]).then(Piece::Silence),
            false => Reply::ok(MANIFEST),
        });
        let c = client("127.0.0.1:5000/packs", host);
        assert_eq!(block_on(c.fetch_manifest("v1", "a")).unwrap().bytes, MANIFEST);
        assert_eq!(c.host.event_kinds(), ["retry"]);
    }

    #[test]
    fn head_falls_back_to_get_when_headers_are_missing() {
        let host = FakeHost::new(|sent| match sent.method.as_str() {
            "HEAD" => Reply::status(200),
            _ => Reply::ok(MANIFEST),
        });
        let c = client("127.0.0.1:5000/packs", host);
        let head = block_on(c.head_manifest("v1")).unwrap().unwrap();
        assert_eq!((head.digest, head.size), (Digest::of(MANIFEST), MANIFEST.len() as u64));
    }

    #[test]
    fn a_failed_head_is_explained_by_the_same_get() {
        let host = FakeHost::new(|sent| match sent.method.as_str() {
            "HEAD" => Reply::status(400),
            _ => Reply::status(400).body(b"Client sent an HTTP request to an HTTPS server.\n"),
        });
        let c = client("127.0.0.1:5000/packs", host);
        let Err(Failure::Core(error)) = block_on(c.head_manifest("v1")) else { panic!() };
        assert_eq!(error.code, ErrorCode::RegistryTls);
        let Err(Failure::Core(error)) = block_on(c.blob_exists(&Digest::of(b"x"), 1)) else { panic!() };
        assert_eq!(error.code, ErrorCode::RegistryTls);
    }

    #[test]
    fn pushed_manifests_must_be_stored_byte_for_byte() {
        let host = FakeHost::new(|_| {
            Reply::status(201).header("docker-content-digest", &Digest::of(b"rewritten").to_string())
        });
        let c = client("127.0.0.1:5000/packs", host);
        let Err(Failure::Core(error)) = block_on(c.push_manifest("v1", MANIFEST.to_vec(), "application/json")) else {
            panic!()
        };
        assert_eq!(error.code, ErrorCode::RegistryProtocol);
    }

    #[test]
    fn login_checks_the_credentials_on_the_api_root() {
        let serve = |sent: &crate::registry::testing::Sent| match sent.authorization.as_deref() {
            None => Reply::challenge(r#"Basic realm="r""#),
            Some("Basic YWxpY2U6czNjcmV0") => Reply::status(200),
            Some(_) => Reply::status(401),
        };
        let good = client("127.0.0.1:5000/any", FakeHost::new(serve).basic("alice", "s3cret"));
        block_on(good.check_login()).unwrap();
        assert_eq!(good.host.requests()[1].path(), "/v2/");
        let bad = client("127.0.0.1:5000/any", FakeHost::new(serve).basic("alice", "nope"));
        let Err(Failure::Core(error)) = block_on(bad.check_login()) else { panic!() };
        assert_eq!(error.code, ErrorCode::AuthFailed);
    }
}
