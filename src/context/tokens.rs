//! Token estimates ([`estimate_tokens`]) and content classes ([`classify`]).
//!
//! `chars / 4` is right only for English prose: it under-counts logs, JSON, digests, keys, non-English Latin text
//! and every other script, which is what a context-packet budget must not do. [`estimate_tokens`] counts the way
//! o200k_base does, piece by piece ([`crate::context::pieces`]), with per-kind means measured on real text of
//! every script a Debian machine, Python and npm packages hold, and a margin so it errs high: `bench/tokens.mjs`
//! prints its error per class on the tuning material and on the hold-out sets, with chars/4 beside it.
//!
//! [`classify`] names what a text mostly is, for displays (the inspector, `context show`): segments, cheapest first:
//! - runs of CJK characters (Han, kana, Hangul, CJK and full-width punctuation);
//! - hex runs: 16 or more hex digits with at least one decimal digit (`sha256:…` digests, UUIDs, `0x…`);
//! - high-entropy runs: 20 or more characters of the base64/base64url alphabet, with letters and digits, that
//!   change kind (upper, lower, digit, symbol) at 30 % of positions or more, not counting the upper-to-lower step
//!   that starts a camelCase word; random base64, base32 and API keys do, identifiers such as
//!   `HttpRequestBuilder2Factory` do not (the estimator measures these runs apart too);
//! - log lines: lines that start with a timestamp, a syslog date or a level (`INFO`, `level=`…);
//! - the rest, classified per block (lines up to a blank line: a paragraph, a function, a JSON document) as
//!   prose, code, JSON or mixed from the density of code punctuation, quotes and JSON-shaped lines.
//!
//! Both are pure and deterministic (integer arithmetic only), so every host gets the same count.
//! [`TokenCounter`] is the seam where a host swaps in an exact tokenizer for its model family.

/// Counts the tokens in a text. [`estimate_tokens`] is one; a host with a real tokenizer (tiktoken in wasm, a
/// JavaScript tokenizer behind a closure) passes its own.
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

/// Estimated o200k_base token count, erring high: see [`crate::context::pieces`].
pub fn estimate_tokens(text: &str) -> u64 {
    crate::context::pieces::estimate(text)
}

/// Whether a run of base64-alphabet characters is a hex or base64 encoding (not an identifier or a path).
pub(crate) fn is_dense_word(word: &str) -> bool {
    word_class(word).is_some()
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
        assert!(estimate_tokens(" ") >= 1);
    }

    #[test]
    fn estimates_fall_in_plausible_bands() {
        let in_band = |text: &str, low: u64, high: u64| {
            let tokens = estimate_tokens(text);
            assert!((low..=high).contains(&tokens), "{tokens} tokens not in {low}..={high} for {:?}…", &text[..40]);
        };
        // o200k_base: 1,691 tokens.
        let hex = hex_string(4000);
        in_band(&hex, 1691, 1691 * 125 / 100);
        // o200k_base: 149 tokens (725 characters, so chars/4 over-counts English prose too); within the goal's
        // 10 % below and the margin above.
        in_band(PROSE, 149 * 90 / 100, 149 * 125 / 100);
        // Random base64 measured 1.46 chars/token: 4,000 chars is ~2,740 tokens.
        in_band(&base64_blob(4000), 2500, 3000);
        // Japanese measured 1.35–1.6 chars/token.
        let japanese_chars = JAPANESE.chars().count() as u64;
        in_band(JAPANESE, japanese_chars * 100 / 180, japanese_chars * 100 / 125);
    }

    #[test]
    fn hard_classes_are_not_under_counted_like_chars_over_four() {
        for text in [LOG, JSON, &sha256_list(), &base64_blob(2000), JAPANESE] {
            let quarter = (text.chars().count() as u64).div_ceil(4);
            assert!(estimate_tokens(text) * 100 >= quarter * 120, "{:?}… estimated at chars/4", &text[..20]);
        }
    }

    #[test]
    fn estimates_grow_with_length() {
        for sample in [RUST, JSON, LOG, PROSE, JAPANESE, &sha256_list(), &base64_blob(500)] {
            let mut previous = 0;
            for copies in 1..6 {
                let tokens = estimate_tokens(&sample.repeat(copies));
                assert!(tokens > previous, "{copies} copies of {:?}…", &sample[..20]);
                previous = tokens;
            }
            let mut previous = 0;
            for (end, _) in sample.match_indices('\n') {
                let tokens = estimate_tokens(&sample[..=end]);
                assert!(tokens >= previous, "first {end} bytes of {:?}…", &sample[..20]);
                previous = tokens;
            }
        }
    }

    #[test]
    fn appending_a_block_never_lowers_the_estimate() {
        let samples = [RUST, JSON, LOG, PROSE, JAPANESE];
        for first in samples {
            for second in samples {
                let joined = format!("{first}\n\n{second}");
                let (whole, parts) = (estimate_tokens(&joined), estimate_tokens(first) + estimate_tokens(second));
                assert!(whole >= estimate_tokens(first).max(estimate_tokens(second)));
                // The margin follows the whole text's features (its language, its lines), so the whole may take a
                // few percent more than its parts counted apart, never much more.
                assert!(whole <= parts * 108 / 100 + 1, "{whole} tokens for parts of {parts}");
            }
        }
    }

    #[test]
    fn a_host_can_swap_in_its_own_counter() {
        let exact = |text: &str| text.split_whitespace().count() as u64;
        let counters: [TokenCounter; 2] = [&estimate_tokens, &exact];
        assert_eq!(counters[1]("three small words"), 3);
        assert!(counters[0]("three small words") >= 3);
    }
}

