// Type declarations for `ctxpack` (the JS API). The wasm core alone is `ctxpack/core`.

/**
 * Errors from this package, its registry client and the wasm core are all instances of this one class, the
 * one `ctxpack/core` exports: `name` is "CtxpackError", `code` a stable `CTX_…` string, plus `hint` and `subject`.
 */
export { CtxpackError } from '../core/ctxpack_core.js';
import type { CtxpackError } from '../core/ctxpack_core.js';

/** True for a CtxpackError, whether thrown by this package or by the wasm core. */
export function isCtxpackError(error: unknown): error is CtxpackError;

export const version: string;

export interface ProgressEvent {
  phase: 'inputs' | 'hash' | 'pack' | 'verify' | 'unpack' | 'export' | 'import' | 'push' | 'pull' | 'copy';
  bytes: number;
  totalBytes: number;
}

export interface PantryOptions {
  /** Pantry location. Default: $CTXPACK_HOME, else ~/.cache/ctxpack. */
  home?: string;
  /** How long to wait for another process's lock before CTX_LOCK_TIMEOUT (default 10 minutes). */
  lockTimeoutMs?: number;
}

/** Where the contract comes from: a file (paths relative to its directory), or given with a base directory. */
export type ContractSource =
  | { contractPath: string; contract?: undefined; baseDir?: undefined }
  | { contractPath?: undefined; contract: string | object; baseDir?: string };

export interface IdentityOptions {
  /** Record symlinks as the files they point to. */
  followLinks?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Use the stat cache under the pantry home (default true): files whose device, inode, size, mtime and ctime
   * are unchanged since they were hashed are not read again. false (or CTXPACK_NO_STAT_CACHE=1) trusts nothing.
   */
  cache?: boolean;
  /** Where the stat cache lives. Default: $CTXPACK_HOME, else ~/.cache/ctxpack. */
  home?: string;
}

export interface Identity {
  uri: string;
  /** The resolved contract (contract/v1) whose canonical JSON hashes to the URI. */
  contract: object;
  outputs: Array<{ path: string }>;
  /** The directory the contract's relative paths were resolved against. */
  baseDir: string;
  /** Valid but worth knowing, e.g. a transform with neither code_path nor code_hash (its code is not identity). */
  warnings: string[];
}

export function computeIdentity(options: ContractSource & IdentityOptions): Promise<Identity>;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export type SeedOptions = ContractSource &
  IdentityOptions &
  PantryOptions & {
    /** Seconds since 1970 for the pack's timestamps (default: $SOURCE_DATE_EPOCH, else now / 0). */
    sourceDateEpoch?: number;
    /** An identity already computed for this contract (skips hashing the inputs again). */
    identity?: Pick<Identity, 'uri' | 'contract'>;
    /** Called with each of the identity's warnings, when the identity is computed here. */
    onWarning?: (message: string) => void;
  };

export interface SeedResult {
  uri: string;
  /** The pantry already held this URI; nothing was written. */
  alreadyPresent: boolean;
  files: number;
  bytes: number;
  treeDigest: string;
  manifest: Descriptor;
  config: Descriptor;
  layer: Descriptor;
}

export function seed(dir: string, options: SeedOptions): Promise<SeedResult>;

export interface Limits {
  maxManifestBytes: number;
  /** Largest `provenance` in manifest.json, as written (default 1 MiB): it is not identity. */
  maxProvenanceBytes: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  maxEntries: number;
  maxRatio: number;
}

export interface ReadOptions extends PantryOptions {
  limits?: Partial<Limits>;
  /** For a .tar.gz: the URI the pack must have. */
  expectUri?: string;
  onProgress?: (event: ProgressEvent) => void;
}

export interface OutputsSummary {
  digest: string;
  files: number;
  symlinks: number;
  bytes: number;
}

export interface InspectResult {
  uri: string;
  source: 'pantry' | 'file';
  contract: object;
  outputs: OutputsSummary;
  provenance: Record<string, unknown>;
  sizes: { layer: number; config: number };
  /** Pantry packs only. */
  layerDigest?: string;
  created?: string;
}

/** `ref`: a ctx:// URI (looked up in the pantry) or the path of a .tar.gz. */
export function inspect(ref: string, options?: ReadOptions): InspectResult;

export interface VerifyResult {
  uri: string;
  source: 'pantry' | 'file';
  files: number;
  bytes: number;
  compressedBytes: number;
  layerDigest: string;
}

export function verify(ref: string, options?: ReadOptions): VerifyResult;

