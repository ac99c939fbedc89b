//! Authentication decisions: which challenge to answer, with what, and the `Authorization` values. The
//! driver asks for credentials and fetches tokens; this file only decides.

use super::challenge::Challenge;
use super::url::{HttpUrl, Scheme};
use crate::error::{Error, ErrorCode, Result};

/// What the host's `credentials` callback returned. Debug output hides every secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`docker login` stores one as `identitytoken`).
    IdentityToken(String),
    /// A ready Bearer token for the registry itself.
    RegistryToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username:?}, <hidden>)"),
            Credentials::IdentityToken(_) => f.write_str("IdentityToken(<hidden>)"),
            Credentials::RegistryToken(_) => f.write_str("RegistryToken(<hidden>)"),
        }
    }
}

/// The challenge a client answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthScheme {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        /// The challenge's `scope` parameter (space-separated scopes), if any.
        scope: Option<String>,
    },
}

/// Picks the challenge to answer: Bearer when offered (it scopes access), else Basic. `insecure` allows a
/// plain-http token realm on a non-loopback host; otherwise credentials would cross the network in clear.
pub fn choose(challenges: &[Challenge], host: &str, insecure: bool) -> Result<AuthScheme> {
    if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
        let realm = bearer
            .param("realm")
            .filter(|r| !r.is_empty())
            .ok_or_else(|| Error::new(ErrorCode::RegistryProtocol, "Bearer challenge without a realm").at(host))?;
        let url = HttpUrl::parse(realm).map_err(|e| e.at(host))?;
        if url.scheme.as_str() == "http" && !url.is_loopback() && !insecure {
            return Err(Error::new(
                ErrorCode::RegistryInsecure,
                format!("the token service {} is plain http:// on another machine", url.origin()),
            )
            .at(host));
        }
        return Ok(AuthScheme::Bearer {
            realm: realm.to_string(),
            service: bearer.param("service").map(str::to_string),
            scope: bearer.param("scope").map(str::to_string),
        });
    }
    if challenges.iter().any(|c| c.scheme == "basic") {
        return Ok(AuthScheme::Basic);
    }
    let offered: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
    Err(Error::new(
        ErrorCode::AuthFailed,
        format!(
            "the registry asks for authentication ctxpack cannot do ({})",
            if offered.is_empty() { "no challenge".into() } else { offered.join(", ") }
        ),
    )
    .at(host)
    .hint("registries speak Basic or Bearer token auth; check that this is a registry address"))
}

/// Whether credentials meant for the registry at `registry` (Basic, or an identity token) may be sent to the
/// token service at `realm`. Its own origin always; another origin only over https (Docker Hub's
/// auth.docker.io), or plain http on loopback when the registry itself is plain http (test setups). Never from
/// an https registry to an http realm: that downgrade would put the password on the wire in clear.
pub fn may_send_credentials_to_realm(registry: &HttpUrl, realm: &HttpUrl) -> bool {
    if registry.same_origin(realm) {
        return true;
    }
    match (registry.scheme, realm.scheme) {
        (_, Scheme::Https) => true,
        (Scheme::Http, Scheme::Http) => registry.is_loopback() && realm.is_loopback(),
        (Scheme::Https, Scheme::Http) => false,
    }
}

/// Whether a challenge says the token lacked the permission (RFC 6750 `insufficient_scope`).
pub fn is_insufficient_scope(challenges: &[Challenge]) -> bool {
    challenges.iter().any(|c| c.param("error") == Some("insufficient_scope"))
}

/// `Basic <base64(username:password)>`
pub fn basic_authorization(username: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{username}:{password}").as_bytes()))
}

