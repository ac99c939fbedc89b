//! Validation of a ContextPackage document: every rule of the schema, every violation at once.
//!
//! The document is checked as JSON, before it becomes a [`Packet`], so a broken packet gets a list of everything
//! wrong with it (path, stable code, message) rather than the first serde error. The field tables below are the
//! single description of the shape; the published JSON Schema is tested against them.
//!
//! Beyond the original validator this checks the enums, lengths, ranges, formats, relative paths, forbidden
//! paths and unknown fields that the original's schema states but never enforced (seed-study §3.6).

use super::{ItemType, Packet, SCHEMA_VERSION};
use crate::context::glob::Glob;
use crate::context::violation::{violations_error, Violation};
use crate::error::{Error, ErrorCode, Result};
use crate::execution::rfc3339::is_date_time;
use serde_json::{Map, Value};

/// The enums a packet's values are checked against. Task types and sources differ between installations, so
/// they come from `.intent/context/schema.yaml` when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRules {
    pub task_types: Vec<String>,
    pub sources: Vec<String>,
    pub item_types: Vec<ItemType>,
}

/// The original's five task types and the two its policy routes (always local).
pub const DEFAULT_TASK_TYPES: [&str; 7] =
    ["docstring.fix", "header.fix", "test.generate", "code.generate", "refactor", "security.audit", "secrets.scan"];

/// The schema's four sources and the two the original's builder actually wrote.
pub const DEFAULT_SOURCES: [&str; 6] = ["db", "qdrant", "ast", "filesystem", "builtin_ast", "db_graph_traversal"];

/// The source ctxpack's own builder writes; always accepted so its packets validate under any schema.
pub const BUILDER_SOURCE: &str = "filesystem";

impl Default for SchemaRules {
    fn default() -> Self {
        SchemaRules {
            task_types: DEFAULT_TASK_TYPES.map(String::from).to_vec(),
            sources: DEFAULT_SOURCES.map(String::from).to_vec(),
            item_types: ItemType::ALL.to_vec(),
        }
    }
}

impl SchemaRules {
    /// Reads the enums out of an original-layout `schema.yaml` (already parsed). An enum the document does not
    /// give keeps its default; one it gives badly is a [`ErrorCode::PolicyInvalid`] listing every problem.
    pub fn from_schema_document(doc: &Value) -> Result<SchemaRules> {
        let mut problems = Vec::new();
        let mut rules = SchemaRules::default();
        if !doc.is_object() {
            problems.push(Violation::new("$", "type", "a schema document is a mapping"));
        }
        match doc.get("version") {
            None => {}
            Some(Value::String(v)) if v == SCHEMA_VERSION => {}
            Some(v) => problems.push(Violation::new(
                "version",
                "version",
                format!("ctxpack reads schema version {SCHEMA_VERSION:?}, not {v}"),
            )),
        }
        let header = "structure.header.fields.task_type.enum";
        if let Some(values) = schema_enum(doc, header, &mut problems) {
            rules.task_types = values;
        }
        let source = "structure.context.items.fields.source.enum";
        if let Some(mut values) = schema_enum(doc, source, &mut problems) {
            if !values.iter().any(|s| s == BUILDER_SOURCE) {
                values.push(BUILDER_SOURCE.to_string());
            }
            rules.sources = values;
        }
        let item_type = "structure.context.items.fields.item_type.enum";
        if let Some(values) = schema_enum(doc, item_type, &mut problems) {
            rules.item_types.clear();
            for (i, name) in values.iter().enumerate() {
                match ItemType::ALL.into_iter().find(|t| t.as_str() == name) {
                    Some(t) => rules.item_types.push(t),
                    None => problems.push(Violation::new(
                        format!("{item_type}[{i}]"),
                        "enum",
                        format!(
                            "{name:?} is not an item type ctxpack knows ({})",
                            list(ItemType::ALL.map(ItemType::as_str))
                        ),
                    )),
                }
            }
        }
        if problems.is_empty() {
            Ok(rules)
        } else {
            Err(violations_error(ErrorCode::PolicyInvalid, &problems).at("schema.yaml"))
        }
    }

    pub(crate) fn choices(&self, choice: Choice) -> Vec<&str> {
        match choice {
            Choice::TaskType => self.task_types.iter().map(String::as_str).collect(),
            Choice::Source => self.sources.iter().map(String::as_str).collect(),
            Choice::ItemType => self.item_types.iter().map(|t| t.as_str()).collect(),
            Choice::Fixed(values) => values.to_vec(),
        }
    }
}

/// A non-empty list of strings at a dotted path, or `None` when the path is absent.
fn schema_enum(doc: &Value, path: &str, problems: &mut Vec<Violation>) -> Option<Vec<String>> {
    let value = path.split('.').try_fold(doc, |v, key| v.get(key))?;
    let values: Option<Vec<String>> =
        value.as_array().and_then(|items| items.iter().map(|v| v.as_str().map(String::from)).collect());
    match values {
        Some(values) if !values.is_empty() => Some(values),
        _ => {
            problems.push(Violation::new(path, "type", "must be a non-empty list of strings"));
            None
        }
    }
}

