//! The little URL handling the registry protocol needs: split an absolute http(s) URL into scheme,
//! authority and the rest, validate the authority, tell loopback hosts apart, and percent-encode query
//! values. Registries hand out URLs (upload locations, token realms) that must be used as given, so this
//! never rebuilds or normalises a URL it did not make.

use crate::error::{Error, ErrorCode, Result};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An absolute `http://` or `https://` URL, split at the end of its authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    pub scheme: Scheme,
    /// `host[:port]` as written, lowercased; IPv6 hosts keep their brackets.
    pub authority: String,
    /// Everything after the authority (`/path?query`), possibly empty.
    pub rest: String,
}

impl HttpUrl {
    pub fn parse(url: &str) -> Result<HttpUrl> {
        let (scheme, after) = split_scheme(url).ok_or_else(|| {
            Error::new(ErrorCode::RegistryProtocol, "is not an absolute http:// or https:// URL").at(url)
        })?;
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let authority = parse_authority(&after[..end]).map_err(|e| e.at(url))?;
        Ok(HttpUrl { scheme, authority, rest: after[end..].to_string() })
    }

    /// `scheme://authority`
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.authority)
    }

    /// The origin as browsers compare it (RFC 6454): scheme, host and port, the scheme's default port implied.
    pub fn same_origin(&self, other: &HttpUrl) -> bool {
        self.scheme == other.scheme && self.host_and_port() == other.host_and_port()
    }

    fn host_and_port(&self) -> (&str, u16) {
        let default = match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let (host, port) = match self.authority.rfind(':') {
            Some(i) if !self.authority[i..].contains(']') => {
                (&self.authority[..i], self.authority[i + 1..].parse().ok())
            }
            _ => (self.authority.as_str(), None),
        };
        (host, port.unwrap_or(default))
    }
}

/// Whether two absolute URLs share an origin; a URL that does not parse shares none.
pub fn same_origin(a: &str, b: &str) -> bool {
    matches!((HttpUrl::parse(a), HttpUrl::parse(b)), (Ok(a), Ok(b)) if a.same_origin(&b))
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin(), self.rest)
    }
}

/// `("http" | "https", rest after "://")`, scheme matched case-insensitively.
pub fn split_scheme(url: &str) -> Option<(Scheme, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Some((Scheme::Http, rest)),
        "https" => Some((Scheme::Https, rest)),
        _ => None,
    }
}

/// Validates `host[:port]` (DNS name, IPv4 address or bracketed IPv6 address) and lowercases it.
pub fn parse_authority(authority: &str) -> Result<String> {
    let invalid = |why: &str| Error::new(ErrorCode::RegistryInvalid, format!("host {authority:?} {why}"));
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (address, after) = bracketed.split_once(']').ok_or_else(|| invalid("has an unclosed '['"))?;
        if address.is_empty() || !address.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err(invalid("is not a valid IPv6 address"));
        }
        match after {
            "" => (&authority[..address.len() + 2], None),
            _ => (
                &authority[..address.len() + 2],
                Some(after.strip_prefix(':').ok_or_else(|| invalid("has junk after ']'"))?),
            ),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if !host.starts_with('[') {
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
            return Err(invalid("is not a valid host name"));
        }
    }
    if let Some(port) = port {
        let valid = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        if !valid || !(1..=65535).contains(&port.parse::<u32>().unwrap_or(0)) {
            return Err(invalid("has a port that is not a number from 1 to 65535"));
        }
    }
    Ok(authority.to_ascii_lowercase())
}

/// Whether `host[:port]` names this machine: `localhost`, `127.0.0.0/8` or `[::1]`. Only these may use
/// plain HTTP without the user saying so, because nothing on the network can read or change the traffic.
pub fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => return bracketed.split(']').next().is_some_and(is_ipv6_loopback),
        None => authority.split(':').next().unwrap_or(""),
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets.iter().all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}

fn is_ipv6_loopback(address: &str) -> bool {
    let groups: Vec<&str> = address.split(':').filter(|g| !g.is_empty()).collect();
    let zeros_then_one = |groups: &[&str]| {
        groups.split_last().is_some_and(|(last, rest)| {
            u16::from_str_radix(last, 16) == Ok(1) && rest.iter().all(|g| u16::from_str_radix(g, 16) == Ok(0))
        })
    };
    address.ends_with('1') && (address.contains("::") || groups.len() == 8) && zeros_then_one(&groups)
}

/// Percent-encodes a query value: everything but RFC 3986 unreserved characters.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Appends `key=value` (value percent-encoded) to a URL that may already carry a query.
pub fn append_query(url: &str, key: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(i) if i + 1 == base.len() || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut out = format!("{base}{separator}{key}={}", encode_query_value(value));
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_absolute_urls_at_the_authority() {
        let url = HttpUrl::parse("HTTPS://Registry.Example.com:5000/v2/x/blobs/uploads/abc?_state=Q%3D").unwrap();
        assert_eq!(url.scheme, Scheme::Https);
        assert_eq!(url.authority, "registry.example.com:5000");
        assert_eq!(url.rest, "/v2/x/blobs/uploads/abc?_state=Q%3D");
        assert_eq!(url.origin(), "https://registry.example.com:5000");
        let v6 = HttpUrl::parse("http://[::1]:8080").unwrap();
        assert_eq!((v6.authority.as_str(), v6.rest.as_str()), ("[::1]:8080", ""));
        for bad in [
            "/v2/x",
            "ftp://host/x",
            "http://",
            "http://ho st/",
            "http://host:0/",
            "http://host:99999/",
            "http://[::1/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port_with_default_ports_implied() {
        assert!(same_origin("https://r.example.com/v2/", "https://R.example.com:443/v2/x/blobs/uploads/1"));
        assert!(same_origin("http://127.0.0.1:5000/a", "http://127.0.0.1:5000/b?c"));
        assert!(same_origin("http://[::1]/a", "http://[::1]:80/b"));
        assert!(!same_origin("http://127.0.0.1:5000/a", "http://127.0.0.1:5001/a"));
        assert!(!same_origin("https://r.example.com/", "http://r.example.com/"));
        assert!(!same_origin("https://r.example.com/", "https://cdn.example.com/"));
        assert!(!same_origin("https://r.example.com/", "/relative"));
    }

    #[test]
    fn loopback_is_localhost_127_slash_8_and_ipv6_one() {
        for host in
            ["localhost", "LOCALHOST:5000", "127.0.0.1", "127.1.2.3:80", "[::1]", "[::1]:5000", "[0:0:0:0:0:0:0:1]"]
        {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "localhost.example.com",
            "128.0.0.1",
            "127.0.0",
            "127.0.0.256",
            "10.0.0.1",
            "[::2]",
            "[::]",
            "[1::1]",
            "example.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn query_values_are_percent_encoded_and_appended_with_the_right_separator() {
        assert_eq!(encode_query_value("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
        assert_eq!(encode_query_value("a b+c~d"), "a%20b%2Bc~d");
        assert_eq!(append_query("http://h/u", "digest", "sha256:ab"), "http://h/u?digest=sha256%3Aab");
        assert_eq!(
            append_query("http://h/u?_state=x", "digest", "sha256:ab"),
            "http://h/u?_state=x&digest=sha256%3Aab"
        );
        assert_eq!(append_query("http://h/u?", "n", "1"), "http://h/u?n=1");
        assert_eq!(append_query("http://h/u?a=1&", "n", "1"), "http://h/u?a=1&n=1");
    }
}
