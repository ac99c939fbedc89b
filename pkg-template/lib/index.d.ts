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

export * from './trace/types.js';
export * from './context/types.js';
