// Two packs (contract fields changed; files added, removed, changed) or two execution packs (the core's
// step-aligned diff, side by side). Both sides are opened and checked first; each keeps its own badge.
import { formatBytes, h, replace, table } from '../dom.mjs';
import { openHref } from '../router.mjs';
import { forWorker } from '../sources.mjs';
import { call } from '../worker-client.mjs';
import { badge, errorPanel, progressBar, section } from './common.mjs';

export async function renderDiff(main, { a, b }, { stillCurrent }) {
  const progress = progressBar('Reading and checking both');
  replace(main, h('h1', {}, 'Comparing…'), progress.element);
  try {
    const sources = await Promise.all([forWorker(a), forWorker(b)]);
    const missing = sources.find((source) => source.missing);
    if (missing) throw Object.assign(new Error(missing.missing), { code: 'CTX_INVALID_STATE' });
    const first = await call('open', { source: sources[0] }, { onProgress: (p) => progress.update(p) });
    if (!stillCurrent()) return;
    if (first.kind === 'execution') {
      const result = await call('diffExecutions', { a: sources[0], b: sources[1] }, { onProgress: (p) => progress.update(p) });
      if (!stillCurrent()) return;
      progress.finish('both opened');
      return renderExecutionDiff(main, result, sources, progress);
    }
    const second = await call('open', { source: sources[1] }, { onProgress: (p) => progress.update(p) });
    if (!stillCurrent()) return;
    progress.finish('both opened');
    if (first.kind !== 'pack' || second.kind !== 'pack') throw Object.assign(new Error('compare two packs or two execution packs'), { code: 'CTX_USAGE' });
    return renderPackDiff(main, [first, second], sources, progress);
  } catch (error) {
    if (!stillCurrent() || error.cancelled) return undefined;
    replace(main, h('h1', {}, 'Could not compare'), errorPanel(error, 'What went wrong'));
    return undefined;
  }
}

function side(label, result, source) {
  return h(
    'div',
    { class: 'side' },
    h('h2', {}, label, ' ', badge(result.ok ? 'verified' : 'failed')),
    h('p', {}, h('a', { href: openHref(source) }, h('code', { class: 'uri' }, result.uri ?? result.manifest?.uri ?? '?'))),
  );
}

function renderPackDiff(main, [a, b], sources, progress) {
  const contract = diffValues(a.manifest?.contract ?? {}, b.manifest?.contract ?? {});
  const files = diffFiles(a.manifest?.outputs.entries ?? [], b.manifest?.outputs.entries ?? []);
  replace(
    main,
    h(
      'div',
      { class: 'view diff-view' },
      h('h1', {}, 'Two packs'),
      progress.element,
      h('div', { class: 'sides' }, side('A', a, sources[0]), side('B', b, sources[1])),
      section(
        'Contract',
        contract.length === 0
          ? h('p', {}, 'The contracts are the same.')
          : table({
              caption: `Contract fields changed (${contract.length})`,
              head: ['Field', 'A', 'B'],
              rows: contract.map((change) => h('tr', { class: `change-${change.kind}` }, h('td', {}, h('code', {}, change.path)), h('td', {}, valueText(change.before)), h('td', {}, valueText(change.after)))),
            }),
      ),
      section(
        'Files',
        h('p', { class: 'summary-line' }, `${files.added.length} added, ${files.removed.length} removed, ${files.changed.length} changed, ${files.same} the same`),
        fileChanges('Added', files.added.map((entry) => [entry.path, '', describe(entry)]), 'added'),
        fileChanges('Removed', files.removed.map((entry) => [entry.path, describe(entry), '']), 'removed'),
        fileChanges('Changed', files.changed.map(([before, after]) => [before.path, describe(before), describe(after)]), 'changed'),
      ),
    ),
  );
}

