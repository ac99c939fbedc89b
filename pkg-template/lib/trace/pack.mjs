// trace pack: an execution log becomes an execution pack. Contents go to the pantry as blobs (deduplicated by
// digest, so a blob another pack already stored is not written again), the execution manifest becomes the OCI
// config, and the OCI manifest is tagged with artifactType "execution". The creation time goes in the OCI
// annotation only, so the same log always gives the same URI.
import fs from 'node:fs';
import * as core from '../core-node.mjs';
import { CtxpackError, toCtxpackError } from '../errors.mjs';
import { openPantry } from '../pantry.mjs';
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
