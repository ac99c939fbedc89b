// SHA-256 of many files on every core: a lazily created pool of worker threads, largest files first,
// small files batched per message. Digests are identical to the core's (both are plain SHA-256).
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { CtxpackError } from './errors.mjs';
import { hashFileSync, READ_CHUNK_BYTES } from './hash-file.mjs';
import { displayPath } from './walk.mjs';

/** Below this many bytes in total, starting threads costs more than it saves: hash on this thread. */
const INLINE_TOTAL_BYTES = 16 * 1024 * 1024;
/** Files at least this big get a message of their own; smaller ones share a batch up to this many bytes. */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_FILES = 256;

let pool;
let inlineBuffer;

/**
 * Hash files, returning `{digest, size}` for each, in the order given. `size` is the number of bytes read,
 * which differs from the listed size only when a file changed after it was listed.
 * @param {Array<{source: string | Uint8Array, size: number}>} files
 * @param {{onBytes?: (bytes: number) => void}} [options]
 * @returns {Promise<Array<{digest: string, size: number}>>}
 */
export async function hashFiles(files, { onBytes } = {}) {
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  if (totalBytes <= INLINE_TOTAL_BYTES || os.availableParallelism() < 2) {
    inlineBuffer ??= Buffer.allocUnsafe(READ_CHUNK_BYTES);
    return files.map((file) => {
      try {
        return hashFileSync(file.source, inlineBuffer, onBytes);
      } catch (error) {
        throw hashError(file, error);
      }
    });
  }
  pool ??= new HashPool(os.availableParallelism());
  const results = new Array(files.length);
  const batches = planBatches(files);
  await Promise.all(
    batches.map(async (indices) => {
      const batchResults = await pool.submit(
        indices.map((index) => files[index].source),
        onBytes,
      );
      batchResults.forEach((result, position) => {
        const index = indices[position];
        if (result.error) throw hashError(files[index], result.error);
        results[index] = result;
      });
    }),
  );
  return results;
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

function hashError(file, error) {
  const subject = displayPath(file.source);
  return new CtxpackError('CTX_IO', `cannot read ${subject} to hash it: ${error.code ?? error.message}`, { subject });
}

/**
 * Worker threads that each hash one batch at a time. Idle workers are unref'd so they never keep a process
 * alive; a worker is ref'd only while it has work, which keeps the process alive until results arrive.
 */
class HashPool {
  constructor(size) {
    this.size = size;
    this.workers = [];
    this.idle = [];
    this.queue = [];
  }

  submit(paths, onBytes) {
    return new Promise((resolve, reject) => {
      this.queue.push({ paths, onBytes, resolve, reject });
      this.dispatch();
    });
  }

  dispatch() {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? this.spawn();
      if (!worker) return;
      const task = this.queue.shift();
      worker.task = task;
      worker.ref();
      worker.postMessage({ paths: task.paths });
    }
  }

  spawn() {
    if (this.workers.length >= this.size) return undefined;
    const worker = new Worker(new URL('./hash-worker.mjs', import.meta.url));
    worker.on('message', (message) => {
      if (message.progress !== undefined) {
        worker.task.onBytes?.(message.progress);
        return;
      }
      const { resolve } = worker.task;
      worker.task = undefined;
      worker.unref();
      this.idle.push(worker);
      resolve(message.results);
      this.dispatch();
    });
    worker.on('error', (error) => this.retire(worker, error));
    worker.on('exit', (code) => this.retire(worker, new Error(`hash worker exited with code ${code}`)));
    this.workers.push(worker);
    return worker;
  }

  /** Drop a worker that died; fail its batch, and let the others (or a fresh worker) carry on. */
  retire(worker, error) {
    this.workers = this.workers.filter((other) => other !== worker);
    this.idle = this.idle.filter((other) => other !== worker);
    worker.task?.reject(error);
    worker.task = undefined;
    this.dispatch();
  }
}
