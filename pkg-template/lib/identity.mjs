// Contract → ctx:// URI. The core says which paths the contract needs (inputs, code_path); we hash them
// relative to the contract file's directory and hand the digests back to the core, which resolves the URI.
import fs from 'node:fs';
import path from 'node:path';
import { CtxpackError, toCtxpackError } from './errors.mjs';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** A file this small is hashed again rather than looked up: reading and rewriting its cache record costs more. */
const UNCACHED_FILE_BYTES = 256 * 1024;
/**
 * Input files this small in all are hashed by the wasm core: loading node:crypto (~20 of Node's modules) costs
 * `ctxpack id` 3-10 ms, the core hashes 256 KiB in ~1.2 ms (0.2 GB/s). No larger than UNCACHED_FILE_BYTES, so
 * these files would not have had stat cache records either.
 */
const CORE_HASHED_BYTES = UNCACHED_FILE_BYTES;
let inlineBuffer;

/**
 * @typedef {object} ContractSource
 * @property {string} [contractPath] a contract file; its directory is the base for relative paths
 * @property {string | object} [contract] the contract itself (JSON text or an object), with `baseDir`
 * @property {string} [baseDir] base for the contract's relative paths (default: the current directory)
 */

/**
 * Read a contract from a file or take it as given.
 * @param {ContractSource} source
 * @returns {{text: string, baseDir: string}}
 */
export function loadContract({ contractPath, contract, baseDir }) {
  if (contractPath !== undefined) {
    const absolute = path.resolve(contractPath);
    let bytes;
    try {
      bytes = fs.readFileSync(absolute);
    } catch (error) {
      if (error.code === 'ENOENT') {
        throw new CtxpackError('CTX_IO', `contract file ${contractPath} does not exist`, {
          subject: contractPath,
          hint: 'check the --contract path',
        });
      }
      throw toCtxpackError(error, contractPath);
    }
    let text;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new CtxpackError('CTX_JSON_INVALID', `contract file ${contractPath} is not valid UTF-8`, {
        subject: contractPath,
        hint: 'save the contract as UTF-8 JSON',
      });
    }
    return { text, baseDir: path.dirname(absolute) };
  }
  if (contract === undefined || contract === null) {
    throw new CtxpackError('CTX_USAGE', 'no contract given: pass contractPath, or contract with baseDir');
  }
  return {
    text: typeof contract === 'string' ? contract : JSON.stringify(contract),
    baseDir: path.resolve(baseDir ?? '.'),
  };
}

/**
 * Compute a contract's identity, hashing every input and code path it names. Unchanged files are not read
 * again: the stat cache (stat-cache.mjs, under `home`) vouches for them, unless `cache` is false or
 * CTXPACK_NO_STAT_CACHE=1 (a file input below 256 KiB is always hashed, with no record kept). `warnings` are the
 * core's (a transform whose code is not part of the identity); the caller shows them.
 * @param {ContractSource & {followLinks?: boolean, onProgress?: Function, home?: string, cache?: boolean}} options
 * @returns {Promise<{uri: string, contract: object, outputs: Array<{path: string}>, baseDir: string, warnings: string[]}>}
 */
export async function computeIdentity(options) {
  const { text, baseDir } = loadContract(options);
  const core = await identityCore();
  const plan = core.contractPlan(text);
  const followLinks = options.followLinks ?? false;
  const targets = plan.needs.map((need) => inspectNeed(need, baseDir));
  const onBytes = growingReporter(options.onProgress, 'inputs');
  // Small files only (`id` of a contract and its data file): the core hashes them, node:crypto, the stat cache and
  // the walk are not loaded.
  const small = targets.every(({ kind }) => kind === 'file') && targets.reduce((total, { size }) => total + size, 0) < CORE_HASHED_BYTES;
  const digests = small
    ? targets.map(({ absolute }) => digestSmallFile(absolute, core, onBytes))
    : await digestAll(targets, { core, followLinks, onBytes, cache: options.cache, home: options.home });

  const inputs = {};
  const code = {};
  targets.forEach(({ need, kind }, position) => {
    if (need.kind === 'input') inputs[need.name] = { type: kind, digest: digests[position] };
    else code[String(need.transform)] = digests[position];
  });
  const { uri, contract } = core.resolveContract(text, { inputs, code });
  return { uri, contract, outputs: plan.outputs, baseDir, warnings: plan.warnings };
}

