// cat and listFiles: one file of a pack, or the list of its files, from the pantry or straight from a registry.
// A file is always checked against the digest in the pack's verified manifest. Each layer's descriptor may carry
// its block index (spec §10), with which only the compressed blocks holding the file are read: from the pantry's
// layer blob at those offsets, or from a registry with HTTP range requests. Without one (or with a wrong one)
// the layer is read from its start up to the file.
import fs from 'node:fs';
import * as core from './core-node.mjs';
import { CtxpackError, isCtxpackError } from './errors.mjs';
import { readLayerFile } from './pack-stream.mjs';
import { openPantry } from './pantry.mjs';
import { registryHost, requireRegistry } from './registry/config.mjs';
import { createRegistryClient, withHostHint } from './stores/remote-store.mjs';

/** Files up to this size are held in memory and handed over only once verified. */
export const DEFAULT_MAX_BUFFER_BYTES = 64 * 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;
/** A seek that fails with one of these (a wrong index, bad bytes) is retried from the layer's start. */
const FALLBACK_CODES = new Set(['CTX_OCI_INVALID', 'CTX_GZIP_CORRUPT', 'CTX_TRUNCATED', 'CTX_DIGEST_MISMATCH', 'CTX_SIZE_MISMATCH']);

/**
 * @typedef {object} CatOptions
 * @property {string} [home]       pantry location; a pack the pantry holds is read from there
 * @property {string} [registry]   "<host>[:port]/<repository>" for a pack the pantry does not hold (default
 *                                 $CTXPACK_REGISTRY, then the config file)
 * @property {boolean} [insecure]  @property {number} [timeout]  @property {string} [caFile]  as for pull
 * @property {NodeJS.ProcessEnv} [env]
 * @property {object} [limits]     Partial<Limits> for the manifest and the layer
 * @property {number} [maxBufferBytes] files up to this size are verified before they are handed over (default 64 MiB)
 * @property {(chunk: Uint8Array) => void | Promise<void>} [write] where the bytes go; without it they are returned
 * @property {(event: {kind: string, message: string}) => void} [onEvent]
 */

/**
 * One file of a pack (a symlink in the pack is followed), verified against the manifest's size and digest.
 * Without `write`, the bytes are returned (CTX_LIMIT_EXCEEDED past maxBufferBytes). With `write`, a file up to
 * maxBufferBytes is written once verified; a larger one is written as it is read and the promise rejects (with
 * CTX_DIGEST_MISMATCH, …) if the check then fails: what was written must not be used.
 * @param {string} uri
 * @param {string} path
 * @param {CatOptions} [options]
 * @returns {Promise<{uri: string, source: 'pantry' | 'registry', registry?: string,
 *   file: {path: string, size: number, digest: string}, fetchedBytes: number, seeked: boolean, fallback?: string,
 *   bytes?: Uint8Array}>}
 */
export async function cat(uri, path, options = {}) {
  const canonical = core.parseUri(uri);
  const pantry = openPantry(options);
  if (pantry.has(canonical)) return catFromPantry(pantry, canonical, path, options);
  return catFromRegistry(canonical, path, options);
}

/**
 * The files of a pack, from its verified manifest: the pantry's, else the registry's (without reading a layer).
 * @param {string} uri
 * @param {Omit<CatOptions, 'write' | 'maxBufferBytes'>} [options]
 * @returns {Promise<{uri: string, source: 'pantry' | 'registry', registry?: string, files: Array<{path: string,
 *   type: 'file' | 'symlink', size?: number, digest?: string, executable?: boolean, target?: string}>}>}
 */
export async function listFiles(uri, options = {}) {
  const canonical = core.parseUri(uri);
  const pantry = openPantry(options);
  if (pantry.has(canonical)) {
    const pack = pantry.loadPack(canonical);
    const manifest = core.parseManifest(pantry.fetchBytes(pack.config));
    return { uri: canonical, source: 'pantry', files: manifest.outputs.entries };
  }
  const { client, name } = registryClient(options);
  const opened = await client.openPack(canonical, { limits: options.limits }).catch((error) => { throw withHostHint(error); });
  return { uri: canonical, source: 'registry', registry: name, files: opened.manifest.outputs.entries };
}

