//! YAML and JSON reading and writing of context documents.
//!
//! Reading is strict because a document's meaning must not depend on the parser: duplicate keys (which one wins?),
//! non-string keys, tags, anchors and aliases (alias bombs, and text that says less than it means), several
//! documents in one file, non-finite or inexact numbers and oversized inputs are all errors that name the line and
//! column. Plain scalars resolve by the YAML 1.2 core schema (`yes` is a string, `0x1f` is 31).
//!
//! yaml-rust2 parses, because its events carry anchors, aliases, tags and positions; `yaml_emit` writes (block
//! style, struct fields in order, multi-line strings as literal blocks).

use super::yaml_emit::{emit, emit_element, emit_entry, Node};
use super::Item;
use crate::context::violation::scrub;
use crate::error::{Error, ErrorCode, Result};
use serde::Serialize;
use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

/// The largest document read: far above any real packet, small enough that a host cannot be made to allocate
/// without bound.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Deeper nesting than any packet has; the limit keeps recursion off the end of the stack.
const MAX_DEPTH: usize = 128;

/// Parses one JSON or YAML document into a JSON value. Text whose first non-space character is `{` is read as
/// strict JSON; anything else as YAML.
pub fn parse_document(text: &str) -> Result<Value> {
    parse_document_within(text, MAX_DOCUMENT_BYTES)
}

/// [`parse_document`] with another size limit (a host raises it for a packet it trusts): a larger text is
/// refused with `CTX_LIMIT_EXCEEDED` naming both sizes, before any parsing.
pub fn parse_document_within(text: &str, max_bytes: usize) -> Result<Value> {
    if text.len() > max_bytes {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!("the document is {} bytes; the limit is {max_bytes} bytes", text.len()),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        return crate::jcs::parse(text.as_bytes()).map_err(|e| invalid(format!("JSON: {}", e.message)));
    }
    let mut reader = Reader::new(text.chars());
    reader.document()
}

/// `value` as block-style YAML, struct fields in declaration order.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String> {
    // serde_json writes a struct's fields in declaration order; read back as a `Node`, they keep it.
    let json = serde_json::to_string(value).map_err(|e| invalid(format!("cannot write YAML: {e}")))?;
    let document: Node = serde_json::from_str(&json).map_err(|e| invalid(format!("cannot write YAML: {e}")))?;
    Ok(emit(&document))
}

/// [`to_yaml`] for a large value it may drop early: each stage is freed before the next one grows, so a
/// document costs about twice its size at once rather than four times.
pub fn into_yaml<T: Serialize>(value: T) -> Result<String> {
    let json = serde_json::to_string(&value).map_err(|e| invalid(format!("cannot write YAML: {e}")))?;
    drop(value);
    let document: Node = serde_json::from_str(&json).map_err(|e| invalid(format!("cannot write YAML: {e}")))?;
    drop(json);
    Ok(emit(&document))
}

/// `key: value` as one entry of a top-level mapping, the bytes [`to_yaml`] writes for it within a whole document.
pub fn yaml_entry<T: Serialize>(key: &str, value: &T) -> Result<String> {
    Ok(emit_entry(key, node(value)?))
}

/// `- item` as one element of a top-level entry's sequence, the bytes [`to_yaml`] writes for it within a whole
/// document (built without serde between), appended to `out`.
pub fn yaml_item(item: Item, out: &mut String) {
    emit_element(out, Node::from(item));
}

fn node<T: Serialize>(value: &T) -> Result<Node> {
    let json = serde_json::to_string(value).map_err(|e| invalid(format!("cannot write YAML: {e}")))?;
    serde_json::from_str(&json).map_err(|e| invalid(format!("cannot write YAML: {e}")))
}

/// [`to_json_pretty`] of a value nested `depth` levels deep in a document: every line after the first indented
/// as [`to_json_pretty`] indents it there (JSON strings hold no line breaks, so lines are the structure's).
pub fn json_nested<T: Serialize>(value: &T, depth: usize) -> Result<String> {
    let text = to_json_pretty(value)?;
    Ok(text.replace('\n', &format!("\n{}", "  ".repeat(depth))))
}

/// `value` as indented JSON, struct fields in declaration order.
pub fn to_json_pretty<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| invalid(format!("cannot write JSON: {e}")))
}

/// Parser reports may quote the document (a duplicate key, a tag, a number): masked like violations.
fn invalid(message: String) -> Error {
    Error::new(ErrorCode::YamlInvalid, scrub(&message))
}

