// The pack's files: path, size, digest, with Preview and Save buttons; a filter for packs of many files (the
// table shows at most SHOWN rows at once, so a million-entry manifest stays usable).
import { digestCode, formatBytes, h, replace, table } from '../dom.mjs';

const SHOWN = 500;

/**
 * @param {Array<{path: string, size?: number, digest?: string, executable?: boolean, target?: string}>} entries
 * @param {{onPreview: (entry) => void, onSave: (entry) => void}} actions
 */
export function fileTable(entries, { onPreview, onSave }) {
  const body = h('div', {});
  const note = h('p', { class: 'hint', 'aria-live': 'polite' });
  const filter = h('input', { id: 'file-filter', type: 'search', placeholder: 'part of a path', autocomplete: 'off' });
  const render = () => {
    const needle = filter.value.trim().toLowerCase();
    const matching = needle ? entries.filter((entry) => entry.path.toLowerCase().includes(needle)) : entries;
    const rows = matching.slice(0, SHOWN).map((entry) => row(entry, { onPreview, onSave }));
    replace(body, table({ caption: `Files (${entries.length})`, head: ['Path', 'Size', 'Digest', 'Actions'], rows, className: 'files' }));
    replace(note, matching.length > SHOWN ? `Showing ${SHOWN} of ${matching.length} matching files: filter to find others.` : needle ? `${matching.length} matching files.` : '');
  };
  filter.addEventListener('input', render);
  render();
  return h(
    'div',
    {},
    entries.length > 20 ? h('p', { class: 'inline-form' }, h('label', { for: 'file-filter' }, 'Filter files'), filter) : null,
    note,
    body,
  );
}

function row(entry, { onPreview, onSave }) {
  const symlink = entry.target !== undefined;
  return h(
    'tr',
    { dataset: { path: entry.path } },
    h('td', { class: 'path' }, h('code', {}, entry.path), entry.executable ? h('span', { class: 'tag' }, 'executable') : null, symlink ? [' → ', h('code', {}, entry.target)] : null),
    h('td', { class: 'num' }, symlink ? 'link' : formatBytes(entry.size)),
    h('td', {}, symlink ? '' : digestCode(entry.digest)),
    h(
      'td',
      { class: 'actions' },
      symlink
        ? ''
        : [
            h('button', { type: 'button', onclick: () => onPreview(entry), 'aria-label': `Preview ${entry.path}` }, 'Preview'),
            h('button', { type: 'button', onclick: () => onSave(entry), 'aria-label': `Save ${entry.path}` }, 'Save'),
          ],
    ),
  );
}
