//! Context packets for JavaScript: the `ContextPolicy` class and the packet functions of the contract table in
//! docs/context.md. Documents cross as plain JS objects (JSON values); violations as `{path, code, message}`.

use super::super::{field, object, set, to_js_error, value_from_js, value_to_js};
use crate::context::audit::{self, AuditHead, AuditKey};
use crate::context::budget::apply_budget;
use crate::context::build::{build_cache_key, build_packet, BuildEnv};
use crate::context::collect::{ScopeMatcher, SourceFile};
use crate::context::detect::RuleKind;
use crate::context::hash::packet_hash;
use crate::context::packet::validate::{check_structure, validate, SchemaRules};
use crate::context::packet::yaml::{parse_document_within, to_yaml, MAX_DOCUMENT_BYTES};
use crate::context::packet::Packet;
use crate::context::policy::Policy;
use crate::context::redact::{approval_gate, redact_packet, remote_gate};
use crate::context::task::{parse_task, TaskSpec};
use crate::context::tokens::estimate_tokens;
use crate::context::violation::{violations_error, Violation};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use js_sys::{Array, Function};
use serde::Serialize;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A ContextPackage v0.2 document as the core writes it (docs/context.md §1, schema/context-packet.schema.json). */
export interface ContextPacket {
  header: {
    packet_id: string;
    task_id: string;
    task_type: string;
    created_at: string;
    builder_version: string;
    privacy: ContextPrivacy;
  };
  problem: { summary: string; intent_ref?: string; acceptance: string[] };
  scope: ContextScopeSpec;
  constraints: {
    max_tokens: number;
    max_items: number;
    time_budget_seconds?: number;
    cost_budget_usd?: number;
    forbidden_paths: string[];
    forbidden_calls: string[];
  };
  context: ContextItem[];
  invariants: string[];
  policy: { remote_allowed: boolean; redactions_applied: ContextRedaction[]; notes?: string };
  provenance: {
    inputs: {
      db_query?: string;
      qdrant_query?: string;
      ast_files?: string[];
      /** Every file the build read, except those on a forbidden path. */
      files?: ContextFile[];
      /** How many files on a forbidden path the build read (never listed: no digest, no size). */
      forbidden_files?: number;
    };
    build_stats?: {
      duration_ms?: number;
      items_collected: number;
      items_filtered: number;
      tokens_total: number;
      /** The first 32 items the budget removed; `dropped_omitted` counts the rest. */
      dropped?: ContextDropped[];
      dropped_omitted?: number;
    };
    cache_key?: string;
    packet_hash: string;
  };
  attachments?: Array<{ name: string; content: string; mime_type?: string }>;
}

export type ContextPrivacy = "local_only" | "remote_allowed";

export interface ContextScopeSpec {
  roots: string[];
  include: string[];
  exclude: string[];
  globs: string[];
  traversal_depth: number;
}

export interface ContextItem {
  name: string;
  path?: string;
  item_type: "symbol" | "signature" | "code" | "snippet" | "test" | "dependency" | "summary";
  signature?: string;
  /** 1-based lines. */
  span?: { start: number; end: number };
  summary?: string;
  snippet?: string;
  deps?: string[];
  hash?: string;
  source: string;
  tokens_est?: number;
  /** Higher is kept first among items of one type when the budget is tight. */
  priority?: number;
  /** The item the task is about: never dropped by a budget. */
  target?: boolean;
}

/** One action of the redactor; never the text it matched. */
export interface ContextRedaction {
  item_name: string;
  path?: string;
  field?: string;
  action: "masked" | "dropped" | "flagged" | "truncated";
  /** A detector id, a glob or a call name. */
  rule: string;
  reason: string;
  count: number;
  redacted_at?: string;
}

export interface ContextDropped {
  item_name: string;
  path?: string;
  reason: "max_items" | "max_tokens";
  tokens_est: number;
}

