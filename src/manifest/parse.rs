//! Reading `manifest.json` in one pass, in memory proportional to its entries: each entry is read straight
//! into a [`TreeEntry`] (never a generic JSON tree, which costs ten times as much), and `provenance`, which is
//! not identity, is measured as written and refused past its limit before it is parsed.

use super::ManifestLimits;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use crate::tree::TreeEntry;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;

/// The largest `size` a tree entry may record (spec §4: sizes are exact in a double).
const MAX_SIZE: u64 = 1 << 53;

/// The top-level fields as read: identity fields as strict JSON, entries as tree entries.
pub(super) struct Fields {
    pub ctxpack: Option<Value>,
    pub uri: Option<Value>,
    pub contract: Option<Value>,
    pub outputs: Option<Outputs>,
    pub provenance: Option<Value>,
}

pub(super) struct Outputs {
    pub digest: Option<Value>,
    pub entries: Option<Vec<TreeEntry>>,
}

/// Reads the manifest's fields; the caller checks what they say.
pub(super) fn read_fields(bytes: &[u8], limits: &ManifestLimits) -> Result<Fields> {
    let context = Context { limits, failure: RefCell::new(None) };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let read = ManifestSeed(&context).deserialize(&mut de).and_then(|fields| de.end().map(|()| fields));
    match (read, context.failure.into_inner()) {
        (_, Some(error)) => Err(error),
        (Ok(fields), None) => Ok(fields),
        (Err(e), None) => Err(serde_error(&e)),
    }
}

fn serde_error(e: &serde_json::Error) -> Error {
    let why = match e.classify() {
        serde_json::error::Category::Data => format!("manifest.json is malformed: {e}"),
        _ => format!("manifest.json is not valid JSON: {e}"),
    };
    Error::new(ErrorCode::ManifestInvalid, why)
}

/// Shared by the seeds: the limits, and the first typed error (serde errors carry only text).
struct Context<'l> {
    limits: &'l ManifestLimits,
    failure: RefCell<Option<Error>>,
}

impl Context<'_> {
    fn fail<E: de::Error>(&self, error: Error) -> E {
        let message = error.message.clone();
        self.failure.borrow_mut().get_or_insert(error);
        E::custom(message)
    }

    fn invalid<E: de::Error>(&self, why: impl Into<String>) -> E {
        self.fail(Error::new(ErrorCode::ManifestInvalid, why))
    }

    /// A strict-JSON value (duplicate keys, inexact numbers) from its text as written.
    fn strict<E: de::Error>(&self, raw: &RawValue, field: &str) -> std::result::Result<Value, E> {
        jcs::parse(raw.get().as_bytes()).map_err(|e| {
            self.fail(
                Error::new(ErrorCode::ManifestInvalid, format!("manifest.json is not valid JSON: {}", e.message))
                    .at(field),
            )
        })
    }
}

fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, context: &Context, key: &str) -> std::result::Result<(), E> {
    if slot.replace(value).is_some() {
        return Err(context.fail(Error::new(ErrorCode::ManifestInvalid, format!("duplicate key {key:?}"))));
    }
    Ok(())
}

struct ManifestSeed<'c, 'l>(&'c Context<'l>);

impl<'de> DeserializeSeed<'de> for ManifestSeed<'_, '_> {
    type Value = Fields;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Fields, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ManifestSeed<'_, '_> {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("manifest.json to be a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Fields, A::Error> {
        let context = self.0;
        let mut fields = Fields { ctxpack: None, uri: None, contract: None, outputs: None, provenance: None };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "ctxpack" => {
                    let value = context.strict(map.next_value::<&RawValue>()?, &key)?;
                    once(&mut fields.ctxpack, value, context, &key)?;
                }
                "uri" => {
                    let value = context.strict(map.next_value::<&RawValue>()?, &key)?;
                    once(&mut fields.uri, value, context, &key)?;
                }
                "contract" => {
                    let value = context.strict(map.next_value::<&RawValue>()?, &key)?;
                    once(&mut fields.contract, value, context, &key)?;
                }
                "outputs" => {
                    let outputs = map.next_value_seed(OutputsSeed(context))?;
                    once(&mut fields.outputs, outputs, context, &key)?;
                }
                "provenance" => {
                    let raw = map.next_value::<&RawValue>()?;
                    let limit = context.limits.max_provenance_bytes;
                    let size = raw.get().len() as u64;
                    if size > limit {
                        return Err(context.fail(
                            Error::new(
                                ErrorCode::LimitExceeded,
                                format!("is {size} bytes, above the limit of {limit} bytes (maxProvenanceBytes)"),
                            )
                            .at("provenance")
                            .hint("provenance is not part of the identity; raise maxProvenanceBytes (--max-provenance-bytes) only if you trust this pack"),
                        ));
                    }
                    let value = context.strict(raw, &key)?;
                    once(&mut fields.provenance, value, context, &key)?;
                }
                other => return Err(context.invalid(format!("unexpected field {other:?} in a pack/v1 manifest"))),
            }
        }
        Ok(fields)
    }
}

