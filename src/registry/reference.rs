//! Which registry and repository a client talks to (`[http(s)://]<host>[:port]/<repository>`), the manifest
//! references inside it (tag or digest), and the API URLs built from them.

use super::url::{self, is_loopback, parse_authority, split_scheme, Scheme};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use std::fmt;

/// Docker Hub's names for itself; its API lives on another host and one-word repositories are official
/// images under `library/`.
const DOCKER_HUB_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];
const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// The distribution spec's limit on a repository name.
const MAX_REPOSITORY_LEN: usize = 255;

/// A repository on a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    pub scheme: Scheme,
    /// `host[:port]`, lowercased, as the user named it (the key for credentials).
    pub host: String,
    pub repository: String,
}

impl RegistryRef {
    /// Parses `[http://|https://]<host>[:port]/<repository>`. Without a scheme, loopback hosts use plain HTTP
    /// (local test registries) and every other host HTTPS; `http://` to a non-loopback host needs `insecure`.
    pub fn parse(input: &str, insecure: bool) -> Result<RegistryRef> {
        refuse_credentials(input)?;
        let invalid = |why: String| Error::new(ErrorCode::RegistryInvalid, why).at(input);
        let (explicit_scheme, rest) = match split_scheme(input) {
            Some((scheme, rest)) => (Some(scheme), rest),
            None if input.contains("://") => {
                return Err(invalid("only http:// and https:// registries are supported".into()))
            }
            None => (None, input),
        };
        let rest = rest.trim_end_matches('/');
        let (authority, repository) =
            rest.split_once('/').ok_or_else(|| invalid("names no repository after the host".into()))?;
        let host = parse_authority(authority).map_err(|e| e.at(input))?;
        let repository = normalize_repository(&host, repository).map_err(|e| e.at(input))?;
        let loopback = is_loopback(&host);
        let scheme = explicit_scheme.unwrap_or(if loopback { Scheme::Http } else { Scheme::Https });
        if scheme == Scheme::Http && !loopback && !insecure {
            return Err(Error::new(
                ErrorCode::RegistryInsecure,
                format!(
                    "refusing plain http:// to {host}: credentials and content would cross the network unprotected"
                ),
            )
            .at(input));
        }
        Ok(RegistryRef { scheme, host, repository })
    }

    pub fn is_docker_hub(&self) -> bool {
        DOCKER_HUB_HOSTS.contains(&self.host.as_str())
    }

    /// The host serving the `/v2/` API.
    pub fn api_host(&self) -> &str {
        if self.is_docker_hub() {
            DOCKER_HUB_API_HOST
        } else {
            &self.host
        }
    }

    /// `<scheme>://<api host>/v2/<repository>`
    pub fn api_base(&self) -> String {
        format!("{}://{}/v2/{}", self.scheme, self.api_host(), self.repository)
    }

    pub fn manifest_url(&self, reference: &ManifestRef) -> String {
        format!("{}/manifests/{reference}", self.api_base())
    }

    pub fn blob_url(&self, digest: &Digest) -> String {
        format!("{}/blobs/{digest}", self.api_base())
    }

    /// Where an upload session starts (`POST`); the trailing slash is part of the spec's path.
    pub fn upload_url(&self) -> String {
        format!("{}/blobs/uploads/", self.api_base())
    }

    /// The cross-repository mount request for `digest` from repository `from` on the same registry.
    pub fn mount_url(&self, digest: &Digest, from: &str) -> String {
        url::append_query(&url::append_query(&self.upload_url(), "mount", &digest.to_string()), "from", from)
    }

    /// A repository name on this registry (for `mountFrom`), Docker Hub's `library/` rule included.
    pub fn other_repository(&self, name: &str) -> Result<String> {
        normalize_repository(&self.host, name)
    }
}

impl fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.host, self.repository)
    }
}

