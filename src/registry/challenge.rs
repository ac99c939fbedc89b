//! `WWW-Authenticate` parsing (RFC 7235 §4.1, RFC 6750 §3). One header may carry several challenges
//! (`Basic realm="x", Bearer realm="y",scope="a,b"`): commas separate both challenges and parameters,
//! and may also appear inside quoted strings, so this is a small tokenizer rather than a split.

use crate::error::{Error, ErrorCode, Result};

/// One challenge: a scheme (lowercased) and its parameters (names lowercased, values unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Every challenge in the header, in order.
pub fn parse_challenges(header: &str) -> Result<Vec<Challenge>> {
    let mut parser = Parser { text: header.as_bytes(), pos: 0 };
    let mut challenges: Vec<Challenge> = Vec::new();
    loop {
        parser.skip_separators();
        if parser.at_end() {
            return Ok(challenges);
        }
        let scheme = parser.token().ok_or_else(|| malformed(header))?;
        let mut challenge = Challenge { scheme: scheme.to_ascii_lowercase(), params: Vec::new() };
        parser.skip_spaces();
        if let Some(token68) = parser.token68() {
            challenge.params.push((String::new(), token68));
        } else {
            parser.params(&mut challenge, header)?;
        }
        challenges.push(challenge);
    }
}

fn malformed(header: &str) -> Error {
    let shown: String = header.chars().take(200).collect();
    Error::new(ErrorCode::RegistryProtocol, format!("malformed WWW-Authenticate header {shown:?}"))
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    /// RFC 7230 `token`.
    fn token(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        (self.pos > start).then(|| String::from_utf8_lossy(&self.text[start..self.pos]).into_owned())
    }

    /// A `token68` credential (`abc==`): only when it is not the start of a `name=value` parameter.
    fn token68(&mut self) -> Option<String> {
        let start = self.pos;
        let mut end = start;
        while self.text.get(end).is_some_and(|&b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)) {
            end += 1;
        }
        if end == start {
            return None;
        }
        let mut after = end;
        while self.text.get(after) == Some(&b'=') {
            after += 1;
        }
        let mut next = after;
        while matches!(self.text.get(next), Some(b' ' | b'\t')) {
            next += 1;
        }
        // `name=value` has something other than a separator after its '='.
        let is_param = after == end + 1 && !matches!(self.text.get(next), None | Some(b','));
        if is_param || (after == end && !matches!(self.text.get(next), None | Some(b','))) {
            return None;
        }
        self.pos = after;
        Some(String::from_utf8_lossy(&self.text[start..after]).into_owned())
    }

    /// `name=value` pairs up to the next challenge (a token not followed by '=') or the end.
    fn params(&mut self, challenge: &mut Challenge, header: &str) -> Result<()> {
        loop {
            self.skip_separators();
            let start = self.pos;
            let Some(name) = self.token() else {
                return if self.at_end() { Ok(()) } else { Err(malformed(header)) };
            };
            self.skip_spaces();
            if self.peek() != Some(b'=') {
                self.pos = start;
                return Ok(());
            }
            self.pos += 1;
            self.skip_spaces();
            let value = if self.peek() == Some(b'"') { self.quoted(header)? } else { self.bare_value() };
            challenge.params.push((name.to_ascii_lowercase(), value));
        }
    }

    /// An unquoted value. RFC 7235 allows only a token, but registries send bare URLs (`realm=https://…`),
    /// so read up to the next separator.
    fn bare_value(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|b| !matches!(b, b',' | b' ' | b'\t')) {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.text[start..self.pos]).into_owned()
    }

    /// A quoted string with `\` escapes; the opening quote is at `pos`.
    fn quoted(&mut self, header: &str) -> Result<String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(malformed(header)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    let escaped = self.text.get(self.pos + 1).copied().ok_or_else(|| malformed(header))?;
                    out.push(escaped);
                    self.pos += 2;
                }
                Some(b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
    }

    #[test]
    fn parses_the_docker_bearer_challenge() {
        let header = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#;
        let challenges = parse_challenges(header).unwrap();
        assert_eq!(challenges.len(), 1);
        assert_eq!(challenges[0].scheme, "bearer");
        assert_eq!(
            params(&challenges[0]),
            [
                ("realm", "https://auth.docker.io/token"),
                ("service", "registry.docker.io"),
                ("scope", "repository:samalba/my-app:pull,push")
            ]
        );
        assert_eq!(challenges[0].param("scope"), Some("repository:samalba/my-app:pull,push"));
    }

    #[test]
    fn parses_several_challenges_case_insensitively_with_escapes() {
        let header =
            r#"BASIC realm="a \"quoted\", realm" , bearer Realm=https://t/x, error="insufficient_scope", Negotiate"#;
        let challenges = parse_challenges(header).unwrap();
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "bearer", "negotiate"]);
        assert_eq!(params(&challenges[0]), [("realm", r#"a "quoted", realm"#)]);
        assert_eq!(params(&challenges[1]), [("realm", "https://t/x"), ("error", "insufficient_scope")]);
        assert!(challenges[2].params.is_empty());
    }

    #[test]
    fn parses_token68_and_empty_values() {
        let challenges = parse_challenges("Negotiate abc+/=, Basic realm=\"\"").unwrap();
        assert_eq!(params(&challenges[0]), [("", "abc+/=")]);
        assert_eq!(params(&challenges[1]), [("realm", "")]);
        assert_eq!(parse_challenges("  ").unwrap(), vec![]);
    }

    #[test]
    fn rejects_unterminated_quotes_and_junk() {
        for bad in [r#"Bearer realm="https://t"#, r#"Bearer realm="x\"#, "Bearer realm=x, =y", "\"quoted\""] {
            assert_eq!(parse_challenges(bad).unwrap_err().code, ErrorCode::RegistryProtocol, "{bad}");
        }
    }
}
