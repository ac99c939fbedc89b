//! The auth dance: after the first challenge, every request to the registry carries authorization
//! (Basic credentials, or a Bearer token for its scopes, fetched once and cached until it expires).
//! Credentials come from the host's callback, asked at most once per client and only when a registry
//! asks for them.

use super::client::Client;
use super::fetch::{self, HttpRequest};
use super::{field, Failure, Outcome};
use crate::error::{Error, ErrorCode};
use crate::registry::auth::{basic_authorization, bearer_authorization, choose, AuthScheme, Credentials};
use crate::registry::challenge::Challenge;
use crate::registry::response::status_error;
use crate::registry::scope::Scopes;
use crate::registry::token::{parse_token_response, refresh_token_form, token_url, TokenCache};
use js_sys::{Function, Promise};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The largest token response read.
const TOKEN_RESPONSE_LIMIT: u64 = 1024 * 1024;

pub(super) struct AuthState {
    callback: Option<Function>,
    credentials: RefCell<CredentialState>,
    scheme: RefCell<Option<AuthScheme>>,
    tokens: RefCell<TokenCache>,
}

enum CredentialState {
    NotAsked,
    /// The callback's answer, shared by every request that needs it while it is pending.
    Asking(Promise),
    Known(Option<Credentials>),
}

impl AuthState {
    pub fn new(callback: Option<Function>) -> AuthState {
        AuthState {
            callback,
            credentials: RefCell::new(CredentialState::NotAsked),
            scheme: RefCell::new(None),
            tokens: RefCell::new(TokenCache::default()),
        }
    }

    pub fn has_credentials(&self) -> bool {
        matches!(&*self.credentials.borrow(), CredentialState::Known(Some(_)))
    }
}

impl Client {
    /// The `Authorization` value for a request needing `scopes`, or `None` while no challenge was seen.
    /// `challenge_scope` is the scope the registry named in the challenge just answered.
    pub(super) async fn authorization(
        &self,
        scopes: &Scopes,
        challenge_scope: Option<&str>,
    ) -> Outcome<Option<String>> {
        let Some(scheme) = self.auth.scheme.borrow().clone() else { return Ok(None) };
        let credentials = self.credentials().await?;
        if let Some(Credentials::RegistryToken(token)) = &credentials {
            return Ok(Some(bearer_authorization(token)));
        }
        match scheme {
            AuthScheme::Basic => match credentials {
                Some(Credentials::Basic { username, password }) => Ok(Some(basic_authorization(&username, &password))),
                Some(_) => Err(Error::new(
                    ErrorCode::AuthFailed,
                    "the registry wants a username and password, the credentials found are a token",
                )
                .at(self.registry.host.as_str())
                .into()),
                None => Err(Error::new(
                    ErrorCode::AuthFailed,
                    "the registry wants a username and password and none were found",
                )
                .at(self.registry.host.as_str())
                .into()),
            },
            AuthScheme::Bearer { realm, service, .. } => {
                let cached = self
                    .auth
                    .tokens
                    .borrow()
                    .get(&realm, service.as_deref(), scopes, fetch::now_ms())
                    .map(str::to_string);
                if let Some(token) = cached {
                    return Ok(Some(bearer_authorization(&token)));
                }
                let mut wanted = scopes.clone();
                if let Some(extra) = challenge_scope {
                    wanted.add_challenge_scopes(extra);
                }
                let token = self.fetch_token(&realm, service.as_deref(), &wanted, credentials.as_ref()).await?;
                self.auth.tokens.borrow_mut().insert(&realm, service.as_deref(), scopes, &token, fetch::now_ms());
                Ok(Some(bearer_authorization(&token.value)))
            }
        }
    }

    /// Takes a `401`'s challenges as the way to authenticate from now on, and forgets the token that just
    /// failed. Returns the challenge's own scope, to be added to the next token request.
    pub(super) fn adopt_challenge(&self, challenges: &[Challenge], scopes: &Scopes) -> Outcome<Option<String>> {
        let scheme = choose(challenges, &self.registry.host, self.insecure)?;
        let challenge_scope = match &scheme {
            AuthScheme::Bearer { realm, service, scope } => {
                self.auth.tokens.borrow_mut().remove(realm, service.as_deref(), scopes);
                self.emit(
                    "auth",
                    &format!("{} asks for a token from {realm} for {}", self.registry.host, scopes.key()),
                );
                scope.clone()
            }
            AuthScheme::Basic => {
                self.emit("auth", &format!("{} asks for Basic authentication", self.registry.host));
                None
            }
        };
        *self.auth.scheme.borrow_mut() = Some(scheme);
        Ok(challenge_scope)
    }

