// inspect / verify / unpack a pack named by a ctx:// URI (from the pantry) or by the path of a .tar.gz. A
// pantry pack is read layer by layer against its manifest.json (spec §7.3); a .tar.gz is one whole archive.
// (A pack copied into the pantry is verified before it is tagged by stores/verifying-store.mjs.)
import fs from 'node:fs';
import path from 'node:path';
import * as core from './core-node.mjs';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { createExtractor, createSymlinks, readLayer } from './extract.mjs';
import * as layerPool from './layer-pool.mjs';
import { readPackFile } from './pack-stream.mjs';
import { openPantry } from './pantry.mjs';
import { phaseReporter } from './progress.mjs';
import { fillFreshTarget } from './output-dir.mjs';

/**
 * @typedef {object} ReadOptions
 * @property {string} [home]           pantry location (default $CTXPACK_HOME or ~/.cache/ctxpack)
 * @property {object} [limits]         Partial<Limits>: maxManifestBytes, maxProvenanceBytes, maxEntryBytes, maxTotalBytes,
 *                                     maxEntries, maxRatio
 * @property {string} [expectUri]      for a .tar.gz: the URI the pack must have
 * @property {(event: {phase: string, bytes: number, totalBytes: number}) => void} [onProgress]
 */

/**
 * Where a pack's bytes are: the layer blobs of a pantry entry, or a file.
 * @param {string} ref a ctx:// URI or a path to a .tar.gz
 * @param {ReadOptions} options
 */
export function resolvePackRef(ref, options = {}) {
  if (typeof ref !== 'string' || ref === '') {
    throw new CtxpackError('CTX_USAGE', 'no pack given: pass a ctx:// URI or the path of a .tar.gz');
  }
  if (ref.startsWith('ctx:')) {
    const pantry = openPantry(options);
    const pack = pantry.loadPack(ref);
    return { kind: 'pantry', uri: pack.uri, expectUri: pack.uri, pantry, pack };
  }
  return { kind: 'file', filePath: path.resolve(ref), expectUri: options.expectUri };
}

/** Summary of a manifest's outputs: tree digest, counts and bytes. */
export function outputsSummary(manifest) {
  let files = 0;
  let symlinks = 0;
  let bytes = 0;
  for (const entry of manifest.outputs.entries) {
    if (entry.type === 'file') {
      files += 1;
      bytes += entry.size;
    } else {
      symlinks += 1;
    }
  }
  return { digest: manifest.outputs.digest, files, symlinks, bytes };
}

/**
 * Contract, outputs summary, provenance and sizes. A .tar.gz is read only up to its manifest.
 * @param {string} ref
 * @param {ReadOptions} [options]
 */
export function inspect(ref, options = {}) {
  const source = resolvePackRef(ref, options);
  let manifest;
  let sizes;
  if (source.kind === 'pantry') {
    const configBytes = source.pantry.fetchBytes(source.pack.config);
    manifest = core.parseManifest(configBytes);
    sizes = { layer: layersSize(source.pack.layers), config: source.pack.config.size };
  } else {
    const head = readPackFile(source.filePath, { limits: options.limits, expectUri: source.expectUri, stopAfterManifest: true });
    manifest = head.manifest;
    sizes = { layer: fs.statSync(source.filePath).size, config: head.manifestBytes.length };
  }
  return {
    uri: manifest.uri,
    source: source.kind,
    contract: manifest.contract,
    outputs: outputsSummary(manifest),
    provenance: manifest.provenance,
    sizes,
    ...(source.kind === 'pantry' ? { ...layerDigests(source.pack.layers), created: source.pack.created } : {}),
  };
}

/**
 * Verify a pack completely, streaming: manifest, URI, every entry's size and digest, the tree digest,
 * nothing missing or extra (and for the pantry, the layer blob's digest and its config).
 * @param {string} ref
 * @param {ReadOptions} [options]
 */
export function verify(ref, options = {}) {
  const source = resolvePackRef(ref, options);
  const result = readSource(source, options, {}, 'verify');
  return summarize(source, result);
}

/**
 * Verify and extract a pack into `outDir`, which must be absent or empty. Everything is written into a
 * temporary directory beside it and moved into place only once the whole pack verified.
 * @param {string} ref
 * @param {string} outDir
 * @param {ReadOptions} [options]
 */
export async function unpack(ref, outDir, options = {}) {
  const source = resolvePackRef(ref, options);
  const target = path.resolve(outDir);
  const result = await fillFreshTarget(target, (tempDir) => extractSource(source, tempDir, options));
  return { ...summarize(source, result), path: target };
}

