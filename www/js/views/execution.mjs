// An execution pack (or an execution log): the model and environment, the step timeline (type, tool, duration,
// sizes, parameters and output previews), prompts, inputs and outputs, and a form to compare it with another run.
import { digestCode, formatBytes, formatDuration, h, jsonBlock, replace } from '../dom.mjs';
import { serverInfo } from '../sources.mjs';
import { call } from '../worker-client.mjs';
import { badge, checksList, errorPanel, facts, section } from './common.mjs';
import { compareSection } from './pack.mjs';

const PREVIEW_BYTES = 64 * 1024;

export function renderExecution(main, result, { source, progress }) {
  const state = result.log ? (result.ok ? 'valid' : 'invalid') : result.ok ? 'verified' : 'failed';
  progress.finish(result.ok ? 'every check passed' : 'a check failed');
  const manifest = result.manifest;
  const view = h(
    'div',
    { class: 'view execution-view' },
    h('h1', {}, result.log ? 'Execution log ' : 'Execution pack ', badge(state)),
    result.uri ? h('p', { class: 'uri-line' }, h('code', { class: 'uri', dataset: { uri: result.uri } }, result.uri)) : null,
    progress.element,
    section('Checks', checksList(result.checks)),
  );
  replace(main, view);
  if (!manifest) return;
  document.title = `${result.uri} · ctxpack inspector`;
  const blob = (content) => content && blobPreview(source, content);
  view.append(
    section(
      'Run',
      facts([
        ['Model', manifest.model?.identifier],
        ['Parameters', manifest.model?.parameters ? jsonBlock(manifest.model.parameters, 'model parameters') : undefined],
        ['Created', result.created],
        ['Parent', manifest.parent ? h('code', {}, manifest.parent) : undefined],
        ['Environment', manifest.environment ? `${manifest.environment.os} · ${manifest.environment.runtime}` : undefined],
        ['Tool versions', manifest.environment?.tool_versions ? jsonBlock(manifest.environment.tool_versions, 'tool versions') : undefined],
        ['System prompt', blob(manifest.system_prompt)],
      ]),
    ),
    section('Steps', timeline(manifest.steps ?? [], source)),
    section(
      'Prompts',
      h('ol', { class: 'items' }, (manifest.prompts ?? []).map((prompt) => h('li', {}, h('strong', {}, prompt.role), ' ', blob(prompt.content)))),
    ),
    namedContents('Inputs', manifest.inputs, source),
    namedContents('Outputs', manifest.outputs, source),
  );
  if (!result.log) view.append(withExecutionSuggestions(compareSection(source)));
}

function namedContents(title, list, source) {
  if (!Array.isArray(list) || list.length === 0) return section(title, h('p', {}, 'None.'));
  return section(title, h('ul', { class: 'items' }, list.map((item) => h('li', {}, h('strong', {}, item.name), ' ', blobPreview(source, item.content)))));
}

/** The steps in order, each with its duration (to the next step's timestamp), its output's size and previews. */
export function timeline(steps, source) {
  return h(
    'ol',
    { class: 'timeline' },
    steps.map((step, position) => {
      const next = steps[position + 1];
      const duration = step.timestamp && next?.timestamp ? Date.parse(next.timestamp) - Date.parse(step.timestamp) : NaN;
      return h(
        'li',
        { class: 'step', dataset: { step: String(step.index ?? position) } },
        h(
          'div',
          { class: 'step-head' },
          h('span', { class: 'step-index' }, `#${step.index ?? position}`),
          h('span', { class: 'step-type' }, step.type),
          h('code', { class: 'step-tool' }, step.tool),
          Number.isFinite(duration) ? h('span', { class: 'step-duration' }, formatDuration(duration)) : null,
          step.output ? h('span', { class: 'step-size' }, `output ${formatBytes(step.output.size)}`) : null,
          step.deterministic ? h('span', { class: 'tag' }, 'deterministic') : null,
        ),
        step.parameters && Object.keys(step.parameters).length ? h('details', {}, h('summary', {}, 'Parameters (input)'), jsonBlock(step.parameters, `parameters of step ${position}`)) : null,
        step.output ? blobPreview(source, step.output, 'Output') : null,
      );
    }),
  );
}

/** A content reference as a disclosure; its bytes are fetched (and checked) when the user opens it. */
function blobPreview(source, content, label = '') {
  if (!content?.digest) return h('span', {}, '');
  const target = h('div', { class: 'blob-preview' });
  const load = async () => {
    if (target.dataset.loaded) return;
    target.dataset.loaded = 'yes';
    replace(target, 'Reading…');
    try {
      const blob = await call('blob', { source, digest: content.digest, size: content.size, maxBytes: PREVIEW_BYTES });
      const text = content.encoding === 'utf-8' ? new TextDecoder().decode(blob.bytes) : `${formatBytes(content.size)} of binary content`;
      replace(target, digestCode(content.digest), h('pre', { tabindex: 0 }, text + (blob.size > blob.bytes.length ? '\n…' : '')));
    } catch (error) {
      if (!error.cancelled) replace(target, errorPanel(error, 'Could not read this content'));
    }
  };
  const details = h('details', { ontoggle: () => details.open && load() }, h('summary', {}, `${label ? `${label} · ` : ''}${formatBytes(content.size)}`), target);
  return details;
}

/** Offer the pantry's other executions in the compare box (under `ctxpack serve`). */
function withExecutionSuggestions(form) {
  serverInfo().then(async (info) => {
    if (!info) return;
    const listing = await fetch('/api/pantry').then((response) => response.json()).catch(() => null);
    const input = form.querySelector('input');
    if (!listing || !input) return;
    const list = h('datalist', { id: 'pantry-executions' }, listing.executions.map((run) => h('option', { value: `pantry/ctx-${run.uri.slice(13)}` }, `${run.model} · ${run.steps} steps · ${run.created ?? ''}`)));
    input.setAttribute('list', 'pantry-executions');
    form.append(list);
  });
  return form;
}
