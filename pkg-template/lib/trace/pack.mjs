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
  const [result] = await tracePackAll([log], options);
  return result;
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
    // One packing at a time per pantry: another process may have packed some of these while we waited.
    await pantry.withLock('trace', () => pantry.withLease('trace pack', async () => {
      for (const [uri, planned] of wanted) {
        if (!pantry.has(uri, EXECUTION)) continue;
        results.set(uri, describe(planned, NOTHING_STORED));
        wanted.delete(uri);
      }
      // Every descriptor is known before anything is written (the config's digest is the URI), so the lease
      // names them all at once and the blobs are written as one batch.
      const tagged = [...wanted.values()].map((planned) => {
        const layers = planned.blobs.map(({ digest, size }) => ({ mediaType: MEDIA_TYPES.executionBlob, digest, size }));
        const config = { mediaType: MEDIA_TYPES.executionManifest, digest: `sha256:${planned.uri.slice('ctx://sha256:'.length)}`, size: planned.manifestBytes.length };
        const oci = core.ociExecutionManifest({ config, blobs: layers, uri: planned.uri, created });
        const manifest = { mediaType: MEDIA_TYPES.ociManifest, digest: oci.digest, size: oci.size };
        return { planned, layers, config, manifest, ociBytes: oci.bytes };
      });
      const contents = new Map();
      for (const { planned } of tagged) for (const blob of planned.blobs) contents.set(blob.digest, blob);
      await pantry.protect([...contents.keys(), ...tagged.flatMap(({ config, manifest }) => [config.digest, manifest.digest])]);
      const written = new Set();
      const toWrite = [];
      const writeIfAbsent = (bytes, descriptor) => {
        if (pantry.exists(descriptor) || written.has(descriptor.digest)) return;
        written.add(descriptor.digest);
        toWrite.push({ bytes, descriptor });
      };
      for (const blob of contents.values()) writeIfAbsent(blob.bytes, { mediaType: MEDIA_TYPES.executionBlob, digest: blob.digest, size: blob.size });
      for (const { planned, config, manifest, ociBytes } of tagged) {
        writeIfAbsent(planned.manifestBytes, config);
        writeIfAbsent(ociBytes, manifest);
      }
      await writeBlobs(pantry, toWrite);
      await pantry.tagAll(
        tagged.map(({ planned, layers, config, manifest }) => ({ descriptor: manifest, uri: planned.uri, artifactType: ARTIFACT_TYPES.execution, blobs: [config, ...layers] })),
      );
      for (const { planned } of tagged) {
        const mine = planned.blobs.filter((blob) => written.delete(blob.digest));
        const stored = { alreadyPresent: false, blobs: mine.length, bytes: mine.reduce((sum, blob) => sum + blob.size, 0) };
        results.set(planned.uri, describe(planned, stored));
      }
    }));
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
 * Write blobs held in memory, each checked against its descriptor: all written first, flushed together (the
 * file system commits the fsyncs as a group), then published, and their names made durable with one
 * directory fsync.
 * @param {Array<{bytes: Uint8Array, descriptor: object}>} blobs
 */
async function writeBlobs(pantry, blobs) {
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
  for (const [position, writer] of writers.entries()) {
    try {
      const { descriptor } = blobs[position];
      await writer.commit(descriptor.mediaType, descriptor, { batched: true });
    } catch (error) {
      for (const rest of writers.slice(position + 1)) rest.abort();
      throw error;
    }
  }
  syncBlobDirectory(pantry);
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
