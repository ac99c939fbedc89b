// Verify pack layers while they download, off the main thread: a lazily created pool of worker threads
// (verify-worker.mjs), each running the layer verifiers of pack-stream.mjs for the layers assigned to it.
// Each layer's bytes go to its worker through a ring buffer both threads share: the main thread copies chunks
// in and says how far it wrote, the worker reads them from there and says how far it read. No buffer changes
// hands, so neither thread's collector sees a MiB of new memory per MiB downloaded (a pull moving buffers back
// and forth ran forty full collections on the main thread). Memory stays bounded: write() returns a Promise
// (which the wasm RegistryClient awaits, backpressuring the HTTP body) while the ring is full.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { CtxpackError } from './errors.mjs';

/** Bytes of one layer's ring: what its worker may be behind by. A download feeding it holds up to 4 MiB more (stores/blob-stream.mjs). */
const RING_BYTES = 4 * 1024 * 1024;
/** The worker is told about new bytes once this many have gathered (fewer messages), or when the writer waits. */
const NOTIFY_BYTES = 1024 * 1024;
/** Rings of verifiers that finished, kept for the next layers (a pull opens one per layer). */
const SPARE_RINGS = 4;

let pool;

/**
 * Start verifying one layer of a pack (or a whole pack, without `manifest` and `layer`) in a worker thread.
 * write() copies each chunk: the caller may reuse it once write() returns.
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
    /** Rings of finished verifiers, ready for reuse. */
    this.spare = [];
  }

  open(options, bytes) {
    const worker = this.pick();
    const ring = this.spare.pop() ?? new SharedArrayBuffer(RING_BYTES);
    const verifier = new LayerVerifier(worker, this.nextId++, ring, this.spare);
    worker.verifiers.set(verifier.id, verifier);
    verifier.bytes = bytes;
    worker.bytes += bytes;
    if (worker.verifiers.size === 1) worker.ref();
    worker.postMessage({ type: 'open', id: verifier.id, options, ring });
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
  constructor(worker, id, ring, spare) {
    this.worker = worker;
    this.id = id;
    this.ring = new Uint8Array(ring);
    this.spare = spare;
    /** Running totals: bytes copied into the ring, read back by the worker, and told to it. */
    this.written = 0;
    this.read = 0;
    this.told = 0;
    this.room = null;
    this.outcome = null;
    this.settle = null;
  }

  /** @param {Uint8Array} chunk @returns {void | Promise<void>} a Promise while the ring is too full to take it all */
  write(chunk) {
    let offset = 0;
    while (!this.outcome && offset < chunk.byteLength) {
      const free = RING_BYTES - (this.written - this.read);
      if (free === 0) return this.waitForRoom().then(() => this.write(chunk.subarray(offset)));
      const at = this.written % RING_BYTES;
      const take = Math.min(free, RING_BYTES - at, chunk.byteLength - offset);
      this.ring.set(chunk.subarray(offset, offset + take), at);
      this.written += take;
      offset += take;
    }
    if (this.written - this.told >= NOTIFY_BYTES) this.tell();
    return undefined;
  }

  /** @returns {Promise<{uri: string, files: number, bytes: number, compressedBytes: number}>} */
  finish() {
    if (!this.outcome) {
      this.tell();
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

  /** Tell the worker how far the ring is written. */
  tell() {
    if (this.told === this.written) return;
    this.told = this.written;
    this.worker.postMessage({ type: 'chunk', id: this.id, end: this.written });
  }

  waitForRoom() {
    this.tell();
    this.room ??= deferred();
    return this.room.promise;
  }

  receive(message) {
    if (message.read !== undefined) {
      this.read = message.read;
      this.release();
    } else if (message.error) {
      this.fail(workerError(message.error));
    } else {
      this.outcome = { result: message.result };
      this.worker.release(this.id);
      // The worker is done with the ring: a later layer may have it.
      if (this.spare.length < SPARE_RINGS) this.spare.push(this.ring.buffer);
      if (this.settle) this.deliver();
    }
  }

  fail(error) {
    this.outcome = { error };
    this.worker.release(this.id);
    this.release();
    if (this.settle) this.deliver();
  }

  release() {
    this.room?.resolve();
    this.room = null;
  }

  deliver() {
    if (this.outcome.error) this.settle.reject(this.outcome.error);
    else this.settle.resolve(this.outcome.result);
  }
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