/**
 * Extract a resolved pack into an existing empty directory. Files are created exclusively (an existing
 * path or link is never followed); symlinks are created only after the whole pack verified.
 */
export function extractSource(source, dir, options) {
  if (source.kind === 'pantry') {
    const result = readSource(source, options, { extractTo: dir }, 'unpack');
    createSymlinks(dir, result.symlinks);
    return result;
  }
  const extractor = createExtractor(dir);
  try {
    const result = readSource(source, options, { visitor: extractor.visitor }, 'unpack');
    createSymlinks(dir, extractor.symlinks);
    return result;
  } catch (error) {
    throw toCtxpackError(error, extractor.currentPath());
  } finally {
    extractor.close();
  }
}

function readSource(source, options, { visitor, extractTo }, phase) {
  if (source.kind === 'pantry') {
    const onBytes = phaseReporter(options.onProgress, phase, layersSize(source.pack.layers));
    return readStoredLayers(source.pantry, source.pack, { visitor, extractTo, limits: options.limits, onBytes });
  }
  const result = readPackFile(source.filePath, {
    visitor,
    limits: options.limits,
    expectUri: source.expectUri,
    onBytes: phaseReporter(options.onProgress, phase, fileSize(source.filePath)),
  });
  return { ...result, layerDigests: [result.layerDigest] };
}

/**
 * Read every layer of a pantry pack against its manifest.json: the core checks the pack's identity
 * (ociVerifyPack: manifest.json is the blob the image manifest names, its URI re-derives and is the one
 * asked for, the layers are as many as its layout), then requires each layer to hold exactly its group (for a
 * single-layer pack, manifest.json first and equal to the config), and each blob must match its descriptor.
 * Several layers are read side by side on worker threads (layer-pool.mjs); the first failing layer's error, in
 * layout order, is the one reported.
 * @param {import('./pantry.mjs').Pantry} pantry
 * @param {{uri: string, manifest: object, config: object}} pack as loadPack gives it
 * @param {{visitor?: object, extractTo?: string, limits?: object, onBytes?: (bytes: number) => void}} options
 *   visitor: sees every layer's entries, in order, on this thread; extractTo: extract into this directory
 *   (symlinks are returned in `symlinks`, not created)
 */
export function readStoredLayers(pantry, pack, { visitor, extractTo, limits, onBytes }) {
  const manifestBytes = pantry.fetchBytes(pack.config);
  const { groups } = core.ociVerifyPack(pantry.fetchBytes(pack.manifest), manifestBytes, { expectUri: pack.uri, limits });
  const jobs = groups.map(({ index, bytes, layer: descriptor }) => ({
    kind: 'read',
    weight: bytes,
    args: {
      blobPath: pantry.blobPath(descriptor.digest),
      extractTo,
      limits,
      expectUri: pack.uri,
      manifest: manifestBytes,
      layer: index,
      expectLayer: { digest: descriptor.digest, size: descriptor.size },
    },
  }));
  // A visitor sees the entries in order (export), and one layer is quicker read than a thread started.
  const results = visitor !== undefined || jobs.length === 1
    ? jobs.map(({ args }) => readLayer(args, { visitor, onBytes }))
    : layerPool.runSync(jobs, { onBytes });
  const totals = { uri: pack.uri, files: 0, bytes: 0, compressedBytes: 0, layerDigests: [], symlinks: [] };
  for (const result of results) {
    totals.files += result.files;
    totals.bytes += result.bytes;
    totals.compressedBytes += result.compressedBytes;
    totals.layerDigests.push(result.layerDigest);
    totals.symlinks.push(...result.symlinks);
  }
  return totals;
}

function summarize(source, result) {
  return {
    uri: result.uri,
    source: source.kind,
    files: result.files,
    bytes: result.bytes,
    compressedBytes: result.compressedBytes,
    ...layerDigests(result.layerDigests.map((digest) => ({ digest }))),
  };
}

/** `layerDigest` (the first or only layer) and `layerDigests` (all, in order). */
function layerDigests(layers) {
  return { layerDigest: layers[0].digest, layerDigests: layers.map((layer) => layer.digest) };
}

function layersSize(layers) {
  return layers.reduce((sum, layer) => sum + layer.size, 0);
}

/** For the progress total only: a file that cannot be read is reported by readPackFile. */
function fileSize(filePath) {
  try {
    return fs.statSync(filePath).size;
  } catch {
    return 0;
  }
}
