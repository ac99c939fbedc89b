// trace pack: an execution log becomes an execution pack. Contents go to the pantry as blobs (deduplicated by
// digest, so a blob another pack already stored is not written again), the execution manifest becomes the OCI
// config, and the OCI manifest is tagged with artifactType "execution". The creation time goes in the OCI
// annotation only, so the same log always gives the same URI.
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { openPantry } from '../pantry.mjs';
import { syncBlobDirectory } from '../stores/blob-writer.mjs';
import { ARTIFACT_TYPES, MEDIA_TYPES } from '../stores/layout-store.mjs';
import { WORKERS_FROM_LOGS, planLogs } from './plan-pool.mjs';

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

/** The most bytes (new contents, manifests) held for one write: their fsyncs overlap, and memory holds no more. */
const WRITE_BATCH_BYTES = 16 * 1024 * 1024;
/**
 * The most logs held for one write. Their plans outlive the main thread's young-generation GCs: a few hundred
 * of them (16 MB of manifests) made V8 promote them and grow the heap by tens of MB.
 */
const WRITE_BATCH_LOGS = 16;

/**
 * Pack many logs in one go: the logs are planned on worker threads (plan-pool.mjs), their blobs written in
 * batches (fsyncs overlapping), and all the packs recorded with one index.json write at the end. Every log is
 * checked before any pack is recorded: if one is invalid, none is (in a batch of 8 logs or more, blobs already
 * written for the others stay unreferenced until the next gc). Packing the same log twice, or a log already
 * packed, stores nothing more.
 * @param {Array<string | object>} logs paths to logs, or logs
 * @param {{home?: string, lockTimeoutMs?: number, allowUnknown?: boolean, created?: string}} [options]
 * @returns {Promise<Array<Awaited<ReturnType<typeof tracePack>>>>} one result per log, in order
 */
export async function tracePackAll(logs, options = {}) {
  const allowUnknown = options.allowUnknown ?? false;
  const created = creationTime(options.created);
  const pantry = openPantry(options);
  const results = new Array(logs.length);
  // Digests of the contents this call has (stored, or held to store), which the planning threads need not send.
  const known = [];
  // A few logs are planned before the pantry is touched, so an invalid one leaves nothing at all behind; more
  // are planned on worker threads while their blobs are written.
  let plans = planLogs(logs, allowUnknown, known);
  if (logs.length < WORKERS_FROM_LOGS) {
    const planned = [];
    for await (const plan of plans) planned.push(plan);
    plans = planned;
  }
  // One packing at a time per pantry: what another process packed meanwhile is found present.
  await pantry.withLock('trace', () => pantry.withLease('trace pack', async () => {
    const batch = new WriteBatch(pantry, created, known);
    // The packs index.json holds, read once: under the trace lock no other packing adds any, and reading (and
    // parsing) the whole index again for every log made each call slower than the one before.
    const seen = new Set(pantry.listExecutions().map((entry) => entry.uri));
    let position = 0;
    for await (const planned of plans) {
      const at = position++;
      // A log given twice, or already packed, reports as already present.
      if (seen.has(planned.uri)) {
        results[at] = describe(planned, NOTHING_STORED);
        continue;
      }
      seen.add(planned.uri);
      batch.add(planned, (stored) => (results[at] = describe(planned, stored)));
      if (batch.bytes >= WRITE_BATCH_BYTES || batch.pending.length >= WRITE_BATCH_LOGS) await batch.write();
    }
    await batch.write();
    if (batch.tags.length > 0) await pantry.tagAll(batch.tags);
  }));
  return results;
}

/** Planned logs whose blobs are written together; what to tag once every log has been checked. */
class WriteBatch {
  /** @param {string[]} known digests present or held, in the order learned (planLogs sends them on) */
  constructor(pantry, created, known) {
    this.pantry = pantry;
    this.created = created;
    this.known = known;
    this.pending = [];
    /** The bytes of the contents to write with this batch, each once, by digest. */
    this.held = new Map();
    this.bytes = 0;
    this.tags = [];
    /**
     * Digests known to be in the pantry (found there or written) during this call, under its lease: logs of one
     * fleet share most of their contents, and each would otherwise be looked up on disk again for every log.
     */
    this.present = new Set();
  }

