//! Referrers (OCI 1.1 distribution spec): artifacts that point at a manifest through their `subject`, such as a
//! pack's signatures. Pushing stores the referrer's blobs and manifest, then, when the registry does not index
//! subjects itself (no `OCI-Subject` answer), adds it to the referrers tag `sha256-<hex>` without dropping what
//! is there. Listing asks the referrers API and falls back on that tag when the API answers 404.

use super::body::ReadFailure;
use super::client::{Call, Client, HttpRequest};
use super::transport::{Failure, Outcome, RequestBody, Transport};
use super::upload::{resolve_location, with_digest};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::oci::{
    parse_signature_manifest, referrers_index_add, referrers_list, referrers_tag, Descriptor, Referrer,
    ARTIFACT_TYPE_SIGNATURE, MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST,
};
use crate::sign::dsse::MAX_ENVELOPE_BYTES;

/// What pushing a referrer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrerPushed {
    pub digest: Digest,
    /// The referrers tag was updated (the registry has no referrers API).
    pub tag_updated: bool,
}

/// A signature found next to a pack: its manifest, the key id it names, and the envelope (unverified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedSignature {
    pub manifest: Digest,
    /// The signature manifest as stored, to copy it unchanged.
    pub manifest_bytes: Vec<u8>,
    pub keyid: Option<String>,
    pub envelope: Vec<u8>,
}

impl<H: Transport> Client<H> {
    /// Stores a referrer: its small blobs (held in memory), its manifest by digest, and the referrers tag.
    pub async fn push_referrer(
        &self,
        manifest: Vec<u8>,
        subject: &Digest,
        blobs: &[&[u8]],
        artifact_type: &str,
    ) -> Outcome<ReferrerPushed, H> {
        for blob in blobs {
            self.push_small_blob(blob).await?;
        }
        let descriptor = Descriptor::for_blob(MEDIA_TYPE_MANIFEST, &manifest);
        let (digest, indexed) =
            self.put_manifest(&descriptor.digest.to_string(), manifest, MEDIA_TYPE_MANIFEST).await?;
        if indexed {
            return Ok(ReferrerPushed { digest, tag_updated: false });
        }
        let tag = referrers_tag(subject);
        let existing = self.fetch_optional_manifest(&tag, MEDIA_TYPE_INDEX).await?;
        let index = referrers_index_add(existing.as_deref(), &descriptor, artifact_type)?;
        if existing.as_deref() != Some(index.as_slice()) {
            self.push_manifest(&tag, index, MEDIA_TYPE_INDEX).await?;
        }
        Ok(ReferrerPushed { digest, tag_updated: true })
    }

    /// The referrers of `subject`, of one artifact type when given: the referrers API, else the referrers tag
    /// (an empty list when neither knows any).
    pub async fn list_referrers(&self, subject: &Digest, artifact_type: Option<&str>) -> Outcome<Vec<Referrer>, H> {
        let what = format!("referrers of {subject}");
        let url = format!("{}/referrers/{subject}", self.registry.api_base());
        let scopes = self.pull_scopes();
        let request = HttpRequest::new("GET", url).header("Accept", MEDIA_TYPE_INDEX);
        let response = self.execute(Call { request, scopes: &scopes, what: &what, retry: true, stall: None }).await?;
        let index = match response.status {
            200 => Some(self.read_small(response.body, self.max_manifest_bytes, &what).await?),
            404 => {
                self.host.discard(response.body).await;
                self.fetch_optional_manifest(&referrers_tag(subject), MEDIA_TYPE_INDEX).await?
            }
            _ => return Err(self.unexpected(response, &what).await),
        };
        match index {
            None => Ok(Vec::new()),
            Some(bytes) => Ok(referrers_list(&bytes, artifact_type)?),
        }
    }

    /// The signatures next to a pack's image manifest, each envelope fetched (and not yet verified: that is
    /// `sign::verify_signatures`'s work). A referrer that is not a well-formed signature of this subject is
    /// skipped, so nothing pushed beside a pack can hide its valid signatures.
    pub async fn fetch_signatures(&self, subject: &Digest) -> Outcome<Vec<FetchedSignature>, H> {
        let mut found = Vec::new();
        for referrer in self.list_referrers(subject, None).await? {
            // An entry without artifactType (a copy by a tool that rewrote the index) is read to find out.
            if referrer.artifact_type.as_deref().is_some_and(|t| t != ARTIFACT_TYPE_SIGNATURE) {
                continue;
            }
            let digest = referrer.descriptor.digest;
            let manifest = match self.fetch_manifest(&digest.to_string(), MEDIA_TYPE_MANIFEST).await {
                Ok(manifest) => manifest,
                Err(Failure::Core(error)) if error.code == ErrorCode::NotFound => continue,
                Err(failure) => return Err(failure),
            };
            let Ok(signature) = parse_signature_manifest(&manifest.bytes) else { continue };
            if signature.subject.digest != *subject || signature.envelope.size > MAX_ENVELOPE_BYTES as u64 {
                continue;
            }
            let envelope = self.fetch_small_blob(&signature.envelope).await?;
            found.push(FetchedSignature {
                manifest: digest,
                manifest_bytes: manifest.bytes,
                keyid: signature.keyid,
                envelope,
            });
        }
        Ok(found)
    }