export function unpack(ref: string, outDir: string, options?: ReadOptions): Promise<VerifyResult & { path: string }>;

/** The pantry's read-only unpacked copy of a pack, created on first use and re-verified on each use. */
export function materialize(
  uri: string,
  options?: PantryOptions & { fullCheck?: boolean; limits?: Partial<Limits>; onProgress?: (event: ProgressEvent) => void },
): Promise<{ uri: string; path: string; manifest: object; reused: boolean }>;

export function exportPack(
  uri: string,
  outFile: string,
  options?: PantryOptions & { force?: boolean; onProgress?: (event: ProgressEvent) => void },
): { uri: string; path: string; digest: string; size: number };

export interface ListedPack {
  uri: string;
  tag: string;
  manifestDigest: string;
  created?: string;
  layer?: Descriptor;
  /** Bytes of the manifest, config and layer blobs. */
  size?: number;
  /** Set when the pack's blobs are damaged or missing. */
  problem?: string;
}

export function list(options?: PantryOptions): ListedPack[];

export function remove(uri: string, options?: PantryOptions): Promise<{ uri: string; removed: true }>;

/**
 * Delete unreferenced blobs (keeping those a running command's lease names), unpacked copies of packs no longer
 * indexed, and what interrupted or killed commands left (`.ingest-*`, staging folders, temp files, stale
 * leases and locks). `bytesRemoved` counts blobs and leftover files.
 */
export function gc(options?: PantryOptions): Promise<{ blobsRemoved: number; bytesRemoved: number; unpackedRemoved: number; leftoversRemoved: number }>;

/**
 * What `fsck` found. Codes: layout-invalid, index-invalid, blob-missing, blob-corrupt, manifest-invalid,
 * entry-dropped (a repair), unpacked-orphan, unpacked-incomplete, unpacked-damaged, ingest-leftover,
 * staging-leftover, temp-leftover, lease-stale, lock-stale.
 */
export interface FsckProblem {
  code: string;
  /** The file or folder concerned. */
  path: string;
  message: string;
  /** The index entry concerned, if any. */
  uri?: string;
  repaired: boolean;
}

/**
 * Check the whole pantry; with `repair`, drop index entries whose blobs are missing or damaged and remove
 * damaged blobs, damaged or orphaned unpacked copies and leftovers (holding the index lock). Never removes a
 * blob that a remaining entry or a live lease names. `ok`: no problem is left.
 */
export function fsck(options?: PantryOptions & { repair?: boolean; onProgress?: (event: ProgressEvent) => void }): Promise<{
  home: string;
  ok: boolean;
  repair: boolean;
  problems: FsckProblem[];
  checked: { entries: number; blobs: number; bytes: number; unpacked: number };
  /** Intact blobs nothing references: `gc` removes them. */
  dangling: { blobs: number; bytes: number };
}>;

export type RunOptions = ContractSource &
  IdentityOptions &
  PantryOptions &
  /** A registry pack without a trusted signature is a miss (with a warning): the command runs. */
  TrustOptions & {
    /** The command and its arguments; run without a shell. */
    command: string[];
    cwd?: string;
    stdio?: import('node:child_process').StdioOptions;
    sourceDateEpoch?: number;
    /** Looked up after the pantry, when configured (default $CTXPACK_REGISTRY, then the config file). */
    registry?: string;
    /** Push the pack to the registry afterwards (unless it came from there). */
    push?: boolean;
    /** A private key (PKCS#8 PEM file) that signs the pack before `push` pushes it (default $CTXPACK_SIGN_KEY). */
    signKey?: string;
    insecure?: boolean;
    concurrency?: number;
    env?: NodeJS.ProcessEnv;
    /** E.g. the contract's warnings, or the registry could not be reached, so the command ran; or a hit was made by another command. */
    onWarning?: (message: string) => void;
    onEvent?: (event: RegistryEvent) => void;
    /** Called just before the command is spawned (on a miss). */
    onCommandStart?: () => void;
  };

export interface RunResult {
  uri: string;
  /** The command was skipped: the pack came from the pantry or the registry. */
  hit: boolean;
  source: 'pantry' | 'registry' | 'command';
  durationMs: number;
  /** null on a hit: the command did not run. */
  exitCode: number | null;
  outputsPath: string;
  /** With `push`: what the push did. */
  pushed?: PushResult;
}

/** What the registry client reports along the way; never secrets. */
export interface RegistryEvent {
  /** redirect: a registry sent a request to another host (which gets no credentials). */
  kind: 'retry' | 'auth' | 'resume' | 'mount' | 'redirect';
  message: string;
}

