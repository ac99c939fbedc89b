//! Execution logs: strict parsing and whole-document validation.

use super::base64;
use super::problem::{problems_error, JsonPath, Problem, Problems};
use super::schema::{Check, Mode, EXECUTION};
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use serde_json::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// Keep fields `execution/v1` does not define (verbatim, so they are part of the identity).
    pub allow_unknown: bool,
}

/// A log that passed validation; only [`ExecutionLog::check`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionLog(Value);

/// What a content is: text, or bytes written as base64.
pub(crate) enum Content {
    Text(String),
    Bytes(Vec<u8>),
}

impl ExecutionLog {
    /// Parses strictly (duplicate keys and unsafe numbers are JSON errors) and validates; every problem
    /// is in one `CTX_EXECUTION_INVALID` error.
    pub fn parse(text: &[u8], options: LogOptions) -> Result<ExecutionLog> {
        ExecutionLog::check(jcs::parse(text)?, options).map_err(|problems| invalid_log_error(&problems))
    }

    /// Validates a parsed log, returning every problem found (never just the first).
    pub fn check(value: Value, options: LogOptions) -> std::result::Result<ExecutionLog, Vec<Problem>> {
        let mut check = Check {
            mode: Mode::Log,
            allow_unknown: options.allow_unknown,
            content: content_problem,
            problems: Problems::default(),
        };
        check.record(&value, EXECUTION, &JsonPath::root(), None);
        let problems = check.problems.into_vec();
        if problems.is_empty() {
            Ok(ExecutionLog(value))
        } else {
            Err(problems)
        }
    }

    pub fn value(&self) -> &Value {
        &self.0
    }
}

/// The `CTX_EXECUTION_INVALID` error for the problems of a log: one `path: message` line each.
pub fn invalid_log_error(problems: &[Problem]) -> Error {
    problems_error(ErrorCode::ExecutionInvalid, problems)
}

/// A content as the log wrote it: a string, or `{"base64": "<standard base64>"}`.
pub(crate) fn content_of(value: &Value) -> std::result::Result<Content, &'static str> {
    const SHAPE: &str = "must be a string or {\"base64\": string}";
    match value {
        Value::String(text) => Ok(Content::Text(text.clone())),
        Value::Object(object) if object.len() == 1 => match object.get("base64") {
            Some(Value::String(text)) => base64::decode(text).map(Content::Bytes).ok_or("not valid base64"),
            _ => Err(SHAPE),
        },
        _ => Err(SHAPE),
    }
}