    /// A manifest's bytes, or `None` when the registry has no such tag.
    async fn fetch_optional_manifest(&self, reference: &str, accept: &str) -> Outcome<Option<Vec<u8>>, H> {
        match self.fetch_manifest(reference, accept).await {
            Ok(manifest) => Ok(Some(manifest.bytes)),
            Err(Failure::Core(error)) if error.code == ErrorCode::NotFound => Ok(None),
            Err(failure) => Err(failure),
        }
    }

    /// A small blob read whole, checked against its descriptor.
    pub async fn fetch_small_blob(&self, descriptor: &Descriptor) -> Outcome<Vec<u8>, H> {
        let what = format!("blob {}", descriptor.digest);
        let scopes = self.pull_scopes();
        let request = HttpRequest::new("GET", self.registry.blob_url(&descriptor.digest));
        let response = self.execute(Call { request, scopes: &scopes, what: &what, retry: true, stall: None }).await?;
        if response.status != 200 {
            return Err(self.unexpected(response, &what).await);
        }
        let bytes = self.read_small(response.body, descriptor.size, &what).await?;
        if bytes.len() as u64 != descriptor.size {
            let message = format!("{} bytes, the descriptor says {}", bytes.len(), descriptor.size);
            return Err(Error::new(ErrorCode::SizeMismatch, message).at(what.as_str()).into());
        }
        if Digest::of(&bytes) != descriptor.digest {
            let message = format!("the bytes hash to {}", Digest::of(&bytes));
            return Err(Error::new(ErrorCode::DigestMismatch, message).at(what.as_str()).into());
        }
        Ok(bytes)
    }

    async fn read_small(&self, body: H::Stream, limit: u64, what: &str) -> Outcome<Vec<u8>, H> {
        match self.read_limited(body, limit).await {
            Ok(bytes) => Ok(bytes),
            Err(ReadFailure::TooLarge) => {
                Err(Error::new(ErrorCode::SizeMismatch, format!("longer than its {limit} bytes")).at(what).into())
            }
            Err(failure) => Err(Error::new(
                ErrorCode::RegistryUnreachable,
                format!("connection to {} cut while reading: {}", self.registry.host, failure.describe()),
            )
            .at(what)
            .into()),
        }
    }

