//! Validation problems: a log is checked as a whole so that one run reports everything to fix.

use crate::error::{Error, ErrorCode};
use std::fmt;

/// One thing wrong with a document, at a JSON path such as `steps[3].tool`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The error for a non-empty list of problems: one `path: message` line each.
pub(crate) fn problems_error(code: ErrorCode, problems: &[Problem]) -> Error {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    Error::new(code, lines.join("\n"))
}

/// A JSON path under construction; keys that are not plain identifiers are quoted (`a["odd key"]`).
#[derive(Debug, Clone)]
pub(crate) struct JsonPath(String);

/// The path of the document itself.
pub(crate) const ROOT: &str = "$";

impl JsonPath {
    pub fn root() -> Self {
        JsonPath(String::new())
    }

    pub fn key(&self, key: &str) -> Self {
        let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match (plain, self.0.is_empty()) {
            (true, true) => JsonPath(key.to_string()),
            (true, false) => JsonPath(format!("{}.{key}", self.0)),
            (false, _) => JsonPath(format!("{}[{}]", self.0, serde_json::Value::from(key))),
        }
    }

    pub fn index(&self, index: usize) -> Self {
        JsonPath(format!("{}[{index}]", self.0))
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { ROOT } else { &self.0 })
    }
}

/// Collects problems while a document is walked.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub fn add(&mut self, path: &JsonPath, message: impl Into<String>) {
        self.0.push(Problem { path: path.to_string(), message: message.into() });
    }

    pub fn into_vec(self) -> Vec<Problem> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_javascript() {
        let root = JsonPath::root();
        assert_eq!(root.to_string(), "$");
        assert_eq!(root.key("steps").index(3).key("tool").to_string(), "steps[3].tool");
        assert_eq!(root.key("model").key("odd key").to_string(), "model[\"odd key\"]");
        assert_eq!(root.key("1st").to_string(), "[\"1st\"]");
    }

    #[test]
    fn error_lists_one_problem_per_line() {
        let problems = [
            Problem { path: "model.identifier".into(), message: "required".into() },
            Problem { path: "steps[3].tool".into(), message: "must be a string".into() },
        ];
        let e = problems_error(ErrorCode::ExecutionInvalid, &problems);
        assert_eq!(e.code.as_str(), "CTX_EXECUTION_INVALID");
        assert_eq!(e.message, "model.identifier: required\nsteps[3].tool: must be a string");
        assert!(e.hint.contains("Execution packs"));
    }
}
