//! A YAML packet redacted as it streams: the header, problem, scope and constraints are read, then each
//! `context` item is read, checked, redacted and written before the next one is read, and the rest of the packet
//! follows. Memory holds one item and the packet's other parts, whatever the number of items; the output is
//! byte for byte what redacting the whole document writes, and `packet_hash` is computed the same way (over the
//! items as they are written).
//!
//! The packet is read line by line while it is in the form packets are written in (`scan`, redact_scan.rs), and
//! by the full YAML reader from the first line that is not.
//!
//! A packet this cannot stream is left to the whole-document path ([`Streamed::Whole`]): JSON, a `context` that
//! comes before one of the four parts written ahead of it or is not a list, and a hashed packet whose
//! attachments come after its items (the hash covers them first).

use crate::context::hash::write_item;
use crate::context::packet::validate::{check_item, check_section, check_sections, SchemaRules};
use crate::context::packet::yaml::{duplicate_key, json_nested, plain_node, yaml_entry, yaml_item, Mark, Reader};
use crate::context::packet::{Attachment, Constraints, Header, Item, Packet, Privacy, Problem, Redaction, Scope};
use crate::context::policy::Policy;
use crate::context::redact::{
    always_local, fill_constraints, forbidden_item, item_approval, second_pass, task_approval,
};
use crate::context::redact_items::Records;
use crate::context::redact_source::{Lines, Meter};
use crate::context::violation::Violation;
use crate::error::{Error, ErrorCode, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use std::rc::Rc;
use yaml_rust2::parser::Event;

/// The parts written before the items, in the order they are written.
const HEAD: [&str; 4] = ["header", "problem", "scope", "constraints"];
/// Output is handed to the host in pieces of about this size.
const WRITE_CHUNK: usize = 1 << 20;

pub struct StreamOptions {
    /// Write JSON (else YAML).
    pub json: bool,
    /// The most bytes one item, or the packet without its items, may take.
    pub max_bytes: usize,
    /// The user approved a remote route the policy reserves for approval.
    pub approved: bool,
    /// The packet's last bytes, when the host can read them first (a file; empty otherwise): a `provenance`
    /// there with an empty `packet_hash` spares hashing the items as they go (the hash is needed only when
    /// the packet holds one). Should the packet hold one after all, it is read whole ([`Streamed::Whole`]).
    pub tail: Vec<u8>,
}

pub enum Streamed {
    Done(StreamSummary),
    /// The packet breaks the schema: every violation, as the whole-document check lists them.
    Invalid(Vec<Violation>),
    /// The packet must be read whole; what was written is to be discarded.
    Whole,
}

pub struct StreamSummary {
    pub applied: Vec<Redaction>,
    pub blocked: Vec<Violation>,
    pub task_id: String,
    pub privacy: Privacy,
    /// Empty when the packet holds none.
    pub packet_hash: String,
}

/// Reads the packet from `read` (chunks of its bytes), writes the redacted packet to `write` (chunks of the
/// output), and reports what was done. What was written is only complete when this returns [`Streamed::Done`].
pub fn redact_stream<'r>(
    read: impl FnMut() -> Option<Vec<u8>> + 'r,
    write: &mut dyn FnMut(&[u8]),
    policy: &Policy,
    rules: &SchemaRules,
    options: &StreamOptions,
) -> Result<Streamed> {
    let meter = Rc::new(Meter::default());
    meter.allow_until(options.max_bytes);
    let mut run = Run {
        lines: Some(Lines::new(Box::new(read))),
        reader: None,
        meter,
        outside: 0,
        hashing: !scan::unhashed_tail(&options.tail),
        policy,
        rules,
        options,
        out: Out { buf: String::new(), write },
        sections: Map::new(),
        invalid: Vec::new(),
        head: None,
        records: Records::default(),
        written: 0,
        item: None,
        item_gate: ItemGate::default(),
        canonical: Vec::new(),
    };
    run.packet()
}