/// Checks a document and returns every violation, in document order; empty means valid.
pub fn validate(doc: &Value, rules: &SchemaRules) -> Vec<Violation> {
    let mut check = Check { rules, out: Vec::new() };
    match doc.as_object() {
        Some(map) => {
            check.fields(map, "", PACKET);
            check.rules(map);
        }
        None => check.push("$", "type", format!("a packet is an object, not {}", kind_of(doc))),
    }
    check.out
}

/// Validates, then builds the typed packet. Violations become one [`ErrorCode::PacketInvalid`] listing them all.
pub fn check(doc: Value, rules: &SchemaRules) -> Result<Packet> {
    let violations = validate(&doc, rules);
    if !violations.is_empty() {
        return Err(violations_error(ErrorCode::PacketInvalid, &violations));
    }
    serde_json::from_value(doc).map_err(|e| Error::new(ErrorCode::PacketInvalid, format!("$: type {e}")))
}

/// The typed packet when the document's fields are well-formed, leaving out the rules between fields (budgets,
/// privacy, forbidden paths): what redacting or trimming a packet needs, since those steps are what fix them.
pub fn check_structure(doc: Value, rules: &SchemaRules) -> std::result::Result<Packet, Vec<Violation>> {
    let mut check = Check { rules, out: Vec::new() };
    match doc.as_object() {
        Some(map) => check.fields(map, "", PACKET),
        None => check.push("$", "type", format!("a packet is an object, not {}", kind_of(&doc))),
    }
    if !check.out.is_empty() {
        return Err(check.out);
    }
    serde_json::from_value(doc).map_err(|e| vec![Violation::new("$", "type", e.to_string())])
}

