// Identity of an input tree: walked and hashed at once, the stat cache consulted, the digest from compact
// entries (one call into the core, which hands back the tree document for node:crypto to hash). tree.mjs keeps
// the entries-as-objects form seed and run need.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { FILE_CACHED, FILE_DEFERRED, FILE_EXECUTABLE, STAT_FIELDS } from './hash-file.mjs';
import { BATCH_FILES, INLINE_TOTAL_BYTES, hashOnPool, poolAvailable, throwFirstError } from './hash-pool.mjs';
import { TreeWalk } from './walk.mjs';

/** Entries listed between two looks at the hashing threads' answers. */
const WALK_STEP = 2048;
/**
 * Files sent to the hashing threads and not answered yet (those the stat cache may vouch for count as a stat,
 * CACHED_PER_FILE of them as one file), beyond which the walk waits: listing faster than the threads hash only
 * holds every path twice (the threads are the bottleneck, and the walk competes with them for cores).
 */
const MAX_IN_FLIGHT_FILES = 8 * 512;
/** Up to this many files, a tree may be hashed on this thread (if its files are small): threads cost more. */
const INLINE_FILES = 256;
/** A file the stat cache may vouch for costs a stat, not a read: this many count as one file to hash. */
const CACHED_PER_FILE = 64;
/** A file this big, met in a batch, is handed back and hashed by a thread of its own, ahead of the rest. */
const DEFER_BYTES = 16 * 1024 * 1024;
const KIND_FILE = 0;
const KIND_EXECUTABLE = 1;
const KIND_SYMLINK = 2;

/**
 * The tree digest of a directory, for identity: walked and hashed at once (batches go to the hashing threads
 * while the walk goes on; the threads open and stat each file, the walk only lists directories), with the files
 * the stat cache vouches for not read at all, and one call into the core with compact entries. Memory per file:
 * its path as UTF-8 bytes, 32 bytes of digest, and 40 of stat when there is a stat cache to write; a path is a
 * string only while its batch is in flight.
 * @param {string} root absolute path of the directory
 * @param {{core: typeof import('./core-node.mjs'), followLinks?: boolean,
 *   statCache?: ReturnType<import('./stat-cache.mjs').openStatCache>, statTime: bigint, onBytes?: (bytes: number) => void}} options
 *   `core`: the wasm core to call (identity.mjs `identityCore`)
 * @returns {Promise<string>} the tree digest
 */
export async function digestTree(root, { core, followLinks = false, statCache, statTime, onBytes }) {
  const entries = new CompactEntries({ withStats: statCache !== undefined });
  const batches = new BatchPlanner(root, entries, { statCache, follow: followLinks, onBytes });
  const sink = {
    file(relative) {
      batches.add(entries.add(relative, KIND_FILE), relative, statCache ? statCache.position(relative) : -1);
    },
    symlink(relative, target) {
      entries.add(relative, KIND_SYMLINK);
      entries.targets.push(target);
    },
    undecodable(relative) {
      core.treeDigest([{ path: new Uint8Array(relative), type: 'symlink', target: '.' }]);
    },
  };
  const walk = new TreeWalk(root, { followLinks });
  while (walk.step(WALK_STEP, sink)) {
    if (batches.threaded) await batches.roomToWalk();
  }
  await batches.finish();
  // The core normalises, sorts and checks the entries and writes the tree document; node:crypto hashes it
  // (SHA-NI: several times the core's SHA-256 in wasm, and this is the one step no thread shares).
  const hash = crypto.createHash('sha256');
  core.treeDocumentCompact(
    entries.pathsText(),
    entries.kinds.subarray(0, entries.count),
    entries.sizes.subarray(0, entries.count),
    entries.digests.subarray(0, entries.count * 32),
    entries.targets.join('\0'),
    (piece) => hash.update(piece),
  );
  const digest = `sha256:${hash.digest('hex')}`;
  // Nothing hashed and every record used: the stored cache is already this tree's.
  if (statCache && !(batches.hashed === 0 && batches.cached === statCache.records())) statCache.save({ ...entries.forCache(), statTime });
  return digest;
}

/**
 * Entries as parallel arrays (what core.treeDocumentCompact takes), grown by doubling; the paths as UTF-8, each
 * ended by NUL (no path holds one), so a file costs no string once its batch is done; stats only for the cache.
 */
