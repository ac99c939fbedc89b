//! Token counts ([`estimate_tokens`]) and content classes ([`classify`]).
//!
//! `chars / 4` is right only for English prose: it under-counts logs, JSON, digests, keys, non-English text and
//! every other script, which is what a context-packet budget must not do. [`estimate_tokens`] is o200k_base's exact
//! count ([`crate::context::o200k`]: its pre-tokenizer and its real vocabulary); `bench/tokens.mjs` checks it against
//! js-tiktoken on thousands of real samples, with chars/4 beside it.
//!
//! [`classify`] names what a text mostly is, for displays (the inspector, `context show`): segments, cheapest first:
//! - runs of CJK characters (Han, kana, Hangul, CJK and full-width punctuation);
//! - hex runs: 16 or more hex digits with at least one decimal digit (`sha256:…` digests, UUIDs, `0x…`);
//! - high-entropy runs: 20 or more characters of the base64/base64url alphabet, with letters and digits, that
//!   change kind (upper, lower, digit, symbol) at 30 % of positions or more, not counting the upper-to-lower step
//!   that starts a camelCase word; random base64, base32 and API keys do, identifiers such as
//!   `HttpRequestBuilder2Factory` do not;
//! - log lines: lines that start with a timestamp, a syslog date or a level (`INFO`, `level=`…);
//! - the rest, classified per block (lines up to a blank line: a paragraph, a function, a JSON document) as
//!   prose, code, JSON or mixed from the density of code punctuation, quotes and JSON-shaped lines.
//!
//! Both are pure and deterministic, so every host gets the same count. [`TokenCounter`] is the seam where a host
//! swaps in the tokenizer of another model family.

/// Counts the tokens in a text. [`estimate_tokens`] is one (o200k_base); a host whose model uses another encoding
/// passes its own tokenizer (a JavaScript tokenizer behind a closure).
pub type TokenCounter<'a> = &'a dyn Fn(&str) -> u64;

/// What a text mostly is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentClass {
    Prose,
    Code,
    Json,
    Log,
    Hex,
    /// Base64 and other high-entropy alphanumeric runs (keys, tokens, base32).
    Base64,
    Cjk,
    /// No class covers most of the text, or code and prose are too interleaved to tell apart.
    Mixed,
}

impl ContentClass {
    const ALL: [ContentClass; 8] = [
        ContentClass::Prose,
        ContentClass::Code,
        ContentClass::Json,
        ContentClass::Log,
        ContentClass::Hex,
        ContentClass::Base64,
        ContentClass::Cjk,
        ContentClass::Mixed,
    ];

    fn index(self) -> usize {
        ContentClass::ALL.iter().position(|c| *c == self).expect("ALL lists every class")
    }
}

/// The class of most of the text: the class holding at least 60 % of its characters, otherwise `Mixed`.
/// An empty or whitespace-only text is `Prose`.
pub fn classify(text: &str) -> ContentClass {
    let counts = segment(text).chars;
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return ContentClass::Prose;
    }
    let (dominant, chars) =
        ContentClass::ALL.iter().map(|c| (*c, counts[c.index()])).max_by_key(|(_, n)| *n).expect("eight classes");
    if chars * 10 >= total * 6 {
        dominant
    } else {
        ContentClass::Mixed
    }
}

/// The exact o200k_base token count of `text` (special-token text such as `<|endoftext|>` counted as text). The
/// name is kept from when it was an estimate.
pub fn estimate_tokens(text: &str) -> u64 {
    crate::context::o200k::count(text)
}

/// What [`segment`] measures.
#[derive(Default)]
struct Segments {
    /// Characters per class, indexed by [`ContentClass::index`]: what [`classify`] weighs.
    chars: [u64; 8],
}

impl Segments {
    fn add(&mut self, class: ContentClass, chars: u64) {
        self.chars[class.index()] += chars;
    }
}

/// Splits `text` into classed characters.
fn segment(text: &str) -> Segments {
    let mut segments = Segments::default();
    let mut block = BlockStats::default();
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            block.flush_into(&mut segments);
            block.add_whitespace(line);
            continue;
        }
        let log_line = looks_like_log_line(line);
        let mut rest = String::new();
        let mut chars = line.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            if is_cjk(c) {
                segments.add(ContentClass::Cjk, 1);
            } else if is_word_char(c) {
                let mut end = start + c.len_utf8();
                while let Some(&(i, next)) = chars.peek() {
                    if !is_word_char(next) {
                        break;
                    }
                    end = i + next.len_utf8();
                    chars.next();
                }
                let word = &line[start..end];
                match word_class(word) {
                    Some(class) => segments.add(class, word.len() as u64),
                    None => rest.push_str(word),
                }
            } else {
                rest.push(c);
            }
        }
        if log_line {
            segments.chars[ContentClass::Log.index()] += rest.chars().count() as u64;
        } else {
            block.add_line(&rest);
        }
    }
    block.flush_into(&mut segments);
    segments
}