pub fn bearer_authorization(token: &str) -> String {
    format!("Bearer {token}")
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n =
            (group[0] as u32) << 16 | (*group.get(1).unwrap_or(&0) as u32) << 8 | *group.get(2).unwrap_or(&0) as u32;
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if i <= group.len() { ALPHABET[(n >> shift & 63) as usize] as char } else { '=' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::challenge::parse_challenges;

    fn choose_from(header: &str) -> Result<AuthScheme> {
        choose(&parse_challenges(header).unwrap(), "registry.example.com", false)
    }

    #[test]
    fn prefers_bearer_and_keeps_its_parameters() {
        let scheme = choose_from(
            r#"Basic realm="r", Bearer realm="https://auth.example.com/token",service="reg",scope="repository:a:pull""#,
        )
        .unwrap();
        assert_eq!(
            scheme,
            AuthScheme::Bearer {
                realm: "https://auth.example.com/token".into(),
                service: Some("reg".into()),
                scope: Some("repository:a:pull".into())
            }
        );
        assert_eq!(choose_from(r#"Basic realm="basic-realm""#).unwrap(), AuthScheme::Basic);
    }

    #[test]
    fn refuses_what_it_cannot_or_should_not_answer() {
        assert_eq!(choose_from("Negotiate").unwrap_err().code, ErrorCode::AuthFailed);
        assert_eq!(choose_from("").unwrap_err().code, ErrorCode::AuthFailed);
        assert_eq!(choose_from("Bearer service=x").unwrap_err().code, ErrorCode::RegistryProtocol);
        assert_eq!(
            choose_from(r#"Bearer realm="http://auth.example.com/token""#).unwrap_err().code,
            ErrorCode::RegistryInsecure
        );
        assert!(choose_from(r#"Bearer realm="http://127.0.0.1:9000/token""#).is_ok());
        let insecure = choose(&parse_challenges(r#"Bearer realm="http://auth.example.com/t""#).unwrap(), "h", true);
        assert!(insecure.is_ok());
    }

    #[test]
    fn credentials_go_to_a_realm_elsewhere_only_over_https_and_never_down() {
        let url = |u: &str| HttpUrl::parse(u).unwrap();
        let hub = url("https://registry-1.docker.io/v2/");
        assert!(may_send_credentials_to_realm(&hub, &url("https://auth.docker.io/token")));
        assert!(may_send_credentials_to_realm(&hub, &url("https://registry-1.docker.io/token")));
        assert!(!may_send_credentials_to_realm(&hub, &url("http://auth.docker.io/token")));
        assert!(!may_send_credentials_to_realm(&hub, &url("http://127.0.0.1:9000/token")));
        let local = url("http://127.0.0.1:5000/v2/");
        assert!(may_send_credentials_to_realm(&local, &url("http://127.0.0.1:9000/token")));
        assert!(may_send_credentials_to_realm(&local, &url("https://auth.example.com/token")));
        assert!(!may_send_credentials_to_realm(&local, &url("http://auth.example.com/token")));
        let insecure = url("http://registry.lan:5000/v2/");
        assert!(may_send_credentials_to_realm(&insecure, &url("http://registry.lan:5000/token")));
        assert!(!may_send_credentials_to_realm(&insecure, &url("http://auth.lan/token")));
    }

    #[test]
    fn detects_insufficient_scope() {
        assert!(is_insufficient_scope(&parse_challenges(r#"Bearer realm="r",error="insufficient_scope""#).unwrap()));
        assert!(!is_insufficient_scope(&parse_challenges(r#"Bearer realm="r",error="invalid_token""#).unwrap()));
    }

    #[test]
    fn encodes_authorization_values() {
        assert_eq!(basic_authorization("alice", "secret"), "Basic YWxpY2U6c2VjcmV0");
        assert_eq!(basic_authorization("a", ""), "Basic YTo=");
        assert_eq!(basic_authorization("ab", "c"), "Basic YWI6Yw==");
        assert_eq!(basic_authorization("ü", "ß"), "Basic w7w6w58=");
        assert_eq!(bearer_authorization("t"), "Bearer t");
        let debug = format!("{:?}", Credentials::Basic { username: "alice".into(), password: "secret".into() });
        assert!(!debug.contains("secret"));
        assert!(!format!("{:?}", Credentials::RegistryToken("tok".into())).contains("tok"));
    }
}
