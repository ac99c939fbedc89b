// Pantry housekeeping: ls, rm, gc, export.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import * as core from './core-node.mjs';
import { CtxpackError, isCtxpackError, toCtxpackError } from './errors.mjs';
import { readLeases } from './lease.mjs';
import { findLeftovers, listPantry, removeLeftover } from './leftovers.mjs';
import { openPantry } from './pantry.mjs';
import { phaseReporter } from './progress.mjs';
import { readStoredLayers } from './read.mjs';
import { registerCleanup } from './signal-cleanup.mjs';
import { removeTree } from './target.mjs';
import { removeUnpacked, unpackedRoot } from './unpacked.mjs';

const COPY_CHUNK_BYTES = 1024 * 1024;
const HEX_NAME = /^[0-9a-f]{64}$/;

/**
 * Every pack in the pantry. A pack whose blobs are damaged is still listed, with `problem` saying why.
 * @param {{home?: string}} [options]
 */
export function list(options = {}) {
  const pantry = openPantry(options);
  return pantry.list().map((entry) => {
    const listed = { uri: entry.uri, tag: entry.tag, manifestDigest: entry.digest };
    try {
      const pack = pantry.loadPack(entry.uri);
      const size = pack.blobs.reduce((sum, blob) => sum + blob.size, pack.manifest.size);
      return { ...listed, created: pack.created, layer: pack.layer, layers: pack.layers.length, size };
    } catch (error) {
      if (!isCtxpackError(error)) throw error;
      return { ...listed, problem: `${error.code}: ${error.message}` };
    }
  });
}

/**
 * Remove a pack from the pantry: its index entry and its unpacked copy. Blobs go at the next gc.
 * @param {string} uri
 * @param {{home?: string, lockTimeoutMs?: number}} [options]
 */
export async function remove(uri, options = {}) {
  const pantry = openPantry(options);
  const canonical = core.parseUri(uri);
  await pantry.untag(canonical);
  await pantry.withLock(`unpack-${core.uriTag(canonical)}`, () => removeUnpacked(pantry, canonical));
  return { uri: canonical, removed: true };
}

/**
 * Delete blobs that no manifest in index.json (pack or execution pack) reaches and no live lease names,
 * unpacked copies of packs no longer indexed, and what stopped work left behind: `.ingest-*` files and staging
 * folders no live lease owns, temp files, stale leases and locks. Holds the index lock throughout.
 * @param {{home?: string, lockTimeoutMs?: number}} [options]
 * @returns {Promise<{blobsRemoved: number, bytesRemoved: number, unpackedRemoved: number, leftoversRemoved: number}>}
 */
export async function gc(options = {}) {
  const pantry = openPantry(options);
  const result = { blobsRemoved: 0, bytesRemoved: 0, unpackedRemoved: 0, leftoversRemoved: 0 };
  if (!fs.existsSync(pantry.home)) return result;
  return pantry.withLock('index', () => {
    // Listed before the leases are read: a blob or temp file that is listed was leased before it appeared,
    // if its work is still running (see Pantry#referencedDigests and BlobWriter#commit).
    const listing = listPantry(pantry);
    const leases = readLeases(pantry.home);
    const referenced = pantry.referencedDigests({ leases });
    for (const name of listing.blobs) {
      if (!HEX_NAME.test(name) || referenced.has(`sha256:${name}`)) continue;
      const blobPath = path.join(pantry.blobsDir, name);
      result.bytesRemoved += fileSize(blobPath);
      fs.rmSync(blobPath, { force: true });
      result.blobsRemoved += 1;
    }
    result.unpackedRemoved = removeOrphanUnpacked(pantry, listing.unpacked);
    for (const leftover of findLeftovers(pantry, listing, leases, { indexLocked: true })) {
      result.bytesRemoved += removeLeftover(leftover);
      result.leftoversRemoved += 1;
    }
    return result;
  });
}

/** Unpacked copies (and stamps) of packs that are not in index.json. @returns {number} copies removed */
function removeOrphanUnpacked(pantry, names) {
  const indexed = new Set(pantry.list().map((entry) => core.uriTag(entry.uri).slice('ctx-'.length)));
  const root = unpackedRoot(pantry);
  let removed = 0;
  for (const name of names) {
    const hex = name.replace(/\.stamp\.json$/, '');
    if (!HEX_NAME.test(hex) || indexed.has(hex)) continue;
    removeTree(path.join(root, name));
    if (name === hex) removed += 1;
  }
  return removed;
}

function fileSize(filePath) {
  try {
    return fs.lstatSync(filePath).size;
  } catch {
    return 0;
  }
}

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
  const writer = new core.PackWriter(pantry.fetch(pack.config), { hashContent: false });
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
        writer.write(bytes);
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
