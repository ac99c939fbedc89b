// Verify pack layers while they download, off the main thread: a lazily created pool of worker threads
// (verify-worker.mjs), each running the layer verifiers of pack-stream.mjs for the layers assigned to it.
// Memory stays bounded: the worker acknowledges the bytes it has processed, and write() returns a Promise
// (which the wasm RegistryClient awaits, backpressuring the HTTP body) while too many are unacknowledged.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { CtxpackError } from './errors.mjs';

/** Small chunks are gathered into messages of this size: fewer messages, and one copy of each byte. */
const BATCH_BYTES = 1024 * 1024;
/**
 * Per layer: write() holds the writer back above this many unacknowledged bytes, until they fall below LOW. A
 * download feeding it holds up to as much again (stores/blob-stream.mjs), 8 MiB per layer in all.
 */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const LOW_WATER_BYTES = 1024 * 1024;
/**
 * Batches come back from the worker once read and are reused, up to this many kept spare: a pull then allocates
 * a few MiB of batches instead of one per MiB downloaded, which the collector would free only tens of MiB later.
 */
const SPARE_BATCHES = 16;

let pool;

/**
 * Start verifying one layer of a pack (or a whole pack, without `manifest` and `layer`) in a worker thread.
 * Chunks passed to write() may be transferred to the worker: the caller must not use them afterwards.
 * Failures are reported by finish(), so a blob digest mismatch the downloader detects still comes first.
 * @param {{manifest?: Uint8Array, layer?: number, expectUri?: string, limits?: object}} options
 * @param {{bytes?: number}} [how] bytes: the layer's size, which the pool balances its workers by
 * @returns {LayerVerifier}
 */
export function openLayerVerifier(options, { bytes = 0 } = {}) {
  pool ??= new VerifyPool(os.availableParallelism());
  return pool.open(options, bytes);
}

/**
 * Worker threads, each ref'd only while it has verifiers open, so an idle pool never keeps a process alive.
 * A new layer goes to the worker with the fewest bytes of open layers (then the fewest layers), so a big layer
 * has a thread to itself while the small ones share the others; a worker is started only when all are busy.
 */
class VerifyPool {
  constructor(size) {
    this.size = size;
    this.workers = [];
    this.nextId = 1;
    /** Batches the workers gave back, ready for reuse. */
    this.spare = [];
  }

  open(options, bytes) {
    const worker = this.pick();
    const verifier = new LayerVerifier(worker, this.nextId++, this.spare);
    worker.verifiers.set(verifier.id, verifier);
    verifier.bytes = bytes;
    worker.bytes += bytes;
    if (worker.verifiers.size === 1) worker.ref();
    worker.postMessage({ type: 'open', id: verifier.id, options });
    return verifier;
  }

  pick() {
    const busier = (a, b) => a.bytes - b.bytes || a.verifiers.size - b.verifiers.size;
    const leastBusy = this.workers.reduce((best, worker) => (best && busier(best, worker) <= 0 ? best : worker), undefined);
    if (leastBusy && (leastBusy.verifiers.size === 0 || this.workers.length >= this.size)) return leastBusy;
    return this.spawn();
  }

  spawn() {
    const worker = new Worker(new URL('./verify-worker.mjs', import.meta.url));
    worker.verifiers = new Map();
    worker.bytes = 0;
    worker.on('message', (message) => worker.verifiers.get(message.id)?.receive(message));
    worker.on('error', (error) => this.retire(worker, error.message));
    worker.on('exit', (code) => this.retire(worker, `exited with code ${code}`));
    worker.release = (id) => {
      worker.bytes -= worker.verifiers.get(id)?.bytes ?? 0;
      worker.verifiers.delete(id);
      if (worker.verifiers.size === 0) worker.unref();
    };
    this.workers.push(worker);
    return worker;
  }