/// One field of an object: its name, whether it must be present, and what it holds.
#[derive(Debug)]
pub(crate) struct Field {
    pub name: &'static str,
    pub required: bool,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Text(Format),
    /// A string of at most this many characters (Unicode scalar values).
    Limited(usize),
    Choice(Choice),
    Bool,
    /// A non-negative integer in `min..=max`.
    Count {
        min: u64,
        max: u64,
    },
    Integer,
    Number,
    Texts(Format),
    Object(&'static [Field]),
    Objects(&'static [Field]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Any,
    NonEmpty,
    DateTime,
    /// `sha256:<64 lowercase hex>`.
    Digest,
    /// A digest, or empty before the hash is computed.
    DigestOrEmpty,
    /// Relative to the project root, without `..`.
    Path,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Choice {
    TaskType,
    Source,
    ItemType,
    Fixed(&'static [&'static str]),
}

pub(crate) const MAX_SUMMARY: usize = 500;
pub(crate) const MAX_ITEM_SUMMARY: usize = 1000;
pub(crate) const MAX_SNIPPET: usize = 5000;
pub(crate) const MAX_ATTACHMENT: usize = 10000;
pub(crate) const MIN_TOKENS: u64 = 1000;
pub(crate) const MAX_TOKENS: u64 = 200_000;
pub(crate) const ANY: u64 = u64::MAX;

pub(crate) const PRIVACY: &[&str] = &["local_only", "remote_allowed"];
pub(crate) const ACTIONS: &[&str] = &["masked", "dropped", "flagged", "truncated"];
pub(crate) const DROP_REASONS: &[&str] = &["max_items", "max_tokens"];

const fn field(name: &'static str, required: bool, kind: Kind) -> Field {
    Field { name, required, kind }
}

const TEXT: Kind = Kind::Text(Format::Any);
const TEXTS: Kind = Kind::Texts(Format::Any);
const COUNT: Kind = Kind::Count { min: 0, max: ANY };

pub(crate) const PACKET: &[Field] = &[
    field("header", true, Kind::Object(HEADER)),
    field("problem", true, Kind::Object(PROBLEM)),
    field("scope", true, Kind::Object(SCOPE)),
    field("constraints", true, Kind::Object(CONSTRAINTS)),
    field("context", true, Kind::Objects(ITEM)),
    field("invariants", false, TEXTS),
    field("policy", true, Kind::Object(POLICY)),
    field("provenance", true, Kind::Object(PROVENANCE)),
    field("attachments", false, Kind::Objects(ATTACHMENT)),
];

const HEADER: &[Field] = &[
    field("packet_id", true, Kind::Text(Format::NonEmpty)),
    field("task_id", true, Kind::Text(Format::NonEmpty)),
    field("task_type", true, Kind::Choice(Choice::TaskType)),
    field("created_at", true, Kind::Text(Format::DateTime)),
    field("builder_version", true, Kind::Text(Format::NonEmpty)),
    field("privacy", true, Kind::Choice(Choice::Fixed(PRIVACY))),
];

const PROBLEM: &[Field] = &[
    field("summary", true, Kind::Limited(MAX_SUMMARY)),
    field("intent_ref", false, TEXT),
    field("acceptance", false, TEXTS),
];

const SCOPE: &[Field] = &[
    field("roots", true, Kind::Texts(Format::Path)),
    field("include", false, TEXTS),
    field("exclude", false, TEXTS),
    field("globs", false, TEXTS),
    field("traversal_depth", false, COUNT),
];

const CONSTRAINTS: &[Field] = &[
    field("max_tokens", true, Kind::Count { min: MIN_TOKENS, max: MAX_TOKENS }),
    field("max_items", false, COUNT),
    field("time_budget_seconds", false, COUNT),
    field("cost_budget_usd", false, Kind::Number),
    field("forbidden_paths", false, TEXTS),
    field("forbidden_calls", false, TEXTS),
];

const ITEM: &[Field] = &[
    field("name", true, TEXT),
    field("path", false, Kind::Text(Format::Path)),
    field("item_type", true, Kind::Choice(Choice::ItemType)),
    field("signature", false, TEXT),
    field("span", false, Kind::Object(SPAN)),
    field("summary", false, Kind::Limited(MAX_ITEM_SUMMARY)),
    field("snippet", false, Kind::Limited(MAX_SNIPPET)),
    field("deps", false, TEXTS),
    field("hash", false, Kind::Text(Format::Digest)),
    field("source", true, Kind::Choice(Choice::Source)),
    field("tokens_est", false, COUNT),
    field("priority", false, Kind::Integer),
    field("target", false, Kind::Bool),
];

const SPAN: &[Field] = &[field("start", true, Kind::Count { min: 1, max: ANY }), field("end", true, COUNT)];

const POLICY: &[Field] = &[
    field("remote_allowed", true, Kind::Bool),
    field("redactions_applied", false, Kind::Objects(REDACTION)),
    field("notes", false, TEXT),
];

const REDACTION: &[Field] = &[
    field("item_name", true, TEXT),
    field("path", false, Kind::Text(Format::Path)),
    field("field", false, TEXT),
    field("action", false, Kind::Choice(Choice::Fixed(ACTIONS))),
    field("rule", false, TEXT),
    field("reason", true, TEXT),
    field("count", false, COUNT),
    field("redacted_at", false, Kind::Text(Format::DateTime)),
];

const PROVENANCE: &[Field] = &[
    field("inputs", true, Kind::Object(INPUTS)),
    field("build_stats", false, Kind::Object(BUILD_STATS)),
    field("cache_key", false, Kind::Text(Format::Digest)),
    field("packet_hash", true, Kind::Text(Format::DigestOrEmpty)),
];

const INPUTS: &[Field] = &[
    field("db_query", false, TEXT),
    field("qdrant_query", false, TEXT),
    field("ast_files", false, Kind::Texts(Format::Path)),
    field("files", false, Kind::Objects(INPUT_FILE)),
];

const INPUT_FILE: &[Field] = &[
    field("path", true, Kind::Text(Format::Path)),
    field("digest", true, Kind::Text(Format::Digest)),
    field("size", true, COUNT),
];

const BUILD_STATS: &[Field] = &[
    field("duration_ms", false, COUNT),
    field("items_collected", false, COUNT),
    field("items_filtered", false, COUNT),
    field("tokens_total", false, COUNT),
    field("dropped", false, Kind::Objects(DROPPED)),
];

const DROPPED: &[Field] = &[
    field("item_name", true, TEXT),
    field("path", false, Kind::Text(Format::Path)),
    field("reason", true, Kind::Choice(Choice::Fixed(DROP_REASONS))),
    field("tokens_est", true, COUNT),
];

const ATTACHMENT: &[Field] = &[
    field("name", true, TEXT),
    field("content", true, Kind::Limited(MAX_ATTACHMENT)),
    field("mime_type", false, TEXT),
];

struct Check<'a> {
    rules: &'a SchemaRules,
    out: Vec<Violation>,
}

impl Check<'_> {
    fn push(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.out.push(Violation::new(path, code, message));
    }

    /// Required, unknown and per-field checks of one object, in the object's own key order for stable output.
    fn fields(&mut self, map: &Map<String, Value>, at: &str, fields: &[Field]) {
        for f in fields.iter().filter(|f| f.required && !map.contains_key(f.name)) {
            self.push(join(at, f.name), "required", "is missing");
        }
        for (key, value) in map {
            let path = join(at, key);
            match fields.iter().find(|f| f.name == key) {
                Some(f) => self.value(value, &path, f.kind),
                None => self.push(path, "unknown_field", format!("is not a field here ({})", names(fields))),
            }
        }
    }

