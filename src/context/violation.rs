//! A rule a context document breaks, at a path, with a stable code that tools can match on.

use crate::error::{Error, ErrorCode};
use std::fmt;

/// One violation. `code` is stable (snake_case, listed in docs/spec.md); `message` is for people. Neither ever
/// holds a secret: detectors report a rule id and a place, not the text they matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// A JavaScript-style path into the document (`context[3].snippet`), `$` for the document itself.
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Violation { path: path.into(), code, message: message.into() }
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
