//! Relative path rules shared by trees and archives: what a path inside a pack may look like.

use crate::error::{Error, ErrorCode, Result};
use unicode_normalization::UnicodeNormalization;

/// Validates a relative, `/`-separated path and returns its NFC form.
///
/// Rejected: empty paths, a leading `/`, empty, `.` or `..` segments (so no trailing `/` either),
/// control characters, and `\` (a separator on Windows, so a pack could otherwise escape there).
pub fn normalize_relative(path: &str) -> Result<String> {
    check_relative(path)?;
    // ASCII is its own NFC form: most names skip the normaliser.
    Ok(if path.is_ascii() { path.to_owned() } else { path.nfc().collect() })
}

/// [`normalize_relative`] of a path the caller owns: an ASCII path (most names) comes back as it is, uncopied.
pub fn normalize_relative_owned(path: String) -> Result<String> {
    check_relative(&path)?;
    Ok(if path.is_ascii() { path } else { path.nfc().collect() })
}

fn check_relative(path: &str) -> Result<()> {
    let invalid = |why: &str| Error::new(ErrorCode::PathInvalid, why.to_string()).at(printable(path));
    if path.is_empty() {
        return Err(invalid("path is empty"));
    }
    if path.starts_with('/') {
        return Err(invalid("path is absolute"));
    }
    if let Some(c) = path.chars().find(|c| c.is_control() || *c == '\\') {
        return Err(invalid(&format!("path contains the character {c:?}")));
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err(invalid("path has an empty segment")),
            "." | ".." => return Err(invalid(&format!("path has a {segment:?} segment"))),
            _ => {}
        }
    }
    Ok(())
}

/// Decodes a file name given as raw bytes (what a host reads from the file system).
pub fn from_bytes(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| {
        Error::new(ErrorCode::PathNotUtf8, "file name is not valid UTF-8").at(String::from_utf8_lossy(bytes))
    })
}

/// NFC form of a symlink target; the target must be relative and free of control characters.
pub fn normalize_link_target(link: &str, target: &str) -> Result<String> {
    let escapes = |why: &str| Error::new(ErrorCode::SymlinkEscapes, format!("link target {target:?} {why}")).at(link);
    if target.is_empty() {
        return Err(escapes("is empty"));
    }
    if target.starts_with('/') {
        return Err(escapes("is absolute"));
    }
    if target.chars().any(|c| c.is_control() || c == '\\') {
        return Err(Error::new(
            ErrorCode::PathInvalid,
            format!("link target {target:?} contains a control character or '\\'"),
        )
        .at(link));
    }
    Ok(target.nfc().collect())
}

/// Escapes control characters so a hostile path cannot rewrite a terminal when it is printed.
pub fn printable(path: &str) -> String {
    if path.chars().any(char::is_control) {
        path.escape_debug().to_string()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_relative_paths_and_normalises_to_nfc() {
        assert_eq!(normalize_relative("a/b.txt").unwrap(), "a/b.txt");
        assert_eq!(normalize_relative(".hidden/..x").unwrap(), ".hidden/..x");
        // "e" + combining acute accent becomes the precomposed "é".
        assert_eq!(normalize_relative("cafe\u{301}.md").unwrap(), "caf\u{e9}.md");
    }

    #[test]
    fn rejects_unsafe_paths() {
        for bad in ["", "/etc/passwd", "a//b", "a/", "./a", "a/./b", "../x", "a/../../x", "a\\b", "a\nb", "a\0b"] {
            let e = normalize_relative(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::PathInvalid, "{bad:?}");
        }
    }

    #[test]
    fn the_owned_form_agrees() {
        for path in ["a/b.txt", "cafe\u{301}.md", "caf\u{e9}.md", "", "a//b", "../x", "a\nb"] {
            let owned = normalize_relative_owned(path.to_owned());
            match normalize_relative(path) {
                Ok(normalized) => assert_eq!(owned.unwrap(), normalized),
                Err(error) => assert_eq!(owned.unwrap_err().message, error.message),
            }
        }
    }

    #[test]
    fn non_utf8_names_are_rejected() {
        assert_eq!(from_bytes(b"ok").unwrap(), "ok");
        assert_eq!(from_bytes(b"bad\xff").unwrap_err().code, ErrorCode::PathNotUtf8);
    }

    #[test]
    fn link_targets_must_be_relative() {
        assert_eq!(normalize_link_target("l", "../x").unwrap(), "../x");
        assert_eq!(normalize_link_target("l", "/etc").unwrap_err().code, ErrorCode::SymlinkEscapes);
        assert_eq!(normalize_link_target("l", "").unwrap_err().code, ErrorCode::SymlinkEscapes);
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("plain"), "plain");
    }
}