fn invalid_at(mark: Mark, message: &str) -> Error {
    invalid(format!("line {} column {}: {message}", mark.line, mark.col + 1))
}

/// Where an event is in the document (a line from 1, a column from 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    line: usize,
    col: usize,
}

/// The strict reader over any source of characters: [`parse_document`] reads a whole text with it, and the
/// streamed redaction (`redact_stream`) one top-level entry or item at a time.
pub(crate) struct Reader<T: Iterator<Item = char>> {
    parser: Parser<T>,
    /// Lines of the document before the first line of `source`, less the lines `source` starts with that
    /// the document does not hold (the streamed redaction hands the reader the rest of a document after a
    /// few lines that restore its structure).
    line_offset: isize,
}

impl<T: Iterator<Item = char>> Reader<T> {
    pub(crate) fn new(source: T) -> Self {
        Reader::with_line_offset(source, 0)
    }

    pub(crate) fn with_line_offset(source: T, line_offset: isize) -> Self {
        Reader { parser: Parser::new(source), line_offset }
    }

    pub(crate) fn next(&mut self) -> Result<(Event, Mark)> {
        let at = |marker: &yaml_rust2::scanner::Marker| Mark {
            line: marker.line().saturating_add_signed(self.line_offset),
            col: marker.col(),
        };
        match self.parser.next_token() {
            Ok((event, marker)) => Ok((event, at(&marker))),
            Err(e) => Err(invalid_at(at(e.marker()), e.info())),
        }
    }

    fn document(&mut self) -> Result<Value> {
        self.start()?;
        let (event, mark) = self.next()?;
        let value = self.node(event, mark, 0)?;
        self.end()?;
        Ok(value)
    }

    /// The stream's start and its one document's.
    pub(crate) fn start(&mut self) -> Result<()> {
        let (event, mark) = self.next()?;
        if event != Event::StreamStart {
            return Err(invalid_at(mark, "expected the start of the stream"));
        }
        let (event, mark) = self.next()?;
        match event {
            Event::DocumentStart => Ok(()),
            Event::StreamEnd => Err(invalid_at(mark, "the document is empty")),
            _ => Err(invalid_at(mark, "expected a document")),
        }
    }

    /// The end of the document, and of the stream: a second document is refused.
    pub(crate) fn end(&mut self) -> Result<()> {
        let (event, mark) = self.next()?;
        if event != Event::DocumentEnd {
            return Err(invalid_at(mark, "expected the end of the document"));
        }
        match self.next()? {
            (Event::StreamEnd, _) => Ok(()),
            (_, mark) => Err(invalid_at(mark, "a file holds one document; remove the second `---` and what follows")),
        }
    }

    /// A mapping key: a string, else the error a whole document gets.
    pub(crate) fn key(&mut self, event: Event, mark: Mark, depth: usize) -> Result<String> {
        match self.node(event, mark, depth)? {
            Value::String(key) => Ok(key),
            _ => Err(invalid_at(mark, "keys must be strings")),
        }
    }

    pub(crate) fn node(&mut self, event: Event, mark: Mark, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(invalid_at(mark, &format!("nesting is deeper than {MAX_DEPTH} levels")));
        }
        match event {
            Event::Alias(_) => Err(invalid_at(mark, "aliases (*name) are not allowed; write the value out")),
            Event::Scalar(text, style, anchor, tag) => {
                plain_node(anchor, tag.as_ref(), mark)?;
                scalar(text, style, mark)
            }
            Event::SequenceStart(anchor, tag) => {
                plain_node(anchor, tag.as_ref(), mark)?;
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        (Event::SequenceEnd, _) => return Ok(Value::Array(items)),
                        (event, mark) => items.push(self.node(event, mark, depth + 1)?),
                    }
                }
            }
            Event::MappingStart(anchor, tag) => {
                plain_node(anchor, tag.as_ref(), mark)?;
                let mut map = Map::new();
                loop {
                    let key = match self.next()? {
                        (Event::MappingEnd, _) => return Ok(Value::Object(map)),
                        (event, mark) => (self.key(event, mark, depth + 1)?, mark),
                    };
                    let (event, value_mark) = self.next()?;
                    let value = self.node(event, value_mark, depth + 1)?;
                    if map.contains_key(&key.0) {
                        return Err(duplicate_key(key.1, &key.0));
                    }
                    map.insert(key.0, value);
                }
            }
            _ => Err(invalid_at(mark, "expected a value")),
        }
    }
}