/// A reference never carries a secret: `user:password@host/repo` and `?token=` would end up in shell history,
/// process lists and logs. Refused without repeating any of it.
fn refuse_credentials(input: &str) -> Result<()> {
    let after_scheme = split_scheme(input).map_or(input, |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or("");
    let (what, hint) = if authority.contains('@') {
        (
            "credentials (user:password@)",
            "remove them; log in to the registry instead, or pass credentials in the environment",
        )
    } else if input.contains(['?', '#']) {
        (
            "a query or fragment (?…, #…)",
            "a registry reference is <host>[:port]/<repository>; pass tokens as credentials, never in the reference",
        )
    } else {
        return Ok(());
    };
    let host = authority.rsplit('@').next().unwrap_or("").split(['?', '#']).next().unwrap_or("");
    Err(Error::new(ErrorCode::RegistryInvalid, format!("the registry reference for {host} holds {what}"))
        .at(format!("{host}/…"))
        .hint(hint))
}

fn normalize_repository(host: &str, repository: &str) -> Result<String> {
    validate_repository(repository)?;
    if DOCKER_HUB_HOSTS.contains(&host) && !repository.contains('/') {
        return Ok(format!("library/{repository}"));
    }
    Ok(repository.to_string())
}

/// The distribution spec's name grammar: `/`-separated components of `[a-z0-9]+` joined by `.`, `_`, `__`
/// or runs of `-`.
pub fn validate_repository(name: &str) -> Result<()> {
    let invalid = |why: &str| {
        Error::new(ErrorCode::RegistryInvalid, format!("repository {name:?} {why}"))
            .hint("repository names are lowercase letters and digits, separated by '/', '.', '_', '__' or '-'")
    };
    if name.is_empty() {
        return Err(invalid("is empty"));
    }
    if name.len() > MAX_REPOSITORY_LEN {
        return Err(invalid("is longer than 255 characters"));
    }
    for component in name.split('/') {
        if !is_valid_component(component) {
            let why = if component.contains(':') || component.contains('@') {
                "must not carry a tag or digest; give only the repository"
            } else {
                "does not follow the distribution spec's name grammar"
            };
            return Err(invalid(why));
        }
    }
    Ok(())
}

fn is_valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let dashes = separator.bytes().all(|b| b == b'-');
        if !(matches!(separator, "." | "_" | "__") || dashes) {
            return false;
        }
    }
    true
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestRef {
    Tag(String),
    Digest(Digest),
}

impl ManifestRef {
    /// A tag (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`) or a `sha256:<hex>` digest.
    pub fn parse(reference: &str) -> Result<ManifestRef> {
        if reference.contains(':') {
            return Digest::parse(reference).map(ManifestRef::Digest).map_err(|e| e.at(reference));
        }
        let bytes = reference.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= 128
            && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
            && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !valid {
            return Err(Error::new(ErrorCode::RegistryInvalid, "is neither a tag nor a sha256 digest")
                .at(reference)
                .hint("tags are up to 128 letters, digits, '_', '.' or '-' (not starting with '.' or '-')"));
        }
        Ok(ManifestRef::Tag(reference.to_string()))
    }
}

