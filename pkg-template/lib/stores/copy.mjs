// One graph copy between two stores, used by push, pull, copy, export and import, for packs and execution
// packs alike: resolve the URI's tag → manifest (verified) → blobs the target lacks (config and layers, with
// bounded concurrency) → the manifest last, so a target never tags a pack whose blobs are not all there. Into
// the pantry, pack layers are verified while they stream (copyVerifying); an execution pack's blobs are
// digest-checked as they stream and the pantry verifies its manifests before tagging it. A copy into the
// pantry holds a lease from before its first blob until the manifest is tagged (or the copy failed and removed
// what it wrote).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { ARTIFACT_TYPES, Pantry } from '../pantry.mjs';
import { registerCleanup } from '../signal-cleanup.mjs';
import { fetchSourceManifest, notFoundError } from './foreign.mjs';
import { LayoutStore } from './pantry-store.mjs';

export const DEFAULT_CONCURRENCY = 4;

/**
 * @param {import('./store.mjs').Store} from
 * @param {import('./store.mjs').Store} to
 * @param {string} uri a pack's or an execution pack's
 * @param {{concurrency?: number, mountFrom?: string, phase?: string,
 *   onProgress?: (event: {phase: string, bytes: number, totalBytes: number}) => void,
 *   accept?: (kind: 'pack' | 'execution') => void}} [options]
 *   accept: called with the kind before any blob moves; it throws to refuse that kind
 * @returns {Promise<{uri: string, kind: 'pack' | 'execution', manifest: object, alreadyPresent: boolean, fallback: boolean,
 *   blobs: {total: number, transferred: number, skipped: number, mounted: number}, bytes: number}>}
 */
export async function copyPack(from, to, uri, options = {}) {
  return to.withLease ? to.withLease(options.phase ?? 'copy', () => copyGraph(from, to, uri, options)) : copyGraph(from, to, uri, options);
}

async function copyGraph(from, to, uri, { concurrency = DEFAULT_CONCURRENCY, mountFrom, phase = 'copy', onProgress, accept } = {}) {
  const canonical = core.parseUri(uri);
  const limit = checkConcurrency(concurrency);
  const present = await to.resolve(canonical);
  if (present) {
    const kind = core.ociParseManifest(await to.fetchBytes(present)).artifactType;
    accept?.(kind);
    return { uri: canonical, kind, manifest: present, alreadyPresent: true, fallback: false, blobs: { total: 0, transferred: 0, skipped: 0, mounted: 0 }, bytes: 0 };
  }
  const manifest = await from.resolve(canonical);
  if (!manifest) throw await notFoundError(from, canonical);
  const { bytes: manifestBytes, parsed } = await fetchSourceManifest(from, canonical, manifest);
  if (parsed.uri !== canonical) {
    throw new CtxpackError('CTX_URI_MISMATCH', `the ${from.describe()} tags ${core.uriTag(canonical)} with the manifest of ${parsed.uri}`, {
      subject: canonical,
      hint: 'the tag was moved to other content; push the right pack again, or ask the registry owner',
    });
  }
  const kind = parsed.artifactType;
  accept?.(kind);
  const blobs = uniqueBlobs([parsed.config, ...parsed.layers]);
  await to.protect?.([manifest, ...blobs]);
  const missing = (await mapBounded(blobs, limit, async (blob) => ((await to.exists(blob)) ? null : blob))).filter(Boolean);
  const progress = progressTracker(onProgress, phase, missing);
  const copyOne = async (blob, verify) => {
    const onBytes = progress.forBlob(blob);
    const result = await copyBlob(from, to, blob, { mountFrom, onBytes, verify });
    onBytes(blob.size);
    return result;
  };
  const { results, verifiedLayers } =
    to.verifiesPacks && kind === ARTIFACT_TYPES.pack
      ? await copyVerifying(to, core.ociParsePackManifest(manifestBytes), canonical, missing, limit, copyOne)
      : { results: await mapBounded(missing, limit, (blob) => copyOne(blob)) };
  const stored = await to.pushManifest(canonical, manifest, manifestBytes, { verifiedLayers });
  const mounted = results.filter((result) => result.mounted).length;
  return {
    uri: canonical,
    kind,
    manifest: stored.descriptor,
    alreadyPresent: false,
    fallback: stored.fallback,
    blobs: { total: blobs.length, transferred: missing.length - mounted, skipped: blobs.length - missing.length, mounted },
    bytes: missing.reduce((sum, blob) => sum + blob.size, 0),
  };
}

/**
 * Into a store that verifies packs (the pantry): manifest.json first, then each missing pack layer verified
 * in a worker thread while it streams in, so pushManifest only reads the layers the store already had.
 * @returns {Promise<{results: Array<{mounted: boolean}>, verifiedLayers: Map<number, object>}>}
 */
