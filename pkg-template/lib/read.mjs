// inspect / verify / unpack a pack named by a ctx:// URI (from the pantry) or by the path of a .tar.gz, and
// verifyStoredPack for a pack whose blobs are in the pantry before it is tagged (pull). A pantry pack is read
// layer by layer against its manifest.json (spec §7.3); a .tar.gz is one whole archive.
import fs from 'node:fs';
import path from 'node:path';
import * as core from './core-node.mjs';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { readPackFile } from './pack-stream.mjs';
import { openPantry } from './pantry.mjs';
import { phaseReporter } from './progress.mjs';
import { createEntryPlacer, fillFreshTarget } from './target.mjs';

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
    const configBytes = source.pantry.fetch(source.pack.config);
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
 * Verify a pack whose blobs are in the pantry but which is not (yet) in index.json, as a pull does before
 * tagging it: the OCI manifest, its manifest.json (URI re-derived from the contract, and the one the OCI
 * manifest names), and every layer through the core's reader, except those a pull verified while they
 * streamed in (`verifiedLayers`: layer index → the result of verifying that digest at that index against the
 * same manifest.json, as pack-stream.mjs reports it).
 * @param {import('./pantry.mjs').Pantry} pantry
 * @param {{digest: string, size: number, mediaType?: string}} manifestDescriptor the OCI image manifest
 * @param {{expectUri?: string, limits?: object, onProgress?: Function,
 *   verifiedLayers?: Map<number, {digest: string, files: number, bytes: number, compressedBytes: number}>}} [options]
 * @returns {{uri: string, files: number, bytes: number}}
 */
export function verifyStoredPack(pantry, manifestDescriptor, { expectUri, limits, onProgress, verifiedLayers } = {}) {
  const parsed = core.ociParsePackManifest(pantry.fetch(manifestDescriptor));
  const uri = expectUri === undefined ? parsed.uri : core.parseUri(expectUri);
  if (parsed.uri !== uri) {
    throw new CtxpackError('CTX_URI_MISMATCH', `the OCI manifest ${manifestDescriptor.digest} is for ${parsed.uri}, not ${uri}`, {
      subject: manifestDescriptor.digest,
      hint: 'the source returned a different pack than the one asked for; do not trust it',
    });
  }
  const pack = { uri, config: parsed.manifestJson, layers: parsed.packLayers };
  const verified = (descriptor, layer) => verifiedLayers?.get(layer)?.digest === descriptor.digest;
  const totalBytes = layersSize(pack.layers.filter((descriptor, layer) => !verified(descriptor, layer)));
  const onBytes = phaseReporter(onProgress, 'verify', totalBytes);
  const result = readStoredLayers(pantry, pack, { limits, visitor: {}, onBytes, verifiedLayers });
  return { uri: result.uri, files: result.files, bytes: result.bytes };
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
  const placeEntry = createEntryPlacer(dir);
  const symlinks = [];
  let fd;
  let currentPath;
  try {
    const result = readSource(source, options, {
      entry(entry) {
        if (entry.type === 'symlink') {
          symlinks.push(entry);
          return;
        }
        currentPath = entry.path;
        const mode = entry.executable ? 0o755 : 0o644;
        fd = createExclusive(placeEntry(entry.path), mode, entry.path);
        fs.fchmodSync(fd, mode);
      },
      data(bytes) {
        let offset = 0;
        while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
      },
      end() {
        if (fd === undefined) return;
        fs.closeSync(fd);
        fd = undefined;
      },
    }, 'unpack');
    for (const link of symlinks) {
      currentPath = link.path;
      fs.symlinkSync(link.target, placeEntry(link.path));
    }
    return result;
  } catch (error) {
    throw toCtxpackError(error, currentPath);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function readSource(source, options, visitor, phase) {
  if (source.kind === 'pantry') {
    const onBytes = phaseReporter(options.onProgress, phase, layersSize(source.pack.layers));
    return readStoredLayers(source.pantry, source.pack, { visitor, limits: options.limits, onBytes });
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
 * Read every layer of a pantry pack, in order, against its manifest.json: the core re-derives the URI,
 * requires each layer to hold exactly its group (for a single-layer pack, manifest.json first and equal to
 * the config), and each blob must match its descriptor. A layer in `verifiedLayers` with the same digest
 * was verified as it was written (see verifyStoredPack) and is counted, not read.
 * @param {import('./pantry.mjs').Pantry} pantry
 * @param {{uri: string, config: object, layers: object[]}} pack
 */
export function readStoredLayers(pantry, pack, { visitor, limits, onBytes, verifiedLayers }) {
  const manifestBytes = pantry.fetch(pack.config);
  const { layers } = core.packLayout(manifestBytes);
  if (layers.length !== pack.layers.length) {
    throw new CtxpackError('CTX_OCI_INVALID', `${pack.uri} has ${pack.layers.length} layer(s), its manifest.json lays out ${layers.length}`, {
      subject: pack.uri,
      hint: 'the OCI manifest does not describe this pack; fetch or seed it again',
    });
  }
  const totals = { uri: pack.uri, files: 0, bytes: 0, compressedBytes: 0, layerDigests: [] };
  pack.layers.forEach((descriptor, layer) => {
    const streamed = verifiedLayers?.get(layer);
    const result = streamed?.digest === descriptor.digest && streamed.uri === pack.uri ? { ...streamed, layerDigest: descriptor.digest } : readPackFile(pantry.blobPath(descriptor.digest), {
      visitor,
      limits,
      expectUri: pack.uri,
      manifest: manifestBytes,
      layer,
      expectLayer: descriptor,
      onBytes,
    });
    totals.files += result.files;
    totals.bytes += result.bytes;
    totals.compressedBytes += result.compressedBytes;
    totals.layerDigests.push(result.layerDigest);
  });
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

function createExclusive(filePath, mode, entryPath) {
  try {
    return fs.openSync(filePath, 'wx', mode);
  } catch (error) {
    if (error.code === 'EEXIST') {
      throw new CtxpackError('CTX_ENTRY_DUPLICATE', `the pack holds ${entryPath} twice`, { subject: entryPath });
    }
    throw toCtxpackError(error, entryPath);
  }
}

/** For the progress total only: a file that cannot be read is reported by readPackFile. */
function fileSize(filePath) {
  try {
    return fs.statSync(filePath).size;
  } catch {
    return 0;
  }
}