export interface RegistryOptions extends PantryOptions {
  /** "<host>[:port]/<repository>" (optionally http:// or https:// first). Default: $CTXPACK_REGISTRY, then
   * "registry" in $CTXPACK_CONFIG or ~/.config/ctxpack/config.json. */
  registry?: string;
  /** Allow http:// to a host that is not loopback. */
  insecure?: boolean;
  /** Seconds to wait for an answer or the next byte (default $CTXPACK_TIMEOUT, else 30); a transfer without progress
   * for four times that fails with CTX_REGISTRY_TIMEOUT. */
  timeout?: number;
  /** PEM certificates to trust besides the default roots (default $CTXPACK_CA_FILE). */
  caFile?: string;
  /** Blobs transferred at once (1–64, default 4). */
  concurrency?: number;
  /** Where credentials and the registry come from (default process.env). CTXPACK_USER/CTXPACK_TOKEN go only to the
   * registry CTXPACK_REGISTRY names, else to the one registry of push, pull, resolve and run (never by copy). */
  env?: NodeJS.ProcessEnv;
  onProgress?: (event: ProgressEvent) => void;
  onEvent?: (event: RegistryEvent) => void;
}

export interface TransferResult {
  uri: string;
  /** What moved: a pack or an execution pack (both travel the same way). */
  kind: ArtifactType;
  /** The image manifest as stored in the target (the fallback form has another digest). */
  manifest: Descriptor;
  /** The target already had the pack; nothing was transferred. */
  alreadyPresent: boolean;
  /** The registry refused ctxpack's config type and got the fallback form (empty config, manifest.json as first layer). */
  fallback: boolean;
  blobs: { total: number; transferred: number; skipped: number; mounted: number };
  /** Bytes of the blobs the target lacked. */
  bytes: number;
}

export interface PushResult extends TransferResult {
  /** "<host>/<repository>" */
  registry: string;
  /** "<host>/<repository>:ctx-<hex>" */
  reference: string;
}

export interface PullResult extends PushResult {
  /** With `output`: where the outputs are. */
  path?: string;
}

export interface LegacyPullResult {
  uri: string;
  registry: string;
  reference: string;
  legacy: true;
  manifest: { digest: string; size: number };
  path: string;
  files: number;
  bytes: number;
  /** What was checked, and why the rest cannot be (a v0 pack has no verifiable manifest). */
  verified: string[];
  unverified: string[];
}

/** Signature checks of pull, run and copy (issue 15): refused before anything is stored. */
export interface TrustOptions {
  /** Refuse a pack without a valid signature from a trusted key (CTX_SIGNATURE_REQUIRED, CTX_SIGNATURE_INVALID,
   * CTX_KEY_UNTRUSTED). */
  requireSignature?: boolean;
  /** Public key files (SPKI PEM) to trust; giving any implies `requireSignature`. */
  trustKeys?: string[];
  /** Trust policy file (default $CTXPACK_TRUST_POLICY, else ~/.config/ctxpack/trust.json when it exists). */
  trustPolicy?: string;
}

/** A trusted key's valid signature over a pack. */
export interface Signer {
  /** "sha256:<hex>" of the key's SPKI DER. */
  keyid: string;
  /** RFC 3339, from the signer's clock. */
  signedAt: string;
}