struct Out<'w> {
    buf: String,
    write: &'w mut dyn FnMut(&[u8]),
}

impl Out<'_> {
    fn push(&mut self, text: &str) {
        self.buf.push_str(text);
        self.written();
    }

    /// Hands on what `buf` holds once there is a chunk of it.
    fn written(&mut self) {
        if self.buf.len() >= WRITE_CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            (self.write)(self.buf.as_bytes());
            self.buf.clear();
        }
    }
}

/// The parts known when the items start, redacted, and the hash over what is written so far.
struct Head {
    header: Header,
    problem: Problem,
    scope: Scope,
    constraints: Constraints,
    /// Attachments read before the items, masked: the hash covers them ahead of the items.
    attachments: Option<Vec<Attachment>>,
    /// The canonical JSON hashed before the first item.
    prefix: Vec<u8>,
    hasher: Sha256,
}

/// The gate's findings about the items, kept apart by the place they take in its list.
#[derive(Default)]
struct ItemGate {
    forbidden: Vec<Violation>,
    secrets: Vec<Violation>,
    approval: Vec<Violation>,
}

/// The characters the full reader reads.
type Chars<'r> = Box<dyn Iterator<Item = char> + 'r>;

struct Run<'a, 'w, 'r> {
    /// The packet as lines, while the line scanner reads it (`scan`); then the full reader's.
    lines: Option<Lines<'r>>,
    reader: Option<Reader<Chars<'r>>>,
    meter: Rc<Meter>,
    /// The bytes before the items.
    outside: usize,
    /// The items are hashed as they are written (the packet may hold a hash).
    hashing: bool,
    policy: &'a Policy,
    rules: &'a SchemaRules,
    options: &'a StreamOptions,
    out: Out<'w>,
    /// The top-level entries other than the items, as read.
    sections: Map<String, Value>,
    /// The items' violations; once there is one, nothing more is redacted or written.
    invalid: Vec<Violation>,
    head: Option<Head>,
    records: Records,
    /// Items written.
    written: usize,
    /// The item being read.
    item: Option<usize>,
    item_gate: ItemGate,
    /// The canonical JSON of the item being hashed (kept to reuse its allocation).
    canonical: Vec<u8>,
}

