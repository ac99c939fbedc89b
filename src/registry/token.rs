//! The Bearer token flow (distribution `docs/spec/auth/token.md`, `oauth.md`): the token request, the
//! token response, and a cache of tokens by realm, service and scopes with their expiry.

use super::scope::Scopes;
use super::url::{append_query, encode_query_value};
use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;
use std::collections::HashMap;

/// The spec's default and minimum token lifetime.
pub const MIN_EXPIRES_IN_S: u64 = 60;
/// Tokens are dropped this long before they expire, so a request never leaves with a dying token.
const EXPIRY_MARGIN_MS: u64 = 10_000;
/// Our OAuth2 `client_id` (required by the spec's POST form).
pub const CLIENT_ID: &str = "ctxpack";

/// `GET <realm>?service=<service>&scope=<s1>&scope=<s2>…` (the realm may carry its own query).
pub fn token_url(realm: &str, service: Option<&str>, scopes: &Scopes) -> String {
    let mut url = realm.to_string();
    if let Some(service) = service {
        url = append_query(&url, "service", service);
    }
    for scope in scopes.iter() {
        url = append_query(&url, "scope", &scope.to_string());
    }
    url
}

/// The OAuth2 `refresh_token` grant form (`application/x-www-form-urlencoded`) for an identity token.
pub fn refresh_token_form(service: Option<&str>, scopes: &Scopes, refresh_token: &str) -> String {
    let mut fields = vec![("grant_type", "refresh_token".to_string()), ("client_id", CLIENT_ID.to_string())];
    if let Some(service) = service {
        fields.push(("service", service.to_string()));
    }
    if scopes.iter().next().is_some() {
        fields.push(("scope", scopes.key()));
    }
    fields.push(("refresh_token", refresh_token.to_string()));
    fields.iter().map(|(k, v)| format!("{k}={}", encode_query_value(v))).collect::<Vec<_>>().join("&")
}

/// A granted token. Debug output hides the value: tokens must never reach logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub value: String,
    pub expires_in_s: u64,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(<hidden>, expires in {} s)", self.expires_in_s)
    }
}

/// Reads `{"token"|"access_token": "...", "expires_in": n}`. A null or empty token is a refusal (GHCR
/// answers that way for private packages asked anonymously).
pub fn parse_token_response(body: &[u8], realm: &str) -> Result<Token> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        Error::new(ErrorCode::RegistryProtocol, "token service answered something that is not JSON").at(realm)
    })?;
    let token = ["token", "access_token"]
        .iter()
        .find_map(|key| value.get(key).and_then(Value::as_str).filter(|t| !t.is_empty()))
        .ok_or_else(|| {
            Error::new(ErrorCode::AuthFailed, "token service granted no token")
                .at(realm)
                .hint("the repository may be private or missing: log in to the registry, or check the name")
        })?;
    let expires_in_s =
        value.get("expires_in").and_then(Value::as_u64).unwrap_or(MIN_EXPIRES_IN_S).max(MIN_EXPIRES_IN_S);
    Ok(Token { value: token.to_string(), expires_in_s })
}

/// Tokens by realm, service and scopes, each valid until its expiry (times in ms from the host's clock).
#[derive(Default)]
pub struct TokenCache {
    entries: HashMap<String, (String, u64)>,
}

impl TokenCache {
    fn key(realm: &str, service: Option<&str>, scopes: &Scopes) -> String {
        format!("{realm}\n{}\n{}", service.unwrap_or(""), scopes.key())
    }

    pub fn get(&self, realm: &str, service: Option<&str>, scopes: &Scopes, now_ms: u64) -> Option<&str> {
        match self.entries.get(&Self::key(realm, service, scopes)) {
            Some((token, expires_at_ms)) if now_ms < *expires_at_ms => Some(token),
            _ => None,
        }
    }

    pub fn insert(&mut self, realm: &str, service: Option<&str>, scopes: &Scopes, token: &Token, now_ms: u64) {
        let lifetime_ms = (token.expires_in_s * 1000).saturating_sub(EXPIRY_MARGIN_MS);
        self.entries.insert(Self::key(realm, service, scopes), (token.value.clone(), now_ms + lifetime_ms));
    }

    pub fn remove(&mut self, realm: &str, service: Option<&str>, scopes: &Scopes) {
        self.entries.remove(&Self::key(realm, service, scopes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::scope::Scope;

    #[test]
    fn builds_the_token_url_with_repeated_encoded_scopes() {
        let scopes = Scopes::new([Scope::push("acme/packs"), Scope::pull("acme/base")]);
        assert_eq!(
            token_url("https://auth.docker.io/token", Some("registry.docker.io"), &scopes),
            "https://auth.docker.io/token?service=registry.docker.io\
             &scope=repository%3Aacme%2Fbase%3Apull&scope=repository%3Aacme%2Fpacks%3Apull%2Cpush"
        );
        assert_eq!(
            token_url("https://r/t?tenant=a b", None, &Scopes::new([Scope::pull("x")])),
            "https://r/t?tenant=a b&scope=repository%3Ax%3Apull"
        );
    }

    #[test]
    fn builds_the_refresh_token_form() {
        let form = refresh_token_form(Some("reg"), &Scopes::new([Scope::push("a/b")]), "r+t/=");
        assert_eq!(
            form,
            "grant_type=refresh_token&client_id=ctxpack&service=reg&scope=repository%3Aa%2Fb%3Apull%2Cpush&refresh_token=r%2Bt%2F%3D"
        );
    }

    #[test]
    fn reads_token_or_access_token_with_a_floor_on_expiry() {
        let t = parse_token_response(br#"{"token":"abc","expires_in":300}"#, "r").unwrap();
        assert_eq!((t.value.as_str(), t.expires_in_s), ("abc", 300));
        let t = parse_token_response(br#"{"access_token":"xyz"}"#, "r").unwrap();
        assert_eq!((t.value.as_str(), t.expires_in_s), ("xyz", 60));
        let t = parse_token_response(br#"{"token":"","access_token":"a2","expires_in":5}"#, "r").unwrap();
        assert_eq!((t.value.as_str(), t.expires_in_s), ("a2", 60));
        assert_eq!(format!("{t:?}"), "Token(<hidden>, expires in 60 s)");
        let e = parse_token_response(br#"{"token":null}"#, "https://ghcr.io/token").unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::AuthFailed, Some("https://ghcr.io/token")));
        assert_eq!(parse_token_response(b"<html>", "r").unwrap_err().code, ErrorCode::RegistryProtocol);
    }

    #[test]
    fn cache_keys_on_realm_service_and_scopes_and_expires() {
        let mut cache = TokenCache::default();
        let pull = Scopes::new([Scope::pull("a")]);
        let push = Scopes::new([Scope::push("a")]);
        let token = Token { value: "t1".into(), expires_in_s: 60 };
        cache.insert("realm", Some("svc"), &pull, &token, 1_000);
        assert_eq!(cache.get("realm", Some("svc"), &pull, 1_000), Some("t1"));
        assert_eq!(cache.get("realm", Some("svc"), &pull, 50_999), Some("t1"));
        assert_eq!(cache.get("realm", Some("svc"), &pull, 51_000), None);
        assert_eq!(cache.get("realm", Some("svc"), &push, 1_000), None);
        assert_eq!(cache.get("realm", None, &pull, 1_000), None);
        assert_eq!(cache.get("other", Some("svc"), &pull, 1_000), None);
        cache.remove("realm", Some("svc"), &pull);
        assert_eq!(cache.get("realm", Some("svc"), &pull, 1_000), None);
    }
}
