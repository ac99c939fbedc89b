// export: a pantry pack as one .tar.gz file (the single-layer form, whatever the pack's layers), written
// complete or not at all. `export --oci` (a whole OCI layout) is export-layout.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import * as core from './core-node.mjs';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { openPantry } from './pantry.mjs';
import { phaseReporter } from './progress.mjs';
import { readStoredLayers } from './read.mjs';
import { registerCleanup } from './signal-cleanup.mjs';

const COPY_CHUNK_BYTES = 1024 * 1024;

/**
 * Write a pack as one .tar.gz to `outFile`: a single-layer pack's layer, checked against its digest on the
 * way; a multi-layer pack re-packed, streaming, into the single-layer form (manifest.json, then every entry;
 * mtime 0), each layer verified as it is read. An existing file is never overwritten unless `force`; the
 * file appears complete or not at all.
 * @param {string} uri
 * @param {string} outFile
 * @param {{home?: string, force?: boolean, onProgress?: Function}} [options]
 */
export function exportPack(uri, outFile, options = {}) {
  const pantry = openPantry(options);
  const pack = pantry.loadPack(uri);
  const target = path.resolve(outFile);
  if (!options.force && fs.existsSync(target)) throw targetExists(target);
  const tempPath = path.join(path.dirname(target), `.${path.basename(target)}.ctxpack-${randomUUID()}`);
  const unregister = registerCleanup(() => fs.rmSync(tempPath, { force: true }));
  let written;
  try {
    const totalBytes = pack.layers.reduce((sum, layer) => sum + layer.size, 0);
    const onBytes = phaseReporter(options.onProgress, 'export', totalBytes);
    written = pack.layers.length === 1
      ? copyVerified(pantry.blobPath(pack.layer.digest), tempPath, pack.layer, onBytes)
      : repackLayers(pantry, pack, tempPath, onBytes);
    if (options.force) {
      fs.renameSync(tempPath, target);
    } else {
      linkNoClobber(tempPath, target);
    }
  } catch (error) {
    fs.rmSync(tempPath, { force: true });
    throw toCtxpackError(error, target);
  } finally {
    unregister();
  }
  return { uri: pack.uri, path: target, digest: written.digest, size: written.size };
}

/** Read every layer through the core's reader and write the entries again through one whole-pack writer. */
function repackLayers(pantry, pack, destinationPath, onBytes) {
  const writer = new core.PackWriter(pantry.fetchBytes(pack.config), { hashContent: false });
  let output;
  try {
    output = new HashedOutput(destinationPath);
    output.write(writer.takeOutput());
    let fileHash = null;
    const visitor = {
      entry(entry) {
        const next = writer.nextEntry();
        if (next?.path !== entry.path) {
          throw new CtxpackError('CTX_INVALID_STATE', `the layers hold ${entry.path} where the writer expects ${next?.path}`);
        }
        fileHash = entry.type === 'file' ? createHash('sha256') : null;
      },
      data(bytes) {
        fileHash.update(bytes);
        // A copy: `bytes` shows the core's memory, which the writer (the same core) may grow and so move.
        writer.write(bytes.slice());
        output.write(writer.takeOutput());
      },
      end() {
        if (fileHash !== null) writer.endEntry(`sha256:${fileHash.digest('hex')}`);
        fileHash = null;
        output.write(writer.takeOutput());
      },
    };
    readStoredLayers(pantry, pack, { visitor, onBytes });
    writer.finish();
    output.write(writer.takeOutput());
    return output.commit();
  } finally {
    writer.free();
    output?.close();
  }
}

/** A new file being written, hashed on the way. */
class HashedOutput {
  constructor(filePath) {
    this.fd = fs.openSync(filePath, 'wx', 0o644);
    this.hash = createHash('sha256');
    this.size = 0;
  }

  write(chunk) {
    for (let offset = 0; offset < chunk.length; ) offset += fs.writeSync(this.fd, chunk, offset, chunk.length - offset);
    this.hash.update(chunk);
    this.size += chunk.length;
  }

  /** fsync; returns the digest and size of what was written. */
  commit() {
    fs.fsyncSync(this.fd);
    return { digest: `sha256:${this.hash.digest('hex')}`, size: this.size };
  }

  close() {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function copyVerified(sourcePath, destinationPath, expected, onBytes) {
  const input = fs.openSync(sourcePath, 'r');
  let output;
  try {
    output = fs.openSync(destinationPath, 'wx', 0o644);
    const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    const hash = createHash('sha256');
    let size = 0;
    for (let read = fs.readSync(input, buffer); read > 0; read = fs.readSync(input, buffer)) {
      const chunk = buffer.subarray(0, read);
      hash.update(chunk);
      for (let offset = 0; offset < read; ) offset += fs.writeSync(output, chunk, offset, read - offset);
      size += read;
      onBytes?.(read);
    }
    const digest = `sha256:${hash.digest('hex')}`;
    if (digest !== expected.digest || size !== expected.size) {
      throw new CtxpackError('CTX_DIGEST_MISMATCH', `layer ${expected.digest} in the pantry hashes to ${digest}`, {
        subject: expected.digest,
        hint: 'the pantry is damaged; remove the pack (`ctxpack rm`), run `ctxpack gc` and seed it again',
      });
    }
    fs.fsyncSync(output);
    return { digest, size };
  } finally {
    fs.closeSync(input);
    if (output !== undefined) fs.closeSync(output);
  }
}

/**
 * link(2) fails if the destination exists, so a file created meanwhile is not overwritten either. File
 * systems without hard links (FAT, some network mounts) get a rename after a last existence check.
 */
function linkNoClobber(tempPath, target) {
  try {
    fs.linkSync(tempPath, target);
  } catch (error) {
    if (error.code === 'EEXIST') throw targetExists(target);
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(error.code)) throw error;
    if (fs.existsSync(target)) throw targetExists(target);
    fs.renameSync(tempPath, target);
    return;
  }
  fs.rmSync(tempPath, { force: true });
}

function targetExists(target) {
  return new CtxpackError('CTX_TARGET_EXISTS', `${target} already exists; nothing was written`, {
    subject: target,
    hint: 'choose another file name, or pass --force to overwrite it',
  });
}
