// trace diff: two execution packs compared by the core (fields, and steps aligned by sequence alignment, so one
// inserted step is one "added" and the rest stay matched). Steps are given their tool names for reading.
import * as core from '../core-node.mjs';
import { openPantry } from '../pantry.mjs';
import { resolveExecutionRef } from './resolve.mjs';
import { loadExecution } from './stored.mjs';

/**
 * @param {string} refA
 * @param {string} refB
 * @param {{home?: string}} [options]
 * @returns {{a: string, b: string, differs: boolean, fields: Array<{path: string, before?: unknown, after?: unknown}>,
 *   steps: Array<{op: 'same' | 'changed' | 'removed' | 'added', a?: number, b?: number, fields?: string[], tool: string}>}}
 */
export function traceDiff(refA, refB, options = {}) {
  const pantry = openPantry(options);
  const a = loadExecution(pantry, resolveExecutionRef(pantry, refA));
  const b = loadExecution(pantry, resolveExecutionRef(pantry, refB));
  const compared = core.executionDiff(a.manifestBytes, b.manifestBytes);
  const toolOf = (step) => (step.b === undefined ? a.manifest.steps[step.a] : b.manifest.steps[step.b]).tool;
  return {
    a: a.uri,
    b: b.uri,
    differs: compared.differs,
    fields: compared.fields,
    steps: compared.steps.map((step) => ({ ...step, tool: toolOf(step) })),
  };
}
