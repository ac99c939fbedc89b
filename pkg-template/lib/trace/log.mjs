// trace log: the execution packs in the pantry, newest first; with `graph`, as a lineage forest (fork → parent).
import { isCtxpackError } from '../errors.mjs';
import { openPantry } from '../pantry.mjs';
import { loadExecution } from './stored.mjs';

/**
 * @param {{home?: string, graph?: boolean}} [options]
 * @returns {Array<{uri: string, created?: string, model: string, steps: number, parent?: string, children?: object[]}>}
 *   a pack whose stored manifests are damaged is listed as {uri, problem} (`trace verify` says more)
 *   with `graph`: the roots (packs whose parent is not in the pantry), each with its `children`, newest first
 */
export function traceLog(options = {}) {
  const pantry = openPantry(options);
  // Index order is packing order; reversing it first makes packs created in the same second newest first too.
  const entries = pantry.listExecutions().reverse().map((entry) => summarise(pantry, entry.uri));
  const time = (entry) => (entry.created === undefined ? 0 : Date.parse(entry.created));
  const newestFirst = entries.sort((a, b) => time(b) - time(a));
  return options.graph ? lineage(newestFirst) : newestFirst;
}

function summarise(pantry, uri) {
  let stored;
  try {
    stored = loadExecution(pantry, uri);
  } catch (error) {
    if (!isCtxpackError(error)) throw error;
    return { uri, problem: `${error.code}: ${error.message}` };
  }
  const { created, manifest } = stored;
  return {
    uri,
    created,
    model: manifest.model.identifier,
    steps: manifest.steps?.length ?? 0,
    ...(manifest.parent === undefined ? {} : { parent: manifest.parent }),
  };
}

/** Children under their parent (order kept); a pack whose parent is absent is a root. */
function lineage(entries) {
  const nodes = new Map(entries.map((entry) => [entry.uri, { ...entry, children: [] }]));
  const roots = [];
  for (const node of nodes.values()) {
    const parent = node.parent === undefined ? undefined : nodes.get(node.parent);
    (parent ? parent.children : roots).push(node);
  }
  return roots;
}