    /// Pushes a blob held in memory in one upload (`POST`, then `PUT` with the bytes), unless it is there.
    async fn push_small_blob(&self, bytes: &[u8]) -> Outcome<(), H> {
        let digest = Digest::of(bytes);
        if self.blob_exists(&digest, bytes.len() as u64).await? {
            return Ok(());
        }
        let what = format!("blob {digest}");
        let scopes = self.push_scopes();
        let start = HttpRequest::new("POST", self.registry.upload_url());
        let url = start.url.clone();
        let response =
            self.execute(Call { request: start, scopes: &scopes, what: &what, retry: true, stall: None }).await?;
        if response.status != 202 {
            return Err(self.unexpected(response, &what).await);
        }
        let location = response.header("location").map(str::to_string);
        self.host.discard(response.body).await;
        let location = location.ok_or_else(|| {
            Error::new(ErrorCode::RegistryProtocol, "the upload answer has no Location header").at(what.as_str())
        })?;
        let put = HttpRequest::new("PUT", with_digest(&resolve_location(&url, &location)?, &digest))
            .header("Content-Type", "application/octet-stream")
            .body(RequestBody::Bytes(bytes.to_vec()));
        let response =
            self.execute(Call { request: put, scopes: &scopes, what: &what, retry: false, stall: None }).await?;
        if !matches!(response.status, 201 | 204) {
            return Err(self.unexpected(response, &what).await);
        }
        self.host.discard(response.body).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::{signature_manifest, ARTIFACT_TYPE_SIGNATURE};
    use crate::registry::testing::{block_on, client, FakeHost, Reply, Sent};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;

    /// What the fake registry holds, by path.
    type Stored = Rc<RefCell<HashMap<String, Vec<u8>>>>;

    /// A registry without the referrers API (as Distribution 2.8): manifests and blobs in maps.
    fn registry() -> (Stored, impl FnMut(&Sent) -> Reply) {
        let store: Stored = Rc::default();
        let state = store.clone();
        let serve = move |sent: &Sent| {
            let path = sent.path().split('?').next().unwrap().to_string();
            let mut store = state.borrow_mut();
            match (sent.method.as_str(), path.as_str()) {
                ("POST", "/v2/packs/blobs/uploads/") => {
                    Reply::status(202).header("location", "/v2/packs/blobs/uploads/u1")
                }
                ("PUT", "/v2/packs/blobs/uploads/u1") => {
                    let digest = sent.path().split("digest=").nth(1).unwrap().replace("%3A", ":");
                    store.insert(format!("blob {digest}"), sent.body.clone());
                    Reply::status(201)
                }
                ("PUT", p) if p.starts_with("/v2/packs/manifests/") => {
                    let reference = p.trim_start_matches("/v2/packs/manifests/").to_string();
                    store.insert(format!("manifest {reference}"), sent.body.clone());
                    Reply::status(201).header("docker-content-digest", &Digest::of(&sent.body).to_string())
                }
                (method, p) => {
                    let key = if let Some(r) = p.strip_prefix("/v2/packs/manifests/") {
                        format!("manifest {r}")
                    } else if let Some(d) = p.strip_prefix("/v2/packs/blobs/") {
                        format!("blob {d}")
                    } else {
                        return Reply::status(404);
                    };
                    match store.get(&key) {
                        Some(bytes) if method == "HEAD" => {
                            Reply::status(200).header("content-length", &bytes.len().to_string())
                        }
                        Some(bytes) => Reply::ok(bytes),
                        None => Reply::status(404),
                    }
                }
            }
        };
        (store, serve)
    }

    #[test]
    fn two_signers_both_stay_listed_through_the_referrers_tag() {
        let (store, serve) = registry();
        let c = client("127.0.0.1:5000/packs", FakeHost::new(serve));
        let subject = Descriptor::for_blob(MEDIA_TYPE_MANIFEST, b"pack manifest");
        let mut pushed = Vec::new();
        for keyid in ["sha256:aa", "sha256:bb"] {
            let envelope = format!("{{\"by\":\"{keyid}\"}}").into_bytes();
            let manifest = signature_manifest(&subject, &envelope, keyid, "2026-12-06T21:00:00Z").unwrap();
            let done =
                block_on(c.push_referrer(manifest, &subject.digest, &[b"{}", &envelope], ARTIFACT_TYPE_SIGNATURE))
                    .unwrap();
            assert!(done.tag_updated);
            pushed.push(done.digest);
        }
        assert!(store.borrow().contains_key(&format!("manifest {}", referrers_tag(&subject.digest))));
        let listed = block_on(c.list_referrers(&subject.digest, Some(ARTIFACT_TYPE_SIGNATURE))).unwrap();
        assert_eq!(listed.iter().map(|r| r.descriptor.digest).collect::<Vec<_>>(), pushed);
        let signatures = block_on(c.fetch_signatures(&subject.digest)).unwrap();
        assert_eq!(signatures.iter().map(|s| s.keyid.clone().unwrap()).collect::<Vec<_>>(), ["sha256:aa", "sha256:bb"]);
        assert_eq!(signatures[1].envelope, b"{\"by\":\"sha256:bb\"}");
        // The referrers API was asked first, and answered 404.
        assert!(c.host.requests().iter().any(|s| s.path().starts_with("/v2/packs/referrers/sha256:")));
        // An index rewritten without artifactType (skopeo 1.9 does that) still leads to the signatures.
        let key = format!("manifest {}", referrers_tag(&subject.digest));
        let stripped = String::from_utf8(store.borrow()[&key].clone())
            .unwrap()
            .replace(&format!("\"artifactType\":\"{ARTIFACT_TYPE_SIGNATURE}\","), "");
        assert!(!stripped.contains("artifactType"), "{stripped}");
        store.borrow_mut().insert(key, stripped.into_bytes());
        assert_eq!(block_on(c.fetch_signatures(&subject.digest)).unwrap().len(), 2);
        // No signature at all: an empty list, not an error.
        assert!(block_on(c.fetch_signatures(&Digest::of(b"unsigned"))).unwrap().is_empty());
    }

    #[test]
    fn a_registry_with_the_referrers_api_is_not_given_a_tag() {
        let index = Rc::new(RefCell::new(Vec::new()));
        let answer = index.clone();
        let c = client(
            "127.0.0.1:5000/packs",
            FakeHost::new(move |sent: &Sent| match (sent.method.as_str(), sent.path()) {
                ("HEAD", _) => Reply::status(200).header("content-length", "2"),
                ("PUT", _) => Reply::status(201)
                    .header("docker-content-digest", &Digest::of(&sent.body).to_string())
                    .header("oci-subject", "sha256:x"),
                ("GET", p) if p.contains("/referrers/") => Reply::ok(&answer.borrow()),
                _ => Reply::status(404),
            }),
        );
        let subject = Descriptor::for_blob(MEDIA_TYPE_MANIFEST, b"pack manifest");
        let manifest = signature_manifest(&subject, b"{}", "k", "2026-12-06T21:00:00Z").unwrap();
        let referrer = Descriptor::for_blob(MEDIA_TYPE_MANIFEST, &manifest);
        let done = block_on(c.push_referrer(manifest, &subject.digest, &[b"{}"], ARTIFACT_TYPE_SIGNATURE)).unwrap();
        assert!(!done.tag_updated);
        assert!(!c.host.requests().iter().any(|s| s.path().contains("sha256-")));
        *index.borrow_mut() = referrers_index_add(None, &referrer, ARTIFACT_TYPE_SIGNATURE).unwrap();
        let listed = block_on(c.list_referrers(&subject.digest, None)).unwrap();
        assert_eq!(listed[0].descriptor.digest, referrer.digest);
    }
}
