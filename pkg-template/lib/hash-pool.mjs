// SHA-256 of many files on every core: a lazily created pool of worker threads, fed batches of files (one
// message per batch, answers as typed arrays). Digests are identical to the core's (both are plain SHA-256).
import os from 'node:os';
import { CtxpackError } from './errors.mjs';
import { hashBatch, hashDescriptor, READ_CHUNK_BYTES } from './hash-file.mjs';

/** Below this many bytes in total, starting threads costs more than it saves: hash on this thread. */
export const INLINE_TOTAL_BYTES = 16 * 1024 * 1024;
/** Files at least this big get a message of their own; smaller ones share a batch up to this many bytes or files. */
const BATCH_BYTES = 4 * 1024 * 1024;
export const BATCH_FILES = 512;
/** Batches posted ahead to each worker, so a worker never waits for the main thread between two batches. */
const WORKER_DEPTH = 2;

let pool;
let inlineBuffer;

/** True when a pool of threads can help at all. */
export function poolAvailable() {
  return os.availableParallelism() >= 2;
}

/** The pool, made on first use: worker_threads costs 14 ms of start-up that `id` of a file does not need. */
function threads() {
  pool ??= import('node:worker_threads').then(({ Worker }) => new HashPool(os.availableParallelism(), Worker));
  return pool;
}

/**
 * End the hashing threads that have no work: each holds a V8 heap of its own, which a command that goes on to
 * other threads (seed's layer writers) should not keep. Threads start again on the next batch.
 */
export async function releaseIdleHashThreads() {
  (await pool)?.releaseIdle();
}

/**
 * Hash one batch (hash-file.mjs `hashBatch`): `root` joined to each of `paths` ('' when the paths are absolute),
 * on the pool, or on this thread with `inline`. `priority` batches (single big files) go before those waiting.
 * @param {{onBytes?: (bytes: number) => void, priority?: boolean, inline?: boolean,
 *   options?: import('./hash-file.mjs').BatchOptions}} [how]
 * @returns {Promise<import('./hash-file.mjs').BatchResult>}
 */
export function hashOnPool(root, paths, { onBytes, priority = false, inline = false, options } = {}) {
  if (inline || !poolAvailable()) {
    inlineBuffer ??= Buffer.allocUnsafe(READ_CHUNK_BYTES);
    return Promise.resolve(hashBatch(root, paths, inlineBuffer, onBytes, options));
  }
  return threads().then((hashPool) => hashPool.submit({ root, paths, options }, onBytes, priority));
}

/**
 * The digest of a file open for reading, from its descriptor's offset to its end, on a hashing thread (or on this
 * one with `inline`). The descriptor must stay open, and its offset unmoved, until the Promise settles.
 * @param {number} fd
 * @param {{inline?: boolean, subject?: string}} [how] subject: the file, for an error
 * @returns {Promise<{digest: string, size: number}>}
 */
export async function hashOpenFile(fd, { inline = false, subject = `file descriptor ${fd}` } = {}) {
  let batch;
  if (inline || !poolAvailable()) {
    inlineBuffer ??= Buffer.allocUnsafe(READ_CHUNK_BYTES);
    batch = hashDescriptor(fd, inlineBuffer);
  } else {
    batch = await threads().then((hashPool) => hashPool.submit({ fd }, undefined, true));
  }
  throwFirstError(batch, () => subject);
  return { digest: digestText(batch.digests, 0), size: batch.sizes[0] };
}

/**
 * Hash files, returning `{digest, size}` for each, in the order given. `size` is the number of bytes read,
 * which differs from the listed size only when a file changed after it was listed.
 * @param {Array<{source: string | Uint8Array, size: number}>} files
 * @param {{onBytes?: (bytes: number) => void}} [options]
 * @returns {Promise<Array<{digest: string, size: number}>>}
 */
export async function hashFiles(files, { onBytes } = {}) {
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  const inline = totalBytes <= INLINE_TOTAL_BYTES;
  const results = new Array(files.length);
  await Promise.all(
    planBatches(files).map(async (indices) => {
      const batch = await hashOnPool('', indices.map((index) => files[index].source), { onBytes, inline });
      throwFirstError(batch, (position) => files[indices[position]].source);
      indices.forEach((index, position) => {
        results[index] = { digest: digestText(batch.digests, position), size: batch.sizes[position] };
      });
    }),
  );
  return results;
}