fn content_problem(value: &Value) -> Option<String> {
    content_of(value).err().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "model": {"identifier": "m"},
            "system_prompt": "be brief",
            "environment": {"os": "linux", "runtime": "python 3.12"},
        })
    }

    fn problems(value: Value, allow_unknown: bool) -> Vec<String> {
        match ExecutionLog::check(value, LogOptions { allow_unknown }) {
            Ok(_) => vec![],
            Err(problems) => problems.iter().map(Problem::to_string).collect(),
        }
    }

    #[test]
    fn minimal_log_is_valid_and_arrays_may_be_absent() {
        assert_eq!(problems(minimal(), false), Vec::<String>::new());
    }

    #[test]
    fn fixtures_are_valid() {
        for text in [
            include_str!("../../tests/fixtures/execution/coding-agent.json"),
            include_str!("../../tests/fixtures/execution/rag-agent.json"),
            include_str!("../../tests/fixtures/execution/tool-heavy-agent.json"),
        ] {
            ExecutionLog::parse(text.as_bytes(), LogOptions::default()).unwrap();
        }
    }

    #[test]
    fn every_required_field_is_reported_at_once() {
        let log =
            json!({"model": {}, "environment": {}, "prompts": [{}], "inputs": [{}], "steps": [{}], "outputs": [{}]});
        assert_eq!(
            problems(log, false),
            [
                "model.identifier: required",
                "system_prompt: required",
                "prompts[0].role: required",
                "prompts[0].content: required",
                "inputs[0].name: required",
                "inputs[0].content: required",
                "steps[0].type: required",
                "steps[0].tool: required",
                "outputs[0].name: required",
                "environment.os: required",
                "environment.runtime: required",
            ]
        );
        assert_eq!(problems(json!({}), false), ["model: required", "system_prompt: required", "environment: required"]);
        assert_eq!(problems(json!([]), false), ["$: must be an object"]);
    }

    #[test]
    fn every_type_problem_names_its_path() {
        let mut log = minimal();
        log["model"] = json!({"identifier": "", "parameters": []});
        log["system_prompt"] = json!(7);
        log["prompts"] = json!({});
        log["inputs"] = json!([{"name": 1, "content": {"base64": 1}}]);
        log["steps"] = json!([
            {"index": 0, "type": "llm", "tool": "x", "output": {"base64": "Zm9v"}, "deterministic": true, "timestamp": "2025-01-01T00:00:00Z"},
            {"index": -1, "type": "llm", "tool": 2, "parameters": "p", "output": {"base64": "Zm9"}, "deterministic": "yes", "timestamp": "yesterday"},
            {"index": 1.5, "type": null, "tool": "x", "timestamp": 0},
            {"index": 4, "type": "llm", "tool": "x", "output": {"base64": "Zm9v", "extra": 1}},
        ]);
        log["outputs"] = json!([{"name": "a", "content": null}]);
        log["environment"] = json!({"os": [], "runtime": "r", "tool_versions": "1.0"});
        log["parent"] = json!("ctx://sha256:abc");
        assert_eq!(
            problems(log, false),
            [
                "model.identifier: must not be empty",
                "model.parameters: must be an object",
                "system_prompt: must be a string or {\"base64\": string}",
                "prompts: must be an array",
                "inputs[0].name: must be a string",
                "inputs[0].content: must be a string or {\"base64\": string}",
                "steps[1].index: must be a non-negative integer",
                "steps[1].tool: must be a string",
                "steps[1].parameters: must be an object",
                "steps[1].output: not valid base64",
                "steps[1].deterministic: must be a boolean",
                "steps[1].timestamp: not an RFC 3339 time",
                "steps[2].index: must be a non-negative integer",
                "steps[2].type: must be a string",
                "steps[2].timestamp: must be a string",
                "steps[3].index: index 4 is not its position 3",
                "steps[3].output: must be a string or {\"base64\": string}",
                "outputs[0].content: must be a string or {\"base64\": string}",
                "environment.os: must be a string",
                "environment.tool_versions: must be an object",
                "parent: must be a ctx://sha256 URI",
            ]
        );
    }

    #[test]
    fn unknown_fields_are_rejected_unless_allowed() {
        let mut log = minimal();
        log["note"] = json!("kept");
        log["model"]["vendor"] = json!("acme");
        log["steps"] = json!([{"type": "t", "tool": "x", "retries": 2, "odd key": 1}]);
        assert_eq!(
            problems(log.clone(), false),
            [
                "model.vendor: unknown field (pass allowUnknown to keep it)",
                "steps[0][\"odd key\"]: unknown field (pass allowUnknown to keep it)",
                "steps[0].retries: unknown field (pass allowUnknown to keep it)",
                "note: unknown field (pass allowUnknown to keep it)",
            ]
        );
        let kept = ExecutionLog::check(log.clone(), LogOptions { allow_unknown: true }).unwrap();
        assert_eq!(kept.value(), &log);
    }

    #[test]
    fn ctxpack_is_reserved_even_when_unknown_fields_are_allowed() {
        let mut log = minimal();
        log["ctxpack"] = json!("execution/v1");
        assert_eq!(problems(log, true), ["ctxpack: reserved for the execution manifest"]);
    }

    #[test]
    fn json_errors_keep_their_codes() {
        let duplicate = br#"{"model": {"identifier": "a", "identifier": "b"}}"#;
        let e = ExecutionLog::parse(duplicate, LogOptions::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::JsonDuplicateKey);
        let unsafe_number = br#"{"model": {"identifier": "a", "parameters": {"seed": 9007199254740993}}}"#;
        let e = ExecutionLog::parse(unsafe_number, LogOptions::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::JsonNumberUnrepresentable);
    }

    #[test]
    fn parse_reports_all_problems_in_one_error() {
        let e = ExecutionLog::parse(
            br#"{"model": {}, "system_prompt": "s", "environment": {"os": "l"}}"#,
            LogOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ExecutionInvalid);
        assert_eq!(e.message, "model.identifier: required\nenvironment.runtime: required");
    }

    #[test]
    fn contents_are_text_or_base64_bytes() {
        assert!(matches!(content_of(&json!("héllo")), Ok(Content::Text(t)) if t == "héllo"));
        assert!(matches!(content_of(&json!({"base64": "AP8="})), Ok(Content::Bytes(b)) if b == [0, 255]));
        assert!(matches!(content_of(&json!({"base64": ""})), Ok(Content::Bytes(b)) if b.is_empty()));
        assert_eq!(content_of(&json!({"base64": "AP8"})).err(), Some("not valid base64"));
        assert!(content_of(&json!({})).is_err());
        assert!(content_of(&json!(["x"])).is_err());
    }
}