async function copyVerifying(to, parsed, canonical, missing, limit, copyOne) {
  const manifestJson = parsed.manifestJson;
  const results = await mapBounded(missing.filter((blob) => blob.digest === manifestJson.digest), 1, (blob) => copyOne(blob));
  const manifest = await to.fetchBytes(manifestJson);
  // A manifest.json that lays out another number of layers is rejected by the store's verification.
  const matchesLayout = core.packLayout(manifest).layers.length === parsed.packLayers.length;
  const layerIndex = new Map();
  parsed.packLayers.forEach((layer, index) => layerIndex.has(layer.digest) || layerIndex.set(layer.digest, index));
  const verifiedLayers = new Map();
  const rest = missing.filter((blob) => blob.digest !== manifestJson.digest);
  const copied = await mapBounded(rest, limit, async (blob) => {
    const layer = layerIndex.get(blob.digest);
    // Not a pack layer (the fallback form's empty config): copied plainly.
    if (!matchesLayout || layer === undefined) return copyOne(blob);
    const result = await copyOne(blob, { manifest, layer, expectUri: canonical });
    verifiedLayers.set(layer, { digest: blob.digest, ...result.verified });
    return result;
  });
  return { results: [...results, ...copied], verifiedLayers };
}

/**
 * Local on either side: stream straight across (with `verify`, through the target's verifying sink). Two
 * remote stores: through a temporary spool file.
 */
async function copyBlob(from, to, blob, { mountFrom, onBytes, verify }) {
  if (to.openSink) {
    const committed = await fetchInto(from, to, blob, onBytes, verify);
    return { mounted: false, verified: verify ? committed : undefined };
  }
  if (from.openSource) return pushFrom(from, to, blob, { mountFrom, onBytes });
  const spool = lazySpool(from, blob, (bytes) => onBytes(bytes / 2));
  try {
    // The blob is downloaded only when the target asks for bytes: a cross-repository mount needs none.
    return await pushFrom(spool, to, blob, { mountFrom, onBytes: (bytes) => onBytes(bytes / 2) });
  } finally {
    spool.close();
  }
}

/** A source over a remote blob that spools it to a temporary file on the first read. */
function lazySpool(from, blob, onBytes) {
  let spoolDir;
  let filled;
  let unregister;
  const fill = async () => {
    spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-spool-'));
    unregister = registerCleanup(() => fs.rmSync(spoolDir, { recursive: true, force: true }));
    const store = new LayoutStore(new Pantry(spoolDir), { label: 'spool' });
    await fetchInto(from, store, blob, onBytes);
    return store;
  };
  return {
    openSource(descriptor, options) {
      let source;
      return {
        async read(offset, length) {
          filled ??= fill();
          source ??= (await filled).openSource(descriptor, options);
          return source.read(offset, length);
        },
        close() {
          source?.close();
        },
      };
    },
    close() {
      if (spoolDir) fs.rmSync(spoolDir, { recursive: true, force: true });
      unregister?.();
    },
  };
}

/** A source whose fetchBlob hashes every byte and rejects a mismatch itself spares the sink a second hash. */
async function fetchInto(from, to, blob, onBytes, verify) {
  const hashed = !from.hashesFetchedBlobs;
  const sink = verify ? to.openVerifyingSink(blob, { hashed, ...verify }) : to.openSink(blob, { hashed });
  try {
    await from.fetchBlob(blob, sink, { onBytes });
  } catch (error) {
    sink.abort();
    throw error;
  }
  return sink.commit();
}

async function pushFrom(from, to, blob, options) {
  // The upload sends each chunk and awaits the answer before it reads the next, so one buffer serves.
  const source = from.openSource(blob, { reuseBuffer: true });
  try {
    const result = await to.pushBlob(blob, source, options);
    return { mounted: Boolean(result.mounted) };
  } finally {
    source.close();
  }
}

/**
 * One progress phase over all blobs. Each blob's count is capped at its size (a resumed download re-sends
 * bytes) and completed when it finishes (a mounted blob sends none), so the bar ends at 100%.
 */
function progressTracker(onProgress, phase, blobs) {
  const totalBytes = blobs.reduce((sum, blob) => sum + blob.size, 0);
  let bytes = 0;
  onProgress?.({ phase, bytes, totalBytes });
  return {
    forBlob(blob) {
      let done = 0;
      return (count) => {
        const added = Math.min(count, blob.size - done);
        if (added <= 0) return;
        done += added;
        bytes += added;
        onProgress?.({ phase, bytes: Math.round(bytes), totalBytes });
      };
    },
  };
}

/**
 * `fn` over `items`, at most `limit` at a time, results in order. After a failure no new item starts; the
 * ones running finish (so their temp files are cleaned up) before the first error is thrown.
 */
async function mapBounded(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  let failure;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

function uniqueBlobs(descriptors) {
  const seen = new Set();
  return descriptors.filter((descriptor) => !seen.has(descriptor.digest) && seen.add(descriptor.digest));
}

function checkConcurrency(value) {
  if (!Number.isSafeInteger(value) || value < 1 || value > 64) {
    throw new CtxpackError('CTX_USAGE', `concurrency must be a whole number from 1 to 64, got ${JSON.stringify(value)}`, {
      hint: 'e.g. --concurrency 4 (the default)',
    });
  }
  return value;
}