/** `sha256:<hex>` of the digest at `position` of a batch's digests. */
export function digestText(digests, position) {
  return `sha256:${Buffer.from(digests.buffer, digests.byteOffset + position * 32, 32).toString('hex')}`;
}

/** A batch's first failure as CTX_IO naming the file (`sourceOf(position)`, a path as text or bytes). */
export function throwFirstError(batch, sourceOf) {
  const [failure] = batch.errors;
  if (!failure) return;
  const source = sourceOf(failure.index);
  const subject = typeof source === 'string' ? source : new TextDecoder().decode(source);
  if (failure.unsupported) {
    throw new CtxpackError('CTX_UNSUPPORTED_ENTRY_TYPE', `${subject}: ${failure.message}; packs hold only files and symlinks`, { subject });
  }
  throw new CtxpackError('CTX_IO', `cannot read ${subject} to hash it: ${failure.code ?? failure.message}`, { subject });
}

/** Group file indices into messages: biggest files first so the long ones start early. */
function planBatches(files) {
  const order = files.map((_, index) => index).sort((a, b) => files[b].size - files[a].size);
  const batches = [];
  let batch = [];
  let batchBytes = 0;
  for (const index of order) {
    const { size } = files[index];
    if (size >= BATCH_BYTES) {
      batches.push([index]);
      continue;
    }
    batch.push(index);
    batchBytes += size;
    if (batchBytes >= BATCH_BYTES || batch.length >= BATCH_FILES) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Worker threads, each holding up to WORKER_DEPTH batches. Idle workers are unref'd so they never keep a
 * process alive; a worker is ref'd only while it has work, which keeps the process alive until results arrive.
 */
class HashPool {
  constructor(size, Worker) {
    this.size = size;
    this.Worker = Worker;
    this.workers = [];
    this.queue = [];
  }

  submit(message, onBytes, priority) {
    return new Promise((resolve, reject) => {
      const task = { message, onBytes, resolve, reject };
      if (priority) this.queue.unshift(task);
      else this.queue.push(task);
      this.dispatch();
    });
  }

  dispatch() {
    while (this.queue.length > 0) {
      const worker = this.leastBusy();
      if (!worker) return;
      const task = this.queue.shift();
      worker.tasks.push(task);
      worker.ref();
      worker.postMessage(task.message);
    }
  }

  /** An idle worker, else a new one while there is room, else the least busy below the depth. */
  leastBusy() {
    const idle = this.workers.find((worker) => worker.tasks.length === 0);
    if (idle) return idle;
    if (this.workers.length < this.size) return this.spawn();
    const open = this.workers.filter((worker) => worker.tasks.length < WORKER_DEPTH);
    return open.sort((a, b) => a.tasks.length - b.tasks.length)[0];
  }

  spawn() {
    // A hashing thread allocates little on its heap (its buffers are off it): a small young generation keeps
    // each thread's memory small.
    const worker = new this.Worker(new URL('./hash-worker.mjs', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    worker.tasks = [];
    worker.on('message', (message) => {
      if (message.progress !== undefined) {
        worker.tasks[0]?.onBytes?.(message.progress);
        return;
      }
      const task = worker.tasks.shift();
      if (worker.tasks.length === 0) worker.unref();
      task.resolve(message.result);
      this.dispatch();
    });
    worker.on('error', (error) => this.retire(worker, error));
    worker.on('exit', (code) => this.retire(worker, new Error(`hash worker exited with code ${code}`)));
    this.workers.push(worker);
    return worker;
  }

  releaseIdle() {
    for (const worker of this.workers.filter((candidate) => candidate.tasks.length === 0)) {
      this.workers = this.workers.filter((other) => other !== worker);
      worker.removeAllListeners('exit');
      void worker.terminate();
    }
  }

  /** Drop a worker that died; fail its batches, and let the others (or a fresh worker) carry on. */
  retire(worker, error) {
    this.workers = this.workers.filter((other) => other !== worker);
    for (const task of worker.tasks.splice(0)) task.reject(error);
    this.dispatch();
  }
}
