// Type declarations of ctxpack's context-packet API (re-exported by lib/index.d.ts).
import type { PantryOptions } from '../index.js';

// Context packets (issue 5): everything sent to an LLM, validated, redacted, held to a budget, hashed, cached
// and audited under the project's policy (.intent/context/policy.yaml, schema.yaml, .gitleaks.toml, else the
// built-in policy). Packets are ContextPackage v0.2 documents (docs/spec.md, Context packets).

/** A ContextPackage v0.2 document as parsed from YAML or JSON. */
export type ContextPacket = {
  header: { packet_id: string; task_id: string; task_type: string; created_at: string; builder_version: string; privacy: 'local_only' | 'remote_allowed' };
  problem: { summary: string; intent_ref?: string; acceptance?: string[] };
  scope: { roots: string[]; include?: string[]; exclude?: string[]; globs?: string[]; traversal_depth?: number };
  constraints: { max_tokens: number; max_items?: number; time_budget_seconds?: number; cost_budget_usd?: number; forbidden_paths?: string[]; forbidden_calls?: string[] };
  context: ContextItem[];
  invariants?: string[];
  policy: { remote_allowed: boolean; redactions_applied: ContextRedaction[]; notes?: string };
  provenance: {
    inputs: { files?: Array<{ path: string; digest: string; size: number }>; db_query?: string; qdrant_query?: string; ast_files?: string[] };
    build_stats?: { duration_ms?: number; items_collected: number; items_filtered: number; tokens_total: number; dropped?: ContextDropped[] };
    cache_key?: string;
    packet_hash: string;
  };
  attachments?: Array<{ name: string; content: string; mime_type?: string }>;
};

export type ContextItem = {
  name: string;
  path?: string;
  item_type: 'symbol' | 'signature' | 'code' | 'snippet' | 'test' | 'dependency' | 'summary';
  signature?: string;
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
};

/** One action of the redactor: never holds the text it matched. */
export type ContextRedaction = {
  item_name: string;
  path?: string;
  field?: string;
  action: 'masked' | 'dropped' | 'flagged' | 'truncated';
  rule: string;
  reason: string;
  count: number;
};

export type ContextDropped = { item_name: string; path?: string; reason: 'max_items' | 'max_tokens'; tokens_est: number };

/** A rule a packet breaks. `code` is stable: required, type, enum, unknown_field, max_length, range, format,
 * absolute_path, privacy_mismatch, token_budget, item_limit, forbidden_path, version, conflict, secret, always_local,
 * approval_required. */
export type ContextViolation = { path: string; code: string; message: string };

/** A compiled policy (the wasm core's ContextPolicy). */
export interface ContextPolicy {
  readonly digest: string;
  readonly cacheTtlSeconds: number;
  readonly skipped: Array<{ id: string; reason: string }>;
  budgetFor(taskType: string): { maxTokens: number; maxItems: number };
}

export interface ContextPolicyOptions {
  /** The project root (default: the current directory). */
  project?: string;
  /** A compiled policy, or the file to read (default <project>/.intent/context/policy.yaml, else built-in). */
  policy?: string | ContextPolicy;
  schema?: string;
  /** gitleaks TOML rule files, in addition to <project>/.gitleaks.toml. */
  gitleaks?: string[];
}

export type Tokenizer = (text: string) => number;

export function loadContextPolicy(options?: Omit<ContextPolicyOptions, 'policy'> & { policy?: string }): { policy: ContextPolicy; files: string[] };

/** Build a packet from a task spec (object or YAML/JSON file). Throws CTX_PACKET_BLOCKED (with `violations`)
 * for a remote_allowed packet that breaks a routing rule, CTX_BUDGET_EXCEEDED when the target alone is too big. */
export function buildContext(
  task: string | object,
  options?: PantryOptions &
    ContextPolicyOptions & { cache?: boolean; ttlSeconds?: number; now?: Date; tokenizer?: Tokenizer; maxFileBytes?: number; audit?: boolean; approveRemote?: boolean },
): Promise<{ packet: ContextPacket; cacheKey: string; cacheHit: boolean; skipped: Array<{ path: string; reason: string }> }>;

