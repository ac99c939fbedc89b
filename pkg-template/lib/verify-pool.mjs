// Verify pack layers while they download, off the main thread: a lazily created pool of worker threads
// (verify-worker.mjs), each running the layer verifiers of pack-stream.mjs for the layers assigned to it.
// Each layer's bytes go to its worker through a ring buffer both threads share: the main thread gathers chunks
// into a 1 MiB batch, copies it into the ring and says how far it wrote; the worker reads from there and says
// how far it read. No buffer changes threads, so neither thread's collector sees a MiB of new memory per MiB
// downloaded (a pull moving 1 MiB buffers back and forth ran forty full collections on the main thread). Memory
// stays bounded: write() returns a Promise (which the wasm RegistryClient awaits, backpressuring the HTTP body)
// while the ring is full.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { coreModule } from './core-node.mjs';
import { CtxpackError } from './errors.mjs';

/**
 * Bytes of one layer's ring: what its worker may be behind by. A download feeding it holds up to 2 MiB more
 * (stores/blob-stream.mjs). 4 MiB rings (and 4 MiB downloads ahead) were no faster on the bench pull and cost
 * up to 16 MiB more for its four layers in flight.
 */
const RING_BYTES = 2 * 1024 * 1024;
/** Small chunks are gathered into batches of this size before they go into the ring: fewer messages. */
const BATCH_BYTES = 1024 * 1024;
/** Chunks at least this big skip the batch (one message to the worker per copy). */
const DIRECT_MIN_BYTES = 64 * 1024;
/** Rings and batches of verifiers that finished, kept for the next layers (a pull opens one per layer). */
const SPARE_BUFFERS = 4;
/**
 * What verifying a layer costs, in units of hashing one byte (node:crypto SHA-256), as measured on the bench
 * pack's layers: each byte of the layer is hashed, each byte of its files hashed and CRC'd, and each byte that
 * deflate saved went through Huffman decoding, about nine times the cost of hashing it. Per file byte, a stored
 * (incompressible) layer costs about 2.6 units, a layer of text deflated to 45 % about 7.
 */
const WORK_PER_FILE_BYTE = 1.6;
const WORK_PER_SAVED_BYTE = 9;

let pool;

/**
 * Start verifying one layer of a pack (or a whole pack, without `manifest` and `layer`) in a worker thread.
 * write() copies each chunk: the caller may reuse it once write() returns.
 * Failures are reported by finish(), so a blob digest mismatch the downloader detects still comes first.
 * With `blob` (the layer's descriptor) the worker also hashes the bytes, and finish() fails with
 * CTX_DIGEST_MISMATCH, before any other failure, unless they are that blob; its result then has their `digest`.
 * @param {{manifest?: Uint8Array, layer?: number, expectUri?: string, limits?: object, blob?: {digest: string, size: number}}} options
 * @param {{bytes?: number, fileBytes?: number}} [how] bytes: the layer's size; fileBytes: the size of its files
 *   (inflated); the pool balances its workers by the work they make
 * @returns {LayerVerifier}
 */
export function openLayerVerifier(options, { bytes = 0, fileBytes = bytes } = {}) {
  const work = bytes + WORK_PER_FILE_BYTE * fileBytes + WORK_PER_SAVED_BYTE * Math.max(0, fileBytes - bytes);
  return verifyPool().open(options, bytes, work);
}

/**
 * Start up to `count` verifying threads now, before the first layer is opened: a copy that knows a pack's layers
 * are coming lets the threads start (~40 ms each) while it fetches and checks the pack's manifest.json.
 * @param {number} count
 */
export function startLayerVerifiers(count) {
  verifyPool().start(count);
}

/** The process's pool, one thread per core at most, made on first use. */
function verifyPool() {
  pool ??= new VerifyPool(os.availableParallelism());
  return pool;
}

/**
 * Worker threads, each ref'd only while it has verifiers open, so an idle pool never keeps a process alive.
 * A new layer goes to the worker with the least work left in its open layers (then the fewest layers): a big
 * layer has a thread to itself while the small ones share the others, and once it is mostly read, its thread
 * takes small ones too. A worker is started only when all are busy.
 */
class VerifyPool {
  constructor(size) {
    this.size = size;
    this.workers = [];
    this.nextId = 1;
    /** Rings and batches of finished verifiers, ready for reuse. */
    this.spare = [];
  }

  open(options, bytes, work) {
    const worker = this.pick();
    const buffers = this.spare.pop() ?? { ring: new SharedArrayBuffer(RING_BYTES), batch: new Uint8Array(BATCH_BYTES) };
    const verifier = new LayerVerifier(worker, this.nextId++, buffers, this.spare);
    worker.verifiers.set(verifier.id, verifier);
    verifier.bytes = bytes;
    verifier.work = work;
    if (worker.verifiers.size === 1) worker.ref();
    worker.postMessage({ type: 'open', id: verifier.id, options, ring: buffers.ring });
    return verifier;
  }

