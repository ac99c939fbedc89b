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
use crate::error::{ErrorCode, Result};
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
    serde_json::from_value(doc)
        .map_err(|e| violations_error(ErrorCode::PacketInvalid, &[Violation::new("$", "type", e.to_string())]))
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

/// [`check_structure`]'s violations for a document read in parts: the item at `index` of `context`.
pub fn check_item(item: &Value, index: usize, rules: &SchemaRules) -> Vec<Violation> {
    let mut check = Check { rules, out: Vec::new() };
    check.value(item, &format!("context[{index}]"), Kind::Object(ITEM));
    check.out
}

/// [`check_structure`]'s violations for a document read in parts: its top-level entries (`context` among them
/// as an empty list, if present), with `items`, the violations of its items, where the whole document's list
/// has them.
pub fn check_sections(sections: &Map<String, Value>, items: Vec<Violation>, rules: &SchemaRules) -> Vec<Violation> {
    let mut check = Check { rules, out: Vec::new() };
    let mut items = Some(items);
    for f in PACKET.iter().filter(|f| f.required && !sections.contains_key(f.name)) {
        check.push(f.name, "required", "is missing");
    }
    for (key, value) in sections {
        match key.as_str() {
            "context" => check.out.extend(items.take().unwrap_or_default()),
            _ => check.out.extend(check_section(key, value, rules)),
        }
    }
    check.out
}

/// [`check_structure`]'s violations for one top-level entry.
pub fn check_section(key: &str, value: &Value, rules: &SchemaRules) -> Vec<Violation> {
    let mut check = Check { rules, out: Vec::new() };
    match PACKET.iter().find(|f| f.name == key) {
        Some(f) => check.value(value, key, f.kind),
        None => check.push(key, "unknown_field", format!("is not a field here ({})", names(PACKET))),
    }
    check.out
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
    field("forbidden_files", false, COUNT),
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
    field("dropped_omitted", false, COUNT),
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
                        self.push(path, "enum", format!("is not one of {}", list(choices)));
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
                    self.push(path, "absolute_path", format!("{why}; paths are relative to the project root"));
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
                Ok(glob) => globs.push((i, glob)),
                Err(_) => self.push(
                    format!("constraints.forbidden_paths[{i}]"),
                    "format",
                    "is not a glob (`*` and `?` within a segment, `**` as a whole segment, `[a-z]` classes, `\\` escapes)",
                ),
            }
        }
        if globs.is_empty() {
            return;
        }
        // Only what the model reads: `provenance.inputs` lists the files the build read by path and digest (a
        // forbidden one only by count), never by content.
        let paths = items.iter().enumerate().map(|(i, item)| (format!("context[{i}].path"), item.get("path")));
        for (at, path) in paths {
            let Some(path) = path.and_then(Value::as_str).filter(|p| not_relative(p).is_none() && !p.is_empty()) else {
                continue;
            };
            if let Some((i, _)) = globs.iter().find(|(_, glob)| glob.matches(path)) {
                self.push(at, "forbidden_path", format!("matches constraints.forbidden_paths[{i}]"));
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
        Value::Number(n) if n.is_u64() => "an integer",
        Value::Number(n) if n.is_i64() => "a negative integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
pub(crate) mod tests;
