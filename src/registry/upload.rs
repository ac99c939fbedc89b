//! Blob upload sessions (distribution spec, "Pushing blobs"): where the next request goes, how big the
//! chunks are, and the `Content-Range` / `Range` headers of chunked uploads.

use super::url::{append_query, HttpUrl};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};

pub const MIB: u64 = 1024 * 1024;
/// fetch copies each chunk into its request, so layers in flight × this bounds upload memory; ECR (S3)
/// needs parts of at least 5 MiB.
pub const DEFAULT_CHUNK_BYTES: u64 = 8 * MIB;
/// GHCR refuses request bodies over 4 MiB (`416 … exceeds the maximum permissible limit of 4.00MiB`).
pub const GHCR_MAX_CHUNK_BYTES: u64 = 4 * MIB;

/// The URL a `Location` header points to. It may be absolute or relative and may carry query parameters
/// the registry needs (Distribution's signed `_state`), so it is used as given, only made absolute.
pub fn resolve_location(request_url: &str, location: &str) -> Result<String> {
    let location = location.trim();
    if location.is_empty() {
        return Err(Error::new(ErrorCode::RegistryProtocol, "upload response has an empty Location header"));
    }
    if location.contains("://") {
        return HttpUrl::parse(location).map(|url| url.to_string());
    }
    let base = HttpUrl::parse(request_url)?;
    if let Some(network_path) = location.strip_prefix("//") {
        return HttpUrl::parse(&format!("{}://{network_path}", base.scheme)).map(|url| url.to_string());
    }
    if location.starts_with('/') {
        return Ok(format!("{}{location}", base.origin()));
    }
    let path = base.rest.split(['?', '#']).next().unwrap_or("");
    let directory = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let directory = if directory.is_empty() { "/" } else { directory };
    Ok(format!("{}{directory}{location}", base.origin()))
}

/// The closing `PUT` URL: the session's location with `digest=<digest>` added to its query.
pub fn with_digest(location: &str, digest: &Digest) -> String {
    append_query(location, "digest", &digest.to_string())
}

/// The PATCH size for a chunked upload: the caller's choice or 8 MiB, at most 4 MiB on GHCR, and never
/// below the registry's `OCI-Chunk-Min-Length`.
pub fn chunk_size(requested: Option<u64>, registry_host: &str, min_length: Option<u64>) -> u64 {
    let mut size = requested.filter(|&n| n > 0).unwrap_or(DEFAULT_CHUNK_BYTES);
    if is_ghcr(registry_host) {
        size = size.min(GHCR_MAX_CHUNK_BYTES);
    }
    size.max(min_length.unwrap_or(1))
}

fn is_ghcr(host: &str) -> bool {
    host == "ghcr.io" || host.starts_with("ghcr.io:")
}

/// `Content-Range` of a chunk: `<start>-<end>`, inclusive, with no `bytes ` prefix (ACR rejects that form).
pub fn content_range(start: u64, len: u64) -> String {
    debug_assert!(len > 0, "an empty chunk has no range");
    format!("{start}-{}", start + len - 1)
}

/// The inclusive end of the `Range: 0-<end>` a registry reports for an upload session.
pub fn parse_upload_range(header: &str) -> Result<u64> {
    let invalid = || Error::new(ErrorCode::RegistryProtocol, format!("upload Range header {header:?} is not 0-<end>"));
    let range = header.trim();
    let range = range.strip_prefix("bytes=").unwrap_or(range);
    let (start, end) = range.split_once('-').ok_or_else(invalid)?;
    let number =
        |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok()).flatten();
    match (number(start), number(end)) {
        (Some(0), Some(end)) => Ok(end),
        _ => Err(invalid()),
    }
}

/// `OCI-Chunk-Min-Length`, when it is a positive number.
pub fn parse_chunk_min_length(header: Option<&str>) -> Option<u64> {
    header.and_then(|h| h.trim().parse::<u64>().ok()).filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_absolute_and_relative_locations() {
        let request = "http://127.0.0.1:5000/v2/packs/blobs/uploads/";
        assert_eq!(
            resolve_location(request, "http://127.0.0.1:5000/v2/packs/blobs/uploads/u1?_state=a%3D").unwrap(),
            "http://127.0.0.1:5000/v2/packs/blobs/uploads/u1?_state=a%3D"
        );
        assert_eq!(
            resolve_location(request, "/v2/packs/blobs/uploads/u2?_state=x").unwrap(),
            "http://127.0.0.1:5000/v2/packs/blobs/uploads/u2?_state=x"
        );
        assert_eq!(resolve_location(request, "u3").unwrap(), "http://127.0.0.1:5000/v2/packs/blobs/uploads/u3");
        assert_eq!(
            resolve_location("https://r/v2/p/blobs/uploads/?x=1", "//cdn.example/u").unwrap(),
            "https://cdn.example/u"
        );
        assert_eq!(resolve_location("https://r", "u").unwrap(), "https://r/u");
        assert_eq!(resolve_location(request, " ").unwrap_err().code, ErrorCode::RegistryProtocol);
        assert_eq!(resolve_location(request, "ftp://x/y").unwrap_err().code, ErrorCode::RegistryProtocol);
    }

    #[test]
    fn appends_the_digest_with_the_right_separator() {
        let d = Digest::of(b"");
        assert_eq!(
            with_digest("http://r/v2/p/blobs/uploads/u", &d),
            format!("http://r/v2/p/blobs/uploads/u?digest=sha256%3A{}", d.hex())
        );
        assert_eq!(
            with_digest("http://r/u?_state=abc", &d),
            format!("http://r/u?_state=abc&digest=sha256%3A{}", d.hex())
        );
    }

    #[test]
    fn chunk_size_defaults_caps_for_ghcr_and_honours_the_minimum() {
        assert_eq!(chunk_size(None, "registry.example.com", None), 8 * MIB);
        assert_eq!(chunk_size(Some(1000), "registry.example.com", None), 1000);
        assert_eq!(chunk_size(Some(0), "registry.example.com", None), 8 * MIB);
        assert_eq!(chunk_size(None, "ghcr.io", None), 4 * MIB);
        assert_eq!(chunk_size(Some(MIB), "ghcr.io", None), MIB);
        assert_eq!(chunk_size(Some(1000), "r", Some(5 * MIB)), 5 * MIB);
        assert_eq!(chunk_size(None, "ghcr.io", Some(5 * MIB)), 5 * MIB);
        assert_eq!(parse_chunk_min_length(Some(" 5242880 ")), Some(5 * MIB));
        assert_eq!(parse_chunk_min_length(Some("0")), None);
        assert_eq!(parse_chunk_min_length(Some("x")), None);
        assert_eq!(parse_chunk_min_length(None), None);
    }

    #[test]
    fn formats_content_range_and_parses_range() {
        assert_eq!(content_range(0, 1000), "0-999");
        assert_eq!(content_range(1000, 1), "1000-1000");
        assert_eq!(parse_upload_range("0-6999").unwrap(), 6999);
        assert_eq!(parse_upload_range("bytes=0-0").unwrap(), 0);
        for bad in ["", "5-10", "0-", "-5", "0-x", "0-+1", "bytes 0-5"] {
            assert_eq!(parse_upload_range(bad).unwrap_err().code, ErrorCode::RegistryProtocol, "{bad}");
        }
    }
}
