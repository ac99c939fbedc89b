//! The task spec: what `context build` is asked to do.
//!
//! Two shapes are in use. The original builder read `scope{roots,include,exclude,globs,traversal_depth}` and
//! `constraints{max_tokens,max_items}`; its README and integration docs wrote `roots`, `include`, `exclude`,
//! `max_tokens` and `max_items` at the top level, which the builder silently ignored (seed-study §3.4). Both are
//! read here, and a value given both ways differently is an error rather than a guess.

use crate::context::packet::validate::{MAX_TOKENS, MIN_TOKENS};
use crate::context::packet::{Privacy, Scope};
use crate::context::violation::{violations_error, Violation};
use crate::error::{ErrorCode, Result};
use serde::Serialize;
use serde_json::{Map, Value};

/// A normalised task: the nested and top-level shapes folded into one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskSpec {
    pub task_id: String,
    pub task_type: String,
    pub privacy: Privacy,
    pub summary: String,
    pub intent_ref: Option<String>,
    pub acceptance: Vec<String>,
    pub scope: Scope,
    pub max_tokens: Option<u64>,
    pub max_items: Option<u64>,
    pub target_file: Option<String>,
    pub target_symbol: Option<String>,
}

const TOP_LEVEL: [&str; 15] = [
    "task_id",
    "task_type",
    "privacy",
    "summary",
    "intent_ref",
    "acceptance",
    "scope",
    "constraints",
    "target_file",
    "target_symbol",
    "roots",
    "include",
    "exclude",
    "max_tokens",
    "max_items",
];
const SCOPE: [&str; 5] = ["roots", "include", "exclude", "globs", "traversal_depth"];
const CONSTRAINTS: [&str; 2] = ["max_tokens", "max_items"];

/// Reads a task spec, reporting every problem at once as [`ErrorCode::TaskInvalid`]. A `null` value counts as
/// absent, which is what an empty YAML value (`target_symbol:`) means.
pub fn parse_task(doc: &Value) -> Result<TaskSpec> {
    let mut r = Reader { problems: Vec::new() };
    let empty = Map::new();
    let top = match doc.as_object() {
        Some(map) => map,
        None => {
            r.push("$", "type", "a task spec is a mapping");
            &empty
        }
    };
    r.unknown(top, "", &TOP_LEVEL);
    let scope = r.section(top, "scope", &SCOPE, &empty);
    let constraints = r.section(top, "constraints", &CONSTRAINTS, &empty);

    let task_id = r.required_text(top, "task_id");
    let task_type = r.required_text(top, "task_type");
    let privacy = match r.text(top, "privacy", "privacy").as_deref() {
        None | Some("local_only") => Privacy::LocalOnly,
        Some("remote_allowed") => Privacy::RemoteAllowed,
        Some(_) => {
            r.push("privacy", "enum", "is not one of local_only, remote_allowed");
            Privacy::LocalOnly
        }
    };
    let summary = r.text(top, "summary", "summary").unwrap_or_default();
    let intent_ref = r.text(top, "intent_ref", "intent_ref");
    let acceptance = r.texts(top, "acceptance", "acceptance").unwrap_or_default();
    let target_file = r.text(top, "target_file", "target_file");
    if let Some(path) = &target_file {
        r.relative(path, "target_file");
    }
    let target_symbol = r.text(top, "target_symbol", "target_symbol");

    let roots = r.texts_both(top, scope, "roots").unwrap_or_else(|| vec![".".to_string()]);
    for (i, root) in roots.iter().enumerate() {
        r.relative(root, &format!("roots[{i}]"));
    }
    let include = r.texts_both(top, scope, "include").unwrap_or_default();
    let exclude = r.texts_both(top, scope, "exclude").unwrap_or_default();
    let globs = r.texts(scope, "globs", "scope.globs").unwrap_or_default();
    let traversal_depth = r.count(scope, "traversal_depth", "scope.traversal_depth").unwrap_or(0);

    let max_tokens = r.count_both(top, constraints, "max_tokens");
    if let Some(n) = max_tokens.filter(|n| !(MIN_TOKENS..=MAX_TOKENS).contains(n)) {
        r.push("max_tokens", "range", format!("{n} is outside {MIN_TOKENS}..={MAX_TOKENS}"));
    }
    let max_items = r.count_both(top, constraints, "max_items");

    if !r.problems.is_empty() {
        return Err(violations_error(ErrorCode::TaskInvalid, &r.problems));
    }
    Ok(TaskSpec {
        task_id: task_id.unwrap_or_default(),
        task_type: task_type.unwrap_or_default(),
        privacy,
        summary,
        intent_ref,
        acceptance,
        scope: Scope { roots, include, exclude, globs, traversal_depth },
        max_tokens,
        max_items,
        target_file,
        target_symbol,
    })
}

