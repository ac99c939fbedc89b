// A verifying thread of the pool in verify-pool.mjs: runs the layer verifiers it is given (pack-stream.mjs),
// each fed the layer's bytes as they download, read from the ring buffer it shares with the main thread up to
// where the main thread says it wrote; it answers how far it has read (flow control: that part of the ring may
// be written again). A layer opened with `blob` (its descriptor) is also hashed here, off the main thread, and
// finish() compares that digest before anything else: a layer whose bytes are not the blob fails as such even
// when its archive also fails, so such a layer is read to its end.
// The core is the main thread's, compiled once and shared (worker-core.mjs).
import './worker-core.mjs';
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { CtxpackError } from './errors.mjs';
import { createPackVerifier } from './pack-stream.mjs';

/**
 * id → { verifier, ring, read, blob?, hash?, size, failure? }; an id whose verifier failed is gone (unless it is
 * hashed: then `failure` waits for finish), and its later chunks are only acknowledged.
 */
const layers = new Map();

parentPort.on('message', (message) => {
  const { id } = message;
  try {
    switch (message.type) {
      case 'open': {
        const { blob, ...options } = message.options;
        const hash = blob ? createHash('sha256') : undefined;
        layers.set(id, { verifier: createPackVerifier(options), ring: new Uint8Array(message.ring), read: 0, blob, hash, size: 0 });
        break;
      }
      case 'chunk': {
        const layer = layers.get(id);
        if (layer) readTo(layer, message.end);
        parentPort.postMessage({ id, read: message.end });
        break;
      }
      case 'finish': {
        const layer = layers.get(id);
        if (!layer) break;
        const digest = layer.hash && checkBlob(layer);
        if (layer.failure) throw layer.failure;
        const { uri, files, bytes, compressedBytes } = layer.verifier.finish();
        close(id);
        parentPort.postMessage({ id, result: { uri, files, bytes, compressedBytes, digest } });
        break;
      }
      case 'abort':
        close(id);
        break;
      default:
        throw new Error(`unknown verify message ${message.type}`);
    }
  } catch (error) {
    close(id);
    if (message.type === 'chunk') parentPort.postMessage({ id, read: message.end });
    parentPort.postMessage({ id, error: { code: error.code, message: error.message, hint: error.hint, subject: error.subject } });
  }
});

/**
 * Feed the verifier the ring's bytes from where it last read up to `end` (running totals), in at most two
 * pieces. A hashed layer's failure is kept for finish, which reports a digest mismatch first.
 */
function readTo(layer, end) {
  const size = layer.ring.byteLength;
  while (layer.read < end) {
    const at = layer.read % size;
    const take = Math.min(end - layer.read, size - at);
    const piece = layer.ring.subarray(at, at + take);
    layer.read += take;
    if (layer.hash) {
      layer.hash.update(piece);
      layer.size += take;
      if (layer.failure) continue;
      try {
        layer.verifier.write(piece);
      } catch (error) {
        layer.failure = error;
      }
    } else {
      layer.verifier.write(piece);
    }
  }
}

/** The digest of the layer's bytes, which must be the blob's. */
function checkBlob(layer) {
  const digest = `sha256:${layer.hash.digest('hex')}`;
  if (digest !== layer.blob.digest || layer.size !== layer.blob.size) {
    throw new CtxpackError('CTX_DIGEST_MISMATCH', `blob ${layer.blob.digest}: the downloaded bytes hash to ${digest} (${layer.size} bytes)`, {
      subject: layer.blob.digest,
      hint: 'the registry holds corrupt content under this digest; fetch from another source, or re-push it',
    });
  }
  return digest;
}

function close(id) {
  layers.get(id)?.verifier.free();
  layers.delete(id);
}
