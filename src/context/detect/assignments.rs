//! The key/value scanner: values assigned to a name that says "secret", in the syntaxes of code, config and markup.
//!
//! The name decides whether a value is a candidate, the value decides whether it is a secret. The detector's
//! prefilter automaton also finds the words a secret's name contains (`pass`, `pwd`, `secret`, `token`, `key`,
//! `auth`, `cred`, `dsn`, `session`); around each hit the scanner reads the whole name, the assignment that
//! follows it and the value, in any of these forms:
//! - `NAME=value`, `export NAME="…"`, `NAME: value`, `NAME := "…"`, `:name => "…"`, `$name = '…';`, `[ini] name = …`,
//!   dotted `.properties` names (`dd.api.key=…`), Helm's `checksum/secret`;
//! - `os.environ["NAME"] = "…"`, `os.environ.setdefault("NAME", "…")`, `("NAME", "…")`, `"name": "…"` (and the
//!   same inside a JSON string, its quotes escaped: a notebook's `"source"` lines), `const name: string = "…"`;
//! - the Kubernetes pair `- name: NAME` / `value: …` on the next line, XML `<name>…</name>`, `name="…"` attributes
//!   and `<add key="NAME" value="…"/>`;
//! - command-line flags `--password …`, `--token=…`, and SQL's `PASSWORD '…'`;
//! - a literal that a reference falls back to (`$_ENV['X'] ?? '…'`, `os.getenv("X", "…")`, `a || '…'`), or that a
//!   conversion wraps (`[]byte("…")`, `b"…"`); a DSN's `user:password@tcp(…)`.
//!
//! A value is refused when it is a reference or code (`process.env.X`, `get_password()`, `os.environ["X"]`), a
//! template or placeholder (`${VAR}`, `{{ … }}`, `<your-key>`, `changeme`, `xxxx`), a name, a path, a URL, prose,
//! or lacks the entropy and character mix of a secret. Names that say what a value is besides secret (`_id`,
//! `_url`, `_file`, `_name`, `_hash`, `checksum/`, `sha256`, `cache_key`, `public_key`) are not candidates.
//! Vendor credentials without a prefix of their own are recognised by the vendor's name in the key or just before
//! it (Twilio and Datadog hex keys, Heroku UUIDs, bare Azure storage keys); Docker's `config.json` `auth` values are
//! decoded and must hold `user:password`.

#[cfg(test)]
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::assignment_names::{classify, expand_name, segments, segments_of_last_part, Category};
use super::checks::{
    is_basic_credentials, is_dotted_reference, is_secret_shaped, looks_like_placeholder, shannon_entropy,
};

pub(super) const PASSWORD: &str = "generic-password";
pub(super) const SECRET: &str = "generic-secret";
pub(super) const API_TOKEN: &str = "generic-api-token";
pub(super) const TWILIO_AUTH_TOKEN: &str = "twilio-auth-token";
pub(super) const HEROKU_LEGACY_API_KEY: &str = "heroku-legacy-api-key";
pub(super) const DATADOG_API_KEY: &str = "datadog-api-key";
pub(super) const DATADOG_APP_KEY: &str = "datadog-app-key";
pub(super) const DOCKER_CONFIG_AUTH: &str = "docker-config-auth";
pub(super) const AZURE_STORAGE_KEY: &str = "azure-storage-account-key";
pub(super) const AWS_SECRET_ACCESS_KEY: &str = "aws-secret-access-key";

/// Every rule id the scanner reports.
pub(super) const REPORTED: [&str; 10] = [
    PASSWORD,
    SECRET,
    API_TOKEN,
    TWILIO_AUTH_TOKEN,
    HEROKU_LEGACY_API_KEY,
    DATADOG_API_KEY,
    DATADOG_APP_KEY,
    DOCKER_CONFIG_AUTH,
    AZURE_STORAGE_KEY,
    AWS_SECRET_ACCESS_KEY,
];

/// The rules the scanner alone runs: their built-in pattern is only a description of the simplest form.
pub(super) const SCANNED_ONLY: [&str; 7] =
    [PASSWORD, SECRET, API_TOKEN, TWILIO_AUTH_TOKEN, HEROKU_LEGACY_API_KEY, DATADOG_API_KEY, DATADOG_APP_KEY];

