//! The trust policy (`trust.json`): per registry/repository scope, which public keys are trusted and whether a
//! signature is required, like Notation's trust policy. The host reads the file and the key files it names; the
//! core parses the policy and picks the rule for a scope.
//!
//! ```json
//! { "version": 1,
//!   "policies": [
//!     { "name": "team", "scopes": ["registry.example.com/team/*"], "signatureRequired": true,
//!       "trustedKeys": ["keys/ci.pub", "-----BEGIN PUBLIC KEY-----\n…"] },
//!     { "name": "default", "scopes": ["*"], "signatureRequired": false, "trustedKeys": [] } ] }
//! ```
//!
//! A scope is `<registry host[:port]>/<repository>`, where `*` matches any run of characters (`/` included). The
//! most specific matching scope wins: the one with the most characters besides `*`; on a tie, the first listed.
//! A trusted key is a PEM text, or the path of a PEM file relative to the policy file.

use crate::error::{Error, ErrorCode, Result};
use serde_json::{Map, Value};

/// A trusted key as the policy names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    Pem(String),
    /// A PEM file, relative to the policy file's folder (the host reads it).
    Path(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRule {
    pub name: String,
    pub scopes: Vec<String>,
    pub signature_required: bool,
    pub trusted_keys: Vec<KeyRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    pub rules: Vec<TrustRule>,
}

/// The rule that applies to a scope, and the scope pattern that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustDecision<'a> {
    pub rule: &'a TrustRule,
    pub matched: &'a str,
}

impl TrustPolicy {
    pub fn parse(text: &[u8]) -> Result<TrustPolicy> {
        let value: Value = serde_json::from_slice(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let object = value.as_object().ok_or_else(|| invalid("the trust policy must be a JSON object"))?;
        only_keys(object, &["version", "policies"], "")?;
        if object.get("version").and_then(Value::as_u64) != Some(1) {
            return Err(invalid("must be 1").at("version"));
        }
        let list = object
            .get("policies")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("must be an array").at("policies"))?;
        let rules = list
            .iter()
            .enumerate()
            .map(|(i, rule)| parse_rule(rule, &format!("policies[{i}]")))
            .collect::<Result<_>>()?;
        Ok(TrustPolicy { rules })
    }

    /// The rule for `scope` (`host[:port]/repository`), when one matches.
    pub fn rule_for(&self, scope: &str) -> Option<TrustDecision<'_>> {
        let mut best: Option<(usize, TrustDecision<'_>)> = None;
        for rule in &self.rules {
            for pattern in rule.scopes.iter().filter(|pattern| matches(pattern, scope)) {
                let weight = pattern.chars().filter(|&c| c != '*').count();
                if best.as_ref().is_none_or(|(best_weight, _)| weight > *best_weight) {
                    best = Some((weight, TrustDecision { rule, matched: pattern }));
                }
            }
        }
        best.map(|(_, decision)| decision)
    }
}

fn parse_rule(value: &Value, at: &str) -> Result<TrustRule> {
    let object = value.as_object().ok_or_else(|| invalid("must be an object").at(at))?;
    only_keys(object, &["name", "scopes", "signatureRequired", "trustedKeys"], at)?;
    let name = match object.get("name") {
        None => String::new(),
        Some(name) => name.as_str().ok_or_else(|| invalid("must be a string").at(format!("{at}.name")))?.to_string(),
    };
    let scopes = strings(object, "scopes", at)?;
    if scopes.is_empty() {
        return Err(invalid("must name at least one scope (\"*\" for every registry)").at(format!("{at}.scopes")));
    }
    for (i, scope) in scopes.iter().enumerate() {
        if scope.is_empty() || scope.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(
                invalid("a scope is <registry>/<repository>, `*` as a wildcard").at(format!("{at}.scopes[{i}]"))
            );
        }
    }
    let signature_required = match object.get("signatureRequired") {
        None => false,
        Some(flag) => {
            flag.as_bool().ok_or_else(|| invalid("must be true or false").at(format!("{at}.signatureRequired")))?
        }
    };
    let trusted_keys = strings(object, "trustedKeys", at)?
        .into_iter()
        .map(|key| if key.trim_start().starts_with("-----BEGIN") { KeyRef::Pem(key) } else { KeyRef::Path(key) })
        .collect::<Vec<_>>();
    if signature_required && trusted_keys.is_empty() {
        return Err(
            invalid("requires signatures but trusts no key: nothing could be accepted").at(format!("{at}.trustedKeys"))
        );
    }
    Ok(TrustRule { name, scopes, signature_required, trusted_keys })
}