/** A rule a packet or task breaks; `code` is one of docs/context.md §1.1 (required, type, enum, …, approval_required). */
export interface ContextViolation {
  path: string;
  code: string;
  message: string;
}

/** A task spec as written (docs/context.md §2): the nested shape, or its settings at the top level. */
export interface ContextTaskSpec {
  task_id: string;
  task_type: string;
  summary?: string | null;
  intent_ref?: string | null;
  acceptance?: string[] | null;
  privacy?: ContextPrivacy | null;
  scope?: Partial<ContextScopeSpec> | null;
  constraints?: { max_tokens?: number | null; max_items?: number | null } | null;
  target_file?: string | null;
  target_symbol?: string | null;
  roots?: string[] | null;
  include?: string[] | null;
  exclude?: string[] | null;
  max_tokens?: number | null;
  max_items?: number | null;
}

/** A task with both shapes folded into one (`contextParseTask`); every function that takes a task takes it too. */
export interface ContextTask {
  task_id: string;
  task_type: string;
  privacy: ContextPrivacy;
  summary: string;
  intent_ref: string | null;
  acceptance: string[];
  scope: ContextScopeSpec;
  max_tokens: number | null;
  max_items: number | null;
  target_file: string | null;
  target_symbol: string | null;
}

export interface ContextPolicyOptions {
  /** gitleaks rule files (TOML texts). */
  gitleaks?: string[] | null;
  /** A schema.yaml document: its task_type and source enums. */
  schema?: object | null;
}

export interface ContextRule {
  id: string;
  kind: "credential" | "pii";
  description: string;
}

export interface ContextGateOptions {
  /** The user approved the remote route the policy reserves for approval. */
  approveRemote?: boolean | null;
}

/** An exact token counter: a non-negative integer per text. */
export type ContextTokenizer = (text: string) => number;

/** A file a build read, by digest. */
export interface ContextFile {
  path: string;
  digest: string;
  size: number;
}

export interface ContextBuildOptions extends ContextGateOptions {
  packetId: string;
  /** RFC 3339. */
  createdAt: string;
  durationMs?: number | null;
  tokenizer?: ContextTokenizer | null;
}

/** The last line of a hash-chained audit log; `mac` seals a keyed head with the audit key. */
export interface ContextAuditHead {
  seq: number;
  hash: string;
  mac?: string;
}
"#;

/// A compiled policy: policy.yaml (or the built-in defaults), gitleaks rules and the schema's enums. Compiling
/// the ~70 detector patterns is the expensive part, so a host makes one and passes it to every call.
#[wasm_bindgen(js_name = ContextPolicy)]
pub struct ContextPolicy {
    pub(super) policy: Policy,
    pub(super) rules: SchemaRules,
}

