// A hashing thread of the pool in hash-pool.mjs: hashes each batch of files it is sent (or one open file, by its
// descriptor, which threads share), in order, and answers with the digests and sizes as two typed arrays
// (transferred, not copied).
import { parentPort } from 'node:worker_threads';
import { hashBatch, hashDescriptor, READ_CHUNK_BYTES } from './hash-file.mjs';

/** Report progress inside big files at this granularity, so a bar keeps moving on a 1 GiB file. */
const PROGRESS_STEP_BYTES = 64 * 1024 * 1024;

const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);

parentPort.on('message', ({ root, paths, fd, options }) => {
  let unreported = 0;
  const onBytes = (bytes) => {
    unreported += bytes;
    if (unreported >= PROGRESS_STEP_BYTES) {
      parentPort.postMessage({ progress: unreported });
      unreported = 0;
    }
  };
  const result = fd === undefined ? hashBatch(root, paths, buffer, onBytes, options) : hashDescriptor(fd, buffer, onBytes);
  if (unreported > 0) parentPort.postMessage({ progress: unreported });
  parentPort.postMessage({ result }, [result.digests.buffer, result.sizes.buffer, result.stats.buffer, result.flags.buffer]);
});
