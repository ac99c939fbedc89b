//! ContextPackage v0.2: the document sent to an LLM, as typed Rust values.
//!
//! Field names and nesting follow the original `.intent/context/schema.yaml` (seed-study Appendix A) so existing
//! packets and tools keep working. ctxpack's additions are all optional, so an original packet still parses:
//! `context[].priority` and `context[].target` (budget ordering), `policy.redactions_applied[]` with `action`,
//! `rule` and `count`, `provenance.inputs.files` (the digests the cache key covers) and
//! `provenance.build_stats.dropped` (what the budget removed, and why).
//!
//! A document is checked as JSON first ([`validate`]), which reports every violation with its path and a stable
//! code; only a document that passes is turned into a [`Packet`]. Serialising a [`Packet`] emits fields in the
//! schema's order, which keeps the YAML readable.

pub(crate) mod item_scan;
pub mod schema;
pub mod validate;
pub mod yaml;
mod yaml_emit;

use serde::{Deserialize, Serialize};

/// The schema version ctxpack reads and writes.
pub const SCHEMA_VERSION: &str = "0.2";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Packet {
    pub header: Header,
    pub problem: Problem,
    pub scope: Scope,
    pub constraints: Constraints,
    pub context: Vec<Item>,
    #[serde(default)]
    pub invariants: Vec<String>,
    pub policy: PolicyRecord,
    pub provenance: Provenance,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub packet_id: String,
    pub task_id: String,
    pub task_type: String,
    pub created_at: String,
    pub builder_version: String,
    #[serde(default)]
    pub privacy: Privacy,
}

/// Whether a packet may leave the machine. `local_only` unless a task says otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    #[default]
    LocalOnly,
    RemoteAllowed,
}

impl Privacy {
    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::LocalOnly => "local_only",
            Privacy::RemoteAllowed => "remote_allowed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_ref: Option<String>,
    #[serde(default)]
    pub acceptance: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub roots: Vec<String>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub globs: Vec<String>,
    #[serde(default)]
    pub traversal_depth: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    pub max_tokens: u64,
    #[serde(default = "default_max_items")]
    pub max_items: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_budget_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_budget_usd: Option<f64>,
    #[serde(default)]
    pub forbidden_paths: Vec<String>,
    #[serde(default)]
    pub forbidden_calls: Vec<String>,
}

pub const DEFAULT_MAX_ITEMS: u64 = 50;

fn default_max_items() -> u64 {
    DEFAULT_MAX_ITEMS
}

/// The kinds of item, in budget priority order (the schema's "symbols > snippets > summaries").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Symbol,
    Signature,
    Code,
    Snippet,
    Test,
    Dependency,
    Summary,
}

impl ItemType {
    pub const ALL: [ItemType; 7] = [
        ItemType::Symbol,
        ItemType::Signature,
        ItemType::Code,
        ItemType::Snippet,
        ItemType::Test,
        ItemType::Dependency,
        ItemType::Summary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Symbol => "symbol",
            ItemType::Signature => "signature",
            ItemType::Code => "code",
            ItemType::Snippet => "snippet",
            ItemType::Test => "test",
            ItemType::Dependency => "dependency",
            ItemType::Summary => "summary",
        }
    }

    /// 0 is kept first when a budget is tight.
    pub fn budget_rank(self) -> u8 {
        self as u8
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub item_type: ItemType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<String>,
    /// `sha256:<hex>` of the file (or bytes) the item was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_est: Option<u64>,
    /// Higher is kept first among items of the same type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// The item the task is about: never dropped by a budget.
    #[serde(default, skip_serializing_if = "is_false")]
    pub target: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// 1-based, inclusive line range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRecord {
    pub remote_allowed: bool,
    #[serde(default)]
    pub redactions_applied: Vec<Redaction>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

/// What was done to an item and why. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    pub item_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The field the action touched (`snippet`, `summary`, `problem.summary`, …); absent when the whole item went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default = "RedactionAction::legacy")]
    pub action: RedactionAction,
    /// A detector id, a glob, or a forbidden call.
    #[serde(default)]
    pub rule: String,
    pub reason: String,
    #[serde(default = "one")]
    pub count: u64,
    /// Written by the original builder only; ctxpack keeps times in the audit log so the packet hash is stable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted_at: Option<String>,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionAction {
    /// Matches replaced by `[REDACTED:<rule>]` (or the rule's replacement).
    Masked,
    /// The item was removed from the packet.
    Dropped,
    /// Kept, but marked: a forbidden call under a `flag` policy.
    Flagged,
    /// Text cut to the policy's maximum length.
    Truncated,
}

impl RedactionAction {
    /// The original's records name only an item and a reason: an item removed.
    fn legacy() -> Self {
        RedactionAction::Dropped
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    #[serde(default)]
    pub inputs: Inputs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_stats: Option<BuildStats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_key: Option<String>,
    #[serde(default)]
    pub packet_hash: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qdrant_query: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ast_files: Vec<String>,
    /// Every file the packet was built from, sorted by path, except those on a forbidden path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<InputFile>,
    /// How many files on a forbidden path the build read: counted, never listed, since a digest and size would
    /// let anyone holding the packet confirm a guessed `.env` or key file offline.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub forbidden_files: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputFile {
    pub path: String,
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildStats {
    /// Excluded from the packet hash: it is the only build statistic that depends on the clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub items_collected: u64,
    #[serde(default)]
    pub items_filtered: u64,
    #[serde(default)]
    pub tokens_total: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<Dropped>,
    /// Items the budget removed beyond the first [`crate::context::budget::MAX_DROP_RECORDS`] recorded in
    /// `dropped`: the records are sent to the model too, so they are capped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_omitted: u64,
}

/// An item the budget removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dropped {
    pub item_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub reason: DropReason,
    pub tokens_est: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// More items than `constraints.max_items`.
    MaxItems,
    /// The item did not fit in what `constraints.max_tokens` had left.
    MaxTokens,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub name: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

impl Packet {
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a packet is plain data")
    }
}