impl fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestRef::Tag(tag) => f.write_str(tag),
            ManifestRef::Digest(digest) => write!(f, "{digest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> RegistryRef {
        RegistryRef::parse(input, false).unwrap()
    }

    #[test]
    fn parses_host_port_and_repository_with_scheme_defaults() {
        let r = parse("ghcr.io/acme/packs");
        assert_eq!((r.scheme, r.host.as_str(), r.repository.as_str()), (Scheme::Https, "ghcr.io", "acme/packs"));
        assert_eq!(r.api_base(), "https://ghcr.io/v2/acme/packs");
        let local = parse("localhost:5000/packs/");
        assert_eq!((local.scheme, local.host.as_str()), (Scheme::Http, "localhost:5000"));
        assert_eq!(local.api_base(), "http://localhost:5000/v2/packs");
        assert_eq!(parse("https://127.0.0.1:5000/p").scheme, Scheme::Https);
        assert_eq!(parse("http://[::1]:5000/p").api_base(), "http://[::1]:5000/v2/p");
        assert_eq!(
            parse("Registry.Example.COM:8443/a.b/c__d/e--f").to_string(),
            "registry.example.com:8443/a.b/c__d/e--f"
        );
    }

    #[test]
    fn plain_http_needs_loopback_or_insecure() {
        let e = RegistryRef::parse("http://registry.example.com/packs", false).unwrap_err();
        assert_eq!(e.code, ErrorCode::RegistryInsecure);
        assert_eq!(e.subject.as_deref(), Some("http://registry.example.com/packs"));
        let e = RegistryRef::parse("http://10.0.0.5:5000/packs", false).unwrap_err();
        assert_eq!(e.code, ErrorCode::RegistryInsecure);
        let allowed = RegistryRef::parse("http://registry.example.com/packs", true).unwrap();
        assert_eq!(allowed.api_base(), "http://registry.example.com/v2/packs");
        assert_eq!(parse("registry.example.com/packs").scheme, Scheme::Https);
    }

    #[test]
    fn docker_hub_uses_its_api_host_and_library_prefix() {
        let r = parse("docker.io/alpine");
        assert_eq!((r.host.as_str(), r.repository.as_str()), ("docker.io", "library/alpine"));
        assert_eq!(r.api_base(), "https://registry-1.docker.io/v2/library/alpine");
        assert_eq!(parse("index.docker.io/acme/packs").api_base(), "https://registry-1.docker.io/v2/acme/packs");
        assert_eq!(r.other_repository("busybox").unwrap(), "library/busybox");
        assert_eq!(parse("ghcr.io/alpine").repository, "alpine");
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "ghcr.io",
            "ghcr.io/",
            "/packs",
            "ghcr.io/Acme/packs",
            "ghcr.io/acme//packs",
            "ghcr.io/acme/packs:latest",
            "ghcr.io/acme/packs@sha256:00",
            "ghcr.io/-acme",
            "ghcr.io/acme.",
            "ghcr.io/a..b",
            "ghcr.io/a___b",
            "ghcr.io:70000/a",
            "ftp://ghcr.io/a",
            "ghcr io/a",
        ] {
            let e = RegistryRef::parse(bad, true).unwrap_err();
            assert_eq!(e.code, ErrorCode::RegistryInvalid, "{bad}");
        }
        let long = format!("ghcr.io/{}", "a".repeat(256));
        assert_eq!(RegistryRef::parse(&long, false).unwrap_err().code, ErrorCode::RegistryInvalid);
    }

    #[test]
    fn refuses_references_with_credentials_without_repeating_them() {
        for input in [
            "alice:hunter2@registry.example.com/packs",
            "https://alice:hunter2@registry.example.com/packs",
            "registry.example.com/packs?token=hunter2",
            "registry.example.com/packs#hunter2",
        ] {
            let error = RegistryRef::parse(input, false).unwrap_err();
            assert_eq!(error.code, ErrorCode::RegistryInvalid, "{input}");
            for field in [&error.message, &error.hint, error.subject.as_ref().unwrap()] {
                assert!(!field.contains("hunter2"), "{input}: {field}");
            }
            assert!(error.message.contains("registry.example.com"), "{}", error.message);
        }
    }

    #[test]
    fn builds_api_urls() {
        let r = parse("localhost:5000/packs");
        let d = Digest::of(b"x");
        assert_eq!(r.blob_url(&d), format!("http://localhost:5000/v2/packs/blobs/{d}"));
        assert_eq!(r.upload_url(), "http://localhost:5000/v2/packs/blobs/uploads/");
        assert_eq!(
            r.mount_url(&d, "other/repo"),
            format!("http://localhost:5000/v2/packs/blobs/uploads/?mount=sha256%3A{}&from=other%2Frepo", d.hex())
        );
        assert_eq!(
            r.manifest_url(&ManifestRef::parse("ctx-ab").unwrap()),
            "http://localhost:5000/v2/packs/manifests/ctx-ab"
        );
        assert_eq!(r.manifest_url(&ManifestRef::Digest(d)), format!("http://localhost:5000/v2/packs/manifests/{d}"));
    }

    #[test]
    fn manifest_references_are_tags_or_digests() {
        assert_eq!(ManifestRef::parse("v1.0_rc-2").unwrap(), ManifestRef::Tag("v1.0_rc-2".into()));
        let d = Digest::of(b"m");
        assert_eq!(ManifestRef::parse(&d.to_string()).unwrap(), ManifestRef::Digest(d));
        for bad in ["", ".hidden", "-x", "a/b", &"t".repeat(129), "sha512:abcd", "sha256:XYZ"] {
            assert!(ManifestRef::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ManifestRef::parse("a/b").unwrap_err().code, ErrorCode::RegistryInvalid);
        assert_eq!(ManifestRef::parse("sha512:abcd").unwrap_err().code, ErrorCode::UriInvalid);
    }
}