async function catFromPantry(pantry, uri, path, options) {
  const pack = pantry.loadPack(uri);
  const manifest = pantry.fetchBytes(pack.config);
  const seek = new core.FileSeek(manifest, pack.layers, path);
  const file = seek.file;
  const out = createOutput(file, options);
  let fallback = seek.fallback;
  let fetchedBytes = 0;
  let seeked = false;
  const fd = pantry.openBlob(pack.layers[file.layer]);
  try {
    if (seek.range) {
      try {
        fetchedBytes = await readRange(fd, seek, out);
        seeked = true;
      } catch (error) {
        if (!isCtxpackError(error) || !FALLBACK_CODES.has(error.code) || !out.restart()) throw error;
        fallback = error.message;
      }
    }
    if (!seeked) {
      const { limits } = options;
      fetchedBytes += await readLayerFile(fd, { manifest, layer: file.layer, path: file.path, limits, onData: out.write });
    }
  } finally {
    fs.closeSync(fd);
    seek.free();
  }
  const bytes = await out.end();
  return describe({ uri, source: 'pantry', file, fetchedBytes, seeked, fallback, bytes });
}

/** The block range of the layer blob through the seeker; its digest checked at the end. */
async function readRange(fd, seek, out) {
  const { start, end } = seek.range;
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let position = start;
  while (position < end && !seek.done()) {
    const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, end - position), position);
    if (read === 0) break;
    position += read;
    const bytes = seek.push(buffer.subarray(0, read));
    if (bytes.length > 0) await out.write(bytes);
  }
  seek.finish();
  return position - start;
}

async function catFromRegistry(uri, path, options) {
  const { client, name } = registryClient(options);
  const { limits, write } = options;
  const maxBufferBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
  let read;
  try {
    read = await client.readFile(uri, path, { limits, maxBufferBytes, onData: write });
  } catch (error) {
    throw withHostHint(error);
  }
  const { file, fetchedBytes, seeked, fallback, bytes } = read;
  return describe({ uri, source: 'registry', registry: name, file, fetchedBytes, seeked, fallback, bytes });
}

function registryClient(options) {
  const registry = requireRegistry(options.registry, options);
  const { insecure, env, timeout, caFile, onEvent } = options;
  const client = createRegistryClient({ registry, insecure, env, timeout, caFile, onEvent, envHost: registryHost(registry) });
  const { host, repository } = client.registry;
  return { client, name: `${host}/${repository}` };
}

/**
 * Where a file's bytes go: collected up to maxBufferBytes (and written once verified, with `write`), or
 * written as they come. `restart()` forgets what was collected; false once bytes went out.
 */
function createOutput(file, { write, maxBufferBytes = DEFAULT_MAX_BUFFER_BYTES }) {
  const streaming = file.size > maxBufferBytes;
  if (streaming && !write) {
    throw new CtxpackError('CTX_LIMIT_EXCEEDED', `${file.path} holds ${file.size} bytes, more than the ${maxBufferBytes} cat keeps in memory`, {
      subject: file.path,
      hint: 'pass `write` to receive it piece by piece, or raise maxBufferBytes',
    });
  }
  const chunks = [];
  let handedOn = false;
  return {
    async write(bytes) {
      if (!streaming) return void chunks.push(bytes);
      handedOn = true;
      await write(bytes);
    },
    restart() {
      chunks.length = 0;
      return !handedOn;
    },
    /** After verification: the collected bytes go to `write`, or are returned. */
    async end() {
      if (streaming) return undefined;
      const bytes = new Uint8Array(Buffer.concat(chunks));
      if (!write) return bytes;
      await write(bytes);
      return undefined;
    },
  };
}

function describe({ uri, source, registry, file, fetchedBytes, seeked, fallback, bytes }) {
  return {
    uri,
    source,
    ...(registry ? { registry } : {}),
    file: { path: file.path, size: file.size, digest: file.digest },
    fetchedBytes,
    seeked,
    ...(fallback ? { fallback } : {}),
    ...(bytes ? { bytes } : {}),
  };
}
