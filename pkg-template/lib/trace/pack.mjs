// trace pack: an execution log becomes an execution pack. Contents go to the pantry as blobs (deduplicated by
// digest, so a blob another pack already stored is not written again), the execution manifest becomes the OCI
// config, and the OCI manifest is tagged with artifactType "execution". The creation time goes in the OCI
// annotation only, so the same log always gives the same URI.
import fs from 'node:fs';
import * as core from '../core-node.mjs';
import { CtxpackError, isCtxpackError, toCtxpackError } from '../errors.mjs';
import { openPantry } from '../pantry.mjs';
import { syncBlobDirectory } from '../stores/blob-writer.mjs';
import { ARTIFACT_TYPES, MEDIA_TYPES } from '../stores/layout-store.mjs';

const EXECUTION = { artifactType: ARTIFACT_TYPES.execution };
const NOTHING_STORED = { alreadyPresent: true, blobs: 0, bytes: 0 };
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * @param {string | object} log a path to the log (JSON), or the log itself
 * @param {{home?: string, lockTimeoutMs?: number, allowUnknown?: boolean, created?: string}} [options]
 *   created: RFC 3339 time for the OCI annotation (default: now, to the second)
 * @returns {Promise<{uri: string, alreadyPresent: boolean, parent?: string, steps: number,
 *   blobs: {total: number, stored: number}, bytes: {total: number, stored: number}}>}
 */
export async function tracePack(log, options = {}) {
  const planned = core.executionPlan(readLog(log), { allowUnknown: options.allowUnknown ?? false });
  const created = creationTime(options.created);
  const pantry = openPantry(options);
  const { uri } = planned;
  if (pantry.has(uri, EXECUTION)) return describe(planned, NOTHING_STORED);
  return pantry.withLock(`trace-${core.uriTag(uri)}`, () => pantry.withLease('trace pack', async () => {
    // Another process may have packed the same log while we waited for the lock.
    if (pantry.has(uri, EXECUTION)) return describe(planned, NOTHING_STORED);
    const stored = { alreadyPresent: false, blobs: 0, bytes: 0 };
    // Leased before the existence checks, so gc keeps the blobs this log shares with the pantry.
    await pantry.protect(planned.blobs.map((blob) => blob.digest));
    const layers = [];
    for (const { digest, size, bytes } of planned.blobs) {
      const descriptor = { mediaType: MEDIA_TYPES.executionBlob, digest, size };
      if (!pantry.exists(descriptor)) {
        await pantry.pushBytes(bytes, MEDIA_TYPES.executionBlob, descriptor);
        stored.blobs += 1;
        stored.bytes += size;
      }
      layers.push(descriptor);
    }
    const config = await pantry.pushBytes(planned.manifestBytes, MEDIA_TYPES.executionManifest);
    const ociManifest = core.ociExecutionManifest({ config, blobs: layers, uri, created });
    const manifest = await pantry.pushBytes(ociManifest.bytes, MEDIA_TYPES.ociManifest);
    await pantry.tag(manifest, uri, EXECUTION);
    return describe(planned, stored);
  }));
}

/**
 * Pack many logs in one go: every log is validated first (nothing is stored if one is invalid), then the
 * blobs of all of them are written together (their fsyncs overlap) and tagged with one index.json write.
 * Packing the same log twice, or a log already packed, stores nothing more.
 * @param {Array<string | object>} logs paths to logs, or logs
 * @param {{home?: string, lockTimeoutMs?: number, allowUnknown?: boolean, created?: string}} [options]
 * @returns {Promise<Array<Awaited<ReturnType<typeof tracePack>>>>} one result per log, in order
 */
