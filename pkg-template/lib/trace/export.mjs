// trace export / trace fork: an execution pack back to its log (the core puts every blob back in place and checks
// it), written as JSON. A fork is the same log with `parent` set to the pack it came from: edit it, pack it, and
// the new pack records its lineage.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as core from '../core-node.mjs';
import { CtxpackError, toCtxpackError } from '../errors.mjs';
import { openPantry } from '../pantry.mjs';
import { resolveExecutionRef } from './resolve.mjs';
import { loadExecution } from './stored.mjs';

/**
 * Write the pack's log to `output` (never over an existing file unless `force`).
 * @param {string} ref
 * @param {string} output
 * @param {{home?: string, force?: boolean}} [options]
 * @returns {{uri: string, path: string}}
 */
export function traceExport(ref, output, options = {}) {
  const { uri, log } = exportLog(ref, options);
  return { uri, path: writeLog(output, log, options) };
}

/**
 * Write the pack's log with `parent` set to the pack, ready to edit and pack as a new execution.
 * @param {string} ref
 * @param {string} output
 * @param {{home?: string, force?: boolean}} [options]
 * @returns {{parent: string, path: string}}
 */
export function traceFork(ref, output, options = {}) {
  const { uri, log } = exportLog(ref, options);
  return { parent: uri, path: writeLog(output, { ...log, parent: uri }, options) };
}

function exportLog(ref, options) {
  const pantry = openPantry(options);
  const stored = loadExecution(pantry, resolveExecutionRef(pantry, ref));
  // The core checks each blob's size and digest; a missing one is reported as CTX_NOT_FOUND by it.
  const lookup = (digest) => {
    try {
      return fs.readFileSync(pantry.blobPath(digest));
    } catch (error) {
      if (error.code === 'ENOENT') return undefined;
      throw toCtxpackError(error, digest);
    }
  };
  return { uri: stored.uri, log: core.executionExport(stored.manifestBytes, lookup) };
}

/** Write the log complete or not at all: a temp file beside the target, then link (no clobber) or rename. */
function writeLog(output, log, { force = false }) {
  const target = path.resolve(output);
  const tempPath = path.join(path.dirname(target), `.${path.basename(target)}.ctxpack-${randomUUID()}`);
  try {
    fs.writeFileSync(tempPath, `${JSON.stringify(log, null, 2)}\n`, { flag: 'wx' });
    if (force) fs.renameSync(tempPath, target);
    else fs.linkSync(tempPath, target);
  } catch (error) {
    if (error.code === 'EEXIST') {
      throw new CtxpackError('CTX_TARGET_EXISTS', `${target} already exists; nothing was written`, {
        subject: target,
        hint: 'choose another file name, or pass --force to overwrite it',
      });
    }
    throw toCtxpackError(error, target);
  } finally {
    fs.rmSync(tempPath, { force: true });
  }
  return target;
}
