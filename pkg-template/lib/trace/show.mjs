// trace show: what an execution pack records, summarised for reading: the model, the prompts (with a preview),
// a numbered step list (tool, parameters in short, output size, deterministic flag), inputs, outputs, environment.
import { openPantry } from '../pantry.mjs';
import { resolveExecutionRef } from './resolve.mjs';
import { loadExecution } from './stored.mjs';

const PREVIEW_CHARS = 80;
const PARAMS_CHARS = 60;

/**
 * @param {string} ref full URI, bare hex or unique prefix
 * @param {{home?: string}} [options]
 */
export function traceShow(ref, options = {}) {
  const pantry = openPantry(options);
  const stored = loadExecution(pantry, resolveExecutionRef(pantry, ref));
  const { manifest } = stored;
  const preview = (content) => ({ size: content.size, preview: previewOf(pantry, content) });
  return {
    uri: stored.uri,
    created: stored.created,
    ...(manifest.parent === undefined ? {} : { parent: manifest.parent }),
    model: manifest.model,
    systemPrompt: preview(manifest.system_prompt),
    prompts: (manifest.prompts ?? []).map((prompt) => ({ role: prompt.role, ...preview(prompt.content) })),
    inputs: (manifest.inputs ?? []).map((input) => ({ name: input.name, size: input.content.size, digest: input.content.digest })),
    steps: (manifest.steps ?? []).map((step, index) => ({
      index: step.index ?? index,
      type: step.type,
      tool: step.tool,
      params: summarise(step.parameters),
      outputSize: step.output?.size ?? null,
      deterministic: step.deterministic ?? null,
    })),
    outputs: (manifest.outputs ?? []).map((output) => ({ name: output.name, size: output.content?.size ?? null, digest: output.content?.digest ?? null })),
    environment: manifest.environment,
  };
}

/** The first line of a text content, shortened; null for bytes (base64). The blob is checked on the way. */
function previewOf(pantry, content) {
  if (content.encoding !== 'utf-8') return null;
  const text = new TextDecoder().decode(pantry.fetchBytes({ digest: content.digest, size: content.size }));
  return shorten(text.split('\n', 1)[0], PREVIEW_CHARS);
}

/** Parameters as one short line of JSON, e.g. {"path":"src/app.py","depth":2}. */
function summarise(parameters) {
  return parameters === undefined ? '' : shorten(JSON.stringify(parameters), PARAMS_CHARS);
}

function shorten(text, max) {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