#[wasm_bindgen(js_class = ContextPolicy)]
impl ContextPolicy {
    /// `new ContextPolicy(policyDoc?, { gitleaks?: string[], schema?: object })`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = policyDoc, unchecked_optional_param_type = "object | null")] policy_doc: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ContextPolicyOptions | null")] options: JsValue,
    ) -> JsResult<ContextPolicy> {
        let mut policy = if absent(&policy_doc) {
            Policy::builtin()
        } else {
            Policy::from_document(&value_from_js(&policy_doc, "policy").map_err(to_js_error)?).map_err(to_js_error)?
        };
        let mut rules = SchemaRules::default();
        if !absent(&options) {
            let gitleaks = field(&options, "gitleaks");
            if !absent(&gitleaks) {
                let texts: Array = gitleaks.dyn_into().map_err(|_| usage("gitleaks must be an array of TOML texts"))?;
                for text in texts.iter() {
                    let text = text.as_string().ok_or_else(|| usage("gitleaks must be an array of TOML texts"))?;
                    policy.add_gitleaks(&text).map_err(to_js_error)?;
                }
            }
            let schema = field(&options, "schema");
            if !absent(&schema) {
                let doc = value_from_js(&schema, "schema").map_err(to_js_error)?;
                rules = SchemaRules::from_schema_document(&doc).map_err(to_js_error)?;
            }
        }
        Ok(ContextPolicy { policy, rules })
    }

    /// `sha256:…` of everything the policy was made from; part of every cache key.
    #[wasm_bindgen(getter)]
    pub fn digest(&self) -> String {
        self.policy.digest().to_string()
    }

    #[wasm_bindgen(getter, js_name = cacheTtlSeconds)]
    pub fn cache_ttl_seconds(&self) -> f64 {
        self.policy.cache_ttl_seconds() as f64
    }

    /// gitleaks rules that could not be used: `[{id, reason}]`.
    #[wasm_bindgen(getter, unchecked_return_type = "Array<{ id: string; reason: string }>")]
    pub fn skipped(&self) -> JsValue {
        let list: Array = self
            .policy
            .skipped()
            .iter()
            .map(|(id, reason)| object(&[("id", id.as_str().into()), ("reason", reason.as_str().into())]))
            .collect();
        list.into()
    }

    /// `{maxTokens, maxItems}` for a task type (the policy's table, else its defaults).
    #[wasm_bindgen(js_name = budgetFor, unchecked_return_type = "{ maxTokens: number; maxItems: number }")]
    pub fn budget_for(&self, #[wasm_bindgen(js_name = taskType)] task_type: &str) -> JsValue {
        let (max_tokens, max_items) = self.policy.budget_for(task_type);
        object(&[("maxTokens", (max_tokens as f64).into()), ("maxItems", (max_items as f64).into())])
    }

    /// The rule ids of this policy's detector: `[{id, kind, description}]`.
    #[wasm_bindgen(unchecked_return_type = "ContextRule[]")]
    pub fn rules(&self) -> JsValue {
        let list: Array = self
            .policy
            .detector()
            .rules()
            .iter()
            .map(|rule| {
                object(&[
                    ("id", rule.id.as_str().into()),
                    ("kind", kind_name(rule.kind).into()),
                    ("description", rule.description.as_str().into()),
                ])
            })
            .collect();
        list.into()
    }

    /// Findings of this policy's detectors in `text` (UTF-16 offsets), as `detectSecrets` gives for the built-ins.
    #[wasm_bindgen(unchecked_return_type = "SecretFinding[]")]
    pub fn detect(&self, text: &str) -> JsValue {
        super::text::findings_to_js(text, &self.policy.detector().find(text))
    }

    /// `{text, counts}` with this policy's detectors (and replacements), as `redactText` gives for the built-ins.
    #[wasm_bindgen(js_name = redactText, unchecked_return_type = "RedactedText")]
    pub fn redact_text(&self, text: &str) -> JsValue {
        super::text::redacted_to_js(&self.policy.detector().redact(text))
    }
}

/// `{valid, violations, blocked}`: every schema violation, and for a valid `remote_allowed` packet what would
/// block it (`options.approveRemote`: the user approved the remote route). Never throws for a bad packet.
#[wasm_bindgen(
    js_name = contextValidate,
    unchecked_return_type = "{ valid: boolean; violations: ContextViolation[]; blocked: ContextViolation[] }"
)]
pub fn context_validate(
    #[wasm_bindgen(unchecked_param_type = "unknown")] doc: JsValue,
    policy: &ContextPolicy,
    #[wasm_bindgen(unchecked_optional_param_type = "ContextGateOptions | null")] options: JsValue,
) -> JsResult<JsValue> {
    let value = value_from_js(&doc, "packet").map_err(to_js_error)?;
    let violations = validate(&value, &policy.rules);
    let blocked = if violations.is_empty() {
        let packet: Packet = serde_json::from_value(value).map_err(|e| to_js_error(invalid(e)))?;
        gate(&packet, &policy.policy, &options)
    } else {
        Vec::new()
    };
    Ok(object(&[
        ("valid", violations.is_empty().into()),
        ("violations", violations_to_js(&violations)),
        ("blocked", violations_to_js(&blocked)),
    ]))
}

