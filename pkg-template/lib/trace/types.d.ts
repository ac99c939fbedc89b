// Type declarations of ctxpack's execution-pack API (re-exported by lib/index.d.ts).
import type { PantryOptions } from '../index.js';

// Execution packs (issue 4): an agent run as a reproducible record. <ref> arguments are a ctx:// URI, its 64 hex
// digits, or a unique prefix of at least 8 of them (CTX_NOT_FOUND / CTX_AMBIGUOUS / CTX_USAGE otherwise).

export interface TracePackResult {
  uri: string;
  /** The pantry already held this execution pack; nothing was written. */
  alreadyPresent: boolean;
  parent?: string;
  steps: number;
  /** Content blobs: distinct contents of the log, and how many of them were written (the rest were there). */
  blobs: { total: number; stored: number };
  bytes: { total: number; stored: number };
}

/** Pack an execution log (a path to its JSON, or the log). The same log always gives the same URI. */
export function tracePack(
  log: string | object,
  options?: PantryOptions & { allowUnknown?: boolean; /** RFC 3339; default now */ created?: string },
): Promise<TracePackResult>;

/**
 * Pack many execution logs at once (paths or logs): planned on worker threads (from 8 logs), their blobs written
 * in batches, the index written once after every log passed its checks (one invalid log: no pack is recorded).
 * One result per log, in order.
 */
export function tracePackAll(
  logs: Array<string | object>,
  options?: PantryOptions & { allowUnknown?: boolean; /** RFC 3339; default now */ created?: string },
): Promise<TracePackResult[]>;

/** The canonical URI of the execution pack a ref names. */
export function traceResolve(ref: string, options?: PantryOptions): string;

export interface TraceShow {
  uri: string;
  created?: string;
  parent?: string;
  model: { identifier: string; parameters?: Record<string, unknown> };
  /** `preview`: the first line of a text content, shortened; null for bytes. */
  systemPrompt: { size: number; preview: string | null };
  prompts: Array<{ role: string; size: number; preview: string | null }>;
  inputs: Array<{ name: string; size: number; digest: string }>;
  steps: Array<{
    index: number;
    type: string;
    tool: string;
    /** The parameters as one short line of JSON. */
    params: string;
    outputSize: number | null;
    deterministic: boolean | null;
  }>;
  outputs: Array<{ name: string; size: number | null; digest: string | null }>;
  environment: { os: string; runtime: string; tool_versions?: Record<string, string> };
}

export function traceShow(ref: string, options?: PantryOptions): TraceShow;

export interface TraceLogEntry {
  uri: string;
  created?: string;
  model: string;
  steps: number;
  parent?: string;
  /** Set (and model, steps absent) when the stored manifests are damaged; `traceVerify` says more. */
  problem?: string;
}

/** Execution packs, newest first; with `graph`, the roots (parent not in the pantry), each with its children. */
export function traceLog(options?: PantryOptions & { graph?: false }): TraceLogEntry[];
export function traceLog(options: PantryOptions & { graph: true }): Array<TraceLogNode>;
export interface TraceLogNode extends TraceLogEntry {
  children: TraceLogNode[];
}

export interface TraceDiff {
  a: string;
  b: string;
  differs: boolean;
  /** model, environment, system prompt, prompts, inputs, outputs, parent */
  fields: Array<{ path: string; before?: unknown; after?: unknown }>;
  /** Aligned by sequence alignment: one inserted step is one "added"; `tool` from b for added steps, else a. */
  steps: Array<{ op: 'same' | 'changed' | 'removed' | 'added'; a?: number; b?: number; fields?: string[]; tool: string }>;
}

export function traceDiff(refA: string, refB: string, options?: PantryOptions): TraceDiff;

export interface TraceVerifyResult {
  uri: string;
  ok: boolean;
  blobs: { total: number; ok: number };
  artifact?: {
    path: string;
    output: string;
    digest: string;
    size: number;
    expected: { digest: string; size: number };
    match: boolean;
  };
  /** Every problem found, e.g. CTX_DIGEST_MISMATCH, CTX_SIZE_MISMATCH, CTX_NOT_FOUND, CTX_URI_MISMATCH. */
  problems: Array<{ code: string; message: string; subject?: string }>;
}

/** Check every blob and the URI; with `artifact` and `output`, whether the file holds exactly that output. */
export function traceVerify(ref: string, options?: PantryOptions & { artifact?: string; output?: string }): TraceVerifyResult;

/** Write the packed log to `output` (CTX_TARGET_EXISTS unless `force`). */
export function traceExport(ref: string, output: string, options?: PantryOptions & { force?: boolean }): { uri: string; path: string };

/** Write the log with `parent` set to the pack, to edit and pack again. */
export function traceFork(ref: string, output: string, options?: PantryOptions & { force?: boolean }): { parent: string; path: string };

export type ReplayFidelity = 'exact' | 'degraded' | 'failed';
/** Re-runs one step in `cwd`; returns what the tool printed or wrote (compared by digest with the recorded output). */
export type ReplayRunner = (step: { tool: string; parameters: Record<string, unknown>; cwd: string }) => Promise<Uint8Array | string>;

/** Re-run the deterministic steps of an execution pack (the CLI exits 0 exact, 2 degraded, 1 failed). */
export function traceReplay(
  ref: string,
  options?: PantryOptions & { cwd?: string; runners?: Record<string, ReplayRunner> },
): Promise<{ uri: string; fidelity: ReplayFidelity; skipped: number; steps: Array<{ index: number; tool: string; fidelity: ReplayFidelity; reason?: string }> }>;

/** Register a runner for a tool, for every later traceReplay in this process. */
export function registerReplayRunner(tool: string, runner: ReplayRunner): void;
