// A hashing thread of the pool in hash-pool.mjs: hashes each batch of files it is sent, in order.
import { parentPort } from 'node:worker_threads';
import { hashFileSync, READ_CHUNK_BYTES } from './hash-file.mjs';

/** Report progress inside big files at this granularity, so a bar keeps moving on a 1 GiB file. */
const PROGRESS_STEP_BYTES = 64 * 1024 * 1024;

const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);

parentPort.on('message', ({ paths }) => {
  let unreported = 0;
  const onBytes = (bytes) => {
    unreported += bytes;
    if (unreported >= PROGRESS_STEP_BYTES) {
      parentPort.postMessage({ progress: unreported });
      unreported = 0;
    }
  };
  const results = paths.map((path) => {
    try {
      return hashFileSync(path, buffer, onBytes);
    } catch (error) {
      return { error: { code: error.code, syscall: error.syscall, message: error.message } };
    }
  });
  if (unreported > 0) parentPort.postMessage({ progress: unreported });
  parentPort.postMessage({ results });
});
