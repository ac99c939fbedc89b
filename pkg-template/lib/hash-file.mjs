// Streaming SHA-256 of files with node:crypto (SHA-NI where the CPU has it), reading into a reused buffer.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { trusted } from './stat-cache.mjs';

/** Read size for hashing and packing: large enough that syscalls cost nothing next to hashing. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** One-shot hashing of a file read whole (Node ≥ 20.12) skips a Hash object per small file. */
const hashOnce = typeof crypto.hash === 'function' ? (bytes) => crypto.hash('sha256', bytes, 'buffer') : undefined;

/**
 * @param {string | Uint8Array} path
 * @param {Buffer} buffer scratch buffer, reused across calls
 * @param {(bytes: number) => void} [onBytes] called after each read
 * @returns {{digest: string, size: number}} the digest and the number of bytes actually hashed
 */
export function hashFileSync(path, buffer, onBytes) {
  const digest = Buffer.allocUnsafe(32);
  const size = hashFileInto(path, buffer, onBytes, digest, 0);
  return { digest: `sha256:${digest.toString('hex')}`, size };
}

/**
 * Hash one file, writing its 32 digest bytes into `out` at `offset`. A short read of a regular file is its end
 * (Linux fills reads of regular files), so a small file costs one open, one read and one close.
 * @returns {number} the number of bytes hashed
 */