class CompactEntries {
  constructor({ withStats }) {
    this.count = 0;
    this.pathBytes = Buffer.allocUnsafe(64 * 1024);
    this.pathEnd = 0;
    this.targets = [];
    this.kinds = new Uint8Array(1024);
    this.sizes = new Float64Array(1024);
    this.digests = new Uint8Array(1024 * 32);
    this.stats = new BigInt64Array(withStats ? 1024 * STAT_FIELDS : 0);
  }

  add(relative, kind) {
    const index = this.count++;
    if (index === this.kinds.length) this.grow();
    // A UTF-16 unit takes at most 3 bytes of UTF-8.
    if (this.pathEnd + relative.length * 3 + 1 > this.pathBytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.pathBytes.length * 2, this.pathEnd + relative.length * 3 + 1));
      this.pathBytes.copy(bigger, 0, 0, this.pathEnd);
      this.pathBytes = bigger;
    }
    this.pathEnd += this.pathBytes.write(relative, this.pathEnd);
    this.pathBytes[this.pathEnd++] = 0;
    this.kinds[index] = kind;
    return index;
  }

  /** The paths joined by NUL, in entry order. */
  pathsText() {
    return this.pathBytes.toString('utf8', 0, Math.max(this.pathEnd - 1, 0));
  }

  grow() {
    const double = (array) => {
      const bigger = new array.constructor(array.length * 2);
      bigger.set(array);
      return bigger;
    };
    this.kinds = double(this.kinds);
    this.sizes = double(this.sizes);
    this.digests = double(this.digests);
    this.stats = double(this.stats);
  }

  /** A file's answer from a hashing thread (`position` in its batch). */
  record(index, result, position) {
    this.digests.set(result.digests.subarray(position * 32, position * 32 + 32), index * 32);
    this.sizes[index] = result.sizes[position];
    if (this.stats.length > 0) this.stats.set(result.stats.subarray(position * STAT_FIELDS, position * STAT_FIELDS + STAT_FIELDS), index * STAT_FIELDS);
    this.kinds[index] = result.flags[position] & FILE_EXECUTABLE ? KIND_EXECUTABLE : KIND_FILE;
  }

  /** The files, for the stat cache: a file whose hashed size is not its stat size is left unrecorded. */
  forCache() {
    const allPaths = this.count === 0 ? [] : this.pathsText().split('\0');
    const paths = [];
    const stats = new BigInt64Array(this.count * STAT_FIELDS);
    const digests = new Uint8Array(this.count * 32);
    let count = 0;
    for (let index = 0; index < this.count; index++) {
      const at = index * STAT_FIELDS;
      if (this.kinds[index] === KIND_SYMLINK || Number(this.stats[at + 2]) !== this.sizes[index]) continue;
      paths.push(allPaths[index]);
      stats.set(this.stats.subarray(at, at + STAT_FIELDS), count * STAT_FIELDS);
      digests.set(this.digests.subarray(index * 32, index * 32 + 32), count * 32);
      count += 1;
    }
    return { paths, stats, digests, count };
  }
}

/**
 * Files to hash, grouped into messages. Batches wait on this thread until the tree has enough files to be worth
 * threads; a small tree of small files is hashed here. A big file a thread meets in a batch is handed back and
 * sent again alone, ahead of the waiting batches, so it does not end up last on one thread.
 */
class BatchPlanner {
  constructor(root, entries, { statCache, follow, onBytes }) {
    this.root = root;
    this.entries = entries;
    this.statCache = statCache;
    this.follow = follow;
    this.onBytes = onBytes;
    this.cost = 0;
    this.hashed = 0;
    this.cached = 0;
    this.threaded = false;
    this.held = [];
    this.pending = [];
    this.inFlightCost = 0;
    this.wake = undefined;
    this.current = newBatch();
  }

  add(index, relative, cachePosition) {
    const cost = cachePosition >= 0 ? 1 / CACHED_PER_FILE : 1;
    this.cost += cost;
    const batch = this.current;
    batch.cost += cost;
    batch.indices.push(index);
    batch.paths.push(relative);
    batch.records.push(cachePosition);
    if (cachePosition >= 0) batch.anyRecord = true;
    if (batch.indices.length >= BATCH_FILES) {
      this.submit(batch);
      this.current = newBatch();
    }
    if (!this.threaded && this.cost > INLINE_FILES && poolAvailable()) this.startThreads();
  }