/// The base64/base64url alphabet; a maximal run of these is a word. All ASCII, so a word's length in bytes is
/// its length in characters.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-')
}

/// `Hex` or `Base64` for dense runs (encodings, keys, digests); `None` leaves the word to its block.
fn word_class(word: &str) -> Option<ContentClass> {
    let bytes = word.as_bytes();
    let hex_body = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")).unwrap_or(word);
    let hex_digits = hex_body.bytes().filter(u8::is_ascii_hexdigit).count();
    if hex_digits >= 16
        && hex_body.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && hex_body.bytes().any(|b| b.is_ascii_digit())
    {
        return Some(ContentClass::Hex);
    }
    if bytes.len() < 20 {
        return None;
    }
    let kind = |b: u8| match b {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let symbols = bytes.iter().filter(|b| kind(**b) == 3).count();
    let has_letter = bytes.iter().any(u8::is_ascii_alphabetic);
    let has_digit = bytes.iter().any(u8::is_ascii_digit);
    // An upper-case letter followed by a lower-case one starts a camelCase word, so it does not count.
    let kind_changes = bytes
        .windows(2)
        .filter(|pair| kind(pair[0]) != kind(pair[1]) && !(kind(pair[0]) == 0 && kind(pair[1]) == 1))
        .count();
    // Random base64 then changes kind at ~48 % of positions and lowercase base32 at ~43 %; camelCase identifiers
    // stay near 17 % (one change per word), and paths have too many '/' (symbols) to qualify.
    if has_letter && has_digit && symbols * 10 <= bytes.len() && kind_changes * 10 >= (bytes.len() - 1) * 3 {
        Some(ContentClass::Base64)
    } else {
        None
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F      // CJK symbols and punctuation
        | 0x3040..=0x30FF    // hiragana, katakana
        | 0x3100..=0x312F    // bopomofo
        | 0x3130..=0x318F    // Hangul compatibility jamo
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF00..=0xFFEF    // full-width and half-width forms
        | 0x20000..=0x3FFFF  // CJK extensions B and later
    )
}

/// Timestamps, syslog dates and levels at the start of a line (optionally after `[`, `time=` or `ts=`).
fn looks_like_log_line(line: &str) -> bool {
    let mut s = line.trim_start();
    for prefix in ["[", "time=\"", "time=", "ts=", "t="] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
            break;
        }
    }
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let at = |i: usize, options: &[u8]| b.get(i).is_some_and(|x| options.contains(x));
    let clock_at =
        |i: usize| digit(i) && digit(i + 1) && at(i + 2, b":") && digit(i + 3) && digit(i + 4) && at(i + 5, b":");
    // 2026-11-23T15:52:08Z, 2026/11/23 15:52:08
    let date = (0..4).all(digit) && at(4, b"-/") && digit(5) && digit(6) && at(7, b"-/") && digit(8) && digit(9);
    // Nov 23 15:52:08, Nov  3 15:52:08
    const MONTHS: [&str; 12] =
        ["Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ", "Jul ", "Aug ", "Sep ", "Oct ", "Nov ", "Dec "];
    let syslog =
        MONTHS.iter().any(|m| s.starts_with(m)) && (digit(4) || at(4, b" ")) && digit(5) && at(6, b" ") && clock_at(7);
    // I1123 15:52:08.123456 (glog)
    let glog = at(0, b"IWEF") && (1..5).all(digit) && at(5, b" ") && clock_at(6);
    const LEVELS: [&str; 10] =
        ["TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR", "FATAL", "CRITICAL"];
    let level =
        LEVELS.iter().any(|l| s.starts_with(l) && !s.as_bytes().get(l.len()).is_some_and(u8::is_ascii_alphanumeric))
            || s.starts_with("level=");
    date || clock_at(0) || syslog || glog || level
}

/// Statistics of the residual text of one block (lines up to a blank line), enough to tell prose from code and
/// JSON.
#[derive(Default)]
struct BlockStats {
    chars: u64,
    visible: u64,
    letters: u64,
    code_punctuation: u64,
    quotes: u64,
    lines: u64,
    json_lines: u64,
    code_lines: u64,
}