    /// The host's credentials for this registry, asking the callback on first need only.
    async fn credentials(&self) -> Outcome<Option<Credentials>> {
        let pending = match &*self.auth.credentials.borrow() {
            CredentialState::Known(credentials) => return Ok(credentials.clone()),
            CredentialState::Asking(promise) => Some(promise.clone()),
            CredentialState::NotAsked => None,
        };
        let promise = match pending {
            Some(promise) => promise,
            None => {
                let Some(callback) = &self.auth.callback else {
                    *self.auth.credentials.borrow_mut() = CredentialState::Known(None);
                    return Ok(None);
                };
                let answer =
                    callback.call1(&JsValue::NULL, &self.registry.host.as_str().into()).map_err(Failure::Js)?;
                let promise = Promise::resolve(&answer);
                *self.auth.credentials.borrow_mut() = CredentialState::Asking(promise.clone());
                promise
            }
        };
        let answer = match JsFuture::from(promise).await {
            Ok(answer) => answer,
            Err(thrown) => {
                *self.auth.credentials.borrow_mut() = CredentialState::NotAsked;
                return Err(Failure::Js(thrown));
            }
        };
        let credentials = credentials_from_js(&answer)?;
        *self.auth.credentials.borrow_mut() = CredentialState::Known(credentials.clone());
        Ok(credentials)
    }

    /// Asks the token service for a token: `GET` (Basic credentials when there are some, else anonymous),
    /// or the OAuth2 refresh-token `POST` for an identity token.
    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &Scopes,
        credentials: Option<&Credentials>,
    ) -> Outcome<crate::registry::token::Token> {
        let what = format!("token for {}", scopes.key());
        let (request, authorization) = match credentials {
            Some(Credentials::IdentityToken(refresh_token)) => (
                HttpRequest::new("POST", realm)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(refresh_token_form(service, scopes, refresh_token).into()),
                None,
            ),
            Some(Credentials::Basic { username, password }) => (
                HttpRequest::new("GET", token_url(realm, service, scopes)),
                Some(basic_authorization(username, password)),
            ),
            _ => (HttpRequest::new("GET", token_url(realm, service, scopes)), None),
        };
        let response = self.send_retrying(&request, authorization.as_deref(), &what, true).await?;
        let status = response.status();
        let body = match fetch::read_limited(&response, TOKEN_RESPONSE_LIMIT).await {
            Ok(body) => body,
            Err(_) => {
                let message = format!("the token service {realm} sent an unreadable or oversized answer");
                return Err(Error::new(ErrorCode::RegistryProtocol, message).at(what.as_str()).into());
            }
        };
        match status {
            200 => {}
            401 if credentials.is_none() => {
                let message = format!("the token service {realm} grants no anonymous access; credentials are needed");
                return Err(Error::new(ErrorCode::AuthFailed, message).at(what.as_str()).into());
            }
            401 => {
                let error = status_error(status, &body, &what, realm);
                return Err(error
                    .hint("the token service refused the credentials: log in again with `ctxpack login <registry>`")
                    .into());
            }
            _ => return Err(status_error(status, &body, &what, realm).into()),
        }
        Ok(parse_token_response(&body, realm).map_err(|e| e.at(what.as_str()))?)
    }
}

/// `null`/`undefined`, `{username, password}`, `{identityToken}` or `{registryToken}`.
fn credentials_from_js(value: &JsValue) -> Outcome<Option<Credentials>> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let text = |key: &str| field(value, key).as_string().filter(|s| !s.is_empty());
    if let (Some(username), Some(password)) = (text("username"), text("password")) {
        return Ok(Some(Credentials::Basic { username, password }));
    }
    if let Some(token) = text("identityToken") {
        return Ok(Some(Credentials::IdentityToken(token)));
    }
    if let Some(token) = text("registryToken") {
        return Ok(Some(Credentials::RegistryToken(token)));
    }
    Err(Error::new(
        ErrorCode::InvalidState,
        "the credentials callback must return null, {username, password}, {identityToken} or {registryToken}",
    )
    .at("credentials")
    .into())
}
