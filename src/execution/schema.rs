//! The shape shared by execution logs and execution manifests: the same fields in the same places, except
//! that where a log holds a content, a manifest holds a reference to a blob.

use super::problem::{JsonPath, Problems};
use super::rfc3339;
use super::EXECUTION_V1;
use crate::error::Result;
use crate::uri::CtxUri;
use serde_json::{Map, Value};

pub(crate) enum Kind {
    /// A content in a log, a blob reference in a manifest.
    Content,
    Text,
    NonEmptyText,
    /// A free-form JSON object (parameters, tool versions).
    Object,
    Bool,
    /// A step's index: a non-negative integer equal to the step's position.
    Index,
    Time,
    Uri,
    /// `"ctxpack"`: required in a manifest, reserved (so never in) a log.
    Version,
    Record(&'static [Field]),
    List(&'static [Field]),
}

pub(crate) struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn required(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: true }
}

const fn optional(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false }
}

use Kind::*;

const MODEL: &[Field] = &[required("identifier", NonEmptyText), optional("parameters", Object)];
const PROMPT: &[Field] = &[required("role", Text), required("content", Content)];
const INPUT: &[Field] = &[required("name", Text), required("content", Content)];
const STEP: &[Field] = &[
    optional("index", Index),
    required("type", Text),
    required("tool", Text),
    optional("parameters", Object),
    optional("output", Content),
    optional("deterministic", Bool),
    optional("timestamp", Time),
];
const OUTPUT: &[Field] = &[required("name", Text), optional("content", Content)];
const ENVIRONMENT: &[Field] = &[required("os", Text), required("runtime", Text), optional("tool_versions", Object)];

/// The top level of a log and of a manifest.
pub(crate) const EXECUTION: &[Field] = &[
    optional("ctxpack", Version),
    required("model", Record(MODEL)),
    required("system_prompt", Content),
    optional("prompts", List(PROMPT)),
    optional("inputs", List(INPUT)),
    optional("steps", List(STEP)),
    optional("outputs", List(OUTPUT)),
    required("environment", Record(ENVIRONMENT)),
    optional("parent", Uri),
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Log,
    Manifest,
}

/// One validation walk: what kind of document, what to do with unknown fields, how contents look.
pub(crate) struct Check {
    pub mode: Mode,
    pub allow_unknown: bool,
    /// The problem with a content (log) or blob reference (manifest), if any.
    pub content: fn(&Value) -> Option<String>,
    pub problems: Problems,
}

impl Check {
    pub fn record(&mut self, value: &Value, fields: &[Field], path: &JsonPath, position: Option<usize>) {
        let Some(object) = value.as_object() else {
            return self.problems.add(path, "must be an object");
        };
        for field in fields {
            let at = path.key(field.name);
            let required = field.required || (matches!(field.kind, Version) && self.mode == Mode::Manifest);
            match object.get(field.name) {
                Some(value) => self.value(value, &field.kind, &at, position),
                None if required => self.problems.add(&at, "required"),
                None => {}
            }
        }
        if !self.allow_unknown {
            for key in object.keys().filter(|key| known(fields, key).is_none()) {
                self.problems.add(&path.key(key), "unknown field (pass allowUnknown to keep it)");
            }
        }
    }

    fn value(&mut self, value: &Value, kind: &Kind, at: &JsonPath, position: Option<usize>) {
        let problem = match kind {
            Content => (self.content)(value),
            Text => (!value.is_string()).then(|| "must be a string".to_string()),
            NonEmptyText => match value.as_str() {
                Some("") => Some("must not be empty".to_string()),
                Some(_) => None,
                None => Some("must be a string".to_string()),
            },
            Object => (!value.is_object()).then(|| "must be an object".to_string()),
            Bool => (!value.is_boolean()).then(|| "must be a boolean".to_string()),
            Index => match (value.as_u64(), position) {
                (Some(index), Some(position)) if index != position as u64 => {
                    Some(format!("index {index} is not its position {position}"))
                }
                (Some(_), _) => None,
                (None, _) => Some("must be a non-negative integer".to_string()),
            },
            Time => match value.as_str() {
                Some(text) if rfc3339::is_date_time(text) => None,
                Some(_) => Some("not an RFC 3339 time".to_string()),
                None => Some("must be a string".to_string()),
            },
            Uri => match value.as_str().map(CtxUri::parse) {
                Some(Ok(_)) => None,
                _ => Some("must be a ctx://sha256 URI".to_string()),
            },
            Version => match self.mode {
                Mode::Log => Some("reserved for the execution manifest".to_string()),
                Mode::Manifest if value.as_str() == Some(EXECUTION_V1) => None,
                Mode::Manifest => Some(format!("must be {EXECUTION_V1:?}")),
            },
            Record(fields) => return self.record(value, fields, at, None),
            List(fields) => match value.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.record(item, fields, &at.index(i), Some(i));
                    }
                    None
                }
                None => Some("must be an array".to_string()),
            },
        };
        if let Some(message) = problem {
            self.problems.add(at, message);
        }
    }
}

fn known<'a>(fields: &'a [Field], key: &str) -> Option<&'a Field> {
    fields.iter().find(|field| field.name == key)
}

/// Rebuilds a checked document with every content replaced by `f(content)`; other fields, known or not,
/// are copied as they are.
pub(crate) fn map_contents(
    value: &Value,
    fields: &[Field],
    f: &mut dyn FnMut(&Value) -> Result<Value>,
) -> Result<Value> {
    let Some(object) = value.as_object() else { return Ok(value.clone()) };
    let mut out = Map::new();
    for (key, value) in object {
        let mapped = match known(fields, key).map(|field| &field.kind) {
            Some(Content) => f(value)?,
            Some(Record(fields)) => map_contents(value, fields, f)?,
            Some(List(fields)) => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|item| map_contents(item, fields, f))
                    .collect::<Result<_>>()?,
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), mapped);
    }
    Ok(Value::Object(out))
}
