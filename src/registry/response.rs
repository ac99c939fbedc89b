//! Turning registry answers into typed results: failure statuses with their OCI error bodies
//! (`{"errors":[{"code","message"}]}`) become `Error`s, and `Docker-Content-Digest` headers are checked
//! against what was actually hashed. Messages quote only what the registry said, trimmed and with anything
//! that looks like a credential removed; request headers never go near them.

use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use serde_json::Value;

/// The most of a registry's own words kept in a message.
const MAX_DETAIL_CHARS: usize = 300;

/// One entry of an OCI error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciError {
    pub code: String,
    pub message: String,
}

/// The errors of an OCI error body; empty when the body is not one.
pub fn parse_error_body(body: &[u8]) -> Vec<OciError> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else { return Vec::new() };
    let Some(errors) = value.get("errors").and_then(Value::as_array) else { return Vec::new() };
    errors
        .iter()
        .map(|e| OciError {
            code: e.get("code").and_then(Value::as_str).unwrap_or("").to_string(),
            message: e.get("message").and_then(Value::as_str).unwrap_or("").to_string(),
        })
        .filter(|e| !e.code.is_empty() || !e.message.is_empty())
        .collect()
}

/// The error for a failure status. `what` names the request's object ("manifest ctx-ab…",
/// "blob sha256:…", "upload"); `host` the registry.
pub fn status_error(status: u16, body: &[u8], what: &str, host: &str) -> Error {
    // Go's TLS servers (Distribution, Harbor, Zot) answer plain HTTP on a TLS port with this 400.
    if status == 400 && String::from_utf8_lossy(body).contains("HTTP request to an HTTPS server") {
        return Error::new(ErrorCode::RegistryTls, format!("{host} speaks HTTPS on this port, not plain HTTP"))
            .at(what)
            .hint("write the registry as https://<host>[:port]/<repository>, or leave out the scheme");
    }
    let detail = describe_body(body);
    let said = if detail.is_empty() { String::new() } else { format!(": {detail}") };
    let (code, message, hint) = match status {
        401 => (ErrorCode::AuthFailed, format!("{host} refused the credentials (401){said}"), None),
        403 => (ErrorCode::AuthDenied, format!("{host} denied access (403){said}"), None),
        404 => (ErrorCode::NotFound, format!("not found on {host} (404){said}"), None),
        429 => (ErrorCode::RateLimited, format!("{host} is rate-limiting requests (429){said}"), None),
        408 | 500..=599 => (ErrorCode::RegistryUnavailable, format!("{host} answered {status}{said}"), None),
        413 => (
            ErrorCode::RegistryRejected,
            format!("{host} refused the request as too large (413){said}"),
            Some("the registry caps request sizes; try a smaller chunkBytes"),
        ),
        400..=499 => (ErrorCode::RegistryRejected, format!("{host} rejected the request ({status}){said}"), None),
        _ => (ErrorCode::RegistryProtocol, format!("{host} answered an unexpected {status}{said}"), None),
    };
    let error = Error::new(code, message).at(what);
    match hint {
        Some(hint) => error.hint(hint),
        None => error,
    }
}

/// `CODE: message; CODE2: message2` from an OCI error body, else the first line of a text body.
fn describe_body(body: &[u8]) -> String {
    let errors = parse_error_body(body);
    let text = if errors.is_empty() {
        String::from_utf8_lossy(body).lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string()
    } else {
        errors
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (false, false) => format!("{} {}", e.code, e.message),
                (false, true) => e.code.clone(),
                _ => e.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    sanitize(&text)
}

/// Trims to a sane length, drops control characters and blanks out credential-looking words that follow
/// `Bearer`, `Basic` or `token=`/`password=` (a misbehaving server could echo them).
pub fn sanitize(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut redact_next = false;
    for word in text.split(' ') {
        let lower = word.to_ascii_lowercase();
        if redact_next && !word.is_empty() {
            out.push("<redacted>".into());
            redact_next = false;
            continue;
        }
        if let Some(eq) = word.find('=').filter(|_| {
            ["token=", "access_token=", "refresh_token=", "password=", "authorization="]
                .iter()
                .any(|k| lower.contains(k))
        }) {
            out.push(format!("{}=<redacted>", &word[..eq]));
            continue;
        }
        redact_next = matches!(lower.as_str(), "bearer" | "basic");
        out.push(word.to_string());
    }
    let joined = out.join(" ");
    let clean: String = joined.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match clean.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean,
    }
}

/// What a `Docker-Content-Digest` header says about content we hashed ourselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderDigest {
    Absent,
    Matches,
    /// Another algorithm (sha512, blake3…): the registry may compute it differently; nothing to compare.
    NotComparable,
}

/// Compares a `Docker-Content-Digest` header with our SHA-256 of the same content, by algorithm.
pub fn check_header_digest(header: Option<&str>, computed: &Digest, what: &str) -> Result<HeaderDigest, Error> {
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else { return Ok(HeaderDigest::Absent) };
    if !header.starts_with(Digest::PREFIX) {
        return match header.split_once(':') {
            Some((algorithm, _)) if !algorithm.is_empty() => Ok(HeaderDigest::NotComparable),
            _ => Err(Error::new(
                ErrorCode::RegistryProtocol,
                format!("Docker-Content-Digest {:?} is not a digest", sanitize(header)),
            )
            .at(what)),
        };
    }
    let claimed = Digest::parse(header).map_err(|_| {
        Error::new(
            ErrorCode::RegistryProtocol,
            format!("Docker-Content-Digest {:?} is not a valid sha256 digest", sanitize(header)),
        )
        .at(what)
    })?;
    if claimed != *computed {
        return Err(Error::new(
            ErrorCode::DigestMismatch,
            format!("the registry says the content is {claimed}, but it hashes to {computed}"),
        )
        .at(what));
    }
    Ok(HeaderDigest::Matches)
}