impl BlockStats {
    /// Adds a line's residual text to the statistics.
    fn add_line(&mut self, line: &str) {
        for c in line.chars() {
            self.chars += 1;
            if c.is_whitespace() {
                continue;
            }
            self.visible += 1;
            if c.is_alphabetic() {
                self.letters += 1;
            } else if c == '"' {
                self.quotes += 1;
            } else if matches!(
                c,
                '{' | '}' | '(' | ')' | '[' | ']' | ';' | ':' | '<' | '>' | '=' | '&' | '|' | '*' | '!' | '#' | '\\'
            ) {
                self.code_punctuation += 1;
            }
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return;
        }
        self.lines += 1;
        if trimmed.starts_with(['{', '}', '[', ']', '"']) {
            self.json_lines += 1;
        }
        const CODE_STARTS: [&str; 16] = [
            "//", "/*", "#", "fn ", "pub ", "let ", "use ", "impl ", "def ", "class ", "import ", "from ", "return",
            "func ", "const ", "}",
        ];
        if trimmed.ends_with([';', '{', '}', ')', '(']) || CODE_STARTS.iter().any(|s| trimmed.starts_with(s)) {
            self.code_lines += 1;
        }
    }

    /// A blank line: spacing for the classification.
    fn add_whitespace(&mut self, line: &str) {
        self.chars += line.chars().count() as u64;
    }

    fn class(&self) -> ContentClass {
        // Blank lines and indentation tokenize like the spacing between words.
        if self.visible == 0 {
            return ContentClass::Prose;
        }
        let visible = self.visible;
        if self.json_lines * 10 >= self.lines * 8 && self.quotes * 100 >= visible * 4 {
            ContentClass::Json
        } else if self.code_punctuation * 100 >= visible * 6
            || (self.code_lines * 2 >= self.lines && self.code_punctuation * 100 >= visible * 3)
        {
            ContentClass::Code
        } else if self.code_punctuation * 100 <= visible * 3 && self.letters * 100 >= visible * 85 {
            ContentClass::Prose
        } else {
            ContentClass::Mixed
        }
    }

    /// Adds the block's characters to its class and starts a new block.
    fn flush_into(&mut self, segments: &mut Segments) {
        if self.chars > 0 {
            let class = self.class().index();
            segments.chars[class] += self.chars;
        }
        *self = BlockStats::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUST: &str = r#"use crate::error::{Error, ErrorCode, Result};

/// Parses a glob pattern into segments.
pub fn parse(pattern: &str) -> Result<Vec<Segment>> {
    let mut segments = Vec::new();
    for raw in pattern.split('/') {
        if raw.is_empty() {
            return Err(Error::new(ErrorCode::PathInvalid, "empty segment").at(pattern));
        }
        segments.push(Segment::from(raw));
    }
    Ok(segments)
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}
"#;

    const JSON: &str = r#"{
  "name": "ctxpack-web",
  "version": "0.3.1",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "node_modules/typescript": {
      "version": "5.6.3",
      "resolved": "https://registry.npmjs.org/typescript/-/typescript-5.6.3.tgz",
      "dev": true,
      "license": "Apache-2.0",
      "bin": { "tsc": "bin/tsc", "tsserver": "bin/tsserver" },
      "engines": { "node": ">=14.17" }
    },
    "node_modules/undici-types": { "version": "6.19.8", "dev": true, "license": "MIT" }
  }
}
"#;

    const LOG: &str = r#"time="2026-11-23T15:52:08.123Z" level=info msg="response completed" go.version=go1.22.5 http.request.method=GET http.response.status=200
