// Streaming SHA-256 of files with node:crypto (SHA-NI where the CPU has it), reading into a reused buffer.
import fs from 'node:fs';
import crypto from 'node:crypto';

/** Read size for hashing and packing: large enough that syscalls cost nothing next to hashing. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** One-shot hashing of a file read whole (Node ≥ 20.12) skips a Hash object per small file. */
const hashOnce = typeof crypto.hash === 'function' ? (bytes) => crypto.hash('sha256', bytes, 'buffer') : undefined;

/**
 * @param {string | Uint8Array} path
 * @param {Buffer} buffer scratch buffer, reused across calls
 * @param {(bytes: number) => void} [onBytes] called after each read
 * @returns {{digest: string, size: number}} the digest and the number of bytes actually hashed
 */
export function hashFileSync(path, buffer, onBytes) {
  const digest = Buffer.allocUnsafe(32);
  const size = hashFileInto(path, buffer, onBytes, digest, 0);
  return { digest: `sha256:${digest.toString('hex')}`, size };
}

/**
 * Hash one file, writing its 32 digest bytes into `out` at `offset`. A short read of a regular file is its end
 * (Linux fills reads of regular files), so a small file costs one open, one read and one close.
 * @returns {number} the number of bytes hashed
 */
export function hashFileInto(path, buffer, onBytes, out, offset) {
  const fd = fs.openSync(path, 'r');
  try {
    let read = fs.readSync(fd, buffer, 0, buffer.length, null);
    onBytes?.(read);
    if (read < buffer.length && hashOnce) {
      out.set(hashOnce(buffer.subarray(0, read)), offset);
      return read;
    }
    const hash = crypto.createHash('sha256');
    let size = 0;
    while (read > 0) {
      hash.update(buffer.subarray(0, read));
      size += read;
      if (read < buffer.length) break;
      read = fs.readSync(fd, buffer, 0, buffer.length, null);
      onBytes?.(read);
    }
    out.set(hash.digest(), offset);
    return size;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Hash a batch of files: `root` joined to each of `paths` ('' when the paths are absolute). Failures are
 * reported per file, so one unreadable file does not lose the batch.
 * @returns {{digests: Uint8Array, sizes: Float64Array, errors: Array<{index: number, code?: string, message: string}>}}
 */
export function hashBatch(root, paths, buffer, onBytes) {
  const digests = new Uint8Array(paths.length * 32);
  const sizes = new Float64Array(paths.length);
  const errors = [];
  const prefix = root === '' ? '' : `${root}/`;
  for (let index = 0; index < paths.length; index++) {
    const name = paths[index];
    try {
      sizes[index] = hashFileInto(typeof name === 'string' ? prefix + name : name, buffer, onBytes, digests, index * 32);
    } catch (error) {
      errors.push({ index, code: error.code, message: error.message });
    }
  }
  return { digests, sizes, errors };
}
