// One layer of a pack written through the core's PackWriter: the host reads each file (exactly the size that
// was hashed), hashes it again on the way and hands the digest to the core, which compares it with the
// manifest's, so a file that changed after hashing fails the seed. Runs on the main thread for a single-layer
// pack and in a worker of layer-pool.mjs for each layer of a larger one: the same code, so the same bytes.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import * as core from './core-node.mjs';
import { CtxpackError, isCtxpackError, toCtxpackError } from './errors.mjs';
import { READ_CHUNK_BYTES } from './hash-file.mjs';
import { yieldToEventLoop } from './signal-cleanup.mjs';

/**
 * Write layer `layer` of the pack's layout, passing the gzip bytes to `onOutput` in order.
 * @param {Uint8Array} manifestBytes
 * @param {object} options
 * @param {number} options.mtime                           seconds written as every entry's mtime
 * @param {number} options.layer                           which layer of packLayout
 * @param {Map<string, string | Uint8Array>} options.sources tree path → file to read (at least this layer's files)
 * @param {(writer: core.PackWriter) => void} options.drain takes the writer's gzip bytes so far, in order
 *   (outputLength / takeOutputInto; see drainInto)
 * @param {(bytes: number) => void} [options.onBytes]     file bytes packed
 * @returns {Promise<string>} the layer's block index (the dev.ctxpack.blocks annotation, spec §10)
 */
export async function packLayer(manifestBytes, { mtime, layer, sources, drain: drainWriter, onBytes }) {
  const writer = new core.PackWriter(manifestBytes, { mtime, hashContent: false, layer });
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  const drain = () => drainWriter(writer);
  try {
    for (let entry = writer.nextEntry(); entry != null; entry = writer.nextEntry()) {
      if (entry.type === 'file') {
        const digest = await packFile(writer, drain, sources.get(entry.path), entry, buffer, onBytes);
        endEntry(writer, entry, digest);
      }
      drain();
    }
    writer.finish();
    drain();
    return writer.blockIndex();
  } finally {
    writer.free();
  }
}

/**
 * A drain for packLayer that passes the output to `write` through one reused buffer: a pack of any size
 * allocates no array per chunk (each would be garbage until the next collection).
 * @param {(bytes: Uint8Array) => void} write gets a view of the buffer, valid until it returns
 */
export function drainInto(write, buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES)) {
  return (writer) => {
    for (let pending = writer.outputLength(); pending > 0; pending = writer.outputLength()) {
      const taken = writer.takeOutputInto(buffer.subarray(0, Math.min(pending, buffer.length)));
      write(buffer.subarray(0, taken));
    }
  };
}

/**
 * Copy one file's content (exactly the size that was hashed) into the writer, draining its output. The event
 * loop gets a turn after each chunk, so Ctrl-C is handled (and the blob removed) during a long pack.
 */
async function packFile(writer, drain, source, entry, buffer, onBytes) {
  const hash = createHash('sha256');
  let fd;
  try {
    fd = fs.openSync(source, 'r');
    let remaining = entry.size;
    while (remaining > 0) {
      const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, remaining), null);
      if (read === 0) break;
      const chunk = buffer.subarray(0, read);
      hash.update(chunk);
      writer.write(chunk);
      drain();
      remaining -= read;
      onBytes?.(read);
      await yieldToEventLoop();
    }
  } catch (error) {
    throw toCtxpackError(error, entry.path);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return `sha256:${hash.digest('hex')}`;
}

function endEntry(writer, entry, digest) {
  try {
    writer.endEntry(digest);
  } catch (error) {
    if (isCtxpackError(error) && (error.code === 'CTX_SIZE_MISMATCH' || error.code === 'CTX_DIGEST_MISMATCH')) {
      throw new CtxpackError(error.code, `${entry.path} changed while it was being packed`, {
        subject: entry.path,
        hint: 'make sure nothing writes to the folder while it is being seeded, then seed again',
        cause: error,
      });
    }
    throw error;
  }
}
