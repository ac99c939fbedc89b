// A thread of layer-pool.mjs: writes (pack-layer.mjs) or reads (pack-stream.mjs, extract.mjs) one whole layer
// per job, with exactly the code the main thread runs for a single-layer pack.
import { workerData } from 'node:worker_threads';
import { toCtxpackError } from './errors.mjs';
import { readLayer } from './extract.mjs';
import { OUTPUT_HIGH_WATER_BYTES } from './layer-pool.mjs';
import { packLayer } from './pack-layer.mjs';

/** Progress is reported in steps of this many bytes (one message per MiB would cost more than it tells). */
const PROGRESS_STEP_BYTES = 8 * 1024 * 1024;

const { port, shared, slot } = workerData;

function post(message, transfer) {
  port.postMessage(message, transfer);
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

/** Write one layer; its gzip bytes go to the main thread, which writes the blob. */
async function pack(index, { manifestBytes, mtime, layer, sources }, onBytes) {
  const onOutput = (chunk) => {
    // Wait while the main thread is behind: the output in flight stays bounded.
    for (let pending = Atomics.load(shared, slot); pending > OUTPUT_HIGH_WATER_BYTES; pending = Atomics.load(shared, slot)) {
      Atomics.wait(shared, slot, pending, 100);
    }
    Atomics.add(shared, slot, chunk.byteLength);
    post({ index, output: chunk }, [chunk.buffer]);
  };
  const blocks = await packLayer(manifestBytes, { mtime, layer, sources: new Map(sources), onOutput, onBytes });
  return { blocks };
}