  start(count) {
    while (this.workers.length < Math.min(count, this.size)) this.spawn().unref();
  }

  pick() {
    const workLeft = (worker) => {
      let left = 0;
      for (const verifier of worker.verifiers.values()) left += verifier.work * Math.max(0, 1 - verifier.read / (verifier.bytes || 1));
      return left;
    };
    const busier = (a, b) => workLeft(a) - workLeft(b) || a.verifiers.size - b.verifiers.size;
    const leastBusy = this.workers.reduce((best, worker) => (best && busier(best, worker) <= 0 ? best : worker), undefined);
    if (leastBusy && (leastBusy.verifiers.size === 0 || this.workers.length >= this.size)) return leastBusy;
    return this.spawn();
  }

  spawn() {
    const worker = new Worker(new URL('./verify-worker.mjs', import.meta.url), { workerData: { coreModule } });
    worker.verifiers = new Map();
    worker.on('message', (message) => worker.verifiers.get(message.id)?.receive(message));
    worker.on('error', (error) => this.retire(worker, error.message));
    worker.on('exit', (code) => this.retire(worker, `exited with code ${code}`));
    worker.release = (id) => {
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
  constructor(worker, id, { ring, batch }, spare) {
    this.worker = worker;
    this.id = id;
    this.ring = new Uint8Array(ring);
    this.batch = batch;
    this.spare = spare;
    /** Bytes gathered in `batch`, not yet in the ring. */
    this.staged = 0;
    /** Running totals: bytes copied into the ring (and told to the worker), and read back by the worker. */
    this.written = 0;
    this.read = 0;
    this.room = null;
    this.outcome = null;
    this.settle = null;
  }

  /**
   * Large chunks (a download comes in batches, registry/response-body.mjs) go straight into the ring when nothing
   * is gathered and they start at an 8-byte-aligned offset, up to a batch at a time and a multiple of 8 bytes;
   * the rest is gathered in the batch first.
   * @param {Uint8Array} chunk @returns {void | Promise<void>} a Promise while the ring is too full to take more
   */
  write(chunk) {
    for (let offset = 0; !this.outcome && offset < chunk.byteLength; ) {
      const remaining = chunk.byteLength - offset;
      const direct = this.staged === 0 && remaining >= DIRECT_MIN_BYTES && (chunk.byteOffset + offset) % 8 === 0;
      if (direct) {
        const take = Math.min(remaining, BATCH_BYTES) & ~7;
        if (!this.copyIn(chunk.subarray(offset, offset + take))) {
          return this.waitForRoom().then(() => this.write(chunk.subarray(offset)));
        }
        offset += take;
        continue;
      }
      if (this.staged === BATCH_BYTES && !this.commit()) {
        return this.waitForRoom().then(() => this.write(chunk.subarray(offset)));
      }
      const take = Math.min(BATCH_BYTES - this.staged, chunk.byteLength - offset);
      this.batch.set(chunk.subarray(offset, offset + take), this.staged);
      this.staged += take;
      offset += take;
    }
    return undefined;
  }

  /** @returns {Promise<{uri: string, files: number, bytes: number, compressedBytes: number, digest?: string}>} */
  async finish() {
    while (!this.outcome && this.staged > 0 && !this.commit()) await this.waitForRoom();
    if (!this.outcome) this.worker.postMessage({ type: 'finish', id: this.id });
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

  /**
   * Copy the staged bytes into the ring, if it has room, and tell the worker. The batch and every ring position
   * but the last are multiples of 8 bytes, so both copies (here and the worker's, out of the ring) run by words:
   * a copy to or from shared memory at offsets that differ mod 8 goes byte by byte, 8x slower.
   * @returns {boolean} false when the ring has no room for them yet
   */
  commit() {
    if (!this.copyIn(this.batch.subarray(0, this.staged))) return false;
    this.staged = 0;
    return true;
  }

  /** Copy bytes into the ring, if it has room for them, and tell the worker. @returns {boolean} */
  copyIn(bytes) {
    if (RING_BYTES - (this.written - this.read) < bytes.byteLength) return false;
    const at = this.written % RING_BYTES;
    const first = Math.min(bytes.byteLength, RING_BYTES - at);
    this.ring.set(bytes.subarray(0, first), at);
    if (first < bytes.byteLength) this.ring.set(bytes.subarray(first), 0);
    this.written += bytes.byteLength;
    this.worker.postMessage({ type: 'chunk', id: this.id, end: this.written });
    return true;
  }

  waitForRoom() {
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
      if (this.spare.length < SPARE_BUFFERS) this.spare.push({ ring: this.ring.buffer, batch: this.batch });
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
