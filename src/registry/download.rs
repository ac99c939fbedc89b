//! Resuming a cut blob download: the `Range` request for the missing tail and what the answer means.

use crate::error::{Error, ErrorCode, Result};

/// `Range: bytes=<received>-`
pub fn resume_range(received: u64) -> String {
    format!("bytes={received}-")
}

/// How to go on after a (re-)request for a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// The body continues the bytes already received: keep hashing.
    Continue,
    /// The body is the whole blob (the registry ignored `Range`): reset the sink and the hash.
    Restart,
}

/// Judges the answer to a request that asked for `bytes=<received>-` (or for the whole blob when
/// `received` is 0) of a blob of `size` bytes.
pub fn judge_resume(status: u16, content_range: Option<&str>, received: u64, size: u64) -> Result<Resume> {
    match status {
        200 => Ok(Resume::Restart),
        206 if received > 0 => {
            let header = content_range.ok_or_else(|| {
                Error::new(ErrorCode::RegistryProtocol, "206 Partial Content without a Content-Range header")
            })?;
            let (start, end, total) = parse_content_range(header)?;
            if start != received || end.saturating_add(1) > size || total.is_some_and(|t| t != size) {
                return Err(Error::new(
                    ErrorCode::RegistryProtocol,
                    format!("asked for bytes {received}- of {size}, the registry sent Content-Range {header:?}"),
                ));
            }
            Ok(Resume::Continue)
        }
        _ => Err(Error::new(ErrorCode::RegistryProtocol, format!("unexpected status {status} for a blob download"))),
    }
}

/// `bytes <start>-<end>/<total|*>` → (start, end inclusive, total).
pub fn parse_content_range(header: &str) -> Result<(u64, u64, Option<u64>)> {
    let invalid = || {
        Error::new(ErrorCode::RegistryProtocol, format!("Content-Range {header:?} is not bytes <start>-<end>/<size>"))
    };
    let number =
        |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok()).flatten();
    let rest = header.trim().strip_prefix("bytes ").ok_or_else(invalid)?;
    let (range, total) = rest.split_once('/').ok_or_else(invalid)?;
    let (start, end) = range.split_once('-').ok_or_else(invalid)?;
    let (start, end) = (number(start).ok_or_else(invalid)?, number(end).ok_or_else(invalid)?);
    let total = if total == "*" { None } else { Some(number(total).ok_or_else(invalid)?) };
    if end < start {
        return Err(invalid());
    }
    Ok((start, end, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_the_tail() {
        assert_eq!(resume_range(0), "bytes=0-");
        assert_eq!(resume_range(1_048_576), "bytes=1048576-");
    }

    #[test]
    fn parses_content_range() {
        assert_eq!(parse_content_range("bytes 100-199/200").unwrap(), (100, 199, Some(200)));
        assert_eq!(parse_content_range("bytes 0-0/*").unwrap(), (0, 0, None));
        for bad in ["100-199/200", "bytes 100-/200", "bytes 200-100/300", "bytes 1-2", "bytes a-2/3", "bytes */200"] {
            assert_eq!(parse_content_range(bad).unwrap_err().code, ErrorCode::RegistryProtocol, "{bad}");
        }
    }

    #[test]
    fn judges_partial_and_full_answers() {
        assert_eq!(judge_resume(200, None, 0, 10).unwrap(), Resume::Restart);
        assert_eq!(judge_resume(200, None, 4, 10).unwrap(), Resume::Restart);
        assert_eq!(judge_resume(206, Some("bytes 4-9/10"), 4, 10).unwrap(), Resume::Continue);
        assert_eq!(judge_resume(206, Some("bytes 4-9/*"), 4, 10).unwrap(), Resume::Continue);
        for (range, received) in
            [(Some("bytes 0-9/10"), 4), (Some("bytes 4-9/11"), 4), (Some("bytes 4-10/10"), 4), (None, 4)]
        {
            assert_eq!(
                judge_resume(206, range, received, 10).unwrap_err().code,
                ErrorCode::RegistryProtocol,
                "{range:?}"
            );
        }
        assert_eq!(judge_resume(206, Some("bytes 0-9/10"), 0, 10).unwrap_err().code, ErrorCode::RegistryProtocol);
        assert_eq!(judge_resume(204, None, 0, 10).unwrap_err().code, ErrorCode::RegistryProtocol);
    }
}