/// The media type of a `Content-Type` header, without parameters; `None` when absent or generic.
pub fn media_type(content_type: Option<&str>) -> Option<String> {
    let media_type = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    let generic = media_type.is_empty() || media_type == "application/octet-stream" || media_type == "text/plain";
    (!generic).then_some(media_type)
}

/// The `mediaType` field of a manifest document, when it has one.
pub fn manifest_media_type(bytes: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    value.get("mediaType").and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_statuses_to_codes() {
        let cases = [
            (401, ErrorCode::AuthFailed),
            (403, ErrorCode::AuthDenied),
            (404, ErrorCode::NotFound),
            (429, ErrorCode::RateLimited),
            (408, ErrorCode::RegistryUnavailable),
            (500, ErrorCode::RegistryUnavailable),
            (503, ErrorCode::RegistryUnavailable),
            (400, ErrorCode::RegistryRejected),
            (405, ErrorCode::RegistryRejected),
            (413, ErrorCode::RegistryRejected),
            (416, ErrorCode::RegistryRejected),
            (302, ErrorCode::RegistryProtocol),
            (200, ErrorCode::RegistryProtocol),
        ];
        for (status, code) in cases {
            assert_eq!(status_error(status, b"", "blob x", "r").code, code, "{status}");
        }
        let tls_port = status_error(400, b"Client sent an HTTP request to an HTTPS server.\n", "blob x", "r");
        assert_eq!(tls_port.code, ErrorCode::RegistryTls);
        assert!(tls_port.hint.contains("https://"));
    }

    #[test]
    fn quotes_the_oci_error_body() {
        let body = br#"{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:ab"},{"code":"DENIED"}]}"#;
        let e = status_error(400, body, "manifest ctx-ab", "localhost:5000");
        assert_eq!(e.code, ErrorCode::RegistryRejected);
        assert_eq!(e.subject.as_deref(), Some("manifest ctx-ab"));
        assert_eq!(
            e.message,
            "manifest ctx-ab: localhost:5000 rejected the request (400): MANIFEST_BLOB_UNKNOWN blob unknown to registry; DENIED"
        );
        let e = status_error(404, b"404 page not found\n", "referrers", "r");
        assert_eq!(e.message, "referrers: not found on r (404): 404 page not found");
        assert_eq!(status_error(404, b"", "blob x", "r").message, "blob x: not found on r (404)");
        assert_eq!(parse_error_body(b"{\"errors\":5}"), vec![]);
        assert_eq!(parse_error_body(b"not json"), vec![]);
    }

    #[test]
    fn never_echoes_credentials() {
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad Authorization: Bearer eyJhbGciOi.secret token=abc123 password=hunter2 basic dXNlcjpwYXNz"}]}"#;
        let e = status_error(401, body, "manifest t", "r");
        for secret in ["eyJhbGciOi", "abc123", "hunter2", "dXNlcjpwYXNz"] {
            assert!(!e.message.contains(secret), "{secret} in {}", e.message);
        }
        assert!(
            e.message.contains("Bearer <redacted> token=<redacted> password=<redacted> basic <redacted>"),
            "{}",
            e.message
        );
        let long = sanitize(&"x".repeat(1000));
        assert_eq!(long.chars().count(), MAX_DETAIL_CHARS + 1);
        assert_eq!(sanitize("a\nb\u{7}c"), "a b c");
    }

    #[test]
    fn compares_docker_content_digest_by_algorithm() {
        let d = Digest::of(b"content");
        assert_eq!(check_header_digest(None, &d, "x").unwrap(), HeaderDigest::Absent);
        assert_eq!(check_header_digest(Some(" "), &d, "x").unwrap(), HeaderDigest::Absent);
        assert_eq!(check_header_digest(Some(&d.to_string()), &d, "x").unwrap(), HeaderDigest::Matches);
        let sha512 = format!("sha512:{}", "ab".repeat(64));
        assert_eq!(check_header_digest(Some(&sha512), &d, "x").unwrap(), HeaderDigest::NotComparable);
        let other = Digest::of(b"other");
        let e = check_header_digest(Some(&other.to_string()), &d, "blob x").unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::DigestMismatch, Some("blob x")));
        assert_eq!(check_header_digest(Some("sha256:12"), &d, "x").unwrap_err().code, ErrorCode::RegistryProtocol);
        assert_eq!(check_header_digest(Some("garbage"), &d, "x").unwrap_err().code, ErrorCode::RegistryProtocol);
    }

    #[test]
    fn reads_media_types() {
        assert_eq!(
            media_type(Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8")).as_deref(),
            Some("application/vnd.oci.image.manifest.v1+json")
        );
        assert_eq!(media_type(Some("application/octet-stream")), None);
        assert_eq!(media_type(None), None);
        assert_eq!(
            manifest_media_type(br#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#).as_deref(),
            Some("application/vnd.oci.image.index.v1+json")
        );
        assert_eq!(manifest_media_type(b"{}"), None);
    }
}
