// Adapters between the Store interface's streams (store.mjs) and the wasm RegistryClient, which downloads into
// a sink (write/reset, a Promise from write holding it back) and uploads from a source read by offset.
import { CtxpackError } from '../errors.mjs';

/** Downloaded bytes waiting for the consumer: above this the download waits (backpressure). */
const HIGH_WATER_BYTES = 2 * 1024 * 1024;

/**
 * A BlobStream over a download into a sink. `download(sink, {checkDigest})` is started on the first read. A
 * restart from byte 0 (the registry ignored a Range request) after bytes were given is absorbed: the re-sent
 * prefix is dropped, and the stream is no longer `verified` (the client verified the new attempt, not what was
 * given). Before that first read, a consumer that hashes every byte it is given anyway may take the digest
 * check over (`takeDigestCheck()`, true if it did): the download then checks the size only, and the stream is
 * not `verified`.
 * @param {(sink: {write(chunk: Uint8Array): void | Promise<void>, reset(): void}, options: {checkDigest: boolean}) => Promise<void>} download
 * @param {{onBytes?: (bytes: number) => void}} [options]
 * @returns {import('./store.mjs').BlobStream}
 */
export function downloadStream(download, { onBytes } = {}) {
  const queue = [];
  let queued = 0;
  let given = 0;
  let received = 0;
  let done = false;
  let failure;
  let wakeConsumer = null;
  let wakeProducer = null;
  let abandoned = false;
  const wake = () => {
    wakeConsumer?.();
    wakeConsumer = null;
  };
  const sink = {
    write(chunk) {
      if (abandoned) throw new CtxpackError('CTX_INTERRUPTED', 'the copy stopped reading this blob');
      // After a restart, the bytes up to what was given already are dropped.
      const skip = Math.min(chunk.length, Math.max(0, given - received));
      received += chunk.length;
      if (skip === chunk.length) return undefined;
      const piece = skip === 0 ? chunk : chunk.subarray(skip);
      queue.push(piece);
      queued += piece.length;
      wake();
      if (queued <= HIGH_WATER_BYTES) return undefined;
      return new Promise((resolve) => {
        wakeProducer = resolve;
      });
    },
    reset() {
      queue.length = 0;
      queued = 0;
      received = 0;
      if (given > 0) stream.verified = false;
    },
  };
  let started = null;
  let checkDigest = true;
  const start = () => {
    started ??= download(sink, { checkDigest }).then(
      () => {
        done = true;
        wake();
      },
      (error) => {
        failure = error;
        done = true;
        wake();
      },
    );
  };
  const stream = (async function* () {
    start();
    try {
      yield* drainQueue();
    } finally {
      // The consumer stopped early (it failed, or had the blob): end the download too.
      if (!done) {
        abandoned = true;
        wakeProducer?.();
        await started;
      }
    }
  })();
  async function* drainQueue() {
    for (;;) {
      if (queue.length > 0) {
        const chunk = queue.shift();
        queued -= chunk.length;
        given += chunk.length;
        if (queued <= HIGH_WATER_BYTES / 2) {
          wakeProducer?.();
          wakeProducer = null;
        }
        onBytes?.(chunk.length);
        yield chunk;
      } else if (done) {
        if (failure) throw failure;
        return;
      } else {
        await new Promise((resolve) => {
          wakeConsumer = resolve;
        });
      }
    }
  }
  stream.verified = true;
  stream.takeDigestCheck = () => {
    if (started !== null) return false;
    checkDigest = false;
    stream.verified = false;
    return true;
  };
  return stream;
}

/**
 * A RegistryClient BlobSource over a stream: reads are sequential (the client uploads in order), each filled
 * from the stream into one reused buffer (the client sends a piece and awaits the answer before it reads the
 * next), and the last piece is kept in case the same range is asked again. `close()` stops the stream.
 * @param {import('./store.mjs').BlobStream | Uint8Array} stream
 * @returns {Uint8Array | {read(offset: number, length: number): Promise<Uint8Array>, close(): Promise<void>}}
 */
export function sequentialSource(stream) {
  if (stream instanceof Uint8Array) return stream;
  const iterator = stream[Symbol.asyncIterator]();
  let position = 0;
  let pending = null;
  let buffer = new Uint8Array(0);
  let last = null;
  return {
    async read(offset, length) {
      if (last && last.offset === offset && last.bytes.length === length) return last.bytes;
      if (offset !== position) {
        throw new CtxpackError('CTX_INVALID_STATE', `a streamed blob is read in order: asked for byte ${offset}, at ${position}`);
      }
      if (buffer.length < length) buffer = new Uint8Array(length);
      const piece = buffer.subarray(0, length);
      let filled = 0;
      while (filled < length) {
        if (pending === null || pending.length === 0) {
          const next = await iterator.next();
          if (next.done) break;
          pending = next.value;
        }
        const take = Math.min(pending.length, length - filled);
        piece.set(pending.subarray(0, take), filled);
        pending = pending.subarray(take);
        filled += take;
      }
      if (filled < length) {
        throw new CtxpackError('CTX_TRUNCATED', `the blob ended after ${position + filled} bytes, ${offset + length} were expected`);
      }
      position += length;
      last = { offset, bytes: piece };
      return piece;
    },
    async close() {
      await iterator.return?.();
    },
  };
}
