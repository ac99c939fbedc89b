// Drive the core's PackReader over a pack's bytes: hash each file's content with node:crypto and hand the
// digest back to the core, which checks it against the manifest. Memory stays bounded whatever the pack's
// size. A whole pack (manifest.json first) or one layer of a pack whose manifest the caller already has
// (spec §7.3); from a .tar.gz on disk (readPackFile) or pushed as it arrives (createPackVerifier, the pull).
import fs from 'node:fs';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import * as core from './core-node.mjs';
import { CtxpackError, toCtxpackError } from './errors.mjs';

const READ_CHUNK_BYTES = 1024 * 1024;
const utf8 = new TextDecoder();

/**
 * @typedef {object} PackVisitor
 * @property {(event: {uri: string}) => void} [manifest]  the manifest is verified (`manifestBytes()` gives it)
 * @property {(event: {path: string, type: 'file' | 'symlink', size: number, executable: boolean, target?: string}) => void} [entry]
 * @property {(bytes: Uint8Array) => void} [data]   content of the current file: a view of the core's memory,
 *                                                  valid until data returns and while nothing calls into the
 *                                                  core (copy what is kept, or given to the core)
 * @property {() => void} [end]                     the current entry is complete
 */

/**
 * A push-based verifier of a pack or of one layer: feed it the archive's bytes in order, then finish().
 * The core checks structure, sizes and the tree; each file's content is hashed here with node:crypto
 * (faster than the core's SHA-256) and the digest handed back to the core, which compares it; so is the gzip
 * CRC-32, with zlib.crc32.
 * @param {object} options
 * @param {PackVisitor} [options.visitor]
 * @param {object} [options.limits]          Partial<Limits> for the core's reader
 * @param {string} [options.expectUri]       the pack must be this URI
 * @param {Uint8Array} [options.manifest]    with `layer`: the pack's manifest.json bytes
 * @param {number} [options.layer]          with `manifest`: which layer of the pack's layout the bytes are
 * @param {boolean} [options.stopAfterManifest] stop once the manifest is read; it is then in `head`
 * @returns {{write(chunk: Uint8Array): void, wantsInput(): boolean, finish(): {uri: string,
 *   files: number, bytes: number, compressedBytes: number}, free(): void,
 *   head: {manifest: object, manifestBytes: Uint8Array} | undefined}}
 */
export function createPackVerifier({ visitor = {}, limits, expectUri, manifest, layer, stopAfterManifest = false } = {}) {
  // zlib.crc32 (Node >= 20.15) computes the gzip CRC-32 several times as fast as the core in wasm; the core
  // still compares it with the trailer. Without it, the core computes it.
  const reader = new core.PackReader({ limits, hashContent: false, expectUri, manifest, layer, crc32: zlib.crc32 });
  let fileHash = null;
  let freed = false;
  const verifier = {
    head: undefined,
    /** False once the archive ended (or the manifest was read, with stopAfterManifest): later bytes are not read. */
    wantsInput: () => verifier.head === undefined && reader.wantsInput(),
    write(chunk) {
      if (!verifier.wantsInput()) return;
      reader.push(chunk);
      drain();
    },
    finish() {
      drain();
      return reader.finish();
    },
    free() {
      if (freed) return;
      freed = true;
      reader.free();
    },
  };
  function drain() {
    // Content comes as views of the core's memory, hashed and handed on before the next call: nothing is copied.
    for (let event = reader.nextView(); event != null; event = reader.nextView()) {
      switch (event.kind) {
        case 'manifest':
          if (stopAfterManifest) {
            // The core verified these bytes; they are the manifest's JSON. Only inspect wants the object.
            const manifestBytes = reader.manifestBytes();
            verifier.head = { manifest: JSON.parse(utf8.decode(manifestBytes)), manifestBytes };
            return;
          }
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
    }
  }
  return verifier;
}

/**
 * Read and verify a pack file, or with `manifest` and `layer` one layer of a pack (no manifest event then).
 * @param {string} filePath
 * @param {object} options                   those of createPackVerifier, and:
 * @param {{digest: string, size: number}} [options.expectLayer] the file must be this blob
 * @param {(bytes: number) => void} [options.onBytes] compressed bytes consumed
 * @returns {{uri: string, files: number, bytes: number, compressedBytes: number, layerDigest: string}
 *   | {manifest: object, manifestBytes: Uint8Array}}
 */
export function readPackFile(filePath, { expectLayer, onBytes, ...options } = {}) {
  const fd = openPack(filePath);
  let verifier;
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  const blob = { hash: createHash('sha256'), size: 0, finished: false };
  try {
    verifier = createPackVerifier(options);
    while (verifier.wantsInput()) {
      const read = readLayerChunk(fd, buffer, filePath, blob);
      if (read === 0) break;
      onBytes?.(read);
      verifier.write(buffer.subarray(0, read));
    }
    if (verifier.head) return verifier.head;
    const result = verifier.finish();
    const layerDigest = finishLayer(fd, buffer, filePath, blob, expectLayer);
    return { ...result, layerDigest };
  } catch (error) {
    // A pantry blob that fails to read is best explained by its digest, when that no longer matches.
    if (expectLayer && !blob.finished) finishLayer(fd, buffer, filePath, blob, expectLayer, error);
    throw error;
  } finally {
    fs.closeSync(fd);
    verifier?.free();
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

/**
 * One file of a stored layer, read from the layer's start through the verifying reader up to that file's end
 * (its size and digest checked), for layers without a usable block index.
 * @param {number} fd                 the layer blob, open for reading
 * @param {object} options
 * @param {Uint8Array} options.manifest the pack's manifest.json bytes
 * @param {number} options.layer      which layer of the pack's layout the blob is
 * @param {string} options.path       the file's path in the pack
 * @param {object} [options.limits]   Partial<Limits>
 * @param {(bytes: Uint8Array) => void | Promise<void>} options.onData the file's bytes, before their check
 * @returns {Promise<number>} the layer bytes read
 */
export async function readLayerFile(fd, { manifest, layer, path, limits, onData }) {
  const pending = [];
  let inside = false;
  let done = false;
  const visitor = {
    entry: (event) => void (inside = event.path === path),
    data: (bytes) => void (inside && pending.push(bytes.slice())),
    end: () => void (done ||= inside),
  };
  const verifier = createPackVerifier({ visitor, limits, manifest, layer });
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let position = 0;
  try {
    // `end` comes before the reader checks the digest, which write() does before it returns.
    while (!done && verifier.wantsInput()) {
      let read;
      try {
        read = fs.readSync(fd, buffer, 0, buffer.length, position);
      } catch (error) {
        throw toCtxpackError(error, path);
      }
      if (read === 0) break;
      position += read;
      verifier.write(buffer.subarray(0, read));
      // onData's own failures (EPIPE when stdout's reader is gone) reach the caller as they are.
      for (const chunk of pending.splice(0)) await onData(chunk);
    }
    if (!done) verifier.finish();
  } finally {
    verifier.free();
  }
  if (!done) throw new CtxpackError('CTX_ENTRY_MISSING', `layer ${layer} does not hold ${path}`, { subject: path });
  return position;
}