export function push(uri: string, options?: RegistryOptions & { mountFrom?: string }): Promise<PushResult & { signatures: number }>;
export function pull(uri: string, options: RegistryOptions & TrustOptions & { output?: string; legacy: true }): Promise<LegacyPullResult>;
export function pull(
  uri: string,
  options?: RegistryOptions & TrustOptions & { output?: string; legacy?: false },
): Promise<PullResult & { signers?: Signer[] }>;
export function copy(
  uri: string,
  options: Omit<RegistryOptions, 'registry' | 'home' | 'lockTimeoutMs'> & TrustOptions & { from: string; to: string; mountFrom?: string },
): Promise<TransferResult & { from: string; to: string; reference: string; signatures: number; signers?: Signer[]; warnings?: string[] }>;
/** Write an Ed25519 key pair: `<name>.pem` (PKCS#8, 0600) and `<name>.pub` (SPKI); never over an existing file. */
export function keygen(name: string): { privateKey: string; publicKey: string; keyid: string };
/** Sign a pantry pack; the signature is kept beside it in the pantry, and pushed beside it in `registry` when given. */
export function sign(
  uri: string,
  options: Omit<RegistryOptions, 'concurrency' | 'onProgress'> & { key: string; signedAt?: string },
): Promise<{
  uri: string;
  keyid: string;
  /** The signed image manifest's digest. */
  manifest: string;
  /** The signature artifact's manifest digest. */
  signature: string;
  signedAt: string;
  registry?: string;
  pushed?: { digest: string; tagUpdated?: boolean };
}>;
/** Which trusted keys validly signed a pack: its signatures in the pantry, or in `registry` when given. */
export function verifySignatures(
  uri: string,
  options?: Omit<RegistryOptions, 'concurrency' | 'onProgress'> & Omit<TrustOptions, 'requireSignature'>,
): Promise<{ uri: string; manifest: string; signatures: number; signers: Signer[] }>;
export function resolve(
  uri: string,
  options?: RegistryOptions,
): Promise<{
  uri: string;
  pantry: { home: string; found: boolean; digest?: string; kind?: ArtifactType };
  /** null when no registry is configured. */
  registry: { name: string; reference: string; found: boolean; digest?: string } | null;
}>;
export function exportLayout(
  uris: string | string[],
  dir: string,
  options?: PantryOptions & { concurrency?: number; onProgress?: (event: ProgressEvent) => void },
): Promise<{ path: string; packs: Array<TransferResult & { signatures: number }> }>;
export function importLayout(
  dir: string,
  options?: PantryOptions & { uris?: string[]; concurrency?: number; onProgress?: (event: ProgressEvent) => void },
): Promise<{ path: string; packs: Array<TransferResult & { signatures: number }> }>;
export interface CatOptions extends Omit<RegistryOptions, 'concurrency' | 'onProgress'> {
  limits?: Partial<Limits>;
  /** Files up to this size are held in memory and handed over only once verified (default 64 MiB). */
  maxBufferBytes?: number;
  /** Where the bytes go; without it they are returned in `bytes` (CTX_LIMIT_EXCEEDED past maxBufferBytes). A file
   * larger than maxBufferBytes is written as it is read, before its check: if the promise rejects, what was
   * written must not be used. */
  write?: (chunk: Uint8Array) => void | Promise<void>;
}

export interface CatResult {
  uri: string;
  /** The pantry when it holds the pack, else the registry. */
  source: 'pantry' | 'registry';
  /** "<host>/<repository>", when read from a registry. */
  registry?: string;
  /** The file read (a symlink's target), as the manifest records it. */
  file: { path: string; size: number; digest: string };
  /** Compressed layer bytes read (from the pantry's blob or the registry). */
  fetchedBytes: number;
  /** True when the layer's block index was used; false when the layer was read from its start. */
  seeked: boolean;
  /** Why the layer's block index was not used (it was malformed, wrong, or the registry ignores ranges). */
  fallback?: string;
  /** Without `write`: the verified bytes. */
  bytes?: Uint8Array;
}

export interface PackFile {
  path: string;
  type: 'file' | 'symlink';
  size?: number;
  digest?: string;
  executable?: boolean;
  target?: string;
}

/** One file of a pack, verified against its manifest digest: from the pantry, else straight from a registry,
 * reading only the compressed blocks that hold it when the layer carries a block index (spec §10). */
export function cat(uri: string, path: string, options?: CatOptions): Promise<CatResult>;
/** A pack's files from its verified manifest: the pantry's, else the registry's (no layer is read). */
export function listFiles(
  uri: string,
  options?: Omit<CatOptions, 'write' | 'maxBufferBytes'>,
): Promise<{ uri: string; source: 'pantry' | 'registry'; registry?: string; files: PackFile[] }>;
/** Check registry credentials (GET /v2/) and store them like `docker login`; nothing is stored when refused. */
export function login(
  registry: string,
  options: { username: string; password: string; insecure?: boolean; timeout?: number; caFile?: string; env?: NodeJS.ProcessEnv },
): Promise<{ host: string; key: string; storedIn: string; verified: true; warnings: string[] }>;
/** Remove a registry's stored credentials like `docker logout`; removedFrom is null when there were none. */
export function logout(registry: string, options?: { env?: NodeJS.ProcessEnv }): Promise<{ host: string; key: string; removedFrom: string | null }>;

/**
 * On a hit, put the pack's outputs in place (absent, empty or already holding them); on a miss, run the command
 * (the outputs folder must be absent or empty: CTX_TARGET_EXISTS) and seed what it wrote, recording the command
 * (secret-looking parts masked) in the pack's provenance. A failed command throws CTX_COMMAND_FAILED whose
 * `exitCode` is its status, 127 when not found, 126 when not executable, 128 + n when signal n killed it.
 */
