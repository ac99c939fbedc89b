// A verifying thread of the pool in verify-pool.mjs: runs the layer verifiers it is given (pack-stream.mjs),
// each fed the layer's bytes as they download, read from the ring buffer it shares with the main thread up to
// where the main thread says it wrote; it answers how far it has read (flow control: that part of the ring may
// be written again).
import { parentPort } from 'node:worker_threads';
import { createPackVerifier } from './pack-stream.mjs';

/** id → { verifier, ring, read }; an id whose verifier failed is gone, and its later chunks are only acknowledged. */
const layers = new Map();

parentPort.on('message', (message) => {
  const { id } = message;
  try {
    switch (message.type) {
      case 'open':
        layers.set(id, { verifier: createPackVerifier(message.options), ring: new Uint8Array(message.ring), read: 0 });
        break;
      case 'chunk': {
        const layer = layers.get(id);
        if (layer) readTo(layer, message.end);
        parentPort.postMessage({ id, read: message.end });
        break;
      }
      case 'finish': {
        const layer = layers.get(id);
        if (!layer) break;
        const { uri, files, bytes, compressedBytes } = layer.verifier.finish();
        close(id);
        parentPort.postMessage({ id, result: { uri, files, bytes, compressedBytes } });
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

/** Feed the verifier the ring's bytes from where it last read up to `end` (running totals), in at most two pieces. */
function readTo(layer, end) {
  const size = layer.ring.byteLength;
  while (layer.read < end) {
    const at = layer.read % size;
    const take = Math.min(end - layer.read, size - at);
    layer.verifier.write(layer.ring.subarray(at, at + take));
    layer.read += take;
  }
}

function close(id) {
  layers.get(id)?.verifier.free();
  layers.delete(id);
}
