// Directory → tree/v1: walk, hash every file on the pool, let the core validate, sort and digest.
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import * as core from './core-node.mjs';
import { BATCH_BYTES, BATCH_FILES, INLINE_TOTAL_BYTES, hashFiles, hashOnPool, poolAvailable, throwFirstError } from './hash-pool.mjs';
import { phaseReporter } from './progress.mjs';
import { TreeWalk, walkTree } from './walk.mjs';

/** Entries listed between two looks at the hashing threads' answers. */
const WALK_STEP = 2048;
/** Hashing cost of opening one file, in bytes, when deciding whether threads are worth starting. */
const FILE_COST_BYTES = 8192;
const KIND_FILE = 0;
const KIND_EXECUTABLE = 1;
const KIND_SYMLINK = 2;
const STAT_FIELDS = 5;

/**
 * The tree digest of a directory, for identity: walked and hashed at once (batches go to the hashing threads
 * while the walk goes on), with the files the stat cache vouches for not read at all, and one call into the
 * core with compact entries. Memory per file: its path, 41 bytes of stat and 32 of digest.
 * @param {string} root absolute path of the directory
 * @param {{followLinks?: boolean, statCache?: ReturnType<import('./stat-cache.mjs').openStatCache>,
 *   statTime: bigint, onBytes?: (bytes: number) => void}} options
 * @returns {Promise<string>} the tree digest
 */