function fileChanges(title, rows, kind) {
  if (rows.length === 0) return null;
  return table({
    caption: `${title} (${rows.length})`,
    head: ['Path', 'A', 'B'],
    rows: rows.map(([path, before, after]) => h('tr', { class: `change-${kind}`, dataset: { path } }, h('td', {}, h('code', {}, path)), h('td', {}, before), h('td', {}, after))),
    className: 'files',
  });
}

function describe(entry) {
  return entry.target !== undefined ? `link → ${entry.target}` : `${formatBytes(entry.size)} ${entry.digest.slice(0, 19)}…${entry.executable ? ' executable' : ''}`;
}

function valueText(value) {
  return value === undefined ? h('em', {}, 'absent') : h('code', {}, JSON.stringify(value));
}

/** Leaf paths whose values differ between two JSON values ("transforms[0].params.top"). */
export function diffValues(before, after, path = '') {
  const isObject = (value) => value !== null && typeof value === 'object';
  if (isObject(before) && isObject(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = Array.isArray(before)
      ? [...Array(Math.max(before.length, after.length)).keys()]
      : [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffValues(before[key], after[key], Array.isArray(before) ? `${path}[${key}]` : path ? `${path}.${key}` : key));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: path || '(whole)', before, after, kind: before === undefined ? 'added' : after === undefined ? 'removed' : 'changed' }];
}

/** Files by path: added, removed, changed (digest, size, mode or link target), and how many are the same. */
export function diffFiles(before, after) {
  const old = new Map(before.map((entry) => [entry.path, entry]));
  const added = [];
  const changed = [];
  let same = 0;
  for (const entry of after) {
    const previous = old.get(entry.path);
    old.delete(entry.path);
    if (!previous) added.push(entry);
    else if (JSON.stringify(previous) !== JSON.stringify(entry)) changed.push([previous, entry]);
    else same += 1;
  }
  return { added, removed: [...old.values()], changed, same };
}

function renderExecutionDiff(main, result, sources, progress) {
  const { a, b, diff } = result;
  const stepsA = a.manifest.steps ?? [];
  const stepsB = b.manifest.steps ?? [];
  const cell = (step, index) => (step ? h('div', {}, h('span', { class: 'step-index' }, `#${index}`), ' ', h('span', { class: 'step-type' }, step.type), ' ', h('code', {}, step.tool)) : h('em', {}, '—'));
  replace(
    main,
    h(
      'div',
      { class: 'view diff-view' },
      h('h1', {}, diff.differs ? 'Two runs that differ' : 'Two identical runs'),
      progress.element,
      h('div', { class: 'sides' }, side('A', { ok: true, uri: a.uri }, sources[0]), side('B', { ok: true, uri: b.uri }, sources[1])),
      section(
        'Run fields',
        diff.fields.length === 0
          ? h('p', {}, 'Model, environment, prompts, inputs and outputs are the same.')
          : table({
              caption: `Fields changed (${diff.fields.length})`,
              head: ['Field', 'A', 'B'],
              rows: diff.fields.map((field) => h('tr', {}, h('td', {}, h('code', {}, field.path)), h('td', {}, valueText(field.before)), h('td', {}, valueText(field.after)))),
            }),
      ),
      section(
        'Steps, aligned',
        h(
          'div',
          { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'aligned steps' },
          h(
            'table',
            { class: 'aligned' },
            h('caption', {}, `${stepsA.length} steps in A, ${stepsB.length} in B`),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'A'), h('th', { scope: 'col' }, 'Change'), h('th', { scope: 'col' }, 'B'))),
            h(
              'tbody',
              {},
              diff.steps.map((step) =>
                h(
                  'tr',
                  { class: `op-${step.op}`, dataset: { op: step.op } },
                  h('td', {}, step.a === undefined ? h('em', {}, '—') : cell(stepsA[step.a], step.a)),
                  h('td', { class: 'op' }, step.op, step.fields?.length ? h('div', { class: 'fields' }, step.fields.join(', ')) : null),
                  h('td', {}, step.b === undefined ? h('em', {}, '—') : cell(stepsB[step.b], step.b)),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
