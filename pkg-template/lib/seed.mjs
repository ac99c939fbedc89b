// seed: pack an output folder under a contract into the pantry.
// identity → walk + hash the folder → manifest.json (core) → reproducible .tar.gz layers (one, or several for
// a large pack: spec §7.3, written side by side on worker threads) streamed through the core's PackWriter into
// blobs, each descriptor annotated with its block index (spec §10) → config + OCI manifest blobs →
// index entry. One lock per URI, so concurrent seeds of
// the same URI do the work once and never corrupt anything; a lease keeps gc off the blobs until the entry is
// recorded, and a failed seed removes the blobs it wrote.
import fs from 'node:fs';
import * as core from './core-node.mjs';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { computeIdentity } from './identity.mjs';
import { releaseIdleHashThreads } from './hash-pool.mjs';
import * as layerPool from './layer-pool.mjs';
import { drainInto, packLayer } from './pack-layer.mjs';
import { MEDIA_TYPES, openPantry } from './pantry.mjs';
import { phaseReporter } from './progress.mjs';
import { outputsSummary } from './read.mjs';
import { fileBytes, hashTree } from './tree.mjs';
import { PACKAGE_VERSION } from './version.mjs';

/** The annotation of a layer descriptor that holds the layer's block index (spec §10). */
const BLOCKS_ANNOTATION = 'dev.ctxpack.blocks';

/**
 * @param {string} dir the output folder to pack
 * @param {import('./identity.mjs').ContractSource & {
 *   identity?: {uri: string, contract: object}, provenance?: object,
 *   home?: string, sourceDateEpoch?: number, followLinks?: boolean, lockTimeoutMs?: number,
 *   onProgress?: (event: {phase: string, bytes: number, totalBytes: number}) => void,
 *   onWarning?: (message: string) => void,
 * }} options `identity` (from computeIdentity) skips hashing the inputs again; otherwise the identity's
 *   warnings go to `onWarning`; `provenance`: fields added to (or replacing) the pack's provenance, which is
 *   never part of its identity
 */
export async function seed(dir, options = {}) {
  assertDirectory(dir);
  let { identity } = options;
  if (identity === undefined) {
    identity = await computeIdentity(options);
    for (const warning of identity.warnings) options.onWarning?.(warning);
  }
  const { uri } = identity;
  const pantry = openPantry(options);
  if (pantry.has(uri)) return describeStored(pantry, uri, true);
  return pantry.withLock(`seed-${core.uriTag(uri)}`, () => pantry.withLease('seed', async () => {
    // Another process may have finished the same seed while we waited for the lock.
    if (pantry.has(uri)) return describeStored(pantry, uri, true);

    const tree = await hashTree(dir, { followLinks: options.followLinks, onProgress: options.onProgress });
    const epoch = sourceDateEpoch(options);
    const created = isoSeconds(epoch ?? Math.floor(Date.now() / 1000));
    const { bytes: manifestBytes } = core.buildManifest({
      contract: identity.contract,
      entries: tree.entries,
      provenance: {
        created,
        ctxpack_version: PACKAGE_VERSION,
        platform: `${process.platform}-${process.arch} node-${process.versions.node}`,
        tool: 'ctxpack seed',
        ...options.provenance,
      },
    });

    const layers = await writeLayers(pantry, manifestBytes, tree, { mtime: epoch ?? 0, onProgress: options.onProgress });
    const config = await pantry.pushBytes(manifestBytes, MEDIA_TYPES.packManifest);
    const ociManifest = core.ociPackManifest({ config, layers, uri, created });
    const manifest = await pantry.pushBytes(ociManifest.bytes, MEDIA_TYPES.ociManifest);
    await pantry.tag(manifest, uri);
    return describeStored(pantry, uri, false);
  }));
}