export async function digestTree(root, { followLinks = false, statCache, statTime, onBytes }) {
  const entries = new CompactEntries();
  const batches = new BatchPlanner(root, entries, onBytes);
  let cacheHits = 0;
  const sink = {
    file(relative, stat) {
      const index = entries.add(relative, (Number(stat.mode) & 0o111) !== 0 ? KIND_EXECUTABLE : KIND_FILE, stat);
      const cached = statCache ? statCache.lookup(relative, stat) : -1;
      if (cached >= 0) {
        entries.digests.set(statCache.digest(cached), index * 32);
        entries.sizes[index] = Number(stat.size);
        cacheHits += 1;
      } else {
        batches.add(index, Number(stat.size));
      }
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
    if (batches.threaded) await yieldToEvents();
  }
  await batches.finish();
  const digest = core.treeDigestCompact(
    entries.paths.join('\0'),
    entries.kinds.subarray(0, entries.count),
    entries.sizes.subarray(0, entries.count),
    entries.digests.subarray(0, entries.count * 32),
    entries.targets.join('\0'),
  );
  // Nothing hashed and every record used: the stored cache is already this tree's.
  if (statCache && !(batches.files === 0 && cacheHits === statCache.records())) statCache.save({ ...entries.forCache(), statTime });
  return digest;
}

/** Entries as parallel arrays (what core.treeDigestCompact takes), grown by doubling. */
class CompactEntries {
  constructor() {
    this.count = 0;
    this.paths = [];
    this.targets = [];
    this.kinds = new Uint8Array(1024);
    this.sizes = new Float64Array(1024);
    this.digests = new Uint8Array(1024 * 32);
    this.stats = new BigInt64Array(1024 * STAT_FIELDS);
  }

  add(relative, kind, stat) {
    const index = this.count++;
    if (index === this.kinds.length) this.grow();
    this.paths.push(relative);
    this.kinds[index] = kind;
    if (stat) {
      const at = index * STAT_FIELDS;
      this.stats[at] = stat.dev;
      this.stats[at + 1] = stat.ino;
      this.stats[at + 2] = stat.size;
      this.stats[at + 3] = stat.mtimeNs;
      this.stats[at + 4] = stat.ctimeNs;
    }
    return index;
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

  /** The files, for the stat cache: a file whose hashed size is not its stat size is left unrecorded. */
  forCache() {
    const paths = [];
    const stats = new BigInt64Array(this.count * STAT_FIELDS);
    const digests = new Uint8Array(this.count * 32);
    let count = 0;
    for (let index = 0; index < this.count; index++) {
      const at = index * STAT_FIELDS;
      if (this.kinds[index] === KIND_SYMLINK || Number(this.stats[at + 2]) !== this.sizes[index]) continue;
      paths.push(this.paths[index]);
      stats.set(this.stats.subarray(at, at + STAT_FIELDS), count * STAT_FIELDS);
      digests.set(this.digests.subarray(index * 32, index * 32 + 32), count * 32);
      count += 1;
    }
    return { paths, stats, digests, count };
  }
}

/**
 * Files to hash, grouped into messages: a big file alone and ahead of the rest, small ones together. Batches
 * wait on this thread until the work is worth starting threads for; if it never is, they are hashed here.
 */
class BatchPlanner {
  constructor(root, entries, onBytes) {
    this.root = root;
    this.entries = entries;
    this.onBytes = onBytes;
    this.files = 0;
    this.cost = 0;
    this.threaded = false;
    this.held = [];
    this.pending = [];
    this.current = { indices: [], bytes: 0 };
  }

  add(index, size) {
    this.files += 1;
    this.cost += size + FILE_COST_BYTES;
    if (size >= BATCH_BYTES) {
      this.submit({ indices: [index], bytes: size }, true);
    } else {
      const batch = this.current;
      batch.indices.push(index);
      batch.bytes += size;
      if (batch.bytes >= BATCH_BYTES || batch.indices.length >= BATCH_FILES) {
        this.submit(batch, false);
        this.current = { indices: [], bytes: 0 };
      }
    }
    if (!this.threaded && this.cost > INLINE_TOTAL_BYTES && poolAvailable()) {
      this.threaded = true;
      for (const [batch, priority] of this.held.splice(0)) this.submit(batch, priority);
    }
  }

  submit(batch, priority) {
    if (!this.threaded) {
      this.held.push([batch, priority]);
      return;
    }
    const paths = batch.indices.map((index) => this.entries.paths[index]);
    const done = hashOnPool(this.root, paths, { onBytes: this.onBytes, priority }).then((result) => this.record(batch, result));
    // Awaited in finish(); until then a failure must not count as unhandled.
    done.catch(() => {});
    this.pending.push(done);
  }

  record({ indices }, result) {
    throwFirstError(result, (position) => `${this.root}/${this.entries.paths[indices[position]]}`);
    indices.forEach((index, position) => {
      this.entries.digests.set(result.digests.subarray(position * 32, position * 32 + 32), index * 32);
      this.entries.sizes[index] = result.sizes[position];
    });
  }

  async finish() {
    if (this.current.indices.length > 0) this.submit(this.current, false);
    for (const [batch] of this.held.splice(0)) {
      const paths = batch.indices.map((index) => this.entries.paths[index]);
      this.record(batch, await hashOnPool(this.root, paths, { onBytes: this.onBytes, inline: true }));
    }
    await Promise.all(this.pending);
  }
}

/**
 * Hash the files among walked entries, in one pool run, adding `digest` to each and setting `size` to the
 * bytes actually hashed.
 * @param {import('./walk.mjs').WalkedEntry[]} entries
 * @param {{onBytes?: (bytes: number) => void}} [options]
 */
export async function hashWalkedFiles(entries, { onBytes } = {}) {
  const files = entries.filter((entry) => entry.type === 'file');
  const results = await hashFiles(files, { onBytes });
  files.forEach((file, index) => {
    file.digest = results[index].digest;
    file.size = results[index].size;
  });
}

/**
 * The core's view of hashed entries: validated (paths, collisions, links inside the tree), NFC, sorted.
 * @returns {{digest: string, entries: object[], sources: Map<string, string | Uint8Array>}}
 *   `sources` maps each file's normalised tree path to the absolute path to read it from.
 */
export function treeOf(hashedEntries) {
  const { digest, entries } = core.treeDigest(hashedEntries.map(toTreeEntryInput));
  const sources = new Map();
  for (const entry of hashedEntries) {
    if (entry.type === 'file') sources.set(entry.path.normalize('NFC'), entry.source);
  }
  return { digest, entries, sources };
}

/** Walk, hash and digest one directory, reporting progress as phase "hash". */
export async function hashTree(dir, { followLinks = false, onProgress } = {}) {
  const walked = walkTree(dir, { followLinks });
  await hashWalkedFiles(walked, { onBytes: phaseReporter(onProgress, 'hash', fileBytes(walked)) });
  return treeOf(walked);
}

/** Sum of file sizes, for progress totals. */
export function fileBytes(entries) {
  return entries.reduce((sum, entry) => sum + (entry.type === 'file' ? entry.size : 0), 0);
}

function toTreeEntryInput(entry) {
  return entry.type === 'file'
    ? { path: entry.path, type: 'file', size: entry.size, digest: entry.digest, executable: entry.executable }
    : { path: entry.path, type: 'symlink', target: entry.target };
}
