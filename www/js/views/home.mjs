// The start page: open a pack by address, URL, file or folder; under `ctxpack serve`, the pantry's packs and
// execution packs.
import { formatBytes, h, replace, table } from '../dom.mjs';
import { addressFromInput, parseSource } from '../router.mjs';
import { addFile, addLayout, serverInfo } from '../sources.mjs';
import { section } from './common.mjs';

export async function renderHome(main, { stillCurrent }) {
  document.title = 'ctxpack inspector';
  const pantry = h('div', {}, h('p', {}, 'Looking for the pantry…'));
  replace(
    main,
    h('h1', {}, 'Open a pack'),
    h('p', {}, 'Packs, execution packs and context packets open here; every check runs in this browser, in a background worker.'),
    h('div', { class: 'open-grid' }, addressForm(), urlForm(), fileForm(), folderForm()),
    pantry,
  );
  const info = await serverInfo();
  if (!stillCurrent()) return;
  if (!info) {
    replace(pantry, section('Pantry', h('p', {}, 'Run ', h('code', {}, 'ctxpack serve'), ' to list and open the packs of your pantry here, and to reach registries that need a login or send no CORS headers.')));
    return;
  }
  try {
    const listing = await fetch('api/pantry').then((response) => (response.ok ? response.json() : Promise.reject(new Error(`the server answered ${response.status}`))));
    if (stillCurrent()) replace(pantry, pantrySection(listing));
  } catch (error) {
    if (stillCurrent()) replace(pantry, section('Pantry', h('p', { class: 'error' }, `Could not list the pantry: ${error.message}`)));
  }
}

function form(id, title, fields, onSubmit) {
  const error = h('p', { class: 'error', 'aria-live': 'polite' });
  return h(
    'form',
    {
      class: 'panel open-form',
      'aria-labelledby': `${id}-title`,
      onsubmit: (event) => {
        event.preventDefault();
        replace(error);
        const problem = onSubmit();
        if (problem) replace(error, problem);
      },
    },
    h('h2', { id: `${id}-title` }, title),
    fields,
    error,
  );
}

function addressForm() {
  const input = h('input', { id: 'open-address', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'registry.example.com/packs/ctx-…' });
  return form('address', 'From a registry', [
    h('label', { for: 'open-address' }, 'Registry address or deep link'),
    input,
    h('p', { class: 'hint' }, '<host[:port]>/<repository>/ctx-<64 hex>, or a link to this page'),
    h('button', { type: 'submit' }, 'Open'),
  ], () => {
    const address = addressFromInput(input.value);
    const source = parseSource(address.split('?')[0]);
    if (source.invalid) return source.invalid;
    location.hash = `#/${address}`;
    return undefined;
  });
}

function urlForm() {
  const input = h('input', { id: 'open-url', type: 'url', required: true, autocomplete: 'off', placeholder: 'https://example.com/pack.tar.gz' });
  return form('url', 'From a URL', [
    h('label', { for: 'open-url' }, 'URL of a .tar.gz, an execution log or a context packet'),
    input,
    h('p', { class: 'hint' }, 'The server must allow this page to read it (CORS).'),
    h('button', { type: 'submit' }, 'Open'),
  ], () => {
    const source = parseSource(`url/${encodeURIComponent(input.value.trim())}`);
    if (source.invalid) return source.invalid;
    location.hash = `#/url/${encodeURIComponent(source.url)}`;
    return undefined;
  });
}

function fileForm() {
  const input = h('input', { id: 'open-file', type: 'file', accept: '.tar.gz,.tgz,.gz,.json,.yaml,.yml,application/gzip,application/json' });
  input.addEventListener('change', () => {
    if (input.files?.[0]) location.hash = `#/file/${addFile(input.files[0])}`;
  });
  return form('file', 'From a file', [
    h('label', { for: 'open-file' }, 'A pack, an execution log or a context packet'),
    input,
    h('p', { class: 'hint' }, 'Or drop it anywhere on this page. It is read here and never uploaded.'),
  ], () => 'choose a file');
}

function folderForm() {
  const supported = typeof window.showDirectoryPicker === 'function';
  return form('folder', 'From an OCI layout folder', [
    h('p', {}, 'A folder written by ', h('code', {}, 'ctxpack export --oci'), ', skopeo or oras, or a pantry.'),
    supported
      ? h('button', { type: 'submit' }, 'Choose a folder…')
      : h('p', { class: 'hint' }, 'This browser has no folder picker; use Chromium, or run ctxpack serve for the pantry.'),
  ], () => {
    window
      .showDirectoryPicker({ mode: 'read' })
      .then((handle) => {
        location.hash = `#/layout/${addLayout(handle)}`;
      })
      .catch(() => {});
    return undefined;
  });
}

function pantrySection(listing) {
  const hex = (uri) => uri.slice('ctx://sha256:'.length);
  return section(
    'Pantry',
    h('p', {}, 'The packs in ', h('code', {}, listing.home), ', served read-only by ctxpack serve.'),
    listing.packs.length === 0
      ? h('p', {}, 'No packs yet.')
      : table({
          caption: `Packs (${listing.packs.length})`,
          head: ['URI', 'Created', 'Size', 'Layers'],
          rows: listing.packs.map((pack) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: `#/pantry/ctx-${hex(pack.uri)}` }, h('code', {}, pack.uri))),
              h('td', {}, pack.problem ? h('span', { class: 'error' }, `damaged: ${pack.problem}`) : (pack.created ?? '')),
              h('td', { class: 'num' }, pack.size === undefined ? '' : formatBytes(pack.size)),
              h('td', { class: 'num' }, String(pack.layers ?? '')),
            ),
          ),
        }),
    listing.executions.length === 0
      ? h('p', {}, 'No execution packs yet.')
      : table({
          caption: `Execution packs (${listing.executions.length})`,
          head: ['URI', 'Created', 'Model', 'Steps'],
          rows: listing.executions.map((run) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: `#/pantry/ctx-${hex(run.uri)}` }, h('code', {}, run.uri))),
              h('td', {}, run.problem ? h('span', { class: 'error' }, `damaged: ${run.problem}`) : (run.created ?? '')),
              h('td', {}, run.model ?? ''),
              h('td', { class: 'num' }, String(run.steps ?? '')),
            ),
          ),
        }),
  );
}