/** `approveRemote`: the user approved a remote route the policy reserves for approval (task types in
 * routing.require_remote_approval, items under privacy.sensitive_dirs); without it those are `approval_required`. */
export function validatePacket(
  packet: string | object,
  options?: PantryOptions & ContextPolicyOptions & { audit?: boolean; approveRemote?: boolean },
): Promise<{ valid: boolean; violations: ContextViolation[]; blocked: ContextViolation[] }>;

/**
 * Redact under the policy; `applied` lists this pass's actions only (none on an already-redacted packet).
 * `maxBytes`: the largest packet file read (default 16 MiB).
 */
export function redactPacket(
  packet: string | object,
  options?: PantryOptions & ContextPolicyOptions & { audit?: boolean; approveRemote?: boolean; maxBytes?: number },
): Promise<{ packet: ContextPacket; applied: ContextRedaction[] }>;

export function budgetPacket(
  packet: string | object,
  options?: PantryOptions & { maxTokens?: number; maxItems?: number; tokenizer?: Tokenizer; audit?: boolean },
): Promise<{ packet: ContextPacket; dropped: ContextDropped[]; tokensTotal: number }>;

/** `sha256:…` over the packet's content (packet_id, created_at, packet_hash and duration_ms excluded). */
export function hashPacket(packet: string | object): string;

/** The YAML or JSON document in `file`, as plain data. */
export function readContextDocument(file: string): unknown;
/** Atomic; CTX_TARGET_EXISTS unless `overwrite`. YAML unless the file ends in .json. */
export function writeContextDocument(file: string, doc: object, options?: { overwrite?: boolean; format?: 'yaml' | 'json' }): void;
export function formatContextDocument(doc: object, options?: { format?: 'yaml' | 'json' }): string;

export function getCachedContext(cacheKey: string, options?: PantryOptions & { ttlSeconds?: number; now?: Date }): { packet: ContextPacket; storedAt: string } | undefined;
export function pruneContextCache(options?: PantryOptions & { ttlSeconds?: number; now?: Date; all?: boolean }): { removed: number; kept: number };

/** Append an event (`{event, …}`) to the audit log, keyed with the audit key (created on first use outside the
 * pantry: $CTXPACK_AUDIT_KEY_FILE, else ~/.config/ctxpack/audit.key); fails without writing when the chain is broken. */
export function appendContextAudit(event: { event: string; [key: string]: unknown }, options?: PantryOptions & { now?: Date }): Promise<string>;
/** Check the audit chain with the audit key (CTX_AUDIT_BROKEN names the first bad line; CTX_AUDIT_KEY_MISSING when
 * the log is keyed and the key file is gone) and return its events; `unkeyed` counts the first entries, written
 * before logs were keyed, of which only the plain hash chain is checked. */
export function verifyContextAudit(options?: PantryOptions): {
  entries: number;
  unkeyed: number;
  keyFile: string;
  head: { seq: number; hash: string; mac?: string } | null;
  events: object[];
};

// ctxpack serve: the browser inspector, a same-origin registry proxy and the pantry (www/, lib/serve.mjs).
export interface ServeOptions extends PantryOptions {
  /** Default 8371; 0 for any free port. */
  port?: number;
  /** Default "127.0.0.1". Another address lets anyone who reaches the port use this user's registry credentials. */
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** PEM certificates to trust besides the default roots (default $CTXPACK_CA_FILE). */
  caFile?: string;
  /** Seconds to wait for a registry's answer or next byte (default $CTXPACK_TIMEOUT, else 30). */
  timeout?: number | string;
  onEvent?: (event: { kind: string; message: string }) => void;
}
/**
 * Serves the inspector (GET /), the core (/core/), a proxy /registry/<host[:port]>/v2/… that adds the credentials
 * `pull` would use for that host only, the pantry as a read-only registry (/v2/pantry/…) and its listing
 * (/api/pantry). Resolves once listening.
 */
export function serve(options?: ServeOptions): Promise<{
  url: string;
  host: string;
  port: number;
  loopback: boolean;
  /** Requests and body bytes the registry proxy forwarded. */
  stats(): { requests: number; bytes: number };
  close(): Promise<void>;
}>;