/// Lowercase words of a secret's name; the automaton matches them case-insensitively.
pub(super) const NAME_WORDS: [&str; 9] = ["pass", "pwd", "secret", "token", "key", "auth", "cred", "dsn", "session"];

#[cfg(test)]
fn automaton() -> &'static AhoCorasick {
    static AUTOMATON: std::sync::OnceLock<AhoCorasick> = std::sync::OnceLock::new();
    AUTOMATON.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(NAME_WORDS)
            .expect("name words build an automaton")
    })
}

/// [`scan_at`] with the name words found by the scanner's own automaton: the reference the detector, which finds
/// them with its prefilter's automaton, is tested against.
#[cfg(test)]
pub(super) fn scan(text: &str, protected: &[(usize, usize)], report: impl FnMut(&'static str, usize, usize)) {
    let hits: Vec<(usize, usize)> = automaton().find_iter(text).map(|hit| (hit.start(), hit.end())).collect();
    scan_at(text, &hits, protected, report);
}

/// Calls `report(rule_id, start, end)` for every secret value, in text order (byte offsets into `text`), looking
/// at the hits `words` of the name words (sorted; overlapping hits are fine). `protected` (sorted byte ranges of
/// redaction markers) is text the scanner neither reads names in nor takes a vendor's name from: a marker's rule
/// id (`[REDACTED:twilio-auth-token]`) is not a name.
pub(super) fn scan_at(
    text: &str,
    words: &[(usize, usize)],
    protected: &[(usize, usize)],
    mut report: impl FnMut(&'static str, usize, usize),
) {
    let bytes = text.as_bytes();
    let overlaps_marker = |start: usize, end: usize| protected.iter().any(|&(from, to)| start < to && from < end);
    let mut next_name_from = 0;
    let mut reported_to = 0;
    for &(word_start, word_end) in words {
        if word_start < next_name_from {
            continue;
        }
        let (name_start, name_end) = expand_name(bytes, word_start, word_end);
        next_name_from = name_end;
        if overlaps_marker(name_start, name_end) {
            continue;
        }
        // Most hits are words in prose or code with no assignment after them: the cheap test first.
        let Some(value) = value_after(bytes, name_start, name_end) else { continue };
        let name = &text[name_start..name_end];
        let segments = segments(name.trim_start_matches('-'));
        // Only the last dotted part can say the value is something else: `header.db_password` is a password,
        // `password.max_age` is not.
        let last_part = segments_of_last_part(name);
        let Some(category) = classify(&segments, &last_part) else { continue };
        // A literal the expression falls back to (`$_ENV['X'] ?? '…'`, `os.getenv("X", "…")`) when the value
        // itself is a reference.
        let fallback = fallback_after(bytes, value.end);
        for value in std::iter::once(value).chain(fallback) {
            if let Some((rule, start, end)) = judge(text, protected, name_start, &segments, category, &value) {
                // A name inside the expression (`os.getenv("DB_PASSWORD", "…")`) leads to the same value again.
                if start >= reported_to {
                    report(rule, start, end);
                    reported_to = end;
                }
                break;
            }
        }
    }
}

/// Where an assigned value is, and how it was written.
#[derive(Debug)]
struct Value {
    start: usize,
    end: usize,
    quoted: bool,
    /// Followed by `(` or `[`: a call or an index, code rather than a value.
    code: bool,
}

fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
        at += 1;
    }
    at
}

