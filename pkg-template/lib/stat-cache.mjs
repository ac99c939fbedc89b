// The stat cache of identity, like git's index: per input (a tree or a file), each file's device, inode, size,
// mtime and ctime in nanoseconds with its digest, so `id` of unchanged inputs reads no content. Kept under
// <home>/stat-cache/, one binary file per input, written atomically; at most MAX_FILES inputs and MAX_ENTRIES
// files per input. A file is trusted only when nothing can have changed it unseen: same stat, and its mtime and
// ctime older than the moment its stat was taken by more than the timestamp granularity (else it is "racily
// clean" and hashed again). CTXPACK_NO_STAT_CACHE=1 (or `--no-cache`, `cache: false`) trusts nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAGIC = 'ctxstat1';
const HEADER_BYTES = 24;
/** Stat fields per entry: dev, ino, size, mtime ns, ctime ns. */
const FIELDS = 5;
const MAX_ENTRIES = 500_000;
const MAX_FILES = 64;
/**
 * Granularity of file timestamps, plus the lag of the kernel's coarse clock behind the wall clock: a file
 * whose times have no sub-second part may sit on a file system with 1 s (or FAT's 2 s) timestamps.
 */
const FINE_WINDOW_NS = 50_000_000n;
const COARSE_WINDOW_NS = 2_000_000_000n;
const SECOND_NS = 1_000_000_000n;

/** Whether identity may use the stat cache: not with `cache: false`, nor with CTXPACK_NO_STAT_CACHE set. */
export function statCacheEnabled(cache) {
  const disabled = process.env.CTXPACK_NO_STAT_CACHE;
  return cache !== false && (disabled === undefined || disabled === '' || disabled === '0');
}

/** The wall clock in ns, taken before the stats it bounds (file times are never older than the stat). */
export function statClock() {
  return BigInt(Date.now() - 1) * 1_000_000n;
}

/**
 * The cache of one input: `key` names it (its absolute path and how links are read).
 * @param {string} home
 * @param {string} key
 */
export function openStatCache(home, key) {
  const dir = path.join(home, 'stat-cache');
  const file = path.join(dir, `${crypto.createHash('sha256').update(key).digest('hex')}.bin`);
  return new StatCache(dir, file, readCache(file));
}

class StatCache {
  constructor(dir, file, stored) {
    this.dir = dir;
    this.file = file;
    this.stored = stored;
    this.index = undefined;
  }

  /** The position of the record of `relative`, else -1 (whether it still holds is for the hashing thread). */
  position(relative) {
    if (!this.stored) return -1;
    this.index ??= new Map(this.stored.paths.map((name, position) => [name, position]));
    return this.index.get(relative) ?? -1;
  }

  /** The recorded stat of a record: dev, ino, size, mtime ns, ctime ns. */
  stat(position) {
    return this.stored.stats.subarray(position * FIELDS, position * FIELDS + FIELDS);
  }

  /** When the stored records' stats were taken. */
  get statTime() {
    return this.stored?.statTime ?? 0n;
  }

  /**
   * The position of a trusted record of `relative` with exactly this stat, else -1.
   * @param {string} relative
   * @param {fs.BigIntStats} stat
   */
  lookup(relative, stat) {
    const { stored } = this;
    const position = this.position(relative);
    if (position < 0) return -1;
    const at = position * FIELDS;
    const { stats } = stored;
    const same =
      stats[at] === stat.dev &&
      stats[at + 1] === stat.ino &&
      stats[at + 2] === stat.size &&
      stats[at + 3] === stat.mtimeNs &&
      stats[at + 4] === stat.ctimeNs;
    return same && trusted(stat, stored.statTime) ? position : -1;
  }

  /** How many files the stored record holds. */
  records() {
    return this.stored ? this.stored.paths.length : 0;
  }

  /** The 32 digest bytes of a record. */
  digest(position) {
    return this.stored.digests.subarray(position * 32, position * 32 + 32);
  }

  /**
   * Replace the record with these entries (files whose hashed size differs from their stat are left out).
   * Failing to write only costs the next run its speed: errors are ignored.
   * @param {{paths: string[], stats: BigInt64Array, digests: Uint8Array, count: number, statTime: bigint}} entries
   *   stats: FIELDS per entry; an entry with size -1 is not recorded
   */
  save({ paths, stats, digests, count, statTime }) {
    if (count > MAX_ENTRIES) return;
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const names = Buffer.from(paths.slice(0, count).join('\0'));
      const bytes = Buffer.alloc(HEADER_BYTES + count * (FIELDS * 8 + 32) + names.length);
      bytes.write(MAGIC, 0, 'latin1');
      bytes.writeBigInt64LE(statTime, 8);
      bytes.writeUInt32LE(count, 16);
      bytes.writeUInt32LE(names.length, 20);
      Buffer.from(stats.buffer, stats.byteOffset, count * FIELDS * 8).copy(bytes, HEADER_BYTES);
      Buffer.from(digests.buffer, digests.byteOffset, count * 32).copy(bytes, HEADER_BYTES + count * FIELDS * 8);
      names.copy(bytes, HEADER_BYTES + count * (FIELDS * 8 + 32));
      const temporary = `${this.file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
      fs.writeFileSync(temporary, bytes);
      fs.renameSync(temporary, this.file);
      evictOldest(this.dir);
    } catch {
      // A read-only or full home: identity is still right, only slower next time.
    }
  }
}

/** Same stat is proof only when the file's times are older than its stat by more than their granularity. */
export function trusted(stat, statTime) {
  const newest = stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
  const coarse = stat.mtimeNs % SECOND_NS === 0n || stat.ctimeNs % SECOND_NS === 0n;
  return newest + (coarse ? COARSE_WINDOW_NS : FINE_WINDOW_NS) < statTime;
}

function readCache(file) {
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) return undefined;
  const statTime = bytes.readBigInt64LE(8);
  const count = bytes.readUInt32LE(16);
  const namesBytes = bytes.readUInt32LE(20);
  if (count > MAX_ENTRIES || bytes.length !== HEADER_BYTES + count * (FIELDS * 8 + 32) + namesBytes) return undefined;
  // Copied out so the typed arrays are aligned whatever the Buffer pool offset.
  const stats = new BigInt64Array(count * FIELDS);
  Buffer.from(stats.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + count * FIELDS * 8));
  const digestStart = HEADER_BYTES + count * FIELDS * 8;
  const digests = bytes.subarray(digestStart, digestStart + count * 32);
  const paths = count === 0 ? [] : bytes.toString('utf8', digestStart + count * 32).split('\0');
  if (paths.length !== count) return undefined;
  return { statTime, stats, digests, paths };
}

/** Keep the MAX_FILES most recently written inputs. */
function evictOldest(dir) {
  const names = fs.readdirSync(dir).filter((name) => name.endsWith('.bin'));
  if (names.length <= MAX_FILES) return;
  const aged = names.map((name) => ({ name, mtime: fs.statSync(path.join(dir, name)).mtimeMs })).sort((a, b) => a.mtime - b.mtime);
  for (const { name } of aged.slice(0, names.length - MAX_FILES)) fs.rmSync(path.join(dir, name), { force: true });
}

/** `$CTXPACK_HOME`, else `~/.cache/ctxpack` (as pantry.mjs, without loading the pantry). */
export function homeDir(home) {
  return home ?? (process.env.CTXPACK_HOME || path.join(os.homedir(), '.cache', 'ctxpack'));
}
