//! One `context` item read from its own lines, for the part of YAML that packet writers use: block mappings and
//! sequences, plain and quoted one-line scalars, literal blocks, `[]` and `{}`. The streamed redaction reads
//! most items this way, a line at a time instead of a character at a time; anything else (comments, flow
//! collections, anchors, tags, folded or multi-line flow scalars, blank lines outside a literal block, what
//! would be an error) gives `None`, and the caller reads the item with the full reader ([`super::yaml::Reader`]),
//! which decides what it means or which error it is. What this returns is what the full reader returns.

use super::yaml::resolve_plain;
use super::yaml_emit::printable;
use serde_json::{Map, Value};

/// Nesting within an item beyond which the full reader takes over.
const MAX_DEPTH: usize = 8;

/// The item whose lines are `text` (every line ending in a line feed), its dash at column `dash`.
pub(crate) fn scan_item(text: &str, dash: usize) -> Option<Value> {
    let body = text.strip_suffix('\n')?;
    if body.contains('\r') {
        return None;
    }
    let mut start = 0;
    let mut lines = Vec::with_capacity(body.len() / 32);
    for end in memchr::memchr_iter(b'\n', body.as_bytes()).chain([body.len()]) {
        lines.push(&body[start..end]);
        start = end + 1;
    }
    let first = lines[0].get(dash..)?.strip_prefix("- ")?;
    if indent(lines[0]) != dash || first.starts_with(' ') {
        return None;
    }
    let mut scan = Scan { lines, at: 0 };
    let value = scan.mapping(dash + 2, Some(first), 0)?;
    (scan.at == scan.lines.len()).then_some(value)
}

struct Scan<'a> {
    lines: Vec<&'a str>,
    /// The next line to read.
    at: usize,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn blank(line: &str) -> bool {
    line.bytes().all(|b| b == b' ')
}

impl<'a> Scan<'a> {
    /// The next line's indentation, when there is a next line and it is not blank.
    fn next_indent(&self) -> Option<usize> {
        self.lines.get(self.at).filter(|line| !blank(line)).map(|line| indent(line))
    }

