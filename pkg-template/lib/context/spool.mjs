// Where a streamed packet is written until it is known to be complete and allowed out: a temporary file beside
// the output file (renamed over it at the end, so the output appears whole or not at all), or, for stdout, one in
// the system's temporary folder, copied out at the end. A packet that turns out invalid or blocked is never seen.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { toCtxpackError } from '../errors.mjs';

/** A spool for `output` (a file path), or for stdout when it is undefined. */
export function openSpool(output) {
  const file = output === undefined ? path.join(os.tmpdir(), `ctxpack-redact-${randomUUID()}`) : `${output}.tmp-${randomUUID()}`;
  if (output !== undefined) fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
  let fd;
  try {
    // Only the user may read a spool in the shared temporary folder; the output file gets the usual mode.
    fd = fs.openSync(file, 'wx+', output === undefined ? 0o600 : 0o644);
  } catch (error) {
    throw toCtxpackError(error, output ?? file);
  }
  let position = 0;
  return {
    write(bytes) {
      let offset = 0;
      while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset, position + offset);
      position += bytes.length;
    },
    /** Drops what was written (the packet is read whole instead). */
    restart() {
      fs.ftruncateSync(fd, 0);
      position = 0;
    },
    /** The output file replaced by what was written, or what was written copied to stdout. */
    async commit() {
      if (output !== undefined) {
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fd = undefined;
        fs.renameSync(file, output);
        return;
      }
      const buffer = Buffer.allocUnsafe(1 << 20);
      for (let at = 0; at < position; ) {
        const n = fs.readSync(fd, buffer, 0, buffer.length, at);
        await writeStdout(buffer.subarray(0, n));
        at += n;
      }
    },
    discard() {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
      fs.rmSync(file, { force: true });
    },
  };
}

/** A chunk on stdout, waiting for a pipe to take it. */
function writeStdout(bytes) {
  return new Promise((resolve, reject) => process.stdout.write(bytes, (error) => (error ? reject(error) : resolve())));
}