pub(crate) fn duplicate_key(mark: Mark, key: &str) -> Error {
    invalid_at(mark, &format!("duplicate key {key:?}"))
}

/// Anchors and tags change what a node means away from where it is written; a context document has no use for
/// either. Positions point at the node the anchor or tag is on.
pub(crate) fn plain_node(anchor: usize, tag: Option<&Tag>, mark: Mark) -> Result<()> {
    if anchor != 0 {
        return Err(invalid_at(mark, "anchors (&name) are not allowed"));
    }
    if let Some(tag) = tag {
        let handle = if tag.handle == "tag:yaml.org,2002:" { "!!" } else { &tag.handle };
        return Err(invalid_at(
            mark,
            &format!("tags ({handle}{}) are not allowed; quote the value instead", tag.suffix),
        ));
    }
    Ok(())
}

/// A scalar under the YAML 1.2 core schema: only plain scalars can be null, booleans or numbers.
fn scalar(text: String, style: TScalarStyle, mark: Mark) -> Result<Value> {
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text));
    }
    resolve_plain(&text).map_err(|message| invalid_at(mark, &message))
}

/// The core schema's null and boolean words (with the empty and `~` nulls).
pub(super) fn plain_word(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Some(Value::Null),
        "true" | "True" | "TRUE" => Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// What a plain scalar means, or why it means nothing acceptable.
pub(super) fn resolve_plain(text: &str) -> std::result::Result<Value, String> {
    if let Some(value) = plain_word(text) {
        return Ok(value);
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let lower = unsigned.to_ascii_lowercase();
    if lower == ".inf" || lower == ".nan" {
        return Err(format!("{text} is not a finite number"));
    }
    let integer = if let Some(hex) = text.strip_prefix("0x") {
        Some(i128::from_str_radix(hex, 16))
    } else if let Some(octal) = text.strip_prefix("0o") {
        Some(i128::from_str_radix(octal, 8))
    } else if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        Some(text.parse::<i128>())
    } else {
        None
    };
    // The same rule as JSON input: a number whose canonical form is another number is an error, not a rounding.
    let exact = |literal: &str| crate::jcs::check_number(literal).map_err(|e| e.message);
    match integer {
        Some(Ok(n)) => {
            exact(&n.to_string())?;
            // As jcs::parse stores them: integers beyond ±2^53 as the double they equal.
            Ok(if n.unsigned_abs() <= 1 << 53 { Value::from(n as i64) } else { Value::from(n as f64) })
        }
        Some(Err(_)) if text.starts_with("0x") || text.starts_with("0o") => Ok(Value::String(text.to_owned())),
        Some(Err(_)) => Err(format!("{text} is too large")),
        None if is_float(unsigned) => {
            exact(text)?;
            Ok(Value::from(text.parse::<f64>().expect("is_float and check_number accepted it")))
        }
        None => Ok(Value::String(text.to_owned())),
    }
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the core schema's float without its sign.
fn is_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && (fraction.is_empty() || digits(fraction)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::packet::validate::tests::fixture_packet;
    use crate::context::packet::Packet;
    use serde_json::json;

    fn message(text: &str) -> String {
        let e = parse_document(text).unwrap_err();
        assert_eq!(e.code, ErrorCode::YamlInvalid, "{text}");
        e.message
    }

    #[test]
    fn reads_yaml_and_json() {
        let yaml = "a: 1\nb: [x, 'y', \"z\"]\nc:\n  d: ~\n  e: true\n  f: 1.5\n  g: yes\n  h: 0x1f\n  i: '12'\n";
        let c = json!({"d": null, "e": true, "f": 1.5, "g": "yes", "h": 31, "i": "12"});
        let expected = json!({"a": 1, "b": ["x", "y", "z"], "c": c});
        assert_eq!(parse_document(yaml).unwrap(), expected);
        assert_eq!(parse_document("  {\"a\": [1, 2]}").unwrap(), json!({"a": [1, 2]}));
        assert_eq!(parse_document("- 1e3\n- -.5\n- 07\n- 1_000\n").unwrap(), json!([1000.0, -0.5, 7, "1_000"]));
    }

    #[test]
    fn multi_line_strings_survive() {
        let text = "s: |\n  line one\n  line two\n";
        assert_eq!(parse_document(text).unwrap(), json!({"s": "line one\nline two\n"}));
    }

    #[test]
    fn rejects_duplicate_keys_with_position() {
        assert_eq!(message("a: 1\nb: 2\na: 3\n"), "line 3 column 1: duplicate key \"a\"");
        assert!(message("{\"a\": 1, \"a\": 2}").contains("duplicate key"));
        // A key that is a credential is masked in the report, in YAML and in JSON.
        let key = format!("AKIA{}", crate::context::detect::tests::fake("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 3));
        for text in [format!("{key}: 1\n{key}: 2\n"), format!("{{\"{key}\": 1, \"{key}\": 2}}")] {
            let report = message(&text);
            assert!(report.contains("duplicate key") && report.contains("[REDACTED:aws-access-key-id]"), "{report}");
            assert!(!report.contains(&key), "{report}");
        }
    }

    #[test]
    fn rejects_what_json_cannot_say_or_would_hide() {
        assert!(message("1: x\n").contains("keys must be strings"));
        assert!(message("? [a]\n: x\n").contains("keys must be strings"));
        assert!(message("a: !!str 1\n").contains("tags (!!str) are not allowed"));
        assert!(message("a: !custom x\n").contains("tags"));
        assert!(message("a: &x 1\nb: *x\n").contains("anchors"));
        assert!(message("a: [*x]\n").contains("line 1"));
        assert!(message("a: .inf\n").contains("not a finite number"));
        assert!(message("a: -.NaN\n").contains("not a finite number"));
        assert!(message("a: 1e999\n").contains("too large for a double"));
        assert!(message("a: 9007199254740993\n").contains("hashed as 9007199254740992"));
        assert!(message("a: 18446744073709551617\n").contains("hashed as 18446744073709552000"));
        assert!(message("a: 1e-400\n").contains("too small for a double"));
        assert!(message("a: 0.30000000000000001\n").contains("hashed as 0.3"));
        assert!(message("a: 0x20000000000001\n").contains("hashed as 9007199254740992"));
        assert!(message("a: 1\n---\nb: 2\n").contains("one document"));
        assert!(message("").contains("empty"));
        assert!(message("a: [1\n").contains("line"));
    }

    #[test]
    fn an_alias_bomb_is_refused_at_the_first_anchor() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n";
        assert!(message(bomb).starts_with("line 1 column 7: anchors"));
    }

    #[test]
    fn rejects_oversized_and_deeply_nested_input() {
        let big = "a".repeat(MAX_DOCUMENT_BYTES + 1);
        let error = parse_document(&big).unwrap_err();
        assert_eq!(error.code, ErrorCode::LimitExceeded);
        assert!(error.message.contains(&format!("the limit is {MAX_DOCUMENT_BYTES} bytes")), "{}", error.message);
        assert_eq!(parse_document_within(&big, big.len()).unwrap(), Value::String(big.clone()));
        let deep = format!("{}1{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert!(message(&deep).contains("nesting"));
    }

    #[test]
    fn packet_round_trips_through_yaml_and_json() {
        let packet = fixture_packet();
        let yaml = to_yaml(&packet).unwrap();
        assert!(yaml.starts_with("header:\n  packet_id:"), "{yaml}");
        assert!(yaml.contains("snippet: |"), "multi-line text is a literal block:\n{yaml}");
        let back: Packet = serde_json::from_value(parse_document(&yaml).unwrap()).unwrap();
        assert_eq!(back, packet);
        let json = to_json_pretty(&packet).unwrap();
        let back: Packet = serde_json::from_value(parse_document(&json).unwrap()).unwrap();
        assert_eq!(back, packet);
    }

    #[test]
    fn an_item_is_written_as_within_a_whole_document() {
        for item in crate::context::hash::tests::sample_items() {
            let whole = to_yaml(&std::slice::from_ref(&item)).unwrap();
            let mut text = String::new();
            yaml_item(item, &mut text);
            assert_eq!(text, whole);
        }
    }

    #[test]
    fn strings_that_look_like_other_scalars_stay_strings() {
        let tricky = ["123", "0x1f", "0o17", "1e3", ".5", "true", "null", "~", "", "yes", "- a", "a: b", "#x", " x "];
        let tricky = [&tricky[..], &["+1", "-1", "1.", ".inf", "-.5", "NULL", "0b1", "line\nbreak", "é"]].concat();
        let value = json!({ "s": tricky });
        assert_eq!(parse_document(&to_yaml(&value).unwrap()).unwrap(), value);
    }
}