/// `{packet, applied, blocked}`: the packet redacted under the policy, the actions of this pass, and what still
/// blocks it from a remote model (`options.approveRemote` as for `contextValidate`).
#[wasm_bindgen(
    js_name = contextRedact,
    unchecked_return_type = "{ packet: ContextPacket; applied: ContextRedaction[]; blocked: ContextViolation[] }"
)]
pub fn context_redact(
    #[wasm_bindgen(unchecked_param_type = "ContextPacket | object")] doc: JsValue,
    policy: &ContextPolicy,
    #[wasm_bindgen(unchecked_optional_param_type = "ContextGateOptions | null")] options: JsValue,
) -> JsResult<JsValue> {
    let mut packet = structured_packet(&doc, &policy.rules)?;
    let summary = redact_packet(&mut packet, &policy.policy);
    rehash_if_hashed(&mut packet)?;
    let blocked = gate(&packet, &policy.policy, &options);
    Ok(object(&[
        ("packet", to_js(&packet)),
        ("applied", to_js(&summary.applied)),
        ("blocked", violations_to_js(&blocked)),
    ]))
}

/// `{packet, dropped, tokensTotal}`; `options.tokenizer(text) → number` replaces the built-in o200k_base count.
#[wasm_bindgen(
    js_name = contextBudget,
    unchecked_return_type = "{ packet: ContextPacket; dropped: ContextDropped[]; tokensTotal: number }"
)]
pub fn context_budget(
    #[wasm_bindgen(unchecked_param_type = "ContextPacket | object")] doc: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "{ tokenizer?: ContextTokenizer | null } | null")] options: JsValue,
) -> JsResult<JsValue> {
    let mut packet = structured_packet(&doc, &SchemaRules::default())?;
    let summary = with_counter(&options, |counter| apply_budget(&mut packet, counter))?;
    rehash_if_hashed(&mut packet)?;
    Ok(object(&[
        ("packet", to_js(&packet)),
        ("dropped", to_js(&summary.dropped)),
        ("tokensTotal", (summary.tokens_total as f64).into()),
    ]))
}

/// The packet hash, `sha256:…`.
#[wasm_bindgen(js_name = contextHash)]
pub fn context_hash(#[wasm_bindgen(unchecked_param_type = "ContextPacket | object")] doc: JsValue) -> JsResult<String> {
    let packet = structured_packet(&doc, &SchemaRules::default())?;
    Ok(packet_hash(&packet).map_err(to_js_error)?.to_string())
}

/// The task with both of its shapes folded into one (CTX_TASK_INVALID lists every problem).
#[wasm_bindgen(js_name = contextParseTask, unchecked_return_type = "ContextTask")]
pub fn context_parse_task(
    #[wasm_bindgen(unchecked_param_type = "ContextTaskSpec | ContextTask | object")] doc: JsValue,
) -> JsResult<JsValue> {
    Ok(to_js(&task_from_js(&doc)?))
}

/// YAML (or JSON) text → a plain object; `maxBytes` (default 16 MiB) is the largest text read.
#[wasm_bindgen(js_name = contextParseDocument, unchecked_return_type = "JsonValue")]
pub fn context_parse_document(
    text: &str,
    #[wasm_bindgen(js_name = maxBytes)] max_bytes: Option<f64>,
) -> JsResult<JsValue> {
    let max_bytes = max_bytes.map_or(MAX_DOCUMENT_BYTES, |n| n.max(0.0) as usize);
    Ok(value_to_js(&parse_document_within(text, max_bytes).map_err(to_js_error)?))
}