export function run(options: RunOptions): Promise<RunResult>;

export const MEDIA_TYPES: Readonly<{
  ociManifest: string;
  packManifest: string;
  layer: string;
  /** The config of an execution pack: the execution manifest (JCS), whose digest is the URI. */
  executionManifest: string;
  /** A content blob of an execution pack. */
  executionBlob: string;
}>;

export function defaultHome(): string;

/** A blob's bytes as a stream; `verified`: its source checked every byte against the descriptor. */
export type BlobStream = AsyncIterable<Uint8Array> & { verified?: boolean };

/**
 * The local pantry: an OCI image layout with leases, with oras-go's content Store interface (fetch / push /
 * exists, resolve / tag): fetch gives a stream and push takes one; fetchBytes and pushBytes are for small blobs.
 */
export interface Pantry {
  readonly home: string;
  describe(): string;
  blobPath(digest: string): string;
  exists(descriptor: Descriptor): boolean;
  /** A small blob (manifest, config) read whole, checked against the descriptor. */
  fetchBytes(descriptor: Descriptor): Uint8Array;
  /** A blob as a stream, checked against the descriptor before it ends. */
  fetch(descriptor: Descriptor): BlobStream;
  /** Store a blob from a stream (nothing is read when it is already there); the bytes must match the descriptor. */
  push(descriptor: Descriptor, stream: AsyncIterable<Uint8Array> | Uint8Array): Promise<{ uploaded: boolean }>;
  /** Store bytes as a blob (kept from gc by the lease of the work it is part of, see withLease). */
  pushBytes(bytes: Uint8Array, mediaType: string, expected?: Descriptor): Promise<Descriptor>;
  /**
   * Run `fn` under a lease (joining the enclosing work's): gc keeps the blobs written meanwhile until it ends;
   * if `fn` throws, the blobs it added that nothing references are removed.
   */
  withLease<T>(command: string, fn: () => Promise<T>): Promise<T>;
  /** The manifest a URI names, whichever kind it is; null when the pantry does not hold it. */
  resolve(uri: string): Descriptor | null;
  /** The manifest a URI names among entries of one kind (default: packs); CTX_NOT_FOUND when there is none. */
  manifestFor(reference: string, options?: { artifactType?: ArtifactType }): Descriptor;
  has(uri: string, options?: { artifactType?: ArtifactType }): boolean;
  /** The manifest a URI names and its kind; null when the pantry does not hold it. */
  lookup(uri: string): { descriptor: Descriptor; artifactType: ArtifactType } | null;
  /** Record the manifest under the URI; all its blobs must be present and it must be of that kind (default: pack). */
  tag(descriptor: Descriptor, uri: string, options?: { artifactType?: ArtifactType }): Promise<void>;
  /** Packs only: execution packs are immutable. */
  untag(uri: string): Promise<void>;
  /** Every ctxpack entry of index.json, both kinds. */
  entries(): Array<PantryEntry>;
  /** The packs. */
  list(): Array<PantryEntry>;
  /** The execution packs. */
  listExecutions(): Array<PantryEntry>;
  loadPack(uri: string): {
    uri: string;
    manifest: Descriptor;
    created: string;
    config: Descriptor;
    layers: Descriptor[];
    layer: Descriptor;
    fallback: boolean;
    blobs: Descriptor[];
  };
  /** Unreferenced blobs, unpacked copies of packs no longer listed and leftovers of stopped work (`ctxpack gc`). */
  gc(): Promise<{ blobsRemoved: number; bytesRemoved: number; unpackedRemoved: number; leftoversRemoved: number }>;
}

export function openPantry(options?: PantryOptions): Pantry;

/** What an index entry names: a pack (pack/v1) or an execution pack (execution/v1). */
export type ArtifactType = 'pack' | 'execution';

export interface PantryEntry {
  uri: string;
  tag: string;
  digest: string;
  size: number;
  artifactType: ArtifactType;
}

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
 * Pack many execution logs at once (paths or logs): all are validated before anything is stored, their blobs
 * are written together and the index is written once. One result per log, in order.
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

/** Redact under the policy; `applied` lists this pass's actions only (none on an already-redacted packet). */
export function redactPacket(
  packet: string | object,
  options?: PantryOptions & ContextPolicyOptions & { audit?: boolean; approveRemote?: boolean },
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