/// Calibration on real text: `node bench/tokens-samples.mjs` writes `.bench/tokens/samples.jsonl` (samples with
/// their exact o200k_base counts, each in the "tuning", "holdout", "holdout2", "holdout3" or "holdout4" set), then
/// `cargo test --lib context::tokens::calibration -- --ignored --nocapture` prints, per class and per source group
/// of the tuning material only ("tuning", and "holdout2" and "holdout3" since they were looked at), the share of
/// samples under-counted by more than 10 %, the mean absolute error and the worst error. `bench/tokens.mjs` reports
/// every set; the hold-outs are never printed here. `CTX_TOKEN_FEATURES=<file>` also writes each tuning text's measured
/// means and margin features (what `bench/tokens-margin.mjs` fits), `CTX_TOKEN_MISSES=<file>` the texts
/// under-counted by more than 10 %.
#[cfg(test)]
mod calibration {
    use super::*;
    use std::collections::BTreeMap;

    const TUNING_SETS: [&str; 3] = ["tuning", "holdout2", "holdout3"];

    fn print_row(name: &str, errors: &[f64]) {
        let n = errors.len() as f64;
        let under = errors.iter().filter(|e| **e < -0.10).count() as f64 / n;
        let mae = errors.iter().map(|e| e.abs()).sum::<f64>() / n;
        let mean = errors.iter().sum::<f64>() / n;
        let worst = errors.iter().copied().fold(f64::INFINITY, f64::min);
        let high = errors.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "{name:30} n {n:5}  under>10% {:5.1}%  MAE {:5.1}%  mean {:+6.1}%  min {:+6.1}%  max {:+6.1}%",
            under * 100.0,
            mae * 100.0,
            mean * 100.0,
            worst * 100.0,
            high * 100.0
        );
    }

    #[test]
    #[ignore = "needs .bench/tokens/samples.jsonl from bench/tokens-samples.mjs"]
    fn print_errors_on_the_tuning_material() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/.bench/tokens/samples.jsonl");
        let text = std::fs::read_to_string(path).expect("run node bench/tokens-samples.mjs first");
        let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut misses = String::new();
        let mut features = String::new();
        for line in text.lines() {
            let sample: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let set = sample["set"].as_str().expect("set");
            if !TUNING_SETS.contains(&set) {
                continue;
            }
            let exact = sample["o200k"].as_f64().expect("o200k");
            let text = sample["text"].as_str().expect("text");
            let error = (estimate_tokens(text) as f64 - exact) / exact;
            let class = sample["cls"].as_str().expect("cls");
            let group = sample["group"].as_str().expect("group");
            for name in [format!("{set} {class}"), format!("{set} (all)"), format!("{set} group {group}")] {
                groups.entry(name).or_default().push(error);
            }
            groups.entry("(all tuning material)".to_owned()).or_default().push(error);
            let measure = crate::context::pieces::measure(text);
            features.push_str(&format!(
                "{{\"set\":\"{set}\",\"group\":\"{group}\",\"cls\":\"{class}\",\"o200k\":{exact},\"milli\":{:?},\"language\":\"{}\",\"hits\":{},\"nonascii\":{},\"lines\":{},\"chars\":{},\"unfamiliar\":{}}}\n",
                measure.milli,
                measure.language.name,
                measure.language.hits_per_mille,
                measure.language.non_ascii_per_mille,
                measure.lines,
                measure.chars,
                measure.unfamiliar_per_mille
            ));
            if error < -0.10 {
                misses.push_str(&format!(
                    "{set} {group} {class} {:+.1}% chars {}: {:?}\n",
                    error * 100.0,
                    text.chars().count(),
                    text.chars().take(300).collect::<String>()
                ));
            }
        }
        for (name, errors) in groups {
            print_row(&name, &errors);
        }
        if let Ok(out) = std::env::var("CTX_TOKEN_FEATURES") {
            std::fs::write(out, features).expect("writing the features");
        }
        if let Ok(out) = std::env::var("CTX_TOKEN_MISSES") {
            std::fs::write(out, misses).expect("writing the misses");
        }
    }
}