/// A document as YAML, fields in schema order when it is a packet.
#[wasm_bindgen(js_name = contextToYaml)]
pub fn context_to_yaml(
    #[wasm_bindgen(unchecked_param_type = "ContextPacket | JsonValue | object")] doc: JsValue,
) -> JsResult<String> {
    let value = value_from_js(&doc, "document").map_err(to_js_error)?;
    match serde_json::from_value::<Packet>(value.clone()) {
        Ok(packet) => to_yaml(&packet),
        Err(_) => to_yaml(&value),
    }
    .map_err(to_js_error)
}

/// What a task's scope selects: `{selects(path), enters(dir)}` for a host's walker.
#[wasm_bindgen(js_name = ContextScope)]
pub struct ContextScope(ScopeMatcher);

#[wasm_bindgen(js_class = ContextScope)]
impl ContextScope {
    pub fn selects(&self, path: &str) -> bool {
        self.0.selects(path)
    }

    pub fn enters(&self, dir: &str) -> bool {
        self.0.enters(dir)
    }
}

#[wasm_bindgen(js_name = contextScope)]
pub fn context_scope(
    #[wasm_bindgen(unchecked_param_type = "ContextTaskSpec | ContextTask")] task: JsValue,
) -> JsResult<ContextScope> {
    let task = task_from_js(&task)?;
    let scope = &task.scope;
    ScopeMatcher::new(&scope.roots, &scope.include, &scope.exclude, &scope.globs).map(ContextScope).map_err(to_js_error)
}

/// The cache key of a build: `files` are `[{path, digest, size}]`.
#[wasm_bindgen(js_name = contextCacheKey)]
pub fn context_cache_key(
    #[wasm_bindgen(unchecked_param_type = "ContextTaskSpec | ContextTask")] task: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ContextFile[]")] files: JsValue,
    policy: &ContextPolicy,
) -> JsResult<String> {
    let task = task_from_js(&task)?;
    let files = files_from_js(&files, false)?;
    let sources: Vec<SourceFile> = files.iter().map(HostFile::source).collect();
    Ok(build_cache_key(&task, &sources, &policy.policy).map_err(to_js_error)?.to_string())
}

/// `{packet, blocked, cacheKey}` from a task and the files a host read (`[{path, text, digest, size}]`).
/// `options`: `{packetId, createdAt, durationMs?, tokenizer?, approveRemote?}`.
#[wasm_bindgen(
    js_name = contextBuild,
    unchecked_return_type = "{ packet: ContextPacket; blocked: ContextViolation[]; cacheKey: string }"
)]
pub fn context_build(
    #[wasm_bindgen(unchecked_param_type = "ContextTaskSpec | ContextTask")] task: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Array<ContextFile & { text: string }>")] files: JsValue,
    policy: &ContextPolicy,
    #[wasm_bindgen(unchecked_param_type = "ContextBuildOptions")] options: JsValue,
) -> JsResult<JsValue> {
    let task = task_from_js(&task)?;
    let files = files_from_js(&files, true)?;
    let sources: Vec<SourceFile> = files.iter().map(HostFile::source).collect();
    let env = BuildEnv {
        packet_id: required_string(&options, "packetId")?,
        created_at: required_string(&options, "createdAt")?,
        duration_ms: field(&options, "durationMs").as_f64().filter(|ms| *ms >= 0.0).map(|ms| ms as u64),
        remote_approved: approved(&options),
    };
    let outcome =
        with_counter(&options, |counter| build_packet(&task, &sources, &policy.policy, &policy.rules, env, counter))?;
    Ok(object(&[
        ("packet", to_js(&outcome.packet)),
        ("blocked", violations_to_js(&outcome.blocked)),
        ("cacheKey", outcome.cache_key.to_string().into()),
    ]))
}