    /// A block mapping whose keys are at column `column`; `first`: the first entry's text, on a line already
    /// taken (after `- `).
    fn mapping(&mut self, column: usize, mut first: Option<&'a str>, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut map = Map::new();
        loop {
            let entry = match first.take() {
                Some(entry) => entry,
                None => {
                    let Some(line) = self.lines.get(self.at) else { break };
                    if blank(line) {
                        return None;
                    }
                    match indent(line) {
                        n if n == column => {}
                        n if n < column => break,
                        _ => return None,
                    }
                    &line[column..]
                }
            };
            self.at += 1;
            let (key, rest) = entry.split_once(':')?;
            let plain_key = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !plain_key || resolve_plain(key).ok()? != Value::String(key.to_owned()) || map.contains_key(key) {
                return None;
            }
            let value = match rest {
                "" => self.block(column, depth)?,
                _ => {
                    let value = rest.strip_prefix(' ')?.trim_start_matches(' ');
                    match value.strip_prefix('|') {
                        Some(header) => self.literal(header, column)?,
                        None => flow(value)?,
                    }
                }
            };
            map.insert(key.to_owned(), value);
            // A deeper line after a value would continue it (or be an error): the full reader decides.
            if self.next_indent().is_some_and(|n| n > column) {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    /// What follows `key:` at the end of a line in a mapping at `column`: a nested mapping or sequence, or null.
    fn block(&mut self, column: usize, depth: usize) -> Option<Value> {
        let Some(next) = self.next_indent() else { return Some(Value::Null) };
        let line = self.lines[self.at];
        let dashed = line[next..].starts_with("- ");
        match next {
            n if n == column && dashed => self.sequence(n),
            n if n > column && dashed => self.sequence(n),
            n if n > column => self.mapping(n, None, depth + 1),
            _ => Some(Value::Null),
        }
    }

    /// A block sequence of one-line scalars, dashes at column `column`.
    fn sequence(&mut self, column: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.at) {
            if blank(line) {
                return None;
            }
            let Some(text) = line.get(column..).and_then(|rest| rest.strip_prefix("- ")) else { break };
            if indent(line) != column {
                break;
            }
            if text.starts_with([' ', '|']) {
                return None;
            }
            items.push(flow(text)?);
            self.at += 1;
        }
        Some(Value::Array(items))
    }

    /// A literal block (`header` is what follows `|`) under a mapping at `column`.
    fn literal(&mut self, header: &str, column: usize) -> Option<Value> {
        let (increment, chomp) = match header.as_bytes() {
            [] => (None, b' '),
            [c @ (b'+' | b'-')] => (None, *c),
            [d @ b'1'..=b'9'] => (Some(d - b'0'), b' '),
            [d @ b'1'..=b'9', c @ (b'+' | b'-')] | [c @ (b'+' | b'-'), d @ b'1'..=b'9'] => (Some(d - b'0'), *c),
            _ => return None,
        };
        let content_indent = match increment {
            Some(n) => column + usize::from(n),
            // Found from the first line, which must hold text (leading blank lines are the full reader's).
            None => {
                let line = self.lines.get(self.at).filter(|line| !blank(line))?;
                Some(indent(line)).filter(|&n| n > column)?
            }
        };
        // At most what is left of the item's lines.
        let left: usize = self.lines[self.at..].iter().map(|line| line.len() + 1).sum();
        let mut text = String::with_capacity(left);
        let (mut lines, mut breaks) = (0, 0);
        while let Some(line) = self.lines.get(self.at) {
            let spaces = indent(line);
            if blank(line) {
                if spaces > content_indent {
                    return None;
                }
                breaks += 1;
            } else if spaces >= content_indent {
                let content = &line[content_indent..];
                let ascii = content.bytes().all(|b| matches!(b, b'\t' | 0x20..=0x7e));
                if !(ascii || content.chars().all(|c| c == '\t' || printable(c))) {
                    return None;
                }
                if lines > 0 {
                    text.push('\n');
                }
                text.extend(std::iter::repeat_n('\n', breaks));
                text.push_str(content);
                (lines, breaks) = (lines + 1, 0);
            } else if spaces > column {
                return None;
            } else {
                break;
            }
            self.at += 1;
        }
        if lines == 0 {
            return None;
        }
        match chomp {
            b'-' => {}
            b'+' => text.extend(std::iter::repeat_n('\n', breaks + 1)),
            _ => text.push('\n'),
        }
        Some(Value::String(text))
    }
}

/// A scalar or empty collection on one line: `[]`, `{}`, a quoted string or a plain scalar.
fn flow(text: &str) -> Option<Value> {
    match text {
        "[]" => return Some(Value::Array(Vec::new())),
        "{}" => return Some(Value::Object(Map::new())),
        _ => {}
    }
    if !text.chars().all(printable) || text.contains('\t') {
        return None;
    }
    if let Some(quoted) = text.strip_prefix('"') {
        return double_quoted(quoted.strip_suffix('"')?).map(Value::String);
    }
    if let Some(quoted) = text.strip_prefix('\'') {
        let inner = quoted.strip_suffix('\'')?;
        // Every quote inside is doubled.
        return (!inner.replace("''", "").contains('\'')).then(|| Value::String(inner.replace("''", "'")));
    }
    let risky_start = match text.as_bytes() {
        [b'-', next, ..] => *next == b' ',
        [first, ..] => b"-?:,[]{}#&*!|>'\"%@`".contains(first),
        [] => true,
    };
    if risky_start || text.ends_with([' ', ':']) || text.contains(": ") || text.contains(" #") {
        return None;
    }
    resolve_plain(text).ok()
}

/// The text of a double-quoted scalar with the escapes [`super::yaml_emit`] writes; `None` for any other.
fn double_quoted(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => out.push(match chars.next()? {
                '"' => '"',
                '\\' => '\\',
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let code = u32::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()))?;
                    char::from_u32(code)?
                }
                _ => return None,
            }),
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
#[path = "item_scan_tests.rs"]
mod tests;
