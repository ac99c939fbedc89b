//! A client's authentication session: after the first challenge, every request to the registry's origin
//! carries authorization (Basic credentials, or a Bearer token for its scopes, fetched once and cached until it
//! expires). Credentials come from the host, asked at most once per client and only when a registry asks.
//! They go to the registry's origin and to its token service, the latter only where `may_send_credentials_to_realm`
//! allows.

use super::auth::{
    basic_authorization, bearer_authorization, choose, may_send_credentials_to_realm, AuthScheme, Credentials,
};
use super::body::ReadFailure;
use super::challenge::Challenge;
use super::client::{Client, HttpRequest};
use super::response::status_error;
use super::scope::Scopes;
use super::token::{parse_token_response, refresh_token_form, token_url, Token, TokenCache};
use super::transport::{Outcome, RequestBody, Transport};
use super::url::HttpUrl;
use crate::error::{Error, ErrorCode};
use std::cell::RefCell;

/// The largest token response read.
const TOKEN_RESPONSE_LIMIT: u64 = 1024 * 1024;

#[derive(Default)]
pub(super) struct Session {
    /// `None` until the host was asked; then its answer.
    credentials: RefCell<Option<Option<Credentials>>>,
    scheme: RefCell<Option<AuthScheme>>,
    tokens: RefCell<TokenCache>,
}

impl Session {
    pub fn has_credentials(&self) -> bool {
        matches!(&*self.credentials.borrow(), Some(Some(_)))
    }
}

impl<H: Transport> Client<H> {
    /// The `Authorization` value for a request needing `scopes`, or `None` while no challenge was seen.
    /// `challenge_scope` is the scope the registry named in the challenge just answered.
    pub(super) async fn authorization(
        &self,
        scopes: &Scopes,
        challenge_scope: Option<&str>,
    ) -> Outcome<Option<String>, H> {
        let Some(scheme) = self.session.scheme.borrow().clone() else { return Ok(None) };
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
                .hint("the registry needs credentials; none were found for it")
                .into()),
            },
            AuthScheme::Bearer { realm, service, .. } => {
                let now = self.host.now_ms();
                let cached =
                    self.session.tokens.borrow().get(&realm, service.as_deref(), scopes, now).map(str::to_string);
                if let Some(token) = cached {
                    return Ok(Some(bearer_authorization(&token)));
                }
                let mut wanted = scopes.clone();
                if let Some(extra) = challenge_scope {
                    wanted.add_challenge_scopes(extra);
                }
                let token = self.fetch_token(&realm, service.as_deref(), &wanted, credentials.as_ref()).await?;
                let now = self.host.now_ms();
                self.session.tokens.borrow_mut().insert(&realm, service.as_deref(), scopes, &token, now);
                Ok(Some(bearer_authorization(&token.value)))
            }
        }
    }

    /// Takes a `401`'s challenges as the way to authenticate from now on, and forgets the token that just
    /// failed. Returns the challenge's own scope, to be added to the next token request.
    pub(super) fn adopt_challenge(&self, challenges: &[Challenge], scopes: &Scopes) -> Outcome<Option<String>, H> {
        let scheme = choose(challenges, &self.registry.host, self.insecure)?;
        let challenge_scope = match &scheme {
            AuthScheme::Bearer { realm, service, scope } => {
                self.session.tokens.borrow_mut().remove(realm, service.as_deref(), scopes);
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
        *self.session.scheme.borrow_mut() = Some(scheme);
        Ok(challenge_scope)
    }

    /// The host's credentials for this registry, asking on first need only.
    async fn credentials(&self) -> Outcome<Option<Credentials>, H> {
        if let Some(known) = self.session.credentials.borrow().clone() {
            return Ok(known);
        }
        let answer = self.host.credentials(&self.registry.host).await?;
        *self.session.credentials.borrow_mut() = Some(answer.clone());
        Ok(answer)
    }

    /// Asks the token service for a token: `GET` (with Basic credentials when there are some and the realm may
    /// receive them, else anonymous), or the OAuth2 refresh-token `POST` for an identity token.
    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &Scopes,
        credentials: Option<&Credentials>,
    ) -> Outcome<Token, H> {
        let what = format!("token for {}", scopes.key());
        let realm_url = HttpUrl::parse(realm).map_err(|e| e.at(what.as_str()))?;
        let credentials = match credentials {
            Some(_) if !may_send_credentials_to_realm(&self.origin, &realm_url) => {
                return Err(Error::new(
                    ErrorCode::RegistryInsecure,
                    format!(
                        "{} sends its logins to the token service {}, which is not https; refusing to send credentials there",
                        self.registry.host,
                        realm_url.origin()
                    ),
                )
                .at(what.as_str())
                .hint("use the registry over https, or ask its owner to serve the token service over https")
                .into());
            }
            credentials => credentials,
        };
        let (request, authorization) = match credentials {
            Some(Credentials::IdentityToken(refresh_token)) => (
                HttpRequest::new("POST", realm)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(RequestBody::Bytes(refresh_token_form(service, scopes, refresh_token).into_bytes())),
                None,
            ),
            Some(Credentials::Basic { username, password }) => (
                HttpRequest::new("GET", token_url(realm, service, scopes)),
                Some(basic_authorization(username, password)),
            ),
            _ => (HttpRequest::new("GET", token_url(realm, service, scopes)), None),
        };
        let response = self.send_retrying(&request, authorization.as_deref(), &what, true, None).await?;
        let status = response.status;
        let body = match self.read_limited(response.body, TOKEN_RESPONSE_LIMIT).await {
            Ok(body) => body,
            Err(failure @ ReadFailure::TooLarge) | Err(failure @ ReadFailure::Transport(_)) => {
                let message = format!(
                    "the token service {realm} sent an unreadable or oversized answer ({})",
                    failure.describe()
                );
                return Err(Error::new(ErrorCode::RegistryProtocol, message).at(what.as_str()).into());
            }
        };
        match status {
            200 => {}
            401 if credentials.is_none() => {
                let message = format!("the token service {realm} grants no anonymous access; credentials are needed");
                return Err(Error::new(ErrorCode::AuthFailed, message)
                    .at(what.as_str())
                    .hint("the registry needs credentials; none were found for it")
                    .into());
            }
            401 => {
                let error = status_error(status, &body, &what, realm);
                return Err(error.hint("the token service refused the credentials: log in again").into());
            }
            _ => return Err(status_error(status, &body, &what, realm).into()),
        }
        Ok(parse_token_response(&body, realm).map_err(|e| e.at(what.as_str()))?)
    }
}