function hashFileInto(path, buffer, onBytes, out, offset) {
  const fd = fs.openSync(path, 'r');
  try {
    return hashOpenFile(fd, buffer, onBytes, out, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Hash a file already open, from its descriptor's offset to its end (an upload reading it by position meanwhile
 * does not move that offset), as a batch of one.
 * @returns {BatchResult}
 */
export function hashDescriptor(fd, buffer, onBytes) {
  const result = { digests: new Uint8Array(32), sizes: new Float64Array(1), stats: new BigInt64Array(0), flags: new Uint8Array(1), errors: [] };
  try {
    result.sizes[0] = hashOpenFile(fd, buffer, onBytes, result.digests, 0);
  } catch (error) {
    result.errors.push({ index: 0, code: error.code, message: error.message });
  }
  return result;
}

function hashOpenFile(fd, buffer, onBytes, out, offset) {
  let read = fs.readSync(fd, buffer, 0, buffer.length, null);
  onBytes?.(read);
  if (read < buffer.length && hashOnce) {
    out.set(hashOnce(buffer.subarray(0, read)), offset);
    return read;
  }
  const hash = crypto.createHash('sha256');
  let size = 0;
  while (read > 0) {
    hash.update(buffer.subarray(0, read));
    size += read;
    if (read < buffer.length) break;
    read = fs.readSync(fd, buffer, 0, buffer.length, null);
    onBytes?.(read);
  }
  out.set(hash.digest(), offset);
  return size;
}

/** Per-file flags of a batch's answer. */
export const FILE_EXECUTABLE = 1;
export const FILE_CACHED = 2;
export const FILE_DEFERRED = 4;
/** Stat fields per file in a batch: dev, ino, size, mtime ns, ctime ns. */
export const STAT_FIELDS = 5;

/**
 * @typedef {object} BatchOptions
 * @property {BigInt64Array} [expect]     per file, the stat the cache recorded (size -1: no record)
 * @property {bigint} [trustBefore]       when the recorded stats were taken (stat-cache.mjs `trusted`)
 * @property {boolean} [follow]           the paths may be symlinks to follow (else a symlink is refused)
 * @property {number} [deferBytes]        a file this big in a batch of several is not hashed but handed back
 *                                        (FILE_DEFERRED), so it can go to a thread of its own
 * @property {boolean} [keepStats]        fill `stats` (default true); without, a file's stat is taken in numbers
 *                                        (no BigInt stat object per file) and `stats` is empty
 *
 * @typedef {object} BatchResult
 * @property {Uint8Array} digests         32 bytes per file
 * @property {Float64Array} sizes         bytes hashed (the stat size of a deferred file)
 * @property {BigInt64Array} stats        STAT_FIELDS per file, from the open file (empty without keepStats)
 * @property {Uint8Array} flags           FILE_* bits per file
 * @property {Array<{index: number, code?: string, message: string, unsupported?: boolean}>} errors
 */

/**
 * Hash a batch of files: `root` joined to each of `paths` ('' when the paths are absolute). Each file is opened
 * (never blocking: a FIFO put in place of a file is refused, not waited on), checked to be a regular file and
 * stat'ed through its descriptor; a file whose stat the cache recorded and still vouches for is not read.
 * Failures are reported per file, so one unreadable file does not lose the batch.
 * @param {BatchOptions} [options]
 * @returns {BatchResult}
 */
export function hashBatch(root, paths, buffer, onBytes, { expect, trustBefore, follow = true, deferBytes = Infinity, keepStats = true } = {}) {
  const count = paths.length;
  const result = {
    digests: new Uint8Array(count * 32),
    sizes: new Float64Array(count),
    stats: new BigInt64Array(keepStats ? count * STAT_FIELDS : 0),
    flags: new Uint8Array(count),
    errors: [],
  };
  const prefix = root === '' ? '' : `${root}/`;
  const openFlags = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (follow ? 0 : fs.constants.O_NOFOLLOW);
  for (let index = 0; index < count; index++) {
    const name = paths[index];
    const path = typeof name === 'string' ? prefix + name : name;
    try {
      if (expect && expect[index * STAT_FIELDS + 2] >= 0n && cachedStillTrue(path, expect, index, trustBefore, follow, result)) continue;
      const fd = fs.openSync(path, openFlags);
      try {
        const stat = fs.fstatSync(fd, { bigint: keepStats });
        if (!stat.isFile()) {
          result.errors.push({ index, unsupported: true, message: 'it is not a regular file (it changed while it was being read?)' });
          continue;
        }
        if (keepStats) recordStat(result, index, stat);
        else if ((stat.mode & 0o111) !== 0) result.flags[index] |= FILE_EXECUTABLE;
        if (count > 1 && Number(stat.size) >= deferBytes) {
          result.flags[index] |= FILE_DEFERRED;
          result.sizes[index] = Number(stat.size);
          continue;
        }
        result.sizes[index] = hashOpenFile(fd, buffer, onBytes, result.digests, index * 32);
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      result.errors.push({ index, code: error.code, message: error.message });
    }
  }
  return result;
}

function recordStat(result, index, stat) {
  const at = index * STAT_FIELDS;
  result.stats[at] = stat.dev;
  result.stats[at + 1] = stat.ino;
  result.stats[at + 2] = stat.size;
  result.stats[at + 3] = stat.mtimeNs;
  result.stats[at + 4] = stat.ctimeNs;
  if ((Number(stat.mode) & 0o111) !== 0) result.flags[index] |= FILE_EXECUTABLE;
}

/** The file's stat is the recorded one, and old enough to prove nothing changed: flagged FILE_CACHED. */
function cachedStillTrue(path, expect, index, trustBefore, follow, result) {
  const stat = follow ? fs.statSync(path, { bigint: true, throwIfNoEntry: false }) : fs.lstatSync(path, { bigint: true, throwIfNoEntry: false });
  if (!stat?.isFile()) return false;
  const at = index * STAT_FIELDS;
  const same =
    expect[at] === stat.dev && expect[at + 1] === stat.ino && expect[at + 2] === stat.size && expect[at + 3] === stat.mtimeNs && expect[at + 4] === stat.ctimeNs;
  if (!same || !trusted(stat, trustBefore)) return false;
  recordStat(result, index, stat);
  result.sizes[index] = Number(stat.size);
  result.flags[index] |= FILE_CACHED;
  return true;
}