export async function tracePackAll(logs, options = {}) {
  const allowUnknown = options.allowUnknown ?? false;
  const plans = logs.map((log) => planLog(log, allowUnknown));
  const created = creationTime(options.created);
  const pantry = openPantry(options);
  const results = new Map();
  const wanted = new Map();
  for (const planned of plans) {
    if (results.has(planned.uri) || wanted.has(planned.uri)) continue;
    if (pantry.has(planned.uri, EXECUTION)) results.set(planned.uri, describe(planned, NOTHING_STORED));
    else wanted.set(planned.uri, planned);
  }
  if (wanted.size > 0) {
    await pantry.withLease('trace pack', async () => {
      const blobs = new Map();
      for (const planned of wanted.values()) for (const blob of planned.blobs) blobs.set(blob.digest, blob);
      await pantry.protect([...blobs.keys()]);
      const written = new Set();
      await writeBlobs(
        pantry,
        [...blobs.values()].filter((blob) => {
          const absent = !pantry.exists({ digest: blob.digest, size: blob.size });
          if (absent) written.add(blob.digest);
          return absent;
        }),
        MEDIA_TYPES.executionBlob,
      );
      const configs = await writeBlobs(pantry, [...wanted.values()].map((planned) => ({ bytes: planned.manifestBytes })), MEDIA_TYPES.executionManifest);
      const tagged = [...wanted.values()].map((planned, position) => {
        const layers = planned.blobs.map(({ digest, size }) => ({ mediaType: MEDIA_TYPES.executionBlob, digest, size }));
        const ociManifest = core.ociExecutionManifest({ config: configs[position], blobs: layers, uri: planned.uri, created });
        return { planned, ociManifest, blobs: [configs[position], ...layers] };
      });
      const manifests = await writeBlobs(pantry, tagged.map(({ ociManifest }) => ({ bytes: ociManifest.bytes })), MEDIA_TYPES.ociManifest);
      await pantry.tagAll(
        tagged.map(({ planned, blobs: referenced }, position) => ({
          descriptor: manifests[position],
          uri: planned.uri,
          artifactType: ARTIFACT_TYPES.execution,
          blobs: referenced,
        })),
      );
      for (const { planned } of tagged) {
        const mine = planned.blobs.filter((blob) => written.delete(blob.digest));
        const stored = { alreadyPresent: false, blobs: mine.length, bytes: mine.reduce((sum, blob) => sum + blob.size, 0) };
        results.set(planned.uri, describe(planned, stored));
      }
    });
  }
  // A log given twice reports the second time as already present.
  const reported = new Set();
  return plans.map((planned) => {
    const result = results.get(planned.uri);
    if (reported.has(planned.uri)) return describe(planned, NOTHING_STORED);
    reported.add(planned.uri);
    return result;
  });
}

/** A log's plan; an invalid log is named in the error. */
function planLog(log, allowUnknown) {
  try {
    return core.executionPlan(readLog(log), { allowUnknown });
  } catch (error) {
    if (typeof log === 'string' && isCtxpackError(error) && error.subject === undefined) error.subject = log;
    if (typeof log === 'string' && isCtxpackError(error)) error.message = `${log}: ${error.message}`;
    throw error;
  }
}

/**
 * Write blobs held in memory: all written first, flushed together (the file system commits the fsyncs as
 * a group), then published, and their names made durable with one directory fsync.
 * @returns {Promise<object[]>} their descriptors, in order
 */
async function writeBlobs(pantry, blobs, mediaType) {
  const writers = [];
  try {
    for (const { bytes } of blobs) {
      const writer = pantry.ingest();
      writers.push(writer);
      writer.write(bytes);
    }
    await Promise.all(writers.map((writer) => writer.sync()));
  } catch (error) {
    for (const writer of writers) writer.abort();
    throw error;
  }
  const descriptors = [];
  for (const [position, writer] of writers.entries()) {
    try {
      descriptors.push(await writer.commit(mediaType, undefined, { batched: true }));
    } catch (error) {
      for (const rest of writers.slice(position + 1)) rest.abort();
      throw error;
    }
  }
  syncBlobDirectory(pantry);
  return descriptors;
}

/** The given time, checked before anything is stored; else now, to the second. */
function creationTime(given) {
  if (given === undefined) return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (!RFC_3339.test(given) || Number.isNaN(Date.parse(given))) {
    throw new CtxpackError('CTX_USAGE', `the creation time ${JSON.stringify(given)} is not RFC 3339`, {
      subject: 'created',
      hint: 'e.g. 2026-01-15T10:30:05Z',
    });
  }
  return given;
}

/** The log's text: a file's contents as they are (the core parses strictly), or an object as JSON. */
function readLog(log) {
  if (typeof log !== 'string') return JSON.stringify(log);
  try {
    return fs.readFileSync(log, 'utf8');
  } catch (error) {
    throw toCtxpackError(error, log);
  }
}

function describe(planned, stored) {
  const { manifest } = planned;
  return {
    uri: planned.uri,
    alreadyPresent: stored.alreadyPresent,
    ...(manifest.parent === undefined ? {} : { parent: manifest.parent }),
    steps: manifest.steps?.length ?? 0,
    blobs: { total: planned.blobs.length, stored: stored.blobs },
    bytes: { total: planned.blobs.reduce((sum, blob) => sum + blob.size, 0), stored: stored.bytes },
  };
}