/// The value assigned to the name at `name_start..name_end`, in any of the module's syntaxes.
fn value_after(bytes: &[u8], name_start: usize, name_end: usize) -> Option<Value> {
    let mut at = name_end;
    let byte = |at: usize| bytes.get(at).copied().unwrap_or(b'\n');
    // The closing quote of a quoted name (`"name":`, `["NAME"]`, `("NAME", …)`), escaped inside a JSON string.
    let mut name_quoted = false;
    if byte(at) == b'\\' && matches!(byte(at + 1), b'"' | b'\'') {
        at += 2;
        name_quoted = true;
    } else if matches!(byte(at), b'"' | b'\'' | b'`') {
        at += 1;
        name_quoted = true;
    }
    if byte(at) == b']' {
        at += 1;
    }
    let blank_from = at;
    at = skip_blanks(bytes, at);
    let blank = at > blank_from;
    let before = name_start.checked_sub(1).map(|i| bytes[i]);
    match (byte(at), byte(at + 1)) {
        (b':', b'=') | (b'=', b'>') => at += 2,
        (b'=', next) if next != b'=' => at += 1,
        (b':', next) if name_quoted || matches!(next, b' ' | b'\t' | b'\r' | b'\n') => {
            at += 1;
            // A type annotation before the value: `const key: string = "…"`, `password: Optional[str] = None`.
            if let Some(after) = after_type_annotation(bytes, at) {
                at = after;
            }
        }
        (b',', _) if name_quoted => {
            at = skip_blanks(bytes, at + 1);
            return quoted_value(bytes, at);
        }
        (b'>', _) if before == Some(b'<') => {
            // `<password>…</password>`: the element's text up to the next tag.
            let start = at + 1;
            let end = start + bytes[start..].iter().position(|&b| matches!(b, b'<' | b'\n'))?;
            return (end > start).then_some(Value { start, end, quoted: true, code: false });
        }
        _ if name_quoted && bytes[at..].starts_with(b"value=") => at += b"value=".len(),
        (b'\r' | b'\n', _) if kubernetes_name(bytes, name_start) => {
            // `- name: NAME` then `value: …` on the next line.
            let mut next = at;
            while next < bytes.len() && matches!(bytes[next], b'\r' | b'\n' | b' ' | b'\t') {
                next += 1;
            }
            if !bytes[next..].starts_with(b"value:") {
                return None;
            }
            at = next + b"value:".len();
        }
        // `--password …`: a command-line flag and its argument.
        (next, _) if blank && next != b'-' && bytes[name_start..].starts_with(b"--") => {}
        // SQL: `CREATE ROLE app WITH LOGIN PASSWORD '…'`.
        (b'\'', _) if blank && bytes[name_start..name_end].eq_ignore_ascii_case(b"password") => {}
        _ => return None,
    }
    at = skip_blanks(bytes, at);
    // A literal wrapped in a conversion or constructor: `[]byte("…")`, `SecretStr("…")`, `b"…"`, `r'…'`. A
    // getter's literal (`getenv("X")`, `r.Header.Get("X-Token")`) names what it gets: code, though a default after
    // it may be a value (see `fallback_after`).
    let wrapper = bytes[at..].iter().take(40).position(|&b| !(b.is_ascii_alphanumeric() || b"_.:[]".contains(&b)));
    let mut getter = false;
    if let Some(length) = wrapper.filter(|&length| length > 0) {
        let called = bytes.get(at + length) == Some(&b'(');
        let opened = at + length + usize::from(called);
        let prefix = !called && length <= 2 && bytes[at..at + length].iter().all(u8::is_ascii_alphabetic);
        if matches!(bytes.get(opened), Some(b'"' | b'\'')) && (called || prefix) {
            let callee = String::from_utf8_lossy(&bytes[at..at + length]).to_ascii_lowercase();
            getter = ["get", "env", "fetch", "lookup", "read", "load", "header"].iter().any(|w| callee.contains(w));
            at = opened;
        }
    }
    let value = match byte(at) {
        b'"' | b'\'' | b'`' => quoted_value(bytes, at),
        b'\\' if matches!(byte(at + 1), b'"' | b'\'') => quoted_value(bytes, at),
        _ => unquoted_value(bytes, at),
    }?;
    Some(Value { code: value.code || getter, ..value })
}

/// The literal after `??`, `||`, ` or `, or a call's next argument (`, "…"`), within 120 bytes after a value on its
/// line.
fn fallback_after(bytes: &[u8], value_end: usize) -> Option<Value> {
    let line_end = bytes[value_end..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| value_end + i);
    let region = &bytes[value_end..line_end.min(value_end + 120)];
    let (offset, skip) = (0..region.len()).find_map(|i| {
        [&b"?? "[..], b"|| ", b" or ", b", \"", b", '"]
            .iter()
            .find(|op| region[i..].starts_with(op))
            .map(|op| (i, if op.starts_with(b",") { 2 } else { op.len() }))
    })?;
    quoted_value(bytes, skip_blanks(bytes, value_end + offset + skip))
}

