// A verifying thread of the pool in verify-pool.mjs: runs the layer verifiers it is given (pack-stream.mjs),
// each fed the layer's bytes as they download, and acknowledges every chunk once processed (flow control),
// giving its buffer back to be filled again.
import { parentPort } from 'node:worker_threads';
import { createPackVerifier } from './pack-stream.mjs';

/** id → verifier; an id whose verifier failed is gone, and its later chunks are only acknowledged. */
const verifiers = new Map();

parentPort.on('message', (message) => {
  const { id } = message;
  try {
    switch (message.type) {
      case 'open':
        verifiers.set(id, createPackVerifier(message.options));
        break;
      case 'chunk':
        verifiers.get(id)?.write(message.bytes.subarray(0, message.length));
        acknowledge(message);
        break;
      case 'finish': {
        const verifier = verifiers.get(id);
        if (!verifier) break;
        const { uri, files, bytes, compressedBytes } = verifier.finish();
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
    if (message.type === 'chunk') acknowledge(message);
    parentPort.postMessage({ id, error: { code: error.code, message: error.message, hint: error.hint, subject: error.subject } });
  }
});

/** The chunk is read (the core copied it): say so, and give its buffer back for the next batch. */
function acknowledge({ id, bytes, length }) {
  parentPort.postMessage({ id, ack: length, buffer: bytes.buffer }, [bytes.buffer]);
}

function close(id) {
  verifiers.get(id)?.free();
  verifiers.delete(id);
}