struct OutputsSeed<'c, 'l>(&'c Context<'l>);

impl<'de> DeserializeSeed<'de> for OutputsSeed<'_, '_> {
    type Value = Outputs;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Outputs, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OutputsSeed<'_, '_> {
    type Value = Outputs;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("\"outputs\" to be an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Outputs, A::Error> {
        let context = self.0;
        let mut outputs = Outputs { digest: None, entries: None };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "digest" => {
                    let value = context.strict(map.next_value::<&RawValue>()?, "outputs.digest")?;
                    once(&mut outputs.digest, value, context, "outputs.digest")?;
                }
                "entries" => {
                    let entries = map.next_value_seed(EntriesSeed(context))?;
                    once(&mut outputs.entries, entries, context, "outputs.entries")?;
                }
                _ => return Err(context.invalid("\"outputs\" must hold exactly \"digest\" and \"entries\"")),
            }
        }
        Ok(outputs)
    }
}

struct EntriesSeed<'c, 'l>(&'c Context<'l>);

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = Vec<TreeEntry>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Vec<TreeEntry>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = Vec<TreeEntry>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("tree entries to be an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<TreeEntry>, A::Error> {
        let context = self.0;
        let max = context.limits.max_entries;
        let mut entries = Vec::new();
        while let Some(entry) = seq.next_element_seed(EntrySeed(context, entries.len()))? {
            if entries.len() as u64 >= max {
                return Err(context.fail(Error::new(
                    ErrorCode::LimitExceeded,
                    format!("the pack has more than {max} entries, above the limit (maxEntries)"),
                )));
            }
            entries.push(entry);
        }
        Ok(entries)
    }
}

/// One entry: exactly `path`, `type`, `size`, `digest`, `executable` for a file, `path`, `type`, `target`
/// for a symlink.
struct EntrySeed<'c, 'l>(&'c Context<'l>, usize);

#[derive(Default)]
struct EntryFields {
    path: Option<String>,
    kind: Option<String>,
    size: Option<u64>,
    digest: Option<String>,
    executable: Option<bool>,
    target: Option<String>,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_, '_> {
    type Value = TreeEntry;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<TreeEntry, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_, '_> {
    type Value = TreeEntry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "outputs.entries[{}] to be an object", self.1)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<TreeEntry, A::Error> {
        let EntrySeed(context, index) = self;
        let at = format!("outputs.entries[{index}]");
        let invalid = |why: String| context.fail::<A::Error>(Error::new(ErrorCode::ManifestInvalid, why).at(&at));
        let mut fields = EntryFields::default();
        while let Some(key) = map.next_key::<String>()? {
            // Read as a small JSON value, so broken JSON stays a syntax error and a wrong type is named.
            let value: Value = map.next_value()?;
            let typed = |what: &str| invalid(format!("{key:?} must be {what}"));
            let text = |value: Value| match value {
                Value::String(text) => Ok(text),
                _ => Err(typed("a string")),
            };
            let duplicate = match key.as_str() {
                "path" => fields.path.replace(text(value)?).is_some(),
                "type" => fields.kind.replace(text(value)?).is_some(),
                "digest" => fields.digest.replace(text(value)?).is_some(),
                "target" => fields.target.replace(text(value)?).is_some(),
                "executable" => fields.executable.replace(value.as_bool().ok_or_else(|| typed("a boolean"))?).is_some(),
                "size" => {
                    let size = value.as_u64().filter(|size| *size <= MAX_SIZE);
                    fields.size.replace(size.ok_or_else(|| typed("an integer from 0 to 2^53"))?).is_some()
                }
                _ => return Err(invalid(format!("unexpected field {key:?}"))),
            };
            if duplicate {
                return Err(invalid(format!("duplicate key {key:?}")));
            }
        }
        let path = fields.path.ok_or_else(|| invalid("\"path\" must be a string".into()))?;
        match (fields.kind.as_deref(), fields.size, fields.digest, fields.executable, fields.target) {
            (Some("file"), Some(size), Some(digest), Some(executable), None) => {
                let digest = Digest::parse(&digest).map_err(|e| invalid(format!("\"digest\": {}", e.message)))?;
                Ok(TreeEntry::file(path, size, digest, executable))
            }
            (Some("symlink"), None, None, None, Some(target)) => Ok(TreeEntry::symlink(path, target)),
            (Some("file"), ..) => Err(invalid(
                "a file entry has exactly \"path\", \"type\", \"size\", \"digest\" and \"executable\"".into(),
            )),
            (Some("symlink"), ..) => {
                Err(invalid("a symlink entry has exactly \"path\", \"type\" and \"target\"".into()))
            }
            (Some(other), ..) => Err(invalid(format!("unknown entry type {other:?}"))),
            (None, ..) => Err(invalid("\"type\" must be a string".into())),
        }
    }
}