/// The next audit line after `head` (`null` for the first), keyed with `key` (16 bytes or more):
/// `{line, head: {seq, hash, mac}}`.
#[wasm_bindgen(js_name = contextAuditNext, unchecked_return_type = "{ line: string; head: ContextAuditHead }")]
pub fn context_audit_next(
    #[wasm_bindgen(unchecked_param_type = "ContextAuditHead | null | undefined")] head: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object")] event: JsValue,
    key: &[u8],
) -> JsResult<JsValue> {
    let key = AuditKey::new(key).map_err(to_js_error)?;
    let head = head_from_js(&head, Some(&key))?;
    let event = value_from_js(&event, "event").map_err(to_js_error)?;
    let (line, next) = audit::next_line(head.as_ref(), &event, &key).map_err(to_js_error)?;
    Ok(object(&[("line", line.into()), ("head", value_to_js(&next.to_value(Some(&key))))]))
}

/// `{entries, head, unkeyed}` of a whole log (`unkeyed`: its first entries, written before keying);
/// CTX_AUDIT_BROKEN names the first bad line, CTX_AUDIT_KEY_MISSING says a keyed log needs `key`.
#[wasm_bindgen(
    js_name = contextAuditVerify,
    unchecked_return_type = "{ entries: number; head: ContextAuditHead | null; unkeyed: number }"
)]
pub fn context_audit_verify(
    log: &str,
    #[wasm_bindgen(unchecked_param_type = "ContextAuditHead | null | undefined")] head: JsValue,
    key: Option<Vec<u8>>,
) -> JsResult<JsValue> {
    let key = key.map(|bytes| AuditKey::new(&bytes)).transpose().map_err(to_js_error)?;
    let head = head_from_js(&head, key.as_ref())?;
    let report = audit::verify(log, head.as_ref(), key.as_ref()).map_err(to_js_error)?;
    let head = report.head.map(|head| value_to_js(&head.to_value(key.as_ref()))).unwrap_or(JsValue::NULL);
    Ok(object(&[
        ("entries", (report.entries as f64).into()),
        ("head", head),
        ("unkeyed", (report.unkeyed as f64).into()),
    ]))
}

/// A file as the host passed it; `text` is empty when only the digest is needed (cache keys).
struct HostFile {
    path: String,
    text: String,
    digest: Digest,
    size: u64,
}

impl HostFile {
    fn source(&self) -> SourceFile<'_> {
        SourceFile { path: &self.path, text: &self.text, digest: self.digest, size: self.size }
    }
}

fn files_from_js(files: &JsValue, with_text: bool) -> JsResult<Vec<HostFile>> {
    let list: Array = files.clone().dyn_into().map_err(|_| usage("files must be an array"))?;
    list.iter()
        .enumerate()
        .map(|(index, file)| {
            let at = format!("files[{index}]");
            let path = required_string(&file, "path").map_err(|_| usage(&format!("{at}.path must be a string")))?;
            let digest =
                Digest::parse(&required_string(&file, "digest")?).map_err(|e| to_js_error(e.at(at.clone())))?;
            let size = field(&file, "size")
                .as_f64()
                .filter(|n| n.fract() == 0.0 && *n >= 0.0)
                .ok_or_else(|| usage(&format!("{at}.size must be a non-negative integer")))?;
            let text = if with_text {
                field(&file, "text").as_string().ok_or_else(|| usage(&format!("{at}.text must be a string")))?
            } else {
                String::new()
            };
            Ok(HostFile { path, text, digest, size: size as u64 })
        })
        .collect()
}