/// After `:`, a type followed by ` = `: where the value starts.
fn after_type_annotation(bytes: &[u8], from: usize) -> Option<usize> {
    let start = skip_blanks(bytes, from);
    let mut at = start;
    while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || b"_[]|?<>., ".contains(&bytes[at])) {
        at += 1;
    }
    let type_end = at;
    (type_end > start
        && bytes.get(at) == Some(&b'=')
        && bytes.get(at + 1) != Some(&b'=')
        && bytes[type_end - 1] == b' '
        && bytes[start].is_ascii_alphabetic())
    .then_some(at + 1)
}

/// `name:` and blanks (and a list's `- `) are all that precede the name on its line.
fn kubernetes_name(bytes: &[u8], name_start: usize) -> bool {
    let line_start = bytes[..name_start].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let prefix = std::str::from_utf8(&bytes[line_start..name_start]).unwrap_or_default().trim();
    let prefix = prefix.strip_prefix("- ").unwrap_or(prefix).trim_start();
    prefix == "name:" || prefix == "name: \"" || prefix == "name: '"
}

/// A value in quotes (`"…"`, `'…'`, `` `…` ``, or `\"…\"` inside a JSON string), on one line.
fn quoted_value(bytes: &[u8], at: usize) -> Option<Value> {
    let escaped = bytes.get(at) == Some(&b'\\');
    let quote = *bytes.get(at + usize::from(escaped))?;
    if !matches!(quote, b'"' | b'\'' | b'`') {
        return None;
    }
    let start = at + 1 + usize::from(escaped);
    let mut index = start;
    while index < bytes.len() && index - start <= 1024 {
        match bytes[index] {
            b'\n' => return None,
            b'\\' if escaped && bytes.get(index + 1) == Some(&quote) => {
                return Some(Value { start, end: index, quoted: true, code: false });
            }
            b'\\' => index += 2,
            byte if byte == quote && !escaped => return Some(Value { start, end: index, quoted: true, code: false }),
            _ => index += 1,
        }
    }
    None
}

/// A bare value: up to a blank, a quote, a separator or a bracket; `None` when empty.
fn unquoted_value(bytes: &[u8], at: usize) -> Option<Value> {
    let end = at
        + bytes[at..].iter().position(|&b| b <= b' ' || b"\"'`,;()[]{}<>\\&|".contains(&b)).unwrap_or(bytes.len() - at);
    let code = matches!(bytes.get(end), Some(b'(' | b'['));
    (end > at).then_some(Value { start: at, end, quoted: false, code })
}

/// The rule a value is a secret for, given its name's words and category.
fn judge(
    text: &str,
    protected: &[(usize, usize)],
    name_start: usize,
    segments: &[String],
    category: Category,
    value: &Value,
) -> Option<(&'static str, usize, usize)> {
    let secret = &text[value.start..value.end];
    if value.code || is_placeholder(secret) || starts_with_auth_scheme(secret) || is_name_like(secret) {
        return None;
    }
    if category == Category::Dsn {
        return dsn_password(secret).map(|(start, end)| (PASSWORD, value.start + start, value.start + end));
    }
    judge_value(text, protected, name_start, segments, category, value, secret)
        .map(|rule| (rule, value.start, value.end))
}

fn judge_value(
    text: &str,
    protected: &[(usize, usize)],
    name_start: usize,
    segments: &[String],
    category: Category,
    value: &Value,
    secret: &str,
) -> Option<&'static str> {
    if !value.quoted && (is_dotted_reference(secret) || is_identifier(secret)) {
        // A variable or a constant (`password = userPassword`, `token: Bearer`): code, not a value.
        return None;
    }
    if let Some(rule) = vendor(text, protected, name_start, segments, secret) {
        return Some(rule);
    }
    match category {
        Category::Password => is_password(secret).then_some(PASSWORD),
        Category::Secret => is_token(secret, 8).then_some(SECRET),
        Category::Token => is_token(secret, 12).then_some(API_TOKEN),
        Category::Auth => {
            if is_basic_credentials(secret) && secret.len() >= 8 {
                Some(DOCKER_CONFIG_AUTH)
            } else {
                is_token(secret, 16).then_some(API_TOKEN)
            }
        }
        Category::Session => (is_token(secret, 20) && shannon_entropy(secret) >= 4.0).then_some(API_TOKEN),
        Category::Dsn => None,
    }
}