  /** A worker that died fails the layers it was verifying; later layers go to the others or a fresh one. */
  retire(worker, why) {
    this.workers = this.workers.filter((other) => other !== worker);
    for (const verifier of worker.verifiers.values()) {
      verifier.fail(new CtxpackError('CTX_INVALID_STATE', `the layer verifier thread failed: ${why}`));
    }
  }
}

/** The main thread's side of one layer being verified in a worker. */
class LayerVerifier {
  constructor(worker, id, spare) {
    this.worker = worker;
    this.id = id;
    this.spare = spare;
    this.batch = null;
    this.batchLength = 0;
    this.unacknowledged = 0;
    this.drained = null;
    this.outcome = null;
    this.settle = null;
  }

  /** @param {Uint8Array} chunk @returns {void | Promise<void>} a Promise while the worker is behind */
  write(chunk) {
    if (this.outcome) return undefined;
    if (chunk.byteLength >= BATCH_BYTES) {
      this.flush();
      this.send(ownedCopy(chunk));
    } else {
      for (let offset = 0; offset < chunk.byteLength; ) {
        this.batch ??= this.spare.pop() ?? new Uint8Array(BATCH_BYTES);
        const take = Math.min(BATCH_BYTES - this.batchLength, chunk.byteLength - offset);
        this.batch.set(chunk.subarray(offset, offset + take), this.batchLength);
        this.batchLength += take;
        offset += take;
        if (this.batchLength === BATCH_BYTES) this.flush();
      }
    }
    if (this.unacknowledged <= HIGH_WATER_BYTES) return undefined;
    this.drained ??= deferred();
    return this.drained.promise;
  }

  /** @returns {Promise<{uri: string, files: number, bytes: number, compressedBytes: number}>} */
  finish() {
    if (!this.outcome) {
      this.flush();
      this.worker.postMessage({ type: 'finish', id: this.id });
    }
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      if (this.outcome) this.deliver();
    });
  }

  abort() {
    if (this.outcome) return;
    this.worker.postMessage({ type: 'abort', id: this.id });
    this.fail(new CtxpackError('CTX_INVALID_STATE', 'the layer verification was aborted'));
  }

  flush() {
    if (this.batchLength === 0) return;
    const { batch, batchLength } = this;
    this.batch = null;
    this.batchLength = 0;
    this.send(batch, batchLength);
  }

  /** Hand the first `length` bytes of `bytes` (which owns its buffer) to the worker, which gives it back. */
  send(bytes, length = bytes.byteLength) {
    this.unacknowledged += length;
    this.worker.postMessage({ type: 'chunk', id: this.id, bytes, length }, [bytes.buffer]);
  }

  receive(message) {
    if (message.ack !== undefined) {
      if (message.buffer?.byteLength === BATCH_BYTES && this.spare.length < SPARE_BATCHES) this.spare.push(new Uint8Array(message.buffer));
      this.unacknowledged -= message.ack;
      if (this.unacknowledged <= LOW_WATER_BYTES) this.release();
    } else if (message.error) {
      this.fail(workerError(message.error));
    } else {
      this.outcome = { result: message.result };
      this.worker.release(this.id);
      if (this.settle) this.deliver();
    }
  }

  fail(error) {
    this.outcome = { error };
    this.batch = null;
    this.batchLength = 0;
    this.worker.release(this.id);
    this.release();
    if (this.settle) this.deliver();
  }

  release() {
    this.drained?.resolve();
    this.drained = null;
  }

  deliver() {
    if (this.outcome.error) this.settle.reject(this.outcome.error);
    else this.settle.resolve(this.outcome.result);
  }
}

/** The chunk itself when it owns its whole (unshared) buffer, which can then be transferred; else a copy. */
function ownedCopy(chunk) {
  const ownsBuffer = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
  return ownsBuffer ? chunk : new Uint8Array(chunk);
}

function deferred() {
  let resolve;
  const promise = new Promise((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Rebuild a worker's error as the CtxpackError it was (code, hint and subject intact). */
function workerError({ code, message, hint, subject }) {
  return new CtxpackError(code ?? 'CTX_INVALID_STATE', message, { hint, subject });
}
