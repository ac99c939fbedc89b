// How a planning thread (plan-worker.mjs) reads log files: into one buffer kept from log to log, grown to the
// largest. A fresh buffer a log (~1.7 MB in a fleet's logs) was garbage the thread's GC freed only every few
// dozen logs, and the malloc arena it came from kept that high-water mark resident to the end of the process.
import fs from 'node:fs';
import { toCtxpackError } from '../errors.mjs';

/** A larger log gets a buffer of its own, not kept: an idle thread (kept for the next batch) holds no more. */
export const KEPT_BYTES = 16 * 1024 * 1024;

export class LogReader {
  buffer = Buffer.alloc(0);

  /**
   * The file's bytes: a view of the kept buffer, valid until the next read.
   * @param {string} file
   * @returns {Uint8Array}
   */
  read(file) {
    let fd;
    try {
      fd = fs.openSync(file, 'r');
      const stat = fs.fstatSync(fd);
      // A pipe or a device (no size to read to), or a log over KEPT_BYTES: read whole into a buffer of its own.
      if (!stat.isFile() || stat.size > KEPT_BYTES) return fs.readFileSync(fd);
      if (this.buffer.length < stat.size) this.buffer = Buffer.allocUnsafeSlow(stat.size);
      let length = 0;
      while (length < stat.size) {
        const read = fs.readSync(fd, this.buffer, length, stat.size - length, null);
        if (read === 0) break;
        length += read;
      }
      return this.buffer.subarray(0, length);
    } catch (error) {
      throw toCtxpackError(error, file);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
}