/// `Bearer …`, `Basic …`, `token …`: an Authorization header's value, which the HTTP rules judge.
fn starts_with_auth_scheme(value: &str) -> bool {
    value.split_once(' ').is_some_and(|(scheme, _)| {
        ["bearer", "basic", "token", "bot", "digest", "negotiate", "apikey"]
            .contains(&scheme.to_ascii_lowercase().as_str())
    })
}

/// The password of a DSN without a scheme (`user:password@tcp(host:3306)/db`), as offsets into it.
fn dsn_password(dsn: &str) -> Option<(usize, usize)> {
    if dsn.contains("://") {
        return None;
    }
    let colon = dsn.find(':')?;
    let at = dsn.rfind('@')?;
    let password = dsn.get(colon + 1..at)?;
    (colon > 0 && !dsn[..colon].contains(['/', '@', ' ']) && password.len() >= 4 && is_password(password))
        .then_some((colon + 1, at))
}

/// Words joined by `-`, `_` or `.`, each capitalised, lowercase or a short acronym: a header or a setting's name
/// (`X-Request-Token`, `Content-Type`), not a secret.
fn is_name_like(value: &str) -> bool {
    value.split(['-', '_', '.']).all(|part| {
        let rest = part.get(1..).unwrap_or_default();
        !part.is_empty()
            && (part.bytes().all(|b| b.is_ascii_uppercase()) && part.len() <= 5
                || part.as_bytes()[0].is_ascii_alphabetic() && rest.bytes().all(|b| b.is_ascii_lowercase()))
    })
}

/// Letters and `_` only, cased like a word or a camelCase name rather than at random (`XpZhNRYeIsZShmpi`).
fn is_identifier(value: &str) -> bool {
    let upper = value.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = value.bytes().filter(u8::is_ascii_lowercase).count();
    value.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'$')
        && !(upper >= 4 && lower >= 4 && shannon_entropy(value) >= 3.5)
}

/// Vendor keys that have no prefix of their own: the vendor's name must be in the key or in the 160 bytes before.
fn vendor(
    text: &str,
    protected: &[(usize, usize)],
    name_start: usize,
    segments: &[String],
    secret: &str,
) -> Option<&'static str> {
    let window_start = name_start.saturating_sub(160);
    let mut context: Vec<u8> = text.as_bytes()[window_start..name_start].to_ascii_lowercase();
    for &(from, to) in protected.iter().filter(|&&(from, to)| from < name_start && to > window_start) {
        context[from.max(window_start) - window_start..to.min(name_start) - window_start].fill(b' ');
    }
    let context = String::from_utf8_lossy(&context);
    let named = |vendor: &str| segments.iter().any(|s| s.contains(vendor)) || context.contains(vendor);
    let hex = |length: usize| secret.len() == length && secret.bytes().all(|b| b.is_ascii_hexdigit());
    let uuid = secret.len() == 36
        && secret.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    let random = |minimum: f64| shannon_entropy(secret) >= minimum;
    let datadog = segments.first().is_some_and(|s| s == "dd") || named("datadog");
    if uuid && named("heroku") {
        return Some(HEROKU_LEGACY_API_KEY);
    }
    if hex(32) && named("twilio") && random(3.0) {
        return Some(TWILIO_AUTH_TOKEN);
    }
    if datadog && hex(32) && random(3.0) {
        return Some(DATADOG_API_KEY);
    }
    if datadog && hex(40) && random(3.0) {
        return Some(DATADOG_APP_KEY);
    }
    let base64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    if secret.len() == 88
        && secret.ends_with("==")
        && secret[..86].bytes().all(base64)
        && (named("azure") || segments.iter().any(|s| s == "accountkey" || s == "storagekey" || s == "account"))
        && random(4.0)
    {
        return Some(AZURE_STORAGE_KEY);
    }
    if secret.len() == 40
        && secret.bytes().all(base64)
        && named("aws")
        && random(4.0)
        && segments.iter().any(|s| s.contains("secret"))
    {
        return Some(AWS_SECRET_ACCESS_KEY);
    }
    None
}

