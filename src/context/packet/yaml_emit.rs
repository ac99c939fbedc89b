//! Block-style YAML writing, the way a person would write a packet: mappings in the order serde writes a struct's
//! fields, sequences under a key not indented (as libyaml writes them), strings plain when that reads back as the
//! same string, multi-line strings as literal blocks, and double quotes with escapes for everything else.
//!
//! yaml-rust2's own `YamlEmitter` is not used: it writes an indented first line of a literal block without an
//! indentation indicator (a method's snippet loses its indentation), leaves `0o17` unquoted (it reads back as
//! 15) and writes control characters unescaped.

use super::yaml::{plain_word, resolve_plain};
use super::Item;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use std::fmt;

/// Columns each nesting level is indented by, and the indentation indicator of literal blocks.
const INDENT: usize = 2;

/// A JSON document with its objects' keys in the order they were written (a `serde_json::Value` sorts them).
pub(super) enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// `document` as YAML text ending in a newline.
pub(super) fn emit(document: &Node) -> String {
    let mut out = String::new();
    match document {
        Node::Map(entries) if !entries.is_empty() => mapping(&mut out, entries, 0, false),
        Node::Seq(items) if !items.is_empty() => sequence(&mut out, items, 0, false),
        // A literal block needs a parent to indent against: a lone string stays on one line.
        Node::String(text) => {
            flow_string(&mut out, text);
            out.push('\n');
        }
        other => scalar(&mut out, other, INDENT),
    }
    out
}

/// One entry of a top-level mapping, as [`emit`] writes it within the whole mapping.
pub(super) fn emit_entry(key: &str, value: Node) -> String {
    let mut out = String::new();
    mapping(&mut out, &[(key.to_owned(), value)], 0, false);
    out
}

/// One element of a sequence under a top-level key, as [`emit`] writes it within the whole document, appended
/// to `out`.
pub(super) fn emit_element(out: &mut String, item: Node) {
    sequence(out, &[item], 0, false);
}

/// An item as its serde form reads back as a `Node`, built without the JSON between: fields in declaration
/// order, the ones serde skips left out, the texts moved rather than copied.
impl From<Item> for Node {
    fn from(item: Item) -> Node {
        let string = |text: Option<String>| text.map(Node::String);
        let span = item.span.map(|span| {
            Node::Map(vec![
                ("start".to_owned(), Node::Number(span.start.into())),
                ("end".to_owned(), Node::Number(span.end.into())),
            ])
        });
        let deps = Some(item.deps)
            .filter(|deps| !deps.is_empty())
            .map(|deps| Node::Seq(deps.into_iter().map(Node::String).collect()));
        let fields = [
            ("name", Some(Node::String(item.name))),
            ("path", string(item.path)),
            ("item_type", Some(Node::String(item.item_type.as_str().to_owned()))),
            ("signature", string(item.signature)),
            ("span", span),
            ("summary", string(item.summary)),
            ("snippet", string(item.snippet)),
            ("deps", deps),
            ("hash", string(item.hash)),
            ("source", Some(Node::String(item.source))),
            ("tokens_est", item.tokens_est.map(|n| Node::Number(n.into()))),
            ("priority", item.priority.map(|n| Node::Number(n.into()))),
            ("target", item.target.then_some(Node::Bool(true))),
        ];
        Node::Map(fields.into_iter().filter_map(|(key, node)| Some((key.to_owned(), node?))).collect())
    }
}

/// Entries at column `indent`; `inline`: the first one continues a line already written (`- key: value`).
fn mapping(out: &mut String, entries: &[(String, Node)], indent: usize, inline: bool) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        flow_string(out, key);
        out.push(':');
        match value {
            Node::Map(entries) if !entries.is_empty() => {
                out.push('\n');
                mapping(out, entries, indent + INDENT, false);
            }
            Node::Seq(items) if !items.is_empty() => {
                out.push('\n');
                sequence(out, items, indent, false);
            }
            other => {
                out.push(' ');
                scalar(out, other, indent + INDENT);
            }
        }
    }
}

/// Items as `- item` lines with the dash at column `indent`; `inline` as for [`mapping`].
fn sequence(out: &mut String, items: &[Node], indent: usize, inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Node::Map(entries) if !entries.is_empty() => mapping(out, entries, indent + INDENT, true),
            Node::Seq(items) if !items.is_empty() => sequence(out, items, indent + INDENT, true),
            other => scalar(out, other, indent + INDENT),
        }
    }
}

/// A scalar or an empty collection, and the line break after it; a literal block's lines go at `content_indent`.
fn scalar(out: &mut String, node: &Node, content_indent: usize) {
    match node {
        Node::String(text) if literal_block_fits(text) => return literal_block(out, text, content_indent),
        Node::String(text) => flow_string(out, text),
        Node::Number(n) => number(out, n),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Null => out.push_str("null"),
        Node::Map(_) => out.push_str("{}"),
        Node::Seq(_) => out.push_str("[]"),
    }
    out.push('\n');
}

