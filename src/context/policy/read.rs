//! Typed reads from a policy document that report bad values with their key path.
//!
//! A missing key and a `null` value both mean "use the default", so a YAML section left empty (`pii:`) is the
//! same as an absent one.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// An object in the document (or an absent one, read as empty) and where it is.
pub(super) struct Section<'a> {
    path: String,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Section<'a> {
    pub fn root(document: &'a Value) -> Result<Section<'a>> {
        match document {
            Value::Object(map) => Ok(Section { path: String::new(), map: Some(map) }),
            _ => Err(super::invalid("document", "must be a mapping of sections")),
        }
    }

    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn invalid(&self, key: &str, why: &str) -> Error {
        super::invalid(&self.key_path(key), why)
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|map| map.get(key)).filter(|value| !value.is_null())
    }

    pub fn section(&self, key: &str) -> Result<Section<'a>> {
        match self.get(key) {
            None => Ok(Section { path: self.key_path(key), map: None }),
            Some(Value::Object(map)) => Ok(Section { path: self.key_path(key), map: Some(map) }),
            Some(_) => Err(self.invalid(key, "must be a mapping")),
        }
    }

    /// A list of mappings, each read as a section at `key[i]`.
    pub fn entries(&self, key: &str) -> Result<Option<Vec<Section<'a>>>> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let items = value.as_array().ok_or_else(|| self.invalid(key, "must be a list"))?;
        let path = self.key_path(key);
        items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::Object(map) => Ok(Section { path: format!("{path}[{index}]"), map: Some(map) }),
                _ => Err(super::invalid(&format!("{path}[{index}]"), "must be a mapping")),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    pub fn keys(&self) -> Vec<String> {
        self.map.map(|map| map.keys().cloned().collect()).unwrap_or_default()
    }

    /// Rejects keys outside `allowed`: for sections ctxpack introduced, where a typo would silently do nothing.
    pub fn only_keys(&self, allowed: &[&str]) -> Result<()> {
        match self.keys().into_iter().find(|key| !allowed.contains(&key.as_str())) {
            Some(key) => Err(self.invalid(&key, &format!("is not a known key (known: {})", allowed.join(", ")))),
            None => Ok(()),
        }
    }

    pub fn string(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(self.invalid(key, "must be a string")),
        }
    }

    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let items = value.as_array().ok_or_else(|| self.invalid(key, "must be a list of strings"))?;
        items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| self.invalid(key, "must be a list of strings")))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(value)) => Ok(*value),
            Some(_) => Err(self.invalid(key, "must be true or false")),
        }
    }

    /// A whole number ≥ 0 (YAML may hand `5000` over as `5000.0`).
    pub fn integer(&self, key: &str) -> Result<Option<u64>> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let whole = value
            .as_u64()
            .or_else(|| value.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15).map(|f| f as u64));
        whole.map(Some).ok_or_else(|| self.invalid(key, "must be a whole number ≥ 0"))
    }

    pub fn positive_or(&self, key: &str, default: u64) -> Result<u64> {
        match self.integer(key)? {
            None => Ok(default),
            Some(0) => Err(self.invalid(key, "must be at least 1")),
            Some(value) => Ok(value),
        }
    }

    pub fn number(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => {
                value.as_f64().filter(|f| f.is_finite()).map(Some).ok_or_else(|| self.invalid(key, "must be a number"))
            }
        }
    }
}
