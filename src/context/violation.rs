//! A rule a context document breaks, at a path, with a stable code that tools can match on.

use crate::context::detect::Detector;
use crate::error::{Error, ErrorCode};
use std::fmt;
use std::sync::OnceLock;

/// One violation. `code` is stable (snake_case, listed in docs/spec.md); `message` is for people. Neither ever
/// holds a secret: messages name the path, the rule and the position, never the value there, and whatever a
/// built-in detector still flags in a path or message (a key that is a token, a name that holds a password) is
/// masked as `[REDACTED:<rule-id>]` when the violation is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// A JavaScript-style path into the document (`context[3].snippet`), `$` for the document itself.
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Violation { path: scrub(&path.into()), code, message: scrub(&message.into()) }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {}", self.path, self.code, self.message)
    }
}

/// The error for a non-empty list of violations: one `path: code message` line each.
pub fn violations_error(code: ErrorCode, violations: &[Violation]) -> Error {
    let lines: Vec<String> = violations.iter().map(Violation::to_string).collect();
    Error::new(code, lines.join("\n"))
}

/// `text` with everything the built-in detectors flag masked: for message parts that come from a document (keys,
/// names, parser reports) rather than from ctxpack. The detectors are compiled on the first call only.
pub fn scrub(text: &str) -> String {
    static BUILTIN: OnceLock<Detector> = OnceLock::new();
    BUILTIN.get_or_init(Detector::builtin).redact(text).text
}