/// As serde_json writes it, which the YAML 1.2 core schema reads back as the same number; an exponent gets a
/// fraction and a sign (`1.0e+300`, not `1e300`), without which a YAML 1.1 reader takes it for a string.
fn number(out: &mut String, n: &Number) {
    let text = n.to_string();
    match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            out.push_str(mantissa);
            if !mantissa.contains('.') {
                out.push_str(".0");
            }
            out.push('e');
            if !exponent.starts_with(['+', '-']) {
                out.push('+');
            }
            out.push_str(exponent);
        }
        None => out.push_str(&text),
    }
}

fn pad(out: &mut String, indent: usize) {
    // Copied in slices: a literal block pads every line, and pushing the spaces one by one was a tenth of
    // writing a large packet.
    const SPACES: &str = "                                ";
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        left -= n;
    }
}

/// A string on one line: plain when it reads back as itself (also to YAML 1.1 readers such as PyYAML), else
/// double-quoted.
fn flow_string(out: &mut String, text: &str) {
    if plain_fits(text) {
        out.push_str(text);
    } else {
        double_quoted(out, text);
    }
}

/// Characters that start a YAML indicator, or make a plain scalar mean something else at its start.
const INDICATORS: &[char] =
    &['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`'];

/// Plain scalars a YAML 1.1 reader (PyYAML, libyaml's default) takes for booleans, merge keys or values.
const YAML_1_1_SPECIAL: &[&str] =
    &["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "<<", "="];

fn plain_fits(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with(INDICATORS)
        && !text.starts_with(' ')
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains(" #")
        && text.chars().all(|c| c != '\t' && c != '\n' && printable(c))
        && !YAML_1_1_SPECIAL.contains(&text)
        && !looks_numeric(text)
        && reads_as_itself(text)
}

/// The core schema reads `text` back as this string. Without allocating for most texts (every key and short
/// value of a packet comes here): only a number starts with a digit, a sign or a dot, and `~` is null; any
/// other text is a string unless it is a null or boolean word.
fn reads_as_itself(text: &str) -> bool {
    if !text.starts_with(|c: char| c.is_ascii_digit() || "+-.~".contains(c)) {
        return plain_word(text).is_none();
    }
    resolve_plain(text).is_ok_and(|value| value == Value::String(text.to_owned()))
}

/// Numbers, dates and times a YAML 1.1 reader would resolve (`1_000`, `0777`, `1:30`, `2024-01-31`).
fn looks_numeric(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "_:.+-".contains(c))
}

/// Printable in YAML (tab and line feed included), and not a line break to any YAML version (NEL, LS, PS) nor
/// a byte-order mark: what may appear unescaped.
pub(super) fn printable(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | ' '..='\u{7e}' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}'
        | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// Multi-line text a literal block keeps exactly: printable (no carriage return), a line with content, and no
/// line ending in white space (which editors strip and readers treat differently).
fn literal_block_fits(text: &str) -> bool {
    let bytes = text.as_bytes();
    // One pass over the bytes for most texts, characters only for the others. The bytes are checked a block at
    // a time without an early exit, which the compiler turns into vector code.
    let ascii = bytes.chunks(64).all(|block| {
        block.iter().fold(true, |fits, &b| fits & (b.wrapping_sub(0x20) < 0x5f || b == b'\t' || b == b'\n'))
    });
    if !(ascii || text.chars().all(printable)) || memchr::memchr(b'\n', bytes).is_none() {
        return false;
    }
    // No line may end in a space or a tab (the block would lose it), and some line must hold a character.
    let trailing_blank = |end: usize| end > 0 && matches!(bytes[end - 1], b' ' | b'\t');
    !memchr::memchr_iter(b'\n', bytes).any(trailing_blank)
        && !trailing_blank(bytes.len())
        && bytes.iter().any(|&b| b != b'\n')
}

/// `|`, with an indentation indicator when the text starts with a space or a blank line (a reader would take
/// the text's own indentation for the block's), and `-` (no final line break) or `+` (several) chomping.
fn literal_block(out: &mut String, text: &str, content_indent: usize) {
    let body = text.trim_end_matches('\n');
    let breaks = text.len() - body.len();
    out.push('|');
    if text.starts_with([' ', '\n']) {
        out.push_str(&INDENT.to_string());
    }
    match breaks {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    out.push('\n');
    out.reserve(body.len() + breaks);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', body.as_bytes()).chain([body.len()]) {
        if end > start {
            pad(out, content_indent);
            out.push_str(&body[start..end]);
        }
        out.push('\n');
        start = end + 1;
    }
    for _ in 1..breaks {
        out.push('\n');
    }
}