#[cfg(test)]
mod tests {
    use crate::error::ErrorCode;
    use crate::registry::auth::Credentials;
    use crate::registry::testing::{block_on, client, FakeHost, Reply, Sent};
    use crate::registry::transport::Failure;

    const REALM: &str = "http://127.0.0.1:9000/token";

    /// A token-auth registry on :5000 whose token service on :9000 grants `alice` a token.
    fn token_registry(sent: &Sent) -> Reply {
        match sent.origin() {
            "http://127.0.0.1:9000" => match sent.authorization.as_deref() {
                Some("Basic YWxpY2U6czNjcmV0") => Reply::ok(br#"{"token":"tok-1","expires_in":300}"#),
                Some(_) => Reply::status(401),
                None => Reply::ok(br#"{"token":"anonymous"}"#),
            },
            _ if sent.authorization.as_deref() == Some("Bearer tok-1") => Reply::status(404),
            _ => Reply::challenge(&format!(r#"Bearer realm="{REALM}",service="reg",scope="repository:packs:pull""#)),
        }
    }

    #[test]
    fn negotiates_a_token_once_and_reuses_it() {
        let c = client("127.0.0.1:5000/packs", FakeHost::new(token_registry).basic("alice", "s3cret"));
        assert_eq!(block_on(c.head_manifest("a")).unwrap(), None);
        assert_eq!(block_on(c.head_manifest("b")).unwrap(), None);
        let sent = c.host.requests();
        let token_requests: Vec<_> = sent.iter().filter(|s| s.origin() == "http://127.0.0.1:9000").collect();
        assert_eq!(token_requests.len(), 1, "the token is cached");
        assert!(
            token_requests[0].url.contains("service=reg")
                && token_requests[0].url.contains("scope=repository%3Apacks%3Apull")
        );
        assert_eq!(c.host.credential_asks.get(), 1);
        // Basic credentials went to the token service only; the registry saw the token.
        for s in sent.iter().filter(|s| s.origin() == "http://127.0.0.1:5000") {
            assert!(s.authorization.as_deref().is_none_or(|a| a == "Bearer tok-1"), "{:?}", s.authorization);
        }
    }

    #[test]
    fn refused_credentials_end_after_one_challenge() {
        let c = client("127.0.0.1:5000/packs", FakeHost::new(token_registry).basic("alice", "wrong"));
        let Err(Failure::Core(error)) = block_on(c.head_manifest("a")) else { panic!("expected an error") };
        assert_eq!(error.code, ErrorCode::AuthFailed);
        assert!(!error.message.contains("wrong"));

        let host = FakeHost::new(|sent| match sent.authorization {
            None => Reply::challenge(r#"Basic realm="r""#),
            Some(_) => Reply::challenge(r#"Basic realm="r""#),
        })
        .basic("alice", "s3cret");
        let c = client("127.0.0.1:5000/packs", host);
        let Err(Failure::Core(error)) = block_on(c.head_manifest("a")) else { panic!("expected an error") };
        assert_eq!((error.code, c.host.requests().len()), (ErrorCode::AuthFailed, 2));

        let host = FakeHost::new(|sent| match sent.origin() {
            "http://127.0.0.1:9000" => Reply::ok(br#"{"token":"t"}"#),
            _ if sent.authorization.is_some() => {
                Reply::challenge(&format!(r#"Bearer realm="{REALM}",error="insufficient_scope""#))
            }
            _ => Reply::challenge(&format!(r#"Bearer realm="{REALM}""#)),
        });
        let c = client("127.0.0.1:5000/packs", host);
        let Err(Failure::Core(error)) = block_on(c.head_manifest("a")) else { panic!("expected an error") };
        assert_eq!(error.code, ErrorCode::AuthDenied);
    }

    #[test]
    fn anonymous_clients_get_anonymous_tokens() {
        let host = FakeHost::new(|sent| match (sent.origin(), sent.authorization.as_deref()) {
            ("http://127.0.0.1:9000", None) => Reply::ok(br#"{"access_token":"anon"}"#),
            ("http://127.0.0.1:5000", Some("Bearer anon")) => Reply::status(404),
            _ => Reply::challenge(&format!(r#"Bearer realm="{REALM}""#)),
        });
        let c = client("127.0.0.1:5000/packs", host);
        assert_eq!(block_on(c.head_manifest("a")).unwrap(), None);
        assert_eq!(c.host.credential_asks.get(), 1);
    }

    #[test]
    fn credentials_never_go_down_to_a_plain_http_realm() {
        let host = FakeHost::new(|sent| match sent.origin() {
            "https://registry.example.com" => Reply::challenge(r#"Bearer realm="http://127.0.0.1:9000/token""#),
            _ => Reply::ok(br#"{"token":"t"}"#),
        })
        .basic("alice", "s3cret");
        let c = client("registry.example.com/packs", host);
        let Err(Failure::Core(error)) = block_on(c.head_manifest("a")) else { panic!("expected an error") };
        assert_eq!(error.code, ErrorCode::RegistryInsecure, "{error:?}");
        assert!(c.host.requests().iter().all(|s| s.origin() == "https://registry.example.com"));
    }

    #[test]
    fn identity_tokens_are_exchanged_with_the_refresh_grant() {
        let host = FakeHost::new(|sent| match (sent.origin(), sent.method.as_str()) {
            ("https://auth.example.com", "POST") => {
                let form = String::from_utf8(sent.body.clone()).unwrap();
                assert!(form.contains("grant_type=refresh_token") && form.contains("refresh_token=refresh-1"));
                assert_eq!(sent.authorization, None);
                Reply::ok(br#"{"access_token":"from-refresh"}"#)
            }
            (_, _) if sent.authorization.as_deref() == Some("Bearer from-refresh") => Reply::status(404),
            _ => Reply::challenge(r#"Bearer realm="https://auth.example.com/token",service="reg""#),
        })
        .with_credentials(Credentials::IdentityToken("refresh-1".into()));
        let c = client("registry.example.com/packs", host);
        assert_eq!(block_on(c.head_manifest("a")).unwrap(), None);
    }
}