/// A value that documentation and templates put where a secret goes.
fn is_placeholder(value: &str) -> bool {
    const WORDS: [&str; 12] = [
        "changeme",
        "change_me",
        "change-me",
        "changethis",
        "replace",
        "redacted",
        "your",
        "dummy",
        "sample",
        "insert",
        "fixme",
        "todo",
    ];
    const EXACT: [&str; 28] = [
        "none",
        "null",
        "nil",
        "undefined",
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "empty",
        "required",
        "optional",
        "test",
        "testing",
        "admin",
        "root",
        "default",
        "string",
        "str",
        "password",
        "passwd",
        "pass",
        "secret",
        "guest",
        "token",
        "changeit",
        "***",
    ];
    let lowered = value.to_ascii_lowercase();
    looks_like_placeholder(value)
        || WORDS.iter().any(|word| lowered.contains(word))
        || EXACT.contains(&lowered.as_str())
        || value.starts_with(['$', '%', '<', '{', '@', '*'])
        || value.contains("${")
        // A shell variable inside (`unix:path=$XDG_RUNTIME_DIR/bus`): `$(`, or `$` and two capitals or `_`.
        || value.as_bytes().windows(3).any(|w| {
            w[0] == b'$' && (w[1] == b'(' || w[1..].iter().all(|&b| b.is_ascii_uppercase() || b == b'_'))
        })
        || value.contains("{{")
        || value.contains("#{")
        || value.starts_with("ENC[")
        || value.starts_with("pk_live_")
        || value.starts_with("pk_test_")
        || value.bytes().all(|b| b == value.as_bytes()[0])
}

/// A human password: 6–128 characters of at least two classes (lower, upper, digit, symbol), no blanks, not a path,
/// URL, address or reference.
fn is_password(value: &str) -> bool {
    let length = value.chars().count();
    if !(6..=128).contains(&length) || value.contains(char::is_whitespace) || value.contains("://") {
        return false;
    }
    // A version or range (`^7.1.3`, `>=2.0`): a package whose name ends in `pass` (`minipass`).
    if value.trim_start_matches(['^', '~', '<', '>', '=', 'v']).bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return false;
    }
    if value.starts_with(['/', '~', '.']) || value.contains(['/', '\\']) && value.contains('.') {
        return false;
    }
    if value.rsplit_once('@').is_some_and(|(user, host)| {
        !user.is_empty()
            && host.contains('.')
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    }) {
        return false;
    }
    let name_like = |case: fn(&u8) -> bool| value.bytes().all(|b| case(&b) || matches!(b, b'.' | b'_' | b'-' | b'/'));
    if name_like(u8::is_ascii_uppercase) || name_like(u8::is_ascii_lowercase) {
        return false;
    }
    let classes = [
        value.bytes().any(|b| b.is_ascii_lowercase()),
        value.bytes().any(|b| b.is_ascii_uppercase()),
        value.bytes().any(|b| b.is_ascii_digit()),
        value.bytes().any(|b| b.is_ascii_punctuation()),
    ];
    classes.iter().filter(|&&c| c).count() >= 2 && value.is_ascii() && shannon_entropy(value) >= 2.0
}

/// A random token: at least `minimum` characters, an entropy that grows with length up to 3.5 bits, two classes
/// of characters or hex, and shaped like a secret (not a name, UUID, URL, reference, prose).
fn is_token(value: &str, minimum: usize) -> bool {
    let length = value.len();
    if length < minimum || length > 4096 || value.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    // A Windows path or registry key (`SOFTWARE\Microsoft\…`): no token alphabet has a backslash.
    if value.contains('\\') {
        return false;
    }
    let floor = (0.8 * (length as f64).log2()).min(3.5);
    let letters = value.bytes().any(|b| b.is_ascii_alphabetic());
    let digits = value.bytes().any(|b| b.is_ascii_digit());
    let mixed_case = value.bytes().any(|b| b.is_ascii_lowercase()) && value.bytes().any(|b| b.is_ascii_uppercase());
    (letters && digits || mixed_case) && shannon_entropy(value) >= floor && is_secret_shaped(value)
}

#[cfg(test)]
#[path = "assignments_tests.rs"]
mod tests;
