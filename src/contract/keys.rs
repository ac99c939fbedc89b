//! The keys a contract's objects may have. A misspelled key (`codepath`, `transfroms`) would otherwise be
//! hashed as an unknown part of the recipe while the field it was meant to be stays absent, so editing the
//! code would stop changing the URI and a stale result would be served. Extensions have their own place:
//! `meta` (any JSON) or any key starting with `x-`, at every level; both are part of the identity.

use crate::error::{Error, ErrorCode, Result};
use serde_json::{Map, Value};

/// Where extensions go: any JSON under this key is part of the recipe.
pub const META: &str = "meta";
/// Keys with this prefix are extensions, part of the recipe.
pub const EXTENSION_PREFIX: &str = "x-";

/// The top level. Besides inputs, transforms and outputs, a contract may describe single-step work directly,
/// as the original CtxPack's contracts did (`dataset`, `model`, `tool`, `params`, …).
pub const TOP_LEVEL: &[&str] = &[
    "name",
    "description",
    "inputs",
    "transforms",
    "outputs",
    "params",
    "dataset",
    "model",
    "embedding",
    "tool",
    "tool_version",
    META,
];

/// An item of `inputs`.
pub const INPUT: &[&str] = &["name", "path", "digest", "uri", "type", "description", META];

/// An item of `transforms`. `params` holds the tool's parameters, free-form.
pub const TRANSFORM: &[&str] =
    &["tool", "tool_version", "version", "name", "model", "params", "code_path", "code_hash", "description", META];

/// Rejects the first key of `object` (in key order) that is neither in `known` nor an extension. `at` is the
/// JSON path of the object (empty for the top level); `also` lists keys allowed in this form only (`ctxpack`
/// in a resolved contract).
pub fn check_known(object: &Map<String, Value>, at: &str, known: &[&str], also: &[&str]) -> Result<()> {
    let unknown = object.keys().find(|key| {
        !key.starts_with(EXTENSION_PREFIX) && !known.contains(&key.as_str()) && !also.contains(&key.as_str())
    });
    let Some(key) = unknown else { return Ok(()) };
    let extensions = format!("extensions go under \"{META}\" or in keys starting with \"{EXTENSION_PREFIX}\"");
    let hint = match suggestion(key, known) {
        Some(near) => format!("did you mean \"{near}\"? (otherwise: {extensions})"),
        None => format!("the keys here are {}; {extensions}", known.join(", ")),
    };
    Err(Error::new(ErrorCode::ContractInvalid, format!("unknown key {key:?}")).at(key_path(at, key)).hint(hint))
}

/// `at.key`, or `at["key"]` when the key is not a plain identifier (as JavaScript would write it).
pub fn key_path(at: &str, key: &str) -> String {
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match (plain, at.is_empty()) {
        (true, true) => key.to_string(),
        (true, false) => format!("{at}.{key}"),
        (false, _) => format!("{at}[{}]", Value::from(key)),
    }
}

/// The known key nearest to `key`, when it is near enough to be a slip of the keyboard: at most one edit per
/// three characters (a transposition, a missing `_`, a changed case count as one).
fn suggestion<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = key.to_lowercase();
    let allowed = (key.chars().count() / 3).max(1);
    known
        .iter()
        .map(|candidate| (edit_distance(&lower, candidate), *candidate))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(value: Value, at: &str, known: &[&str]) -> Error {
        check_known(value.as_object().unwrap(), at, known, &[]).unwrap_err()
    }

    #[test]
    fn slips_of_the_keyboard_get_a_suggestion() {
        for (typo, meant) in [
            ("codepath", "code_path"),
            ("code-hash", "code_hash"),
            ("tol", "tool"),
            ("Params", "params"),
            ("tool_verison", "tool_version"),
            ("parms", "params"),
        ] {
            assert_eq!(suggestion(typo, TRANSFORM), Some(meant), "{typo}");
        }
        assert_eq!(suggestion("transfroms", TOP_LEVEL), Some("transforms"));
        assert_eq!(suggestion("input", TOP_LEVEL), Some("inputs"));
        assert_eq!(suggestion("digets", INPUT), Some("digest"));
        for unrelated in ["lang", "seed", "command", "z"] {
            assert_eq!(suggestion(unrelated, TRANSFORM), None, "{unrelated}");
        }
    }

    #[test]
    fn unknown_keys_name_their_path_and_what_to_do() {
        let e = error(json!({"tool": "t", "codepath": "a.py"}), "transforms[0]", TRANSFORM);
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::ContractInvalid, Some("transforms[0].codepath")));
        assert_eq!(e.message, "transforms[0].codepath: unknown key \"codepath\"");
        assert!(e.hint.starts_with("did you mean \"code_path\"?"), "{}", e.hint);
        let e = error(json!({"transfroms": []}), "", TOP_LEVEL);
        assert_eq!(e.subject.as_deref(), Some("transfroms"));
        let e = error(json!({"odd key": 1}), "inputs[2]", INPUT);
        assert_eq!(e.subject.as_deref(), Some("inputs[2][\"odd key\"]"));
        assert!(e.hint.contains("the keys here are name, path, digest"), "{}", e.hint);
        assert!(e.hint.contains("\"meta\"") && e.hint.contains("\"x-\""), "{}", e.hint);
    }

    #[test]
    fn extensions_and_form_specific_keys_are_allowed() {
        let object = json!({"tool": "t", "meta": {"any": [1]}, "x-team": "search", "x-": 0});
        check_known(object.as_object().unwrap(), "transforms[0]", TRANSFORM, &[]).unwrap();
        let resolved = json!({"ctxpack": "contract/v1"});
        check_known(resolved.as_object().unwrap(), "", TOP_LEVEL, &["ctxpack"]).unwrap();
        assert!(check_known(resolved.as_object().unwrap(), "", TOP_LEVEL, &[]).is_err());
        assert!(check_known(json!({"X-Team": 1}).as_object().unwrap(), "", TOP_LEVEL, &[]).is_err());
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("transfroms", "transforms"), 1);
        assert_eq!(edit_distance("codepath", "code_path"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