struct Reader {
    problems: Vec<Violation>,
}

impl Reader {
    fn push(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.problems.push(Violation::new(path, code, message));
    }

    fn unknown(&mut self, map: &Map<String, Value>, at: &str, known: &[&str]) {
        for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
            let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
            self.push(path, "unknown_field", "is not a task spec field");
        }
    }

    /// A nested mapping (`scope`, `constraints`), or an empty one when it is absent or wrong.
    fn section<'a>(
        &mut self,
        top: &'a Map<String, Value>,
        key: &str,
        known: &[&str],
        empty: &'a Map<String, Value>,
    ) -> &'a Map<String, Value> {
        match top.get(key) {
            None | Some(Value::Null) => empty,
            Some(Value::Object(map)) => {
                self.unknown(map, key, known);
                map
            }
            Some(_) => {
                self.push(key, "type", "must be a mapping");
                empty
            }
        }
    }

    fn present<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
        map.get(key).filter(|v| !v.is_null())
    }

    fn text(&mut self, map: &Map<String, Value>, key: &str, path: &str) -> Option<String> {
        match Self::present(map, key)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.push(path, "type", "must be a string");
                None
            }
        }
    }

    fn required_text(&mut self, map: &Map<String, Value>, key: &str) -> Option<String> {
        match self.text(map, key, key) {
            None if Self::present(map, key).is_none() => {
                self.push(key, "required", "is missing");
                None
            }
            Some(s) if s.trim().is_empty() => {
                self.push(key, "format", "must not be empty");
                None
            }
            other => other,
        }
    }

    fn texts(&mut self, map: &Map<String, Value>, key: &str, path: &str) -> Option<Vec<String>> {
        let items = match Self::present(map, key)? {
            Value::Array(items) => items,
            _ => {
                self.push(path, "type", "must be a list of strings");
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.push(format!("{path}[{i}]"), "type", "must be a string"),
            }
        }
        Some(out)
    }

    fn count(&mut self, map: &Map<String, Value>, key: &str, path: &str) -> Option<u64> {
        let value = Self::present(map, key)?;
        let n = value.as_u64();
        if n.is_none() {
            self.push(path, "type", "must be a non-negative integer");
        }
        n
    }

    fn texts_both(&mut self, top: &Map<String, Value>, scope: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
        let outer = self.texts(top, key, key);
        let inner = self.texts(scope, key, &format!("scope.{key}"));
        self.agree(outer, inner, key, "scope")
    }

    fn count_both(&mut self, top: &Map<String, Value>, constraints: &Map<String, Value>, key: &str) -> Option<u64> {
        let outer = self.count(top, key, key);
        let inner = self.count(constraints, key, &format!("constraints.{key}"));
        self.agree(outer, inner, key, "constraints")
    }

    /// The top-level and nested spellings of one setting: either alone, or both with the same value.
    fn agree<T: PartialEq>(&mut self, outer: Option<T>, inner: Option<T>, key: &str, section: &str) -> Option<T> {
        match (outer, inner) {
            (Some(a), Some(b)) if a != b => {
                self.push(key, "conflict", format!("differs from {section}.{key}; give it once"));
                None
            }
            (a, b) => a.or(b),
        }
    }

    fn relative(&mut self, path: &str, at: &str) {
        let b = path.as_bytes();
        let drive = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
        if path.starts_with(['/', '\\']) || drive || path.split(['/', '\\']).any(|s| s == "..") {
            self.push(at, "absolute_path", "must be relative to the project root, without '..'");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `(path, code)` of each line of the TaskInvalid message, sorted.
    fn problems(doc: Value) -> Vec<(String, String)> {
        let e = parse_task(&doc).unwrap_err();
        assert_eq!(e.code, ErrorCode::TaskInvalid);
        let split = |line: &str| {
            let (path, rest) = line.split_once(": ").unwrap();
            (path.to_string(), rest.split(' ').next().unwrap().to_string())
        };
        let mut out: Vec<(String, String)> = e.message.lines().map(split).collect();
        out.sort();
        out
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = expected.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
        out.sort();
        out
    }

    #[test]
    fn reads_the_nested_shape() {
        let task = parse_task(&json!({
            "task_id": "T1", "task_type": "docstring.fix", "privacy": "remote_allowed", "summary": "Fix it",
            "intent_ref": "x", "acceptance": ["a"],
            "scope": {
                "roots": ["src"], "include": ["src/**"], "exclude": ["**/gen/**"], "globs": ["*.py"],
                "traversal_depth": 1
            },
            "constraints": {"max_tokens": 10000, "max_items": 10},
            "target_file": "src/a.py", "target_symbol": "parse"
        }))
        .unwrap();
        assert_eq!(task.privacy, Privacy::RemoteAllowed);
        assert_eq!(task.scope.roots, ["src"]);
        assert_eq!(task.scope.globs, ["*.py"]);
        assert_eq!(task.scope.traversal_depth, 1);
        assert_eq!((task.max_tokens, task.max_items), (Some(10000), Some(10)));
        assert_eq!(task.target_symbol.as_deref(), Some("parse"));
    }

    #[test]
    fn reads_the_top_level_shape_the_original_ignored() {
        let task = parse_task(&json!({
            "task_id": "T1", "task_type": "refactor", "roots": ["lib"], "include": ["lib/**"], "exclude": ["x"],
            "max_tokens": 5000, "max_items": 5, "target_symbol": null
        }))
        .unwrap();
        assert_eq!(task.scope.roots, ["lib"]);
        assert_eq!(task.scope.include, ["lib/**"]);
        assert_eq!(task.scope.exclude, ["x"]);
        assert_eq!((task.max_tokens, task.max_items), (Some(5000), Some(5)));
        assert_eq!(task.target_symbol, None);
    }

    #[test]
    fn defaults() {
        let task = parse_task(&json!({"task_id": "T", "task_type": "refactor"})).unwrap();
        assert_eq!(task.scope.roots, ["."]);
        assert_eq!(task.privacy, Privacy::LocalOnly);
        assert_eq!((task.summary.as_str(), task.max_tokens, task.max_items), ("", None, None));
    }

    #[test]
    fn the_same_setting_twice_must_agree() {
        let same = json!({"task_id": "T", "task_type": "x", "roots": ["a"], "scope": {"roots": ["a"]}});
        assert_eq!(parse_task(&same).unwrap().scope.roots, ["a"]);
        let differ = json!({
            "task_id": "T", "task_type": "x", "roots": ["a"], "scope": {"roots": ["b"]},
            "max_items": 5, "constraints": {"max_items": 6}
        });
        assert_eq!(problems(differ), pairs(&[("max_items", "conflict"), ("roots", "conflict")]));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let found = problems(json!({
            "task_id": "", "privacy": "public", "roots": ["/abs", "ok", "../up"], "target_file": "C:\\x.py",
            "scope": {"depth": 2, "include": "src"}, "constraints": {"max_tokens": 10}, "acceptance": [1], "extra": true
        }));
        let expected = pairs(&[
            ("extra", "unknown_field"),
            ("scope.depth", "unknown_field"),
            ("task_id", "format"),
            ("task_type", "required"),
            ("privacy", "enum"),
            ("acceptance[0]", "type"),
            ("target_file", "absolute_path"),
            ("scope.include", "type"),
            ("roots[0]", "absolute_path"),
            ("roots[2]", "absolute_path"),
            ("max_tokens", "range"),
        ]);
        assert_eq!(found, expected);
    }

    #[test]
    fn not_a_mapping() {
        let found = problems(json!(["task"]));
        assert_eq!(found, pairs(&[("$", "type"), ("task_id", "required"), ("task_type", "required")]));
    }

    #[test]
    fn serialises_for_hosts() {
        let task = parse_task(&json!({"task_id": "T", "task_type": "refactor"})).unwrap();
        let value = serde_json::to_value(&task).unwrap();
        assert_eq!(value["privacy"], "local_only");
        assert_eq!(value["scope"]["roots"], json!(["."]));
    }
}
