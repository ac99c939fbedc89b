// One execution log planned: read, checked and its contents hashed into blobs by the core (executionPlan), with
// node:crypto's SHA-256 (SHA-NI where the CPU has it, several times the core's own). The same code runs on the
// main thread and in plan-worker.mjs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { toCtxpackError } from '../errors.mjs';

/**
 * @param {{executionPlan: Function}} core the full or the lean core
 * @param {string | object} log a path to the log (JSON), or the log itself
 * @param {boolean} allowUnknown
 * @param {{reader?: import('./log-reader.mjs').LogReader, known?: Set<string>}} [options] reader: reads a log
 *   given by path (default: a fresh buffer each); known: digests whose blobs come without `bytes`
 * @returns {{uri: string, manifestBytes: Uint8Array, parent?: string, steps: number,
 *   blobs: Array<{digest: string, size: number, bytes?: Uint8Array}>}}
 */
export function planLog(core, log, allowUnknown, { reader, known } = {}) {
  const plan = core.executionPlan(readLog(log, reader), { allowUnknown, sha256, known });
  const { parent, steps } = plan.manifest;
  return { uri: plan.uri, manifestBytes: plan.manifestBytes, parent, steps: steps?.length ?? 0, blobs: plan.blobs };
}

function sha256(bytes) {
  return crypto.createHash('sha256').update(bytes).digest();
}

/** The log's text: a file's bytes as they are (the core parses them strictly), or an object as JSON. */
function readLog(log, reader) {
  if (typeof log !== 'string') return JSON.stringify(log);
  if (reader !== undefined) return reader.read(log);
  try {
    return fs.readFileSync(log);
  } catch (error) {
    throw toCtxpackError(error, log);
  }
}