impl<'r> Run<'_, '_, 'r> {
    fn reader(&mut self) -> &mut Reader<Chars<'r>> {
        self.reader.as_mut().expect("the full reader reads once the line scanner stops")
    }

    fn next(&mut self) -> Result<(Event, Mark)> {
        let next = self.reader().next();
        if self.meter.over() {
            return Err(self.over_limit());
        }
        next
    }

    fn over_limit(&self) -> Error {
        let max = self.options.max_bytes;
        let what = match self.item {
            Some(index) => format!("context[{index}] (one item)"),
            None => "the packet without its context items".to_owned(),
        };
        Error::new(ErrorCode::LimitExceeded, format!("{what} is over the limit of {max} bytes"))
    }

    fn value(&mut self, event: Event, mark: Mark, depth: usize) -> Result<Value> {
        let value = self.reader().node(event, mark, depth);
        if self.meter.over() {
            return Err(self.over_limit());
        }
        value
    }

    fn packet(&mut self) -> Result<Streamed> {
        if let Some((dash, index)) = self.scan()? {
            return self.resume(dash, index);
        }
        let mut source = self.lines.take().expect("nothing read yet").into_source(self.meter.clone());
        if matches!(source.first_visible(), Some('{')) {
            return Ok(Streamed::Whole);
        }
        self.reader = Some(Reader::new(Box::new(source)));
        let started = self.reader().start();
        if self.meter.over() {
            return Err(self.over_limit());
        }
        started?;
        match self.next()? {
            (Event::MappingStart(0, None), _) => {}
            _ => return Ok(Streamed::Whole),
        }
        if !self.entries()? {
            return Ok(Streamed::Whole);
        }
        self.end()
    }

    /// The top-level entries up to the end of the mapping; `false` when the packet must be read whole.
    fn entries(&mut self) -> Result<bool> {
        loop {
            let (event, mark) = self.next()?;
            if event == Event::MappingEnd {
                break;
            }
            let key = self.reader().key(event, mark, 1);
            if self.meter.over() {
                return Err(self.over_limit());
            }
            let key = key?;
            let (event, value_mark) = self.next()?;
            if key == "context" {
                if self.sections.contains_key(&key) {
                    return Err(duplicate_key(mark, &key));
                }
                self.outside = self.meter.read();
                let Event::SequenceStart(anchor, tag) = event else { return Ok(false) };
                plain_node(anchor, tag.as_ref(), value_mark)?;
                if !self.items()? {
                    return Ok(false);
                }
            } else {
                let value = self.value(event, value_mark, 1)?;
                // As a whole document is read: the value first, then whether its key was seen.
                if self.sections.contains_key(&key) {
                    return Err(duplicate_key(mark, &key));
                }
                self.sections.insert(key, value);
            }
        }
        Ok(true)
    }

    /// The end of the document, then the rest of the packet completed and written.
    fn end(&mut self) -> Result<Streamed> {
        let end = self.reader().end();
        if self.meter.over() {
            return Err(self.over_limit());
        }
        end?;
        self.finish()
    }

    /// Reads, redacts and writes every item; `false` when the head is not all there yet.
    fn items(&mut self) -> Result<bool> {
        if !HEAD.iter().all(|key| self.sections.contains_key(*key)) {
            return Ok(false);
        }
        self.head = self.start_head()?;
        self.read_items(0)?;
        Ok(true)
    }

    /// The items from `index` on, with the full reader; then the limit of the parts outside the items.
    fn read_items(&mut self, mut index: usize) -> Result<()> {
        loop {
            self.item = Some(index);
            let start = self.meter.read();
            self.meter.allow_until(start.saturating_add(self.options.max_bytes));
            let (event, mark) = self.next()?;
            if event == Event::SequenceEnd {
                break;
            }
            let value = self.value(event, mark, 2)?;
            self.take_item(value, index)?;
            index += 1;
        }
        self.sections.insert("context".to_owned(), Value::Array(Vec::new()));
        self.item = None;
        // What is left of the limit for the parts outside the items.
        let left = self.options.max_bytes.saturating_sub(self.outside);
        self.meter.allow_until(self.meter.read().saturating_add(left));
        Ok(())
    }

    /// Checks item `index`, then redacts, hashes and writes it unless the packet is already invalid.
    fn take_item(&mut self, value: Value, index: usize) -> Result<()> {
        let violations = check_item(&value, index, self.rules);
        if self.head.is_none() || !violations.is_empty() || !self.invalid.is_empty() {
            self.invalid.extend(violations);
        } else {
            match serde_json::from_value::<Item>(value) {
                Ok(item) => self.item(item)?,
                Err(e) => self.invalid.push(Violation::new("$", "type", e.to_string())),
            }
        }
        Ok(())
    }

    /// The four parts ahead of the items, redacted and written, with the hash begun; `None` when one of them
    /// breaks the schema (the items are then only checked).
    fn start_head(&mut self) -> Result<Option<Head>> {
        let mut parts = Map::new();
        for key in HEAD.into_iter().chain(["attachments"]) {
            if let Some(value) = self.sections.get(key) {
                if !check_section(key, value, self.rules).is_empty() {
                    return Ok(None);
                }
                parts.insert(key.to_owned(), value.clone());
            }
        }
        let (Some(header), Some(mut problem), Some(scope), Some(mut constraints)) = (
            typed::<Header>(&parts, "header"),
            typed::<Problem>(&parts, "problem"),
            typed::<Scope>(&parts, "scope"),
            typed::<Constraints>(&parts, "constraints"),
        ) else {
            return Ok(None);
        };
        let mut attachments = match parts.get("attachments") {
            Some(_) => match typed::<Vec<Attachment>>(&parts, "attachments") {
                Some(list) => Some(list),
                None => return Ok(None),
            },
            None => None,
        };
        fill_constraints(&mut constraints, self.policy);
        self.records.problem(&mut problem, self.policy);
        if let Some(list) = attachments.as_mut() {
            self.records.attachments(list, self.policy);
        }
        let prefix = hash_prefix(attachments.as_deref().unwrap_or_default(), &constraints)?;
        let mut hasher = Sha256::new();
        hasher.update(&prefix);
        if self.options.json {
            self.out.push("{\n");
        }
        self.write_entry("header", &header, true)?;
        self.write_entry("problem", &problem, false)?;
        self.write_entry("scope", &scope, false)?;
        self.write_entry("constraints", &constraints, false)?;
        Ok(Some(Head { header, problem, scope, constraints, attachments, prefix, hasher }))
    }

    fn item(&mut self, mut item: Item) -> Result<()> {
        if !self.records.item(&mut item, self.policy) {
            return Ok(());
        }
        let head = self.head.as_mut().expect("items are redacted once the head is read");
        let index = self.written;
        if head.header.privacy == Privacy::RemoteAllowed {
            let value = serde_json::to_value(&item).expect("an item is plain data");
            self.item_gate.forbidden.extend(forbidden_item(&item, index, self.policy));
            self.item_gate.secrets.extend(second_pass(&value, format!("context[{index}]"), self.policy));
            self.item_gate.approval.extend(item_approval(&item, index, self.policy));
        }
        if self.hashing {
            let canonical = &mut self.canonical;
            canonical.clear();
            if index > 0 {
                canonical.push(b',');
            }
            write_item(&item, canonical)?;
            head.hasher.update(&canonical[..]);
        }
        if self.options.json {
            self.out.push(if index == 0 { ",\n  \"context\": [\n    " } else { ",\n    " });
            self.out.push(&json_nested(&item, 2)?);
        } else {
            self.out.push(if index == 0 { "context:\n" } else { "" });
            yaml_item(item, &mut self.out.buf);
            self.out.written();
        }
        self.written += 1;
        Ok(())
    }

    fn write_entry<T: Serialize>(&mut self, key: &str, value: &T, first: bool) -> Result<()> {
        let text = if self.options.json {
            let comma = if first { "" } else { ",\n" };
            format!("{comma}  {}: {}", serde_json::to_string(key).expect("a key"), json_nested(value, 1)?)
        } else {
            yaml_entry(key, value)?
        };
        self.out.push(&text);
        Ok(())
    }

    /// Checks the whole packet, redacts and writes what follows the items, completes the hash and the gate.
    fn finish(&mut self) -> Result<Streamed> {
        let violations = check_sections(&self.sections, std::mem::take(&mut self.invalid), self.rules);
        if !violations.is_empty() {
            return Ok(Streamed::Invalid(violations));
        }
        let Some(head) = self.head.take() else { return Ok(Streamed::Whole) };
        let mut packet: Packet = match serde_json::from_value(Value::Object(std::mem::take(&mut self.sections))) {
            Ok(packet) => packet,
            Err(e) => return Ok(Streamed::Invalid(vec![Violation::new("$", "type", e.to_string())])),
        };
        (packet.header, packet.problem, packet.scope, packet.constraints) =
            (head.header, head.problem, head.scope, head.constraints);
        packet.policy.remote_allowed = packet.header.privacy == Privacy::RemoteAllowed;
        match head.attachments {
            Some(list) => packet.attachments = list,
            None => self.records.attachments(&mut packet.attachments, self.policy),
        }
        let applied = std::mem::take(&mut self.records).finish(&packet.policy.redactions_applied);
        packet.policy.redactions_applied.extend(applied.iter().cloned());
        if !packet.provenance.packet_hash.is_empty() {
            if !self.hashing || hash_prefix(&packet.attachments, &packet.constraints)? != head.prefix {
                return Ok(Streamed::Whole);
            }
            packet.provenance.packet_hash = hash_rest(head.hasher, &packet)?;
        }
        let blocked = self.gate(&packet);
        self.write_rest(&packet)?;
        self.out.flush();
        Ok(Streamed::Done(StreamSummary {
            applied,
            blocked,
            task_id: packet.header.task_id,
            privacy: packet.header.privacy,
            packet_hash: packet.provenance.packet_hash,
        }))
    }

    /// `remote_gate`, then `approval_gate` unless approved, as for the whole packet: `packet` is the packet
    /// without its items, whose findings were gathered as they went by.
    fn gate(&mut self, packet: &Packet) -> Vec<Violation> {
        if packet.header.privacy != Privacy::RemoteAllowed {
            return Vec::new();
        }
        let items = std::mem::take(&mut self.item_gate);
        let mut blocked: Vec<Violation> = always_local(&packet.header, self.policy).into_iter().collect();
        blocked.extend(items.forbidden);
        let (before, after): (Vec<Violation>, Vec<Violation>) =
            second_pass(&packet.to_value(), String::new(), self.policy).into_iter().partition(|v| {
                let top = v.path.split(['.', '[']).next().unwrap_or_default();
                top < "context"
            });
        blocked.extend(before.into_iter().chain(items.secrets).chain(after));
        if !self.options.approved {
            blocked.extend(task_approval(&packet.header, self.policy));
            blocked.extend(items.approval);
        }
        blocked
    }

    fn write_rest(&mut self, packet: &Packet) -> Result<()> {
        match (self.written, self.options.json) {
            (0, true) => self.out.push(",\n  \"context\": []"),
            (0, false) => self.out.push("context: []\n"),
            (_, true) => self.out.push("\n  ]"),
            (_, false) => {}
        }
        self.write_entry("invariants", &packet.invariants, false)?;
        self.write_entry("policy", &packet.policy, false)?;
        self.write_entry("provenance", &packet.provenance, false)?;
        if !packet.attachments.is_empty() {
            self.write_entry("attachments", &packet.attachments, false)?;
        }
        if self.options.json {
            self.out.push("\n}\n");
        }
        Ok(())
    }
}