fn double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !printable(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Node, E> {
        Number::from_f64(n).map(Node::Number).ok_or_else(|| E::custom("a number is not finite"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Node, E> {
        Ok(Node::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Node, E> {
        Ok(Node::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::super::yaml::{parse_document, to_yaml};
    use serde_json::json;

    fn yaml(value: &serde_json::Value) -> String {
        let text = to_yaml(value).unwrap();
        assert_eq!(&parse_document(&text).unwrap(), value, "does not read back:\n{text}");
        text
    }

    #[test]
    fn block_style() {
        let text = yaml(&json!({"list": [{"a": 1, "b": [true, null]}, ["p", "q"], [], {}], "m": {"deep": {"k": 1.5}}}));
        assert_eq!(
            text,
            "list:\n- a: 1\n  b:\n  - true\n  - null\n- - p\n  - q\n- []\n- {}\nm:\n  deep:\n    k: 1.5\n"
        );
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_that_keep_every_character() {
        let snippet = "    def method(self):\n        return 1\n";
        let text = yaml(&json!({"items": [{"snippet": snippet}], "s": "one\ntwo"}));
        let expected = "items:\n- snippet: |2\n        def method(self):\n            return 1\ns: |-\n  one\n  two\n";
        assert_eq!(text, expected);
        assert!(yaml(&json!({"s": "a\n\n"})).contains("s: |+\n  a\n\n"));
        assert!(yaml(&json!({"s": "\nafter a blank line\n"})).contains("s: |2\n\n  after"));
        assert!(yaml(&json!({"s": "a\n\n\nb\n"})).contains("s: |\n  a\n\n\n  b\n"));
        assert!(yaml(&json!({"s": "tab\there\n\tindented\n"})).contains("s: |\n"));
        assert!(yaml(&json!([["a\nb"]])).contains("- - |-\n    a\n    b\n"));
        // What a literal block cannot hold exactly is quoted.
        for s in ["trailing \nspace", "carriage\r\nreturn", "bell\u{7}\nx", "\n\n", "nel\u{85}\nx"] {
            assert!(yaml(&json!({ "s": s })).starts_with("s: \""), "{s:?}");
        }
    }

    #[test]
    fn strings_another_reader_would_take_for_something_else_are_quoted() {
        for s in ["yes", "No", "on", "0777", "1_000", "1:30", "2024-01-31", "0.1.0", "-x", "<<", "0o17", "0x1f", "1e3"]
        {
            assert_eq!(yaml(&json!({ "s": s })), format!("s: \"{s}\"\n"));
        }
        for s in ["plain text", "src/lib.rs", "a-b", "sha256:abc", "é", "x,y", "x [REDACTED:rule]"] {
            assert_eq!(yaml(&json!({ "s": s })), format!("s: {s}\n"), "{s}");
        }
        let text = yaml(&json!({"esc": "\u{1b}[0m", "del": "\u{7f}", "bom": "\u{feff}x", "ls": "a\u{2028}b",
            "nel": "a\u{85}b", "q": "say \"hi\" \\ bye", "cr": "a\rb"}));
        assert!(text.contains(r#"esc: "\u001b[0m""#) && text.contains(r#"del: "\u007f""#), "{text}");
        assert!(text.contains(r#"bom: "\ufeffx""#) && text.contains(r#"ls: "a\u2028b""#), "{text}");
        assert!(text.contains(r#"nel: "a\u0085b""#) && text.contains(r#"cr: "a\rb""#), "{text}");
        assert!(text.contains(r#"q: say "hi" \ bye"#), "quotes inside a plain scalar are plain text: {text}");
    }

    #[test]
    fn the_shortcut_for_plain_strings_agrees_with_the_reader() {
        let words = [
            "name",
            "null",
            "Null",
            "NULL",
            "nulls",
            "~",
            "~x",
            "true",
            "True",
            "TRUE",
            "truth",
            "false",
            "FALSE",
            "falsey",
            "nan",
            ".nan",
            ".NaN",
            "inf",
            "-.inf",
            "+.Inf",
            "1",
            "+1",
            "-1",
            "01",
            "1.5",
            ".5",
            "1e3",
            "0x1f",
            "0x",
            "0o17",
            "0oz",
            "x1",
            "é",
            "12345678901234567890123456789012345678901",
            "a b",
        ];
        for word in words {
            let read = super::resolve_plain(word).is_ok_and(|value| value == serde_json::Value::String(word.into()));
            assert_eq!(super::reads_as_itself(word), read, "{word:?}");
        }
    }

    #[test]
    fn keys_and_lone_scalars() {
        assert_eq!(yaml(&json!({"needs quoting: yes": 1, "": 2})), "\"\": 2\n\"needs quoting: yes\": 1\n");
        assert_eq!(yaml(&json!("two\nlines")), "\"two\\nlines\"\n");
        assert_eq!(yaml(&json!(7)), "7\n");
        assert_eq!(yaml(&json!([])), "[]\n");
        assert_eq!(
            yaml(&json!([1e300, 1e-7, -0.5, 9007199254740991_i64])),
            "- 1.0e+300\n- 1.0e-7\n- -0.5\n- 9007199254740991\n"
        );
    }
}