  startThreads() {
    this.threaded = true;
    for (const batch of this.held.splice(0)) this.submit(batch);
  }

  submit(batch, { priority = false } = {}) {
    if (!this.threaded) {
      this.held.push(batch);
      return;
    }
    this.inFlightCost += batch.cost;
    const done = hashOnPool(this.root, batch.paths, { onBytes: this.onBytes, priority, options: this.optionsFor(batch) })
      .then((result) => this.record(batch, result))
      .finally(() => {
        this.inFlightCost -= batch.cost;
        this.wake?.();
      });
    // Awaited in finish(); until then a failure must not count as unhandled.
    done.catch(() => {});
    this.pending.push(done);
  }

  /** Resolves once the answers that came in were taken and few enough files are in flight to walk on. */
  async roomToWalk() {
    await yieldToEvents();
    while (this.inFlightCost > MAX_IN_FLIGHT_FILES) {
      await new Promise((resolve) => {
        this.wake = resolve;
      });
    }
    this.wake = undefined;
  }

  optionsFor(batch) {
    const options = { follow: this.follow, deferBytes: batch.indices.length > 1 ? DEFER_BYTES : Infinity, keepStats: this.statCache !== undefined };
    if (!batch.anyRecord) return options;
    const expect = new BigInt64Array(batch.indices.length * STAT_FIELDS);
    batch.records.forEach((position, at) => {
      if (position >= 0) expect.set(this.statCache.stat(position), at * STAT_FIELDS);
      else expect[at * STAT_FIELDS + 2] = -1n;
    });
    return { ...options, expect, trustBefore: this.statCache.statTime };
  }

  record(batch, result) {
    throwFirstError(result, (position) => `${this.root}/${batch.paths[position]}`);
    batch.indices.forEach((index, position) => {
      const flags = result.flags[position];
      if (flags & FILE_DEFERRED) {
        const alone = newBatch();
        alone.indices.push(index);
        alone.paths.push(batch.paths[position]);
        alone.records.push(-1);
        alone.cost = 1;
        this.submit(alone, { priority: true });
        return;
      }
      this.entries.record(index, result, position);
      if (flags & FILE_CACHED) {
        this.entries.digests.set(this.statCache.digest(batch.records[position]), index * 32);
        this.cached += 1;
      } else {
        this.hashed += 1;
      }
    });
  }

  async finish() {
    if (this.current.indices.length > 0) this.submit(this.current);
    if (!this.threaded && poolAvailable() && this.heldBytes() > INLINE_TOTAL_BYTES) this.startThreads();
    // Here the held batches are hashed on this thread, unless the cache vouched for less than it promised.
    let inlineBytes = 0;
    while (this.held.length > 0) {
      const batch = this.held.shift();
      const result = await hashOnPool(this.root, batch.paths, { onBytes: this.onBytes, inline: true, options: this.optionsFor(batch) });
      this.record(batch, result);
      result.flags.forEach((flags, position) => {
        if (!(flags & FILE_CACHED)) inlineBytes += result.sizes[position];
      });
      if (inlineBytes > INLINE_TOTAL_BYTES && poolAvailable() && !this.threaded) this.startThreads();
    }
    // Deferred files add promises while earlier ones settle.
    for (let settled = 0; settled < this.pending.length; settled = this.pending.length) {
      await Promise.all(this.pending.slice(settled));
    }
  }

  /**
   * The bytes the held files will need reading: none for those the stat cache has a record of (if a record
   * turns out stale, finish() starts the threads after all), a stat each for the few others, which costs
   * nothing next to starting threads.
   */
  heldBytes() {
    let bytes = 0;
    for (const batch of this.held) {
      batch.paths.forEach((relative, position) => {
        if (batch.records[position] < 0) bytes += fs.statSync(`${this.root}/${relative}`, { throwIfNoEntry: false })?.size ?? 0;
      });
    }
    return bytes;
  }
}

function newBatch() {
  return { indices: [], paths: [], records: [], anyRecord: false, cost: 0 };
}