fn typed<T: DeserializeOwned>(parts: &Map<String, Value>, key: &str) -> Option<T> {
    serde_json::from_value(parts.get(key)?.clone()).ok()
}

/// The canonical JSON of the hashed packet up to its first item: the keys before `context` in canonical order.
fn hash_prefix(attachments: &[Attachment], constraints: &Constraints) -> Result<Vec<u8>> {
    let mut out = b"{".to_vec();
    if !attachments.is_empty() {
        out.extend_from_slice(b"\"attachments\":");
        crate::jcs::write_value(&serde_json::to_value(attachments).expect("plain data"), &mut out)?;
        out.push(b',');
    }
    out.extend_from_slice(b"\"constraints\":");
    crate::jcs::write_value(&serde_json::to_value(constraints).expect("plain data"), &mut out)?;
    out.extend_from_slice(b",\"context\":[");
    Ok(out)
}

/// `packet_hash` completed with the keys after `context`, without the fields the hash leaves out (as
/// [`crate::context::hash::packet_hash`] does).
fn hash_rest(mut hasher: Sha256, packet: &Packet) -> Result<String> {
    let mut value = packet.to_value();
    crate::context::hash::without_unhashed(&mut value);
    let Value::Object(map) = value else { unreachable!("a packet is an object") };
    let mut out = b"]".to_vec();
    for (key, value) in map.iter().filter(|(key, _)| key.as_str() > "context") {
        out.push(b',');
        crate::jcs::write_string(key, &mut out);
        out.push(b':');
        crate::jcs::write_value(value, &mut out)?;
    }
    out.push(b'}');
    hasher.update(&out);
    let bytes: [u8; 32] = hasher.finalize().into();
    Ok(crate::digest::Digest::from_bytes(bytes).to_string())
}

#[path = "redact_scan.rs"]
mod scan;

#[cfg(test)]
#[path = "redact_stream_tests.rs"]
mod tests;