    fn value(&mut self, value: &Value, path: &str, kind: Kind) {
        match kind {
            Kind::Text(format) => match value.as_str() {
                Some(s) => self.format(s, path, format),
                None => self.wrong_type(value, path, "a string"),
            },
            Kind::Limited(max) => match value.as_str() {
                Some(s) => {
                    let chars = s.chars().count();
                    if chars > max {
                        self.push(path, "max_length", format!("is {chars} characters; the limit is {max}"));
                    }
                }
                None => self.wrong_type(value, path, "a string"),
            },
            Kind::Choice(choice) => match value.as_str() {
                Some(s) => {
                    let choices = self.rules.choices(choice);
                    if !choices.contains(&s) {
                        self.push(path, "enum", format!("{s:?} is not one of {}", list(choices)));
                    }
                }
                None => self.wrong_type(value, path, "a string"),
            },
            Kind::Bool if !value.is_boolean() => self.wrong_type(value, path, "true or false"),
            Kind::Bool => {}
            Kind::Count { min, max } => match value.as_u64() {
                Some(n) if n < min || n > max => self.push(path, "range", range_message(n, min, max)),
                Some(_) => {}
                None => self.wrong_type(value, path, "a non-negative integer"),
            },
            Kind::Integer if value.as_i64().is_none() => self.wrong_type(value, path, "an integer"),
            Kind::Integer => {}
            Kind::Number => match value.as_f64() {
                Some(n) if n < 0.0 => self.push(path, "range", "must not be negative"),
                Some(_) => {}
                None => self.wrong_type(value, path, "a number"),
            },
            Kind::Texts(format) => self.array(value, path, |check, item, at| check.value(item, at, Kind::Text(format))),
            Kind::Object(fields) => match value.as_object() {
                Some(map) => self.fields(map, path, fields),
                None => self.wrong_type(value, path, "an object"),
            },
            Kind::Objects(fields) => {
                self.array(value, path, |check, item, at| check.value(item, at, Kind::Object(fields)))
            }
        }
    }

    fn array(&mut self, value: &Value, path: &str, mut each: impl FnMut(&mut Self, &Value, &str)) {
        match value.as_array() {
            Some(items) => items.iter().enumerate().for_each(|(i, item)| each(self, item, &format!("{path}[{i}]"))),
            None => self.wrong_type(value, path, "an array"),
        }
    }

    fn format(&mut self, s: &str, path: &str, format: Format) {
        let problem = match format {
            Format::Any => None,
            Format::NonEmpty => s.is_empty().then_some("must not be empty"),
            Format::DateTime => (!is_date_time(s)).then_some("must be an RFC 3339 date-time (2025-11-16T12:00:00Z)"),
            Format::Digest => (!is_digest(s)).then_some("must be sha256:<64 lowercase hex digits>"),
            Format::DigestOrEmpty => (!s.is_empty() && !is_digest(s)).then_some("must be empty or sha256:<64 hex>"),
            Format::Path => {
                if let Some(why) = not_relative(s) {
                    self.push(path, "absolute_path", format!("{s:?} {why}; paths are relative to the project root"));
                }
                s.is_empty().then_some("must not be empty")
            }
        };
        if let Some(problem) = problem {
            self.push(path, "format", problem);
        }
    }

    fn wrong_type(&mut self, value: &Value, path: &str, expected: &str) {
        self.push(path, "type", format!("must be {expected}, not {}", kind_of(value)));
    }

    /// The cross-field rules (schema `validation_rules`). Each looks only at values of the right type, so a
    /// wrongly typed field is reported once, as `type`.
    fn rules(&mut self, packet: &Map<String, Value>) {
        let get = |section: &str, key: &str| packet.get(section).and_then(|s| s.get(key));
        let privacy = get("header", "privacy").and_then(Value::as_str);
        let remote = get("policy", "remote_allowed").and_then(Value::as_bool);
        match (privacy, remote) {
            (Some("local_only"), Some(true)) => {
                self.push("policy.remote_allowed", "privacy_mismatch", "is true but header.privacy is local_only")
            }
            (Some("remote_allowed"), Some(false)) => {
                self.push("policy.remote_allowed", "privacy_mismatch", "is false but header.privacy is remote_allowed")
            }
            _ => {}
        }
        let items = packet.get("context").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if let Some(max) = get("constraints", "max_tokens").and_then(Value::as_u64) {
            let total: u64 = items.iter().filter_map(|i| i.get("tokens_est").and_then(Value::as_u64)).sum();
            if total > max {
                self.push("context", "token_budget", format!("holds {total} estimated tokens; max_tokens is {max}"));
            }
        }
        let max_items = match get("constraints", "max_items") {
            None => Some(super::DEFAULT_MAX_ITEMS),
            Some(v) => v.as_u64(),
        };
        if let Some(max) = max_items.filter(|&max| items.len() as u64 > max) {
            self.push("context", "item_limit", format!("holds {} items; max_items is {max}", items.len()));
        }
        for (i, item) in items.iter().enumerate() {
            let span = |key| item.get("span").and_then(|s| s.get(key)).and_then(Value::as_u64);
            if let (Some(start), Some(end)) = (span("start"), span("end")) {
                if end < start {
                    self.push(format!("context[{i}].span.end"), "range", format!("{end} is before start {start}"));
                }
            }
        }
        self.forbidden_paths(packet, items);
    }

