// Drive the core's PackReader over a .tar.gz on disk: read in 1 MiB chunks, hash each file's content with
// node:crypto and hand the digest back to the core, which checks it against the manifest. Memory stays
// bounded whatever the pack's size.
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
 * Read and verify a pack file.
 * @param {string} filePath
 * @param {object} options
 * @param {PackVisitor} [options.visitor]
 * @param {object} [options.limits]          Partial<Limits> for the core's reader
 * @param {string} [options.expectUri]       the pack must be this URI
 * @param {{digest: string, size: number}} [options.expectLayer] the file must be this blob
 * @param {boolean} [options.stopAfterManifest] stop once the manifest is read (inspect)
 * @param {(bytes: number) => void} [options.onBytes] compressed bytes consumed
 * @returns {{uri: string, manifest: object, files: number, bytes: number, compressedBytes: number, layerDigest: string}
 *   | {manifest: object, manifestBytes: Uint8Array}}
 */
export function readPackFile(filePath, { visitor = {}, limits, expectUri, expectLayer, stopAfterManifest = false, onBytes } = {}) {
  const fd = openPack(filePath);
  const reader = new core.PackReader({ limits, hashContent: false, expectUri });
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  const layerHash = createHash('sha256');
  let layerSize = 0;
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
      const read = readChunk(fd, buffer, filePath);
      if (read === 0) break;
      const chunk = buffer.subarray(0, read);
      layerHash.update(chunk);
      layerSize += read;
      onBytes?.(read);
      reader.push(chunk);
    }
    const result = reader.finish();
    // Whatever follows the pack in the file still belongs to the blob whose digest is checked.
    for (let read = readChunk(fd, buffer, filePath); read > 0; read = readChunk(fd, buffer, filePath)) {
      layerHash.update(buffer.subarray(0, read));
      layerSize += read;
    }
    const layerDigest = `sha256:${layerHash.digest('hex')}`;
    if (expectLayer && (expectLayer.digest !== layerDigest || expectLayer.size !== layerSize)) {
      throw new CtxpackError('CTX_DIGEST_MISMATCH', `layer ${expectLayer.digest} hashes to ${layerDigest} (${layerSize} bytes)`, {
        subject: expectLayer.digest,
        hint: 'the pantry is damaged; remove the pack (`ctxpack rm`), run `ctxpack gc` and seed it again',
      });
    }
    return { ...result, layerDigest };
  } finally {
    fs.closeSync(fd);
    reader.free();
  }
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

function readChunk(fd, buffer, filePath) {
  try {
    return fs.readSync(fd, buffer, 0, buffer.length, null);
  } catch (error) {
    throw toCtxpackError(error, filePath);
  }
}