/** SOURCE_DATE_EPOCH (option, else environment): seconds since 1970, for reproducible times. */
export function sourceDateEpoch({ sourceDateEpoch: given } = {}) {
  const value = given ?? process.env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new CtxpackError('CTX_USAGE', `SOURCE_DATE_EPOCH must be a whole number of seconds, got ${JSON.stringify(value)}`, {
      subject: 'SOURCE_DATE_EPOCH',
      hint: 'set it to e.g. $(git log -1 --format=%ct), or unset it',
    });
  }
  return seconds;
}

/** ISO-8601 UTC to the second: 2024-01-02T03:04:05Z. */
function isoSeconds(epochSeconds) {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Write every layer of the pack's layout; returns their descriptors, in layout order. A single layer is written
 * on this thread; several are written side by side on worker threads (layer-pool.mjs), each layer's gzip bytes
 * passed back here through a shared ring buffer into its blob.
 */
async function writeLayers(pantry, manifestBytes, tree, { mtime, onProgress }) {
  const onBytes = phaseReporter(onProgress, 'pack', fileBytes(tree.entries));
  const layers = core.packLayout(manifestBytes).layers;
  const blobs = new Array(layers.length);
  let indexes;
  try {
    if (layers.length === 1) {
      blobs[0] = pantry.ingest();
      indexes = [await packLayer(manifestBytes, { mtime, layer: 0, sources: tree.sources, drain: drainInto((bytes) => blobs[0].write(bytes)), onBytes })];
    } else {
      const jobs = layers.map(({ index, start, entries, bytes }) => ({
        kind: 'pack',
        weight: bytes,
        args: { manifestBytes, mtime, layer: index, sources: layerSources(tree, start, entries) },
      }));
      const onOutput = (index, chunk) => (blobs[index] ??= pantry.ingest()).write(chunk);
      // The inputs are hashed: their threads make way for the layer writers (peak memory).
      await releaseIdleHashThreads();
      indexes = (await layerPool.run(jobs, { onOutput, onBytes })).map((result) => result.blocks);
    }
  } catch (error) {
    for (const blob of blobs) blob?.abort();
    throw error;
  }
  const descriptors = [];
  try {
    for (const [index, blob] of blobs.entries()) {
      // The block index lets a reader fetch one file without the rest of the layer (spec §10); not identity.
      descriptors.push({ ...(await blob.commit(MEDIA_TYPES.layer)), annotations: { [BLOCKS_ANNOTATION]: indexes[index] } });
    }
  } catch (error) {
    for (const blob of blobs.slice(descriptors.length + 1)) blob.abort();
    throw error;
  }
  return descriptors;
}

/** The files of one layer (entries [start, start + count) of the tree), as [tree path, source] pairs. */
function layerSources(tree, start, count) {
  const sources = [];
  for (const entry of tree.entries.slice(start, start + count)) {
    if (entry.type === 'file') sources.push([entry.path, tree.sources.get(entry.path)]);
  }
  return sources;
}

function assertDirectory(dir) {
  let stat;
  try {
    stat = fs.statSync(dir);
  } catch (error) {
    if (error.code === 'ENOENT') {
      throw new CtxpackError('CTX_IO', `output folder ${dir} does not exist`, {
        subject: dir,
        hint: 'give the folder your pipeline wrote its results to',
      });
    }
    throw toCtxpackError(error, dir);
  }
  if (!stat.isDirectory()) {
    throw new CtxpackError('CTX_IO', `${dir} is not a folder`, { subject: dir, hint: 'seed packs a folder; put the file in one' });
  }
}

/** What the pantry holds for a URI, in the shape seed returns. */
function describeStored(pantry, uri, alreadyPresent) {
  const pack = pantry.loadPack(uri);
  const outputs = outputsSummary(core.parseManifest(pantry.fetchBytes(pack.config)));
  return {
    uri: pack.uri,
    alreadyPresent,
    files: outputs.files,
    bytes: outputs.bytes,
    treeDigest: outputs.digest,
    manifest: pack.manifest,
    config: pack.config,
    layer: pack.layer,
    layers: pack.layers,
  };
}