  /** Only contents neither present nor held are kept: a plan leaves out the bytes of those already known. */
  add(planned, onStored) {
    this.pending.push({ planned, onStored });
    this.bytes += planned.manifestBytes.length;
    for (const { digest, bytes } of planned.blobs) {
      if (this.present.has(digest) || this.held.has(digest)) continue;
      if (bytes === undefined) throw new CtxpackError('CTX_INVALID_STATE', `a plan left out the bytes of ${digest}, which the packing does not have`);
      this.held.set(digest, bytes);
      this.known.push(digest);
      this.bytes += bytes.length;
    }
  }

  async write() {
    const { pantry } = this;
    // Every descriptor is known before anything is written (the config's digest is the URI), so the lease
    // names them all at once.
    const tagged = this.pending.map(({ planned, onStored }) => {
      const layers = planned.blobs.map(({ digest, size }) => ({ mediaType: MEDIA_TYPES.executionBlob, digest, size }));
      const config = { mediaType: MEDIA_TYPES.executionManifest, digest: `sha256:${planned.uri.slice('ctx://sha256:'.length)}`, size: planned.manifestBytes.length };
      const oci = core.ociExecutionManifest({ config, blobs: layers, uri: planned.uri, created: this.created });
      const manifest = { mediaType: MEDIA_TYPES.ociManifest, digest: oci.digest, size: oci.size };
      return { planned, onStored, config, manifest, ociBytes: oci.bytes };
    });
    const held = this.held;
    this.pending = [];
    this.held = new Map();
    this.bytes = 0;
    if (tagged.length === 0) return;
    const contents = new Set(tagged.flatMap(({ planned }) => planned.blobs.map((blob) => blob.digest)));
    await pantry.protect([...contents, ...tagged.flatMap(({ config, manifest }) => [config.digest, manifest.digest])]);
    const written = new Set();
    const toWrite = [];
    const writeIfAbsent = (bytes, descriptor) => {
      if (written.has(descriptor.digest) || this.present.has(descriptor.digest)) return;
      if (pantry.exists(descriptor)) {
        this.present.add(descriptor.digest);
        return;
      }
      written.add(descriptor.digest);
      toWrite.push({ bytes, descriptor });
    };
    for (const [digest, bytes] of held) writeIfAbsent(bytes, { mediaType: MEDIA_TYPES.executionBlob, digest, size: bytes.length });
    for (const { planned, config, manifest, ociBytes } of tagged) {
      writeIfAbsent(planned.manifestBytes, config);
      writeIfAbsent(ociBytes, manifest);
    }
    await writeBlobs(pantry, toWrite);
    for (const { descriptor } of toWrite) this.present.add(descriptor.digest);
    for (const { planned, onStored, config, manifest } of tagged) {
      const mine = planned.blobs.filter((blob) => written.delete(blob.digest));
      onStored({ alreadyPresent: false, blobs: mine.length, bytes: mine.reduce((sum, blob) => sum + blob.size, 0) });
      // The content blobs are the lease's until the tag is written; the config and manifest are checked again then.
      this.tags.push({ descriptor: manifest, uri: planned.uri, artifactType: ARTIFACT_TYPES.execution, blobs: [config] });
    }
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

function describe(planned, stored) {
  return {
    uri: planned.uri,
    alreadyPresent: stored.alreadyPresent,
    ...(planned.parent === undefined ? {} : { parent: planned.parent }),
    steps: planned.steps,
    blobs: { total: planned.blobs.length, stored: stored.blobs },
    bytes: { total: planned.blobs.reduce((sum, blob) => sum + blob.size, 0), stored: stored.bytes },
  };
}
