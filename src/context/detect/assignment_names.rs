//! The name half of the key/value scanner (assignments.rs): where a name around a word hit starts and ends, its
//! words, and which kind of secret a name announces — or that it announces something else (an id, a digest, a
//! setting about a secret), which makes its value no candidate at all.

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'/')
}

/// The whole name around a word hit: `[A-Za-z0-9_.-/]` on both sides.
pub(super) fn expand_name(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start > 0 && is_name_byte(bytes[start - 1]) {
        start -= 1;
    }
    while end < bytes.len() && is_name_byte(bytes[end]) {
        end += 1;
    }
    // A trailing `.`, `-` or `/` ends a sentence or a path, not a name.
    while end > start && matches!(bytes[end - 1], b'.' | b'-' | b'/') {
        end -= 1;
    }
    (start, end)
}

/// Lowercase words of a name: split at `_ . - /` and where a lowercase letter or digit meets a capital.
pub(super) fn segments(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous: u8 = 0;
    for byte in name.bytes() {
        if matches!(byte, b'_' | b'.' | b'-' | b'/') {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            if byte.is_ascii_uppercase() && (previous.is_ascii_lowercase() || previous.is_ascii_digit()) {
                out.push(std::mem::take(&mut current));
            }
            current.push(char::from(byte.to_ascii_lowercase()));
        }
        previous = byte;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Category {
    Password,
    Secret,
    Token,
    Auth,
    /// `user:password@tcp(host)/db` (Go's MySQL DSN): the password between the first `:` and the last `@`.
    Dsn,
    /// A session cookie or id: only a long random value.
    Session,
}

/// Names ending in `pass` that are not passwords.
const NOT_PASS: [&str; 12] = [
    "bypass",
    "compass",
    "surpass",
    "encompass",
    "overpass",
    "underpass",
    "trespass",
    "firstpass",
    "multipass",
    "onepass",
    "singlepass",
    "twopass",
];

/// Words that say a value is something else than a secret: an id, a reference to one, a digest, a setting about it.
const NOT_SECRET: &[&str] = &[
    "id",
    "ids",
    "uuid",
    "guid",
    "sid",
    "hash",
    "hashed",
    "digest",
    "checksum",
    "sha",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "crc",
    "url",
    "uri",
    "urls",
    "endpoint",
    "host",
    "path",
    "file",
    "files",
    "filename",
    "dir",
    "name",
    "names",
    "type",
    "types",
    "length",
    "len",
    "size",
    "count",
    "expires",
    "expiry",
    "expiration",
    "expire",
    "ttl",
    "timeout",
    "header",
    "headers",
    "param",
    "params",
    "field",
    "prefix",
    "suffix",
    "format",
    "version",
    "policy",
    "min",
    "max",
    "enabled",
    "enable",
    "disabled",
    "required",
    "ref",
    "arn",
    "location",
    "rotation",
    "kind",
    "mode",
    "provider",
    "method",
    "algorithm",
    "alg",
    "label",
    "description",
    "desc",
    "hint",
    "help",
    "prompt",
    "placeholder",
    "example",
    "regex",
    "pattern",
    "validator",
    "validation",
    "strength",
    "reset",
    "changed",
    "updated",
    "created",
    "date",
    "time",
    "limit",
    "source",
    "index",
    "var",
    "variable",
    "fingerprint",
    "thumbprint",
    "bits",
    "bytes",
    "public",
    "pub",
    "tokens",
    "tokenizer",
    "tokenize",
    "tokenized",
    "manager",
    "store",
    "class",
    "schema",
    "env",
    "prop",
    "property",
    "option",
    "options",
    "encryption",
    "encrypt",
    "hashing",
    "hasher",
    "scheme",
    "cipher",
    "mechanism",
    "complexity",
    "history",
    "lifetime",
    "attempts",
    "retries",
    "helper",
    "command",
    "cmd",
    "program",
    "script",
    "callback",
    "handler",
    "func",
    "function",
    "plugin",
    "backend",
    "module",
    "limits",
    "hashers",
    "validators",
    "address",
    "addr",
    "bus",
    "usage",
    "usages",
    "algorithms",
    "sizes",
    "lengths",
];

/// Words before `key` that make it a lookup, structural or public key rather than a credential.
const NOT_CREDENTIAL_KEY: &[&str] = &[
    "cache",
    "sort",
    "primary",
    "foreign",
    "partition",
    "row",
    "routing",
    "object",
    "hash",
    "lookup",
    "dict",
    "map",
    "group",
    "config",
    "i18n",
    "translation",
    "idempotency",
    "hot",
    "shortcut",
    "unique",
    "composite",
    "s3",
    "bucket",
    "registry",
    "setting",
    "settings",
    "column",
    "item",
    "entry",
    "node",
    "cluster",
    "annotation",
    "tag",
    "metric",
    "ssh",
    "gpg",
    "pgp",
    "host",
    "range",
    "cursor",
    "next",
    "prev",
    "page",
    "the",
    "a",
    // Public by design: Stripe publishable keys, Algolia search-only keys.
    "publishable",
    "search",
    "only",
];

/// The words of a name's last `.`-separated part (`spring.datasource.password` → `password`).
pub(super) fn segments_of_last_part(name: &str) -> Vec<String> {
    segments(name.rsplit('.').find(|part| !part.is_empty()).unwrap_or(name))
}

pub(super) fn classify(segments: &[String], last_part: &[String]) -> Option<Category> {
    if segments.is_empty() || last_part.iter().any(|segment| NOT_SECRET.contains(&segment.as_str())) {
        return None;
    }
    let has = |predicate: &dyn Fn(&str) -> bool| segments.iter().any(|segment| predicate(segment));
    if has(&|s| {
        s.contains("password")
            || s.contains("passwd")
            || s.contains("passphrase")
            || s.ends_with("pwd")
            || s.ends_with("pass") && !NOT_PASS.contains(&s)
    }) {
        return Some(Category::Password);
    }
    if has(&|s| s.contains("secret")) {
        return Some(Category::Secret);
    }
    if has(&|s| s.contains("token")) {
        return Some(Category::Token);
    }
    // `apikey`, `accessKey`, `dd.api.key`, `license_key`; not a lone `key`, nor a lookup or public key.
    for (index, segment) in segments.iter().enumerate() {
        let qualified = if segment == "key" {
            index > 0 && !NOT_CREDENTIAL_KEY.contains(&segments[index - 1].as_str())
        } else {
            segment.ends_with("key")
                && segment.len() > 3
                && !NOT_CREDENTIAL_KEY.iter().any(|word| segment.strip_suffix("key") == Some(*word))
                && !matches!(segment.as_str(), "monkey" | "turkey" | "hotkey" | "pubkey" | "publickey" | "hockey")
        };
        if qualified {
            return Some(Category::Token);
        }
    }
    if has(&|s| matches!(s, "auth" | "authorization" | "credential" | "credentials" | "creds" | "cred")) {
        return Some(Category::Auth);
    }
    if has(&|s| s == "dsn" || s.ends_with("dsn")) {
        return Some(Category::Dsn);
    }
    if has(&|s| matches!(s, "session" | "sessionid" | "sess")) {
        return Some(Category::Session);
    }
    None
}