/**
 * The wasm core identity runs on. Identity needs only what the identity core has: a process that has the full core
 * (a command that packs, the JS API) uses it, and one that does not (`ctxpack id`) loads the identity core, the
 * least to compile. Both derive the same digests and URIs, and throw the same CtxpackError class.
 * @returns {Promise<typeof import('./core-node.mjs')>}
 */
function identityCore() {
  return globalThis[Symbol.for('ctxpack.core.full')] ? import('./core-node.mjs') : import('./core-id-node.mjs');
}

/** A progress reporter whose total grows as the walks find files (they hash while they walk). */
function growingReporter(onProgress, phase) {
  if (!onProgress) return undefined;
  let bytes = 0;
  onProgress({ phase, bytes, totalBytes: 0 });
  return (chunkBytes) => {
    bytes += chunkBytes;
    onProgress({ phase, bytes, totalBytes: bytes });
  };
}

/** Hash the inputs with node:crypto on this thread (files) and the hashing threads (trees), through the stat cache. */
async function digestAll(targets, { core, followLinks, onBytes, cache, home }) {
  const [{ homeDir, openStatCache, statCacheEnabled, statClock }, hashing] = await Promise.all([
    import('./stat-cache.mjs'),
    import('./hash-file.mjs'),
  ]);
  const useCache = statCacheEnabled(cache) && targets.some(({ kind, size }) => kind === 'tree' || size >= UNCACHED_FILE_BYTES);
  const cacheHome = useCache ? homeDir(home) : undefined;
  const statTime = statClock();
  // The walk and the hashing threads are loaded only for a tree: `id` of files starts faster without them.
  const { digestTree } = targets.some(({ kind }) => kind === 'tree') ? await import('./tree-digest.mjs') : {};
  return Promise.all(
    targets.map(({ absolute, kind, size }) => {
      const cached = useCache && (kind === 'tree' || size >= UNCACHED_FILE_BYTES);
      const statCache = cached ? openStatCache(cacheHome, JSON.stringify([kind, absolute, followLinks])) : undefined;
      return kind === 'tree'
        ? digestTree(absolute, { core, followLinks, statCache, statTime, onBytes })
        : digestFile(absolute, { hashing, statCache, statTime, onBytes });
    }),
  );
}

/** A small file's digest by the wasm core: read whole (whatever it holds now, had it grown since its stat). */
function digestSmallFile(absolute, core, onBytes) {
  const bytes = fs.readFileSync(absolute);
  onBytes?.(bytes.length);
  return core.sha256(bytes);
}

/** One input file's digest, read only when the stat cache (if any: not for a small file) cannot vouch for it. */
function digestFile(absolute, { hashing, statCache, statTime, onBytes }) {
  const stat = statCache && fs.statSync(absolute, { bigint: true });
  const cached = statCache ? statCache.lookup('', stat) : -1;
  if (cached >= 0) return `sha256:${Buffer.from(statCache.digest(cached)).toString('hex')}`;
  inlineBuffer ??= Buffer.allocUnsafe(hashing.READ_CHUNK_BYTES);
  const { digest, size } = hashing.hashFileSync(absolute, inlineBuffer, onBytes);
  if (statCache && size === Number(stat.size)) {
    const stats = BigInt64Array.of(stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs);
    statCache.save({ paths: [''], stats, digests: Buffer.from(digest.slice('sha256:'.length), 'hex'), count: 1, statTime });
  }
  return digest;
}

/** Stat one needed path: a file to hash, or a directory to walk. Nothing is hashed yet. */
function inspectNeed(need, baseDir) {
  const absolute = path.resolve(baseDir, need.path);
  const label = need.kind === 'input' ? `input "${need.name}"` : `code_path of transform ${need.transform}`;
  const subject = need.kind === 'input' ? need.name : `transforms[${need.transform}].code_path`;
  let stat;
  try {
    stat = fs.statSync(absolute);
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new CtxpackError('CTX_INPUT_MISSING', `${label}: ${need.path} does not exist (looked for ${absolute})`, {
        subject,
      });
    }
    throw toCtxpackError(error, absolute);
  }
  if (stat.isDirectory()) return { need, kind: 'tree', absolute };
  if (stat.isFile()) return { need, kind: 'file', absolute, size: stat.size };
  throw new CtxpackError('CTX_UNSUPPORTED_ENTRY_TYPE', `${label}: ${need.path} is neither a file nor a directory`, {
    subject,
  });
}
