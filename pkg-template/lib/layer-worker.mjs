// A thread of layer-pool.mjs: writes (pack-layer.mjs) or reads (pack-stream.mjs, extract.mjs) one whole layer
// per job, with exactly the code the main thread runs for a single-layer pack.
// The core is the main thread's, compiled once and shared (worker-core.mjs).
import './worker-core.mjs';
import { workerData } from 'node:worker_threads';
import { toCtxpackError } from './errors.mjs';
import { readLayer } from './extract.mjs';
import { packLayer } from './pack-layer.mjs';

/** Progress is reported in steps of this many bytes (one message per MiB would cost more than it tells). */
const PROGRESS_STEP_BYTES = 8 * 1024 * 1024;

/** The most output one message hands over. */
const RING_PIECE_BYTES = 1024 * 1024;

const { port, shared, slot, ring } = workerData;

function post(message) {
  port.postMessage(message);
  Atomics.add(shared, 0, 1);
  Atomics.notify(shared, 0);
}

port.on('message', async ({ index, kind, args }) => {
  let unreported = 0;
  const onBytes = (bytes) => {
    unreported += bytes;
    if (unreported < PROGRESS_STEP_BYTES) return;
    post({ index, progress: unreported });
    unreported = 0;
  };
  try {
    const result = kind === 'pack' ? await pack(index, args, onBytes) : readLayer(args, { onBytes });
    if (unreported > 0) post({ index, progress: unreported });
    post({ index, result });
  } catch (error) {
    const { code, message, hint, subject } = toCtxpackError(error);
    post({ index, error: { code, message, hint, subject } });
  }
});

/**
 * Write one layer; its gzip bytes go to the main thread, which writes the blob, through this worker's ring: the
 * core drains into the ring's free space, and the message says where the bytes are.
 */
async function pack(index, { manifestBytes, mtime, layer, sources }, onBytes) {
  let position = 0;
  const drain = (writer) => {
    for (let pending = writer.outputLength(); pending > 0; pending = writer.outputLength()) {
      const piece = Math.min(pending, ring.length - position, RING_PIECE_BYTES);
      // Wait while the main thread has not written enough of the ring out.
      for (let used = Atomics.load(shared, slot); used + piece > ring.length; used = Atomics.load(shared, slot)) {
        Atomics.wait(shared, slot, used, 100);
      }
      const taken = writer.takeOutputInto(ring.subarray(position, position + piece));
      Atomics.add(shared, slot, taken);
      post({ index, offset: position, length: taken });
      position = (position + taken) % ring.length;
    }
  };
  const blocks = await packLayer(manifestBytes, { mtime, layer, sources: new Map(sources), drain, onBytes });
  return { blocks };
}
