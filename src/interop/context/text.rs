//! `detectSecrets`, `redactText`, `estimateTokens`, `classifyContent`, `globMatch`.
//!
//! Offsets given to JavaScript are UTF-16 code-unit offsets (what `String.prototype.slice` takes); the core
//! reports byte offsets into UTF-8, converted here in one pass over the text.

use super::super::{object, set, to_js_error};
use crate::context::detect::{Detector, Finding, Redacted, RuleKind};
use crate::context::glob::Glob;
use crate::context::tokens::{classify, estimate_tokens, ContentClass};
use js_sys::Array;
use std::sync::OnceLock;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A secret or PII found in a text: `text.slice(start, end)` (UTF-16 offsets) is what matched. */
export interface SecretFinding {
  ruleId: string;
  kind: "credential" | "pii";
  start: number;
  end: number;
}

/** A text with every finding replaced by `[REDACTED:<rule-id>]`, and how many of each rule. */
export interface RedactedText {
  text: string;
  counts: Record<string, number>;
}

/** What a text mostly is (for displays; the token estimate looks at every piece of the text). */
export type ContentClass = "prose" | "code" | "json" | "log" | "hex" | "base64" | "cjk" | "mixed";
"#;

/// The built-in detector set (66 credential and the default PII rules), compiled once per instance: compiling
/// its ~70 patterns costs far more than scanning a typical snippet.
fn builtin_detector() -> &'static Detector {
    static BUILTIN: OnceLock<Detector> = OnceLock::new();
    BUILTIN.get_or_init(Detector::builtin)
}

/// `[{ruleId, kind: "credential" | "pii", start, end}]` in text order, non-overlapping; `text.slice(start, end)`
/// is the secret. The built-in rules; `ContextPolicy.detect` applies a policy's.
#[wasm_bindgen(js_name = detectSecrets, unchecked_return_type = "SecretFinding[]")]
pub fn detect_secrets(text: &str) -> JsValue {
    findings_to_js(text, &builtin_detector().find(text))
}

pub(super) fn findings_to_js(text: &str, findings: &[Finding]) -> JsValue {
    let offsets = utf16_offsets(text, findings.iter().flat_map(|f| [f.start, f.end]));
    let list: Array = findings
        .iter()
        .zip(offsets.chunks_exact(2))
        .map(|(finding, range)| finding_to_js(finding, range[0], range[1]))
        .collect();
    list.into()
}

/// `{text, counts: {ruleId: n}}`: every secret replaced by `[REDACTED:<rule-id>]`. Idempotent: redacting the
/// result again changes nothing and counts nothing. The built-in rules; `ContextPolicy.redactText` applies a
/// policy's.
#[wasm_bindgen(js_name = redactText, unchecked_return_type = "RedactedText")]
pub fn redact_text(text: &str) -> JsValue {
    redacted_to_js(&builtin_detector().redact(text))
}

pub(super) fn redacted_to_js(redacted: &Redacted) -> JsValue {
    let counts: JsValue = js_sys::Object::new().into();
    for (rule_id, count) in &redacted.counts {
        set(&counts, rule_id, &(*count as f64).into());
    }
    object(&[("text", redacted.text.as_str().into()), ("counts", counts)])
}

/// The exact o200k_base token count of `text` (special-token text counted as text; see `context::o200k`).
#[wasm_bindgen(js_name = estimateTokens)]
pub fn estimate_tokens_js(text: &str) -> f64 {
    estimate_tokens(text) as f64
}

/// `"prose" | "code" | "json" | "log" | "hex" | "base64" | "cjk" | "mixed"`.
#[wasm_bindgen(js_name = classifyContent, unchecked_return_type = "ContentClass")]
pub fn classify_content(text: &str) -> String {
    class_name(classify(text)).to_owned()
}

/// Whether `path` (relative, `/`-separated; a trailing `/` marks a directory) matches the glob `pattern`.
/// A malformed pattern throws CTX_PATH_INVALID.
#[wasm_bindgen(js_name = globMatch)]
pub fn glob_match(pattern: &str, path: &str) -> Result<bool, JsValue> {
    Glob::parse(pattern).map(|glob| glob.matches(path)).map_err(to_js_error)
}

fn class_name(class: ContentClass) -> &'static str {
    match class {
        ContentClass::Prose => "prose",
        ContentClass::Code => "code",
        ContentClass::Json => "json",
        ContentClass::Log => "log",
        ContentClass::Hex => "hex",
        ContentClass::Base64 => "base64",
        ContentClass::Cjk => "cjk",
        ContentClass::Mixed => "mixed",
    }
}

fn finding_to_js(finding: &Finding, start: usize, end: usize) -> JsValue {
    let kind = match finding.kind {
        RuleKind::Credential => "credential",
        RuleKind::Pii => "pii",
    };
    object(&[
        ("ruleId", finding.rule_id.as_str().into()),
        ("kind", kind.into()),
        ("start", (start as f64).into()),
        ("end", (end as f64).into()),
    ])
}

/// UTF-16 offsets of ascending byte offsets (each on a char boundary), walking the text once. ASCII text needs
/// no walk: its byte and UTF-16 offsets are equal.
fn utf16_offsets(text: &str, byte_offsets: impl Iterator<Item = usize>) -> Vec<usize> {
    if text.is_ascii() {
        return byte_offsets.collect();
    }
    let mut chars = text.char_indices().peekable();
    let mut units = 0;
    byte_offsets
        .map(|target| {
            while let Some(&(at, c)) = chars.peek() {
                if at >= target {
                    break;
                }
                units += c.len_utf16();
                chars.next();
            }
            units
        })
        .collect()
}