    fn forbidden_paths(&mut self, packet: &Map<String, Value>, items: &[Value]) {
        let patterns = packet.get("constraints").and_then(|c| c.get("forbidden_paths")).and_then(Value::as_array);
        let mut globs = Vec::new();
        for (i, pattern) in patterns.map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
            let Some(pattern) = pattern.as_str() else { continue };
            match Glob::parse(pattern) {
                Ok(glob) => globs.push(glob),
                Err(e) => self.push(format!("constraints.forbidden_paths[{i}]"), "format", e.message),
            }
        }
        if globs.is_empty() {
            return;
        }
        // Only what the model reads: `provenance.inputs` lists every file the build read (a forbidden one
        // included, so that editing it changes the cache key) by path and digest, never by content.
        let paths = items.iter().enumerate().map(|(i, item)| (format!("context[{i}].path"), item.get("path")));
        for (at, path) in paths {
            let Some(path) = path.and_then(Value::as_str).filter(|p| not_relative(p).is_none() && !p.is_empty()) else {
                continue;
            };
            if let Some(glob) = globs.iter().find(|g| g.matches(path)) {
                self.push(at, "forbidden_path", format!("{path:?} matches forbidden glob {:?}", glob.as_str()));
            }
        }
    }
}

/// Why a path is not relative to the project root, if it is not.
fn not_relative(path: &str) -> Option<&'static str> {
    let bytes = path.as_bytes();
    if path.starts_with('/') || path.starts_with('\\') {
        Some("is absolute")
    } else if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        Some("starts with a drive letter")
    } else if path.split(['/', '\\']).any(|segment| segment == "..") {
        Some("climbs out with '..'")
    } else {
        None
    }
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| crate::digest::Digest::from_hex(hex).is_ok())
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn names(fields: &[Field]) -> String {
    list(fields.iter().map(|f| f.name))
}

fn list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values.into_iter().collect::<Vec<_>>().join(", ")
}