time="2026-11-23T15:52:08.456Z" level=warning msg="error authorizing context: authorization token required" http.request.uri="/v2/"
Nov 23 15:52:09 build-7 dockerd[812]: level=error msg="Handler for POST /v1.45/images/create returned error: toomanyrequests"
2026-11-23 15:52:10,001 INFO  [main] registry.Client - pulled layer in 183 ms, retrying 0 times
[2026-11-23T15:52:11Z] ERROR upload failed: status 416 Requested Range Not Satisfiable after 3 attempts
"#;

    const PROSE: &str = "A context packet is the unit of work an agent hands to a language model. It names the task, \
the files and symbols that matter, and the limits the model must respect, such as the number of tokens it may read. \
The original service loaded its policy and then never consulted it, so forbidden paths and secrets could reach a \
remote model. This module keeps the rules in the core, where every host applies them the same way, and it reports \
what it removed so that a reviewer can see why a packet is smaller than expected. Budgets are checked against an \
estimate that errs on the high side, because a packet that is slightly too small costs little while one that is \
too large is rejected by the model or, worse, silently truncated.";

    const JAPANESE: &str = "コンテキストパケットは、エージェントが言語モデルに渡す作業の単位です。\
タスク、関連するファイルとシンボル、そしてモデルが守るべき制限を記述します。\
元のサービスはポリシーを読み込みましたが、一度も参照しませんでした。";

    fn sha256_list() -> String {
        (0..20u32)
            .map(|i| {
                let hex: String =
                    (0..64u32).map(|k| char::from_digit((i * 7 + k * 13 + k * k) % 16, 16).unwrap()).collect();
                format!("sha256:{hex}\n")
            })
            .collect()
    }

    /// Deterministic pseudo-random bytes encoded as base64 and wrapped at 76 characters, like a PEM body.
    fn base64_blob(len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = String::new();
        for i in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            out.push(ALPHABET[(state % 64) as usize] as char);
            if i % 76 == 75 {
                out.push('\n');
            }
        }
        out
    }

    fn hex_string(len: usize) -> String {
        (0..len).map(|i| char::from_digit(((i * 2_654_435_761) >> 7) as u32 % 16, 16).unwrap()).collect()
    }

    #[test]
    fn classifies_realistic_samples() {
        assert_eq!(classify(RUST), ContentClass::Code);
        assert_eq!(classify(JSON), ContentClass::Json);
        assert_eq!(classify(LOG), ContentClass::Log);
        assert_eq!(classify(&sha256_list()), ContentClass::Hex);
        assert_eq!(classify(&base64_blob(1000)), ContentClass::Base64);
        assert_eq!(classify(JAPANESE), ContentClass::Cjk);
        assert_eq!(classify(PROSE), ContentClass::Prose);
    }

    #[test]
    fn jsonl_and_compact_json_are_json() {
        let jsonl = "{\"role\":\"user\",\"content\":\"fix the failing test\",\"ts\":1732370000}\n\
                     {\"role\":\"assistant\",\"content\":\"running cargo test\",\"tool\":\"bash\"}\n";
        assert_eq!(classify(jsonl), ContentClass::Json);
    }

    #[test]
    fn interleaved_content_is_mixed() {
        let text = format!("{PROSE}\n\n{JSON}\n{LOG}\n{}", base64_blob(600));
        assert_eq!(classify(&text), ContentClass::Mixed);
    }

    #[test]
    fn identifiers_and_paths_are_not_mistaken_for_dense_runs() {
        for word in [
            "HttpRequestBuilder2Factory",
            "wasm32-unknown-unknown",
            "src/context/tokens/mod.rs",
            "deadbeefcafebabefeed",
        ] {
            assert_eq!(word_class(word), None, "{word}");
        }
        assert_eq!(word_class("550e8400-e29b-41d4-a716-446655440000"), Some(ContentClass::Hex));
        assert_eq!(word_class("0x7f4a7c159e3779b9"), Some(ContentClass::Hex));
        assert_eq!(word_class("ghp_R8x2Kq9ZtV4mN7bW1cY6pL3sD0fH5jAeUoQ"), Some(ContentClass::Base64));
    }

    #[test]
    fn empty_text_has_no_tokens() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(classify(""), ContentClass::Prose);
        assert_eq!(classify(" \n\n\t"), ContentClass::Prose);
        assert_eq!(estimate_tokens(" "), 1);
    }

    #[test]
    fn counts_are_o200k_base_exactly() {
        // Counts from js-tiktoken's o200k_base.
        let cases: [(&str, String, u64); 8] = [
            ("rust", RUST.to_owned(), 136),
            ("json", JSON.to_owned(), 182),
            ("log", LOG.to_owned(), 193),
            ("prose", PROSE.to_owned(), 149),
            ("japanese", JAPANESE.to_owned(), 75),
            ("sha256", sha256_list(), 815),
            ("base64", base64_blob(4000), 2797),
            ("hex", hex_string(4000), 1691),
        ];
        for (name, text, exact) in &cases {
            assert_eq!(estimate_tokens(text), *exact, "{name}");
        }
    }

    #[test]
    fn a_host_can_swap_in_its_own_counter() {
        let exact = |text: &str| text.split_whitespace().count() as u64;
        let counters: [TokenCounter; 2] = [&estimate_tokens, &exact];
        assert_eq!(counters[1]("three small words"), 3);
        assert_eq!(counters[0]("three small words"), 3);
    }
}
