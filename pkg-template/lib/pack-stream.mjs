// Drive the core's PackReader over a .tar.gz on disk: read in 1 MiB chunks, hash each file's content with
// node:crypto and hand the digest back to the core, which checks it against the manifest. Memory stays
// bounded whatever the pack's size. A whole pack (manifest.json first) or one layer of a pack whose
// manifest the caller already has (spec §7.3).
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import * as core from './core-node.mjs';
import { CtxpackError, toCtxpackError } from './errors.mjs';

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * @typedef {object} PackVisitor
 * @property {(event: {manifest: object, bytes: Uint8Array}) => void} [manifest]
 * @property {(event: {path: string, type: 'file' | 'symlink', size: number, executable: boolean, target?: string}) => void} [entry]
 * @property {(bytes: Uint8Array) => void} [data]   content of the current file
 * @property {() => void} [end]                     the current entry is complete
 */

/**
 * Read and verify a pack file, or with `manifest` and `layer` one layer of a pack (no manifest event then).
 * @param {string} filePath
 * @param {object} options
 * @param {PackVisitor} [options.visitor]
 * @param {object} [options.limits]          Partial<Limits> for the core's reader
 * @param {string} [options.expectUri]       the pack must be this URI
 * @param {Uint8Array} [options.manifest]    with `layer`: the pack's manifest.json bytes
 * @param {number} [options.layer]          with `manifest`: which layer of the pack's layout the file is
 * @param {{digest: string, size: number}} [options.expectLayer] the file must be this blob
 * @param {boolean} [options.stopAfterManifest] stop once the manifest is read (inspect)
 * @param {(bytes: number) => void} [options.onBytes] compressed bytes consumed
 * @returns {{uri: string, manifest: object, files: number, bytes: number, compressedBytes: number, layerDigest: string}
 *   | {manifest: object, manifestBytes: Uint8Array}}
 */
export function readPackFile(
  filePath,
  { visitor = {}, limits, expectUri, manifest, layer, expectLayer, stopAfterManifest = false, onBytes } = {},
) {
  const reader = new core.PackReader({ limits, hashContent: false, expectUri, manifest, layer });
  let fd;
  try {
    fd = openPack(filePath);
  } catch (error) {
    reader.free();
    throw error;
  }
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  const blob = { hash: createHash('sha256'), size: 0, finished: false };
  let fileHash = null;
  try {
    for (;;) {
      const event = reader.next();
      if (event != null) {
        switch (event.kind) {
          case 'manifest':
            if (stopAfterManifest) return { manifest: event.manifest, manifestBytes: event.bytes };
            visitor.manifest?.(event);
            break;
          case 'entry':
            fileHash = event.type === 'file' ? createHash('sha256') : null;
            visitor.entry?.(event);
            break;
          case 'data':
            fileHash.update(event.bytes);
            visitor.data?.(event.bytes);
            break;
          case 'end':
            visitor.end?.();
            if (fileHash !== null) reader.entryDigest(`sha256:${fileHash.digest('hex')}`);
            fileHash = null;
            break;
          default:
            throw new CtxpackError('CTX_INVALID_STATE', `unknown pack reader event ${event.kind}`);
        }
        continue;
      }
      if (!reader.wantsInput()) break;
      const read = readLayerChunk(fd, buffer, filePath, blob);
      if (read === 0) break;
      onBytes?.(read);
      reader.push(buffer.subarray(0, read));
    }
    const result = reader.finish();
    const layerDigest = finishLayer(fd, buffer, filePath, blob, expectLayer);
    return { ...result, layerDigest };
  } catch (error) {
    // A pantry blob that fails to read is best explained by its digest, when that no longer matches.
    if (expectLayer && !blob.finished) finishLayer(fd, buffer, filePath, blob, expectLayer, error);
    throw error;
  } finally {
    fs.closeSync(fd);
    reader.free();
  }
}

/** Hash the rest of the file into the layer digest and compare it with the expected blob, if any. */
function finishLayer(fd, buffer, filePath, blob, expectLayer, cause) {
  blob.finished = true;
  while (readLayerChunk(fd, buffer, filePath, blob) > 0);
  const digest = `sha256:${blob.hash.digest('hex')}`;
  if (expectLayer && (expectLayer.digest !== digest || expectLayer.size !== blob.size)) {
    throw new CtxpackError('CTX_DIGEST_MISMATCH', `layer ${expectLayer.digest} hashes to ${digest} (${blob.size} bytes)`, {
      subject: expectLayer.digest,
      hint: 'the pantry is damaged; remove the pack (`ctxpack rm`), run `ctxpack gc` and seed it again',
      cause,
    });
  }
  return digest;
}

function readLayerChunk(fd, buffer, filePath, blob) {
  let read;
  try {
    read = fs.readSync(fd, buffer, 0, buffer.length, null);
  } catch (error) {
    throw toCtxpackError(error, filePath);
  }
  blob.hash.update(buffer.subarray(0, read));
  blob.size += read;
  return read;
}

function openPack(filePath) {
  try {
    const fd = fs.openSync(filePath, 'r');
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      throw new CtxpackError('CTX_IO', `${filePath} is not a file`, { subject: filePath });
    }
    return fd;
  } catch (error) {
    if (error.code === 'ENOENT') {
      throw new CtxpackError('CTX_NOT_FOUND', `${filePath} does not exist`, {
        subject: filePath,
        hint: 'give a ctx:// URI from `ctxpack ls`, or the path of a .tar.gz pack',
      });
    }
    throw toCtxpackError(error, filePath);
  }
}
