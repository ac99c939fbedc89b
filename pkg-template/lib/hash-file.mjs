// Streaming SHA-256 of one file with node:crypto (SHA-NI where the CPU has it), reading into a reused buffer.
import fs from 'node:fs';
import { createHash } from 'node:crypto';

/** Read size for hashing and packing: large enough that syscalls cost nothing next to hashing. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * @param {string | Uint8Array} path
 * @param {Buffer} buffer scratch buffer, reused across calls
 * @param {(bytes: number) => void} [onBytes] called after each read
 * @returns {{digest: string, size: number}} the digest and the number of bytes actually hashed
 */
export function hashFileSync(path, buffer, onBytes) {
  const fd = fs.openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      size += read;
      onBytes?.(read);
    }
    return { digest: `sha256:${hash.digest('hex')}`, size };
  } finally {
    fs.closeSync(fd);
  }
}
