// Whole layers of a pack on worker threads (layer-worker.mjs), one per core: a pack of more than 64 MiB is
// several independent layers (spec §7.3), so seed writes them, and verify and unpack read them, side by side.
// Each layer is the same code as on the main thread, so the bytes written and the checks made are the same.
// `run` waits on the event loop (seed); `runSync` blocks the calling thread (verify and unpack, whose API is
// synchronous), receiving the workers' messages with receiveMessageOnPort and sleeping in Atomics.wait.
// Memory stays bounded and no array is made per chunk: one layer per worker, and a worker's output goes through
// a ring of shared memory (RING_BYTES), the worker waiting while the ring is full.
import os from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { coreModule } from './core-node.mjs';
import { CtxpackError } from './errors.mjs';

/** Per worker: the ring (shared memory) its output goes through; the worker waits while it is full. */
const RING_BYTES = 4 * 1024 * 1024;
/** Slot 0 of the shared array: bumped by a worker after each message, so a blocked main thread wakes up. */
const SIGNAL = 0;

/**
 * @typedef {object} LayerJob
 * @property {'pack' | 'read'} kind  what layer-worker.mjs does
 * @property {object} args           structured-cloned to the worker
 * @property {number} [weight]       bytes of work: heavier jobs start first, so the cores finish together
 */

/**
 * @typedef {object} LayerHandlers
 * @property {(index: number, bytes: Uint8Array) => void} [onOutput] output of job `index`, in order: a view of
 *   shared memory, valid until onOutput returns
 * @property {(bytes: number) => void} [onBytes] progress of any job
 */

/**
 * Run the jobs on worker threads; results in job order. When jobs fail, the first failing job's error (in job
 * order, among those that ran) is thrown, after the running ones end; no new job starts after a failure.
 * @param {LayerJob[]} jobs
 * @param {LayerHandlers} handlers
 * @returns {Promise<object[]>}
 */
export function run(jobs, handlers = {}) {
  const pool = new LayerPool(jobs, handlers);
  return new Promise((resolve, reject) => {
    pool.onDone = () => (pool.failure() ? reject(pool.failure()) : resolve(pool.results));
    for (const worker of pool.workers) {
      worker.port.on('message', (message) => pool.handle(worker, message));
      worker.thread.on('error', (error) => pool.lost(worker, error.message));
      worker.thread.on('exit', (code) => pool.lost(worker, `exited with code ${code}`));
    }
    pool.start();
  });
}

/** `run`, blocking this thread until every job ended. */
export function runSync(jobs, handlers = {}) {
  const pool = new LayerPool(jobs, handlers);
  let done = false;
  pool.onDone = () => void (done = true);
  pool.start();
  while (!done) {
    const seen = Atomics.load(pool.shared, SIGNAL);
    let received = false;
    for (const worker of pool.workers) {
      for (let message = receiveMessageOnPort(worker.port); message !== undefined; message = receiveMessageOnPort(worker.port)) {
        received = true;
        pool.handle(worker, message.message);
      }
    }
    if (!received && !done) Atomics.wait(pool.shared, SIGNAL, seen, 1000);
  }
  if (pool.failure()) throw pool.failure();
  return pool.results;
}

/** How many workers `run` starts for this many jobs. */
export function workersFor(jobs) {
  return Math.max(1, Math.min(os.availableParallelism(), jobs));
}

class LayerPool {
  constructor(jobs, handlers) {
    this.jobs = jobs;
    this.handlers = handlers;
    this.results = new Array(jobs.length);
    this.errors = new Array(jobs.length);
    this.queue = jobs.map((_, index) => index).sort((a, b) => (jobs[b].weight ?? 0) - (jobs[a].weight ?? 0));
    this.running = 0;
    this.failed = false;
    this.finished = false;
    this.onDone = () => {};
    const count = workersFor(jobs.length);
    this.shared = new Int32Array(new SharedArrayBuffer(4 * (1 + count)));
    this.workers = Array.from({ length: count }, (_, position) => {
      const { port1, port2 } = new MessageChannel();
      // The ring's pages are touched only as output passes through it: nothing for a reading job.
      const ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
      const thread = new Worker(new URL('./layer-worker.mjs', import.meta.url), {
        workerData: { port: port2, shared: this.shared, slot: 1 + position, ring, coreModule },
        transferList: [port2],
      });
      return { thread, port: port1, slot: 1 + position, ring, job: undefined };
    });
  }

  start() {
    if (this.jobs.length === 0) this.end();
    for (const worker of this.workers) this.dispatch(worker);
  }

  dispatch(worker) {
    if (this.failed || this.queue.length === 0) return;
    const index = this.queue.shift();
    worker.job = index;
    this.running += 1;
    worker.port.postMessage({ index, kind: this.jobs[index].kind, args: this.jobs[index].args });
  }

  handle(worker, message) {
    if (message.offset !== undefined) {
      try {
        this.handlers.onOutput?.(message.index, worker.ring.subarray(message.offset, message.offset + message.length));
      } catch (error) {
        this.fail(message.index, error);
      } finally {
        Atomics.sub(this.shared, worker.slot, message.length);
        Atomics.notify(this.shared, worker.slot);
      }
    } else if (message.progress !== undefined) {
      try {
        this.handlers.onBytes?.(message.progress);
      } catch (error) {
        this.fail(message.index, error);
      }
    } else {
      if (message.error) {
        this.fail(message.index, workerError(message.error));
      } else {
        this.results[message.index] = message.result;
      }
      worker.job = undefined;
      this.running -= 1;
      this.dispatch(worker);
      if (this.running === 0) this.end();
    }
  }

  /** A job failed (in its worker, or here while taking its output): no new job starts. */
  fail(index, error) {
    this.errors[index] ??= error;
    this.failed = true;
  }

  /** A worker that died fails its job (seed only: a blocked thread cannot observe it). */
  lost(worker, why) {
    if (this.finished || worker.job === undefined) return;
    this.handle(worker, { index: worker.job, error: { code: 'CTX_INTERNAL', message: `a layer worker thread failed: ${why}` } });
  }

  end() {
    if (this.finished) return;
    this.finished = true;
    for (const worker of this.workers) {
      worker.port.close();
      worker.thread.terminate();
    }
    this.onDone();
  }

  failure() {
    return this.errors.find((error) => error !== undefined);
  }
}

/** Rebuild a worker's error as the CtxpackError it was (code, hint and subject intact). */
function workerError({ code, message, hint, subject }) {
  return new CtxpackError(code ?? 'CTX_INTERNAL', message, { hint, subject });
}