/// Runs `f` with the token counter `options.tokenizer` gives, or the built-in o200k_base count. An exception the
/// tokenizer throws is rethrown as is; a non-integer answer is an error.
fn with_counter<T>(options: &JsValue, f: impl FnOnce(&dyn Fn(&str) -> u64) -> Result<T>) -> JsResult<T> {
    let tokenizer = if absent(options) { JsValue::UNDEFINED } else { field(options, "tokenizer") };
    if absent(&tokenizer) {
        return f(&estimate_tokens).map_err(to_js_error);
    }
    let tokenizer: Function =
        tokenizer.dyn_into().map_err(|_| usage("tokenizer must be a function (text) => number"))?;
    let failure: RefCell<Option<JsValue>> = RefCell::new(None);
    let count = |text: &str| -> u64 {
        if failure.borrow().is_some() {
            return 0;
        }
        match tokenizer.call1(&JsValue::NULL, &text.into()) {
            Ok(n) => match n.as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0) {
                Some(n) => n as u64,
                None => {
                    *failure.borrow_mut() = Some(usage("tokenizer must return a non-negative integer"));
                    0
                }
            },
            Err(exception) => {
                *failure.borrow_mut() = Some(exception);
                0
            }
        }
    };
    let result = f(&count);
    match failure.into_inner() {
        Some(exception) => Err(exception),
        None => result.map_err(to_js_error),
    }
}

/// The remote gate, plus the approval gate unless the user approved the remote route.
pub(super) fn gate(packet: &Packet, policy: &Policy, options: &JsValue) -> Vec<Violation> {
    let mut blocked = remote_gate(packet, policy);
    if !approved(options) {
        blocked.extend(approval_gate(packet, policy));
    }
    blocked
}

fn approved(options: &JsValue) -> bool {
    !absent(options) && field(options, "approveRemote").is_truthy()
}

/// A packet whose structure is valid (budgets and routing are not checked: redacting or trimming fixes them).
fn structured_packet(doc: &JsValue, rules: &SchemaRules) -> JsResult<Packet> {
    let value = value_from_js(doc, "packet").map_err(to_js_error)?;
    check_structure(value, rules).map_err(packet_error)
}

/// A packet that records its hash keeps it true after a change.
pub(super) fn rehash_if_hashed(packet: &mut Packet) -> JsResult<()> {
    if !packet.provenance.packet_hash.is_empty() {
        packet.provenance.packet_hash = packet_hash(packet).map_err(to_js_error)?.to_string();
    }
    Ok(())
}

fn task_from_js(doc: &JsValue) -> JsResult<TaskSpec> {
    let value = value_from_js(doc, "task").map_err(to_js_error)?;
    parse_task(&value).map_err(to_js_error)
}

fn head_from_js(head: &JsValue, key: Option<&AuditKey>) -> JsResult<Option<AuditHead>> {
    if absent(head) {
        return Ok(None);
    }
    let value = value_from_js(head, "head").map_err(to_js_error)?;
    AuditHead::from_value(&value, key).map(Some).map_err(to_js_error)
}

/// CTX_PACKET_INVALID carrying `violations: [{path, code, message}]`, every one of them.
pub(super) fn packet_error(violations: Vec<Violation>) -> JsValue {
    let error = to_js_error(violations_error(ErrorCode::PacketInvalid, &violations));
    set(&error, "violations", &violations_to_js(&violations));
    error
}

fn invalid(e: serde_json::Error) -> Error {
    Error::new(ErrorCode::PacketInvalid, e.to_string())
}

pub(super) fn violations_to_js(violations: &[Violation]) -> JsValue {
    let list: Array = violations
        .iter()
        .map(|v| {
            object(&[("path", v.path.as_str().into()), ("code", v.code.into()), ("message", v.message.as_str().into())])
        })
        .collect();
    list.into()
}

pub(super) fn to_js<T: Serialize>(value: &T) -> JsValue {
    value_to_js(&serde_json::to_value(value).expect("context types are plain data"))
}

fn kind_name(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Credential => "credential",
        RuleKind::Pii => "pii",
    }
}

fn absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

fn required_string(object: &JsValue, key: &str) -> JsResult<String> {
    field(object, key).as_string().ok_or_else(|| usage(&format!("{key} must be a string")))
}

fn usage(message: &str) -> JsValue {
    to_js_error(Error::new(ErrorCode::JsonInvalid, message))
}