/// `*` matches any run of characters; everything else matches itself.
fn matches(pattern: &str, scope: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == scope;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !scope.starts_with(first) || scope.len() < first.len() + last.len() || !scope.ends_with(last) {
        return false;
    }
    let mut rest = &scope[first.len()..scope.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

fn strings(object: &Map<String, Value>, key: &str, at: &str) -> Result<Vec<String>> {
    let at = format!("{at}.{key}");
    let list = match object.get(key) {
        None => return Ok(Vec::new()),
        Some(list) => list.as_array().ok_or_else(|| invalid("must be an array of strings").at(&at))?,
    };
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str().map(str::to_string).ok_or_else(|| invalid("must be a string").at(format!("{at}[{i}]")))
        })
        .collect()
}

fn only_keys(object: &Map<String, Value>, known: &[&str], at: &str) -> Result<()> {
    match object.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => {
            let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
            Err(invalid(format!("is not a trust policy field (known: {})", known.join(", "))).at(path))
        }
        None => Ok(()),
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::TrustPolicyInvalid, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{"version":1,"policies":[
        {"name":"default","scopes":["*"],"trustedKeys":[]},
        {"name":"team","scopes":["reg.example:5000/team/*"],"signatureRequired":true,"trustedKeys":["keys/ci.pub"]},
        {"name":"exact","scopes":["reg.example:5000/team/models"],"signatureRequired":true,
         "trustedKeys":["-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"]}]}"#;

    #[test]
    fn the_most_specific_scope_wins() {
        let policy = TrustPolicy::parse(POLICY.as_bytes()).unwrap();
        let name = |scope: &str| policy.rule_for(scope).map(|d| d.rule.name.clone());
        assert_eq!(name("reg.example:5000/team/models").as_deref(), Some("exact"));
        assert_eq!(name("reg.example:5000/team/data/v2").as_deref(), Some("team"));
        assert_eq!(name("ghcr.io/other").as_deref(), Some("default"));
        let team = policy.rule_for("reg.example:5000/team/x").unwrap();
        assert!(team.rule.signature_required);
        assert_eq!(team.rule.trusted_keys, vec![KeyRef::Path("keys/ci.pub".into())]);
        assert!(matches!(
            policy.rule_for("reg.example:5000/team/models").unwrap().rule.trusted_keys[0],
            KeyRef::Pem(_)
        ));
        let strict =
            TrustPolicy::parse(br#"{"version":1,"policies":[{"scopes":["a/b"],"trustedKeys":["k.pub"]}]}"#).unwrap();
        assert!(strict.rule_for("a/bc").is_none());
    }

    #[test]
    fn wildcards_match_runs_of_characters() {
        assert!(matches("*", ""));
        assert!(matches("a/*/c", "a/b/x/c"));
        assert!(matches("*.example/*", "reg.example/team"));
        assert!(!matches("a/*/c", "a/c"));
        assert!(!matches("ab*ba", "aba"));
    }

    #[test]
    fn malformed_policies_name_the_field() {
        let cases = [
            (r#"{"version":2,"policies":[]}"#, "version"),
            (r#"{"version":1,"policies":[{"scopes":[]}]}"#, "policies[0].scopes"),
            (r#"{"version":1,"policies":[{"scopes":["*"],"signatureRequired":true}]}"#, "policies[0].trustedKeys"),
            (r#"{"version":1,"policies":[{"scopes":["*"],"trustedkeys":[]}]}"#, "policies[0].trustedkeys"),
            (r#"{"version":1,"policies":[{"scopes":["a b"]}]}"#, "policies[0].scopes[0]"),
        ];
        for (text, subject) in cases {
            let error = TrustPolicy::parse(text.as_bytes()).unwrap_err();
            assert_eq!(
                (error.code, error.subject.as_deref()),
                (ErrorCode::TrustPolicyInvalid, Some(subject)),
                "{text}"
            );
        }
    }
}
