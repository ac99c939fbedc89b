// One graph copy between two stores, used by push, pull, copy, export and import (oras-go's copy.go): resolve
// the URI's tag → the image manifest → the blobs it names that the target lacks (config first, then layers,
// with bounded concurrency), each streamed from the source straight into the target → the manifest last, so a
// target never tags an artifact whose blobs are not all there. It knows nothing about packs or execution packs:
// a target that verifies them (verifying-store.mjs) is told the root before the first blob (prepare), names the
// blobs it must have before it can check the others (copied first), and checks the root before it tags it. A
// copy into a store with leases (the pantry) holds one from before its first blob until the manifest is tagged
// (or the copy failed and removed what it wrote).
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { fetchSourceManifest, notFoundError } from './foreign.mjs';

export const DEFAULT_CONCURRENCY = 4;

/**
 * @param {import('./store.mjs').Store} from
 * @param {import('./store.mjs').Store} to
 * @param {string} uri an artifact's: a pack or an execution pack
 * @param {{concurrency?: number, mountFrom?: string, phase?: string,
 *   onProgress?: (event: {phase: string, bytes: number, totalBytes: number}) => void,
 *   accept?: (kind: 'pack' | 'execution', manifest: import('./store.mjs').Descriptor) => void | Promise<void>}} [options]
 *   accept: called with the artifact type and the image manifest about to be copied (or already in the target),
 *   before any blob moves; it throws to refuse it (a signature check runs here)
 * @returns {Promise<{uri: string, kind: 'pack' | 'execution', manifest: object, alreadyPresent: boolean, fallback: boolean,
 *   blobs: {total: number, transferred: number, skipped: number, mounted: number}, bytes: number}>}
 */
export async function copyArtifact(from, to, uri, options = {}) {
  return to.withLease ? to.withLease(options.phase ?? 'copy', () => copyGraph(from, to, uri, options)) : copyGraph(from, to, uri, options);
}

async function copyGraph(from, to, uri, { concurrency = DEFAULT_CONCURRENCY, mountFrom, phase = 'copy', onProgress, accept } = {}) {
  const canonical = core.parseUri(uri);
  const limit = checkConcurrency(concurrency);
  const present = await to.resolve(canonical);
  if (present) {
    const kind = core.ociParseManifest(await to.fetchBytes(present)).artifactType;
    await accept?.(kind, present);
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
  await accept?.(parsed.artifactType, manifest);
  const blobs = uniqueBlobs([parsed.config, ...parsed.layers]);
  await to.protect?.([manifest, ...blobs]);
  const missing = (await mapBounded(blobs, limit, async (blob) => ((await to.exists(blob)) ? null : blob))).filter(Boolean);
  const prepared = await to.prepare?.({ uri: canonical, descriptor: manifest, bytes: manifestBytes, parsed });
  const progress = progressTracker(onProgress, phase, missing);
  const copyOne = async (blob) => {
    const onBytes = progress.forBlob(blob);
    // An upload reads a local blob in place when it can (no stream, no chunk allocated per read).
    const body = to.acceptsReader && from.reader ? from.reader(blob, { onBytes }) : from.fetch(blob, { onBytes });
    const result = await to.push(blob, body, { mountFrom });
    onBytes(blob.size);
    return result;
  };
  // One at a time first: the config (it is small) and the blobs the target reads before it can check the others
  // (a verifying target's pack manifest, a layer in the fallback form): a blob waiting for them must not hold
  // one of the slots they need.
  const firstDigests = new Set([parsed.config.digest, ...(prepared?.first ?? []).map((blob) => blob.digest)]);
  const first = missing.filter((blob) => firstDigests.has(blob.digest));
  // Then the biggest first: the small ones fill in beside them instead of one big blob ending alone.
  const bySize = missing.filter((blob) => !firstDigests.has(blob.digest)).sort((a, b) => b.size - a.size);
  const results = [];
  for (const blob of first) results.push(await copyOne(blob));
  results.push(...(await mapBounded(bySize, limit, copyOne)));
  const stored = await to.pushManifest(canonical, manifest, manifestBytes, { artifactType: parsed.artifactType, blobs });
  const mounted = results.filter((result) => result.mounted).length;
  return {
    uri: canonical,
    kind: parsed.artifactType,
    manifest: stored.descriptor,
    alreadyPresent: false,
    fallback: stored.fallback,
    blobs: { total: blobs.length, transferred: missing.length - mounted, skipped: blobs.length - missing.length, mounted },
    bytes: missing.reduce((sum, blob) => sum + blob.size, 0),
  };
}

/** The options of an API call that a copy takes. */
export function transferOptions(options, phase) {
  return { concurrency: options.concurrency, onProgress: options.onProgress, phase };
}

/** The result of a copy, as the API and `--json` give it. */
export function describeCopy(copied, where) {
  return {
    uri: copied.uri,
    kind: copied.kind,
    ...where,
    manifest: copied.manifest,
    alreadyPresent: copied.alreadyPresent,
    fallback: copied.fallback,
    blobs: copied.blobs,
    bytes: copied.bytes,
  };
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