fn range_message(n: u64, min: u64, max: u64) -> String {
    if max == ANY {
        format!("{n} is below the minimum {min}")
    } else {
        format!("{n} is outside {min}..={max}")
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A valid packet that uses every field, shared by the YAML, schema and hash tests.
    pub(crate) fn fixture_value() -> Value {
        let hash = format!("sha256:{}", "a".repeat(64));
        json!({
            "header": {
                "packet_id": "4f6c1c3e-6a51-4c63-9d4e-0d5c1f1b2a10",
                "task_id": "TASK-1",
                "task_type": "docstring.fix",
                "created_at": "2025-11-16T12:00:00+00:00",
                "builder_version": "ctxpack 0.1.0",
                "privacy": "remote_allowed"
            },
            "problem": {
                "summary": "Fix the docstring of parse()", "intent_ref": ".intent/x",
                "acceptance": ["docstring matches"]
            },
            "scope": {
                "roots": ["src"], "include": ["src/**/*.py"], "exclude": ["**/test_*"], "globs": [],
                "traversal_depth": 1
            },
            "constraints": {
                "max_tokens": 10000, "max_items": 10, "time_budget_seconds": 30, "cost_budget_usd": 1.5,
                "forbidden_paths": [".env", "*.pem"], "forbidden_calls": ["os.system"]
            },
            "context": [{
                "name": "parse", "path": "src/app/parse.py", "item_type": "code", "signature": "def parse(text):",
                "span": {"start": 3, "end": 9}, "summary": "Parses text.",
                "snippet": "def parse(text):\n    \"\"\"Parse.\"\"\"\n    return text\n",
                "deps": ["re"], "hash": hash, "source": "filesystem", "tokens_est": 20, "priority": 2, "target": true
            }, {
                "name": "helper", "path": "src/app/util.py", "item_type": "summary", "source": "builtin_ast",
                "tokens_est": 5
            }],
            "invariants": ["All paths must be relative"],
            "policy": {
                "remote_allowed": true,
                "redactions_applied": [{
                    "item_name": "secret", "path": "config/.env", "action": "dropped", "rule": ".env",
                    "reason": "forbidden path", "count": 1
                }],
                "notes": "checked"
            },
            "provenance": {
                "inputs": {
                    "files": [{"path": "src/app/parse.py", "digest": hash, "size": 120}],
                    "ast_files": ["src/app/parse.py"]
                },
                "build_stats": {
                    "duration_ms": 12, "items_collected": 3, "items_filtered": 1, "tokens_total": 25,
                    "dropped": [{"item_name": "big", "path": "src/big.py", "reason": "max_tokens", "tokens_est": 9000}]
                },
                "cache_key": hash,
                "packet_hash": ""
            },
            "attachments": [{"name": "template", "content": "x", "mime_type": "text/plain"}]
        })
    }

    pub(crate) fn fixture_packet() -> Packet {
        check(fixture_value(), &SchemaRules::default()).unwrap()
    }

    fn codes_after(edit: impl FnOnce(&mut Value)) -> Vec<(String, &'static str)> {
        let mut doc = fixture_value();
        edit(&mut doc);
        validate(&doc, &SchemaRules::default()).into_iter().map(|v| (v.path, v.code)).collect()
    }

    fn one(path: &str, code: &'static str) -> Vec<(String, &'static str)> {
        vec![(path.to_string(), code)]
    }

    #[test]
    fn the_fixture_is_valid_and_becomes_a_packet() {
        assert_eq!(validate(&fixture_value(), &SchemaRules::default()), vec![]);
        let packet = fixture_packet();
        assert_eq!(packet.context.len(), 2);
        assert!(packet.context[0].target);
    }

    #[test]
    fn fixed_enums_match_the_typed_model() {
        use crate::context::packet::{DropReason, RedactionAction};
        let names = |values: Vec<Value>| values.iter().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>();
        let actions =
            [RedactionAction::Masked, RedactionAction::Dropped, RedactionAction::Flagged, RedactionAction::Truncated];
        assert_eq!(names(actions.iter().map(|a| serde_json::to_value(a).unwrap()).collect()), ACTIONS);
        let reasons = [DropReason::MaxItems, DropReason::MaxTokens];
        assert_eq!(names(reasons.iter().map(|r| serde_json::to_value(r).unwrap()).collect()), DROP_REASONS);
        let privacy = [crate::context::packet::Privacy::LocalOnly, crate::context::packet::Privacy::RemoteAllowed];
        assert_eq!(privacy.map(|p| p.as_str()), PRIVACY);
    }

    #[test]
    fn required() {
        assert_eq!(
            codes_after(|d| drop(d["header"].as_object_mut().unwrap().remove("task_id"))),
            one("header.task_id", "required")
        );
        assert_eq!(
            codes_after(|d| drop(d.as_object_mut().unwrap().remove("provenance"))),
            one("provenance", "required")
        );
        assert_eq!(
            codes_after(|d| drop(d["context"][1].as_object_mut().unwrap().remove("source"))),
            one("context[1].source", "required")
        );
    }

    #[test]
    fn type_() {
        assert_eq!(
            codes_after(|d| d["constraints"]["max_tokens"] = json!("10000")),
            one("constraints.max_tokens", "type")
        );
        assert_eq!(codes_after(|d| d["context"][0]["deps"] = json!(["a", 1])), one("context[0].deps[1]", "type"));
        assert_eq!(codes_after(|d| d["context"][0]["priority"] = json!(1.5)), one("context[0].priority", "type"));
        assert_eq!(validate(&json!([]), &SchemaRules::default())[0].path, "$");
    }

    #[test]
    fn enum_() {
        assert_eq!(
            codes_after(|d| d["header"]["task_type"] = json!("test_generation")),
            one("header.task_type", "enum")
        );
        assert_eq!(codes_after(|d| d["context"][0]["source"] = json!("web")), one("context[0].source", "enum"));
        assert_eq!(codes_after(|d| d["context"][0]["item_type"] = json!("file")), one("context[0].item_type", "enum"));
        assert_eq!(
            codes_after(|d| d["policy"]["redactions_applied"][0]["action"] = json!("erased")),
            one("policy.redactions_applied[0].action", "enum")
        );
    }

    #[test]
    fn unknown_field() {
        assert_eq!(codes_after(|d| d["header"]["policy"] = json!({})), one("header.policy", "unknown_field"));
        assert_eq!(codes_after(|d| d["items"] = json!([])), one("items", "unknown_field"));
        assert_eq!(
            codes_after(|d| d["context"][0]["content"] = json!("x")),
            one("context[0].content", "unknown_field")
        );
    }

    #[test]
    fn max_length_counts_characters() {
        assert_eq!(codes_after(|d| d["problem"]["summary"] = json!("é".repeat(500))), vec![]);
        assert_eq!(
            codes_after(|d| d["problem"]["summary"] = json!("é".repeat(501))),
            one("problem.summary", "max_length")
        );
        assert_eq!(
            codes_after(|d| d["context"][0]["summary"] = json!("x".repeat(1001))),
            one("context[0].summary", "max_length")
        );
        assert_eq!(
            codes_after(|d| d["context"][0]["snippet"] = json!("x".repeat(5001))),
            one("context[0].snippet", "max_length")
        );
        assert_eq!(
            codes_after(|d| d["attachments"][0]["content"] = json!("x".repeat(10001))),
            one("attachments[0].content", "max_length")
        );
    }

    #[test]
    fn range() {
        assert_eq!(
            codes_after(|d| d["constraints"]["max_tokens"] = json!(999)),
            one("constraints.max_tokens", "range")
        );
        assert_eq!(
            codes_after(|d| d["constraints"]["max_tokens"] = json!(200_001)),
            one("constraints.max_tokens", "range")
        );
        assert_eq!(codes_after(|d| d["constraints"]["max_tokens"] = json!(200_000)), vec![]);
        assert_eq!(codes_after(|d| d["context"][0]["span"]["start"] = json!(0)), one("context[0].span.start", "range"));
        assert_eq!(codes_after(|d| d["context"][0]["span"]["end"] = json!(2)), one("context[0].span.end", "range"));
        assert_eq!(
            codes_after(|d| d["constraints"]["cost_budget_usd"] = json!(-1)),
            one("constraints.cost_budget_usd", "range")
        );
    }

    #[test]
    fn format() {
        assert_eq!(codes_after(|d| d["header"]["created_at"] = json!("yesterday")), one("header.created_at", "format"));
        assert_eq!(codes_after(|d| d["header"]["packet_id"] = json!("")), one("header.packet_id", "format"));
        assert_eq!(codes_after(|d| d["header"]["packet_id"] = json!("not-a-uuid")), vec![]);
        assert_eq!(codes_after(|d| d["context"][0]["hash"] = json!("abc")), one("context[0].hash", "format"));
        assert_eq!(
            codes_after(|d| d["provenance"]["cache_key"] = json!("a".repeat(64))),
            one("provenance.cache_key", "format")
        );
        let upper = format!("sha256:{}", "A".repeat(64));
        assert_eq!(
            codes_after(|d| d["provenance"]["packet_hash"] = json!(upper)),
            one("provenance.packet_hash", "format")
        );
        let good = format!("sha256:{}", "0".repeat(64));
        assert_eq!(codes_after(|d| d["provenance"]["packet_hash"] = json!(good)), vec![]);
        assert_eq!(
            codes_after(|d| d["constraints"]["forbidden_paths"] = json!(["ok", "a**b"])),
            one("constraints.forbidden_paths[1]", "format")
        );
    }

    #[test]
    fn absolute_path() {
        for bad in ["/etc/passwd", "C:/x.py", "c:x", "src/../../x", "\\\\server\\share"] {
            assert_eq!(
                codes_after(|d| d["context"][0]["path"] = json!(bad)),
                one("context[0].path", "absolute_path"),
                "{bad}"
            );
        }
        assert_eq!(
            codes_after(|d| d["provenance"]["inputs"]["files"][0]["path"] = json!("/home/me/x")),
            one("provenance.inputs.files[0].path", "absolute_path")
        );
        assert_eq!(codes_after(|d| d["context"][0]["path"] = json!("src/..x/a..b.py")), vec![]);
    }

    #[test]
    fn privacy_mismatch_both_ways() {
        // The original's builder hard-coded remote_allowed false, so every remote_allowed task failed here.
        assert_eq!(
            codes_after(|d| d["policy"]["remote_allowed"] = json!(false)),
            one("policy.remote_allowed", "privacy_mismatch")
        );
        assert_eq!(
            codes_after(|d| d["header"]["privacy"] = json!("local_only")),
            one("policy.remote_allowed", "privacy_mismatch")
        );
        let local = |d: &mut Value| {
            d["header"]["privacy"] = json!("local_only");
            d["policy"]["remote_allowed"] = json!(false);
        };
        assert_eq!(codes_after(local), vec![]);
    }

    #[test]
    fn token_budget() {
        assert_eq!(codes_after(|d| d["context"][1]["tokens_est"] = json!(9981)), one("context", "token_budget"));
        assert_eq!(codes_after(|d| d["context"][1]["tokens_est"] = json!(9980)), vec![]);
    }

    #[test]
    fn item_limit() {
        assert_eq!(codes_after(|d| d["constraints"]["max_items"] = json!(1)), one("context", "item_limit"));
        let fifty_one = |d: &mut Value| {
            d["constraints"].as_object_mut().unwrap().remove("max_items");
            let item = json!({"name": "x", "item_type": "symbol", "source": "db"});
            d["context"] = Value::Array(vec![item; 51]);
        };
        assert_eq!(codes_after(fifty_one), one("context", "item_limit"));
    }

    #[test]
    fn structure_alone_ignores_the_rules_between_fields() {
        let mut doc = fixture_value();
        doc["constraints"]["max_items"] = json!(1);
        doc["header"]["privacy"] = json!("local_only");
        assert!(!validate(&doc, &SchemaRules::default()).is_empty());
        assert!(check_structure(doc.clone(), &SchemaRules::default()).is_ok());
        doc["context"][0]["item_type"] = json!("widget");
        let violations = check_structure(doc, &SchemaRules::default()).unwrap_err();
        assert_eq!(
            violations.iter().map(|v| (v.path.as_str(), v.code)).collect::<Vec<_>>(),
            [("context[0].item_type", "enum")]
        );
    }

    #[test]
    fn forbidden_path() {
        assert_eq!(
            codes_after(|d| d["context"][1]["path"] = json!("deploy/.env")),
            one("context[1].path", "forbidden_path")
        );
        // The inputs name every file the build read, by digest: what makes a changed .env a cache miss.
        assert_eq!(codes_after(|d| d["provenance"]["inputs"]["files"][0]["path"] = json!("keys/server.pem")), vec![]);
        // A redaction record names the forbidden file it removed; that is the point of it.
        assert_eq!(codes_after(|d| d["policy"]["redactions_applied"][0]["path"] = json!("x.pem")), vec![]);
    }

    #[test]
    fn reports_all_violations_at_once() {
        let doc = json!({
            "header": {
                "task_id": "", "task_type": "test_generation", "created_at": "now", "builder_version": "x",
                "privacy": "local_only"
            },
            "problem": {"summary": 5},
            "scope": {},
            "constraints": {"max_tokens": 10, "max_items": 1, "forbidden_paths": ["*.pem"]},
            "context": [
                {"name": "a", "item_type": "code", "source": "db", "path": "/abs.py", "tokens_est": 50},
                {"name": "b", "item_type": "code", "source": "db", "path": "k.pem", "span": {"start": 5, "end": 1}}
            ],
            "policy": {"remote_allowed": true},
            "provenance": {"inputs": {}},
            "extra": 1
        });
        let found: Vec<(String, &str)> =
            validate(&doc, &SchemaRules::default()).into_iter().map(|v| (v.path, v.code)).collect();
        let expected = [
            ("header.packet_id", "required"),
            ("header.task_id", "format"),
            ("header.task_type", "enum"),
            ("header.created_at", "format"),
            ("problem.summary", "type"),
            ("scope.roots", "required"),
            ("constraints.max_tokens", "range"),
            ("context[0].path", "absolute_path"),
            ("extra", "unknown_field"),
            ("provenance.packet_hash", "required"),
            ("policy.remote_allowed", "privacy_mismatch"),
            ("context", "token_budget"),
            ("context", "item_limit"),
            ("context[1].span.end", "range"),
            ("context[1].path", "forbidden_path"),
        ];
        let mut found_sorted = found.clone();
        found_sorted.sort();
        let mut expected: Vec<(String, &str)> = expected.iter().map(|(p, c)| (p.to_string(), *c)).collect();
        expected.sort();
        assert_eq!(found_sorted, expected, "{found:#?}");
    }

    #[test]
    fn the_originals_known_bad_cases() {
        // tests/services/test_context_service.py: a header alone.
        let found = validate(&json!({"header": {"task_id": "TEST"}}), &SchemaRules::default());
        assert!(found.iter().any(|v| v.path == "problem" && v.code == "required"));
        assert!(found.iter().any(|v| v.path == "header.packet_id" && v.code == "required"));
        // privacy remote_allowed with the builder's hard-coded policy.remote_allowed false.
        let mut doc = fixture_value();
        doc["policy"]["remote_allowed"] = json!(false);
        let e = check(doc, &SchemaRules::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::PacketInvalid);
        assert_eq!(e.message, "policy.remote_allowed: privacy_mismatch is false but header.privacy is remote_allowed");
    }

    #[test]
    fn schema_document_supplies_the_enums() {
        let schema = crate::context::packet::yaml::parse_document(ORIGINAL_SCHEMA).unwrap();
        let rules = SchemaRules::from_schema_document(&schema).unwrap();
        let five = ["docstring.fix", "header.fix", "test.generate", "code.generate", "refactor"];
        assert_eq!(rules.task_types, five);
        assert_eq!(rules.sources, ["db", "qdrant", "ast", "filesystem"]);
        assert_eq!(rules.item_types.len(), 7);
        let mut doc = fixture_value();
        doc["header"]["task_type"] = json!("security.audit");
        assert_eq!(validate(&doc, &rules)[0].code, "enum");
        // ctxpack's own builder source is always accepted.
        let narrow = json!({"structure": {"context": {"items": {"fields": {"source": {"enum": ["db"]}}}}}});
        assert_eq!(SchemaRules::from_schema_document(&narrow).unwrap().sources, ["db", "filesystem"]);
    }

    #[test]
    fn a_bad_schema_document_lists_its_problems() {
        let bad = json!({
            "version": "0.3",
            "structure": {
                "header": {"fields": {"task_type": {"enum": []}}},
                "context": {"items": {"fields": {"item_type": {"enum": ["symbol", "file"]}}}}
            }
        });
        let e = SchemaRules::from_schema_document(&bad).unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyInvalid);
        assert!(e.message.contains("version: version"), "{}", e.message);
        assert!(e.message.contains("structure.header.fields.task_type.enum: type"), "{}", e.message);
        assert!(e.message.contains("item_type.enum[1]: enum"), "{}", e.message);
    }

    /// The enum-bearing parts of the original `.intent/context/schema.yaml` (seed-study Appendix A).
    const ORIGINAL_SCHEMA: &str = r#"
version: "0.2"
schema_type: "context_package"
structure:
  header:
    fields:
      task_type:
        type: string
        enum: [docstring.fix, header.fix, test.generate, code.generate, refactor]
      privacy:
        type: string
        enum: [local_only, remote_allowed]
        default: local_only
  context:
    type: array
    items:
      type: object
      fields:
        item_type:
          type: string
          enum: [symbol, snippet, summary, dependency, test, signature, code]
        source:
          type: string
          enum: [db, qdrant, ast, filesystem]
"#;
}
