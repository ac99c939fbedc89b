//! The streamed redaction's fast front: the packet read line by line while it is written the way packets are
//! (`context:` on a line of its own after the four parts ahead of the items, items in the YAML that
//! [`scan_item`] reads), and handed to the full reader at the first line it cannot take, with the same result.
//!
//! Before the items, nothing is taken until the head is known to read: the full reader then reads the packet
//! from its start. After, the full reader goes on from the line where the scanner stopped, given first a few
//! lines that put it where it would be there (`context:` and one item), which it skips.

use super::{Run, Streamed, HEAD};
use crate::context::packet::item_scan::scan_item;
use crate::context::packet::yaml::{parse_document_within, Reader};
use crate::context::redact_source::Lines;
use crate::error::Result;
use serde_json::Value;
use yaml_rust2::parser::Event;

impl Run<'_, '_, '_> {
    /// Reads the head and the items it can line by line: `Some((dash, items))` when the head was (the items'
    /// dashes at column `dash`); `None` when nothing was taken.
    pub(super) fn scan(&mut self) -> Result<Option<(usize, usize)>> {
        let max = self.options.max_bytes;
        let lines = self.lines.as_mut().expect("nothing read yet");
        let Some((head, count)) = head_lines(lines, max) else { return Ok(None) };
        let context_end = lines.line_end(head).expect("head_lines found the line");
        let Some(first_end) = lines.line_end(context_end) else { return Ok(None) };
        let dash = indent(&lines.ahead(first_end)[context_end..]);
        if !lines.ahead(first_end)[context_end + dash..].starts_with(b"- ") {
            return Ok(None);
        }
        let Ok(text) = std::str::from_utf8(lines.ahead(head)) else { return Ok(None) };
        let Ok(Value::Object(sections)) = parse_document_within(text, usize::MAX) else { return Ok(None) };
        if sections.contains_key("context") || !HEAD.iter().all(|key| sections.contains_key(*key)) {
            return Ok(None);
        }
        lines.take(context_end, count + 1);
        self.sections = sections;
        self.outside = context_end;
        self.head = self.start_head()?;
        let mut index = 0;
        loop {
            let lines = self.lines.as_mut().expect("scanning");
            let Some((length, count)) = item_lines(lines, dash, max) else { break };
            let Some(value) = std::str::from_utf8(lines.ahead(length)).ok().and_then(|text| scan_item(text, dash))
            else {
                break;
            };
            lines.take(length, count);
            self.take_item(value, index)?;
            index += 1;
        }
        Ok(Some((dash, index)))
    }

    /// The full reader from the line the scanner stopped at, the items from `index` on, and the rest.
    pub(super) fn resume(&mut self, dash: usize, index: usize) -> Result<Streamed> {
        let lines = self.lines.take().expect("scanned");
        let next_line = lines.lines() + 1;
        self.meter.moved_to(lines.taken());
        self.meter.allow_until(lines.taken().saturating_add(self.options.max_bytes));
        let source = lines.into_source(self.meter.clone());
        let lead: Vec<char> = format!("context:\n{}- x\n", " ".repeat(dash)).chars().collect();
        // The lead's two lines stand before the next line, which is the document's line `next_line`.
        let offset = next_line as isize - 3;
        self.reader = Some(Reader::with_line_offset(Box::new(lead.into_iter().chain(source)), offset));
        for step in 0..6 {
            let (event, _) = self.next()?;
            let expected = match (step, &event) {
                (0, Event::StreamStart) | (1, Event::DocumentStart) | (2, Event::MappingStart(0, None)) => true,
                (3, Event::Scalar(text, ..)) => text == "context",
                (4, Event::SequenceStart(0, None)) => true,
                (5, Event::Scalar(text, ..)) => text == "x",
                _ => false,
            };
            if !expected {
                return Ok(Streamed::Whole);
            }
        }
        self.read_items(index)?;
        if !self.entries()? {
            return Ok(Streamed::Whole);
        }
        self.end()
    }
}

/// Whether `tail`, the packet's last bytes, holds its `provenance` as packets are written, at the top level
/// with an empty `packet_hash` (`""` or `''`).
pub(super) fn unhashed_tail(tail: &[u8]) -> bool {
    let Some(at) = memchr::memmem::rfind(tail, b"\nprovenance:\n") else { return false };
    // The entry's lines, up to the next one at the top level.
    let lines = tail[at + b"\nprovenance:\n".len()..].split(|&b| b == b'\n').take_while(|line| line.starts_with(b" "));
    lines.into_iter().any(|line| line == b"  packet_hash: \"\"" || line == b"  packet_hash: ''")
}

fn indent(line: &[u8]) -> usize {
    line.iter().take_while(|&&b| b == b' ').count()
}

/// The length of the lines before a line `context:`, and their count; `None` when there is no such line
/// within `max` bytes or the packet does not start with a key.
fn head_lines(lines: &mut Lines, max: usize) -> Option<(usize, usize)> {
    let end = lines.line_end(0)?;
    if !lines.ahead(end).first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
        return None;
    }
    let (mut length, mut count) = (0, 0);
    while length <= max {
        let end = lines.line_end(length)?;
        if &lines.ahead(end)[length..] == b"context:\n" {
            return Some((length, count));
        }
        (length, count) = (end, count + 1);
    }
    None
}

/// The length of the next item's lines (its dash at column `dash`, then the lines more indented or blank),
/// and their count; `None` when the next line starts no item or the item is longer than `max` bytes.
fn item_lines(lines: &mut Lines, dash: usize, max: usize) -> Option<(usize, usize)> {
    let first = lines.line_end(0)?;
    let line = lines.ahead(first);
    if indent(line) != dash || !line[dash..].starts_with(b"- ") {
        return None;
    }
    let (mut length, mut count) = (first, 1);
    while let Some(end) = lines.line_end(length) {
        let line = &lines.ahead(end)[length..];
        let spaces = indent(line);
        if !matches!(line.get(spaces), None | Some(b'\n')) && spaces <= dash {
            break;
        }
        (length, count) = (end, count + 1);
        if length > max {
            return None;
        }
    }
    Some((length, count))
}
