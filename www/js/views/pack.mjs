// A pack: its URI and badge, the checks, the contract, provenance, the file tree with previews and downloads.
// The manifest is shown as soon as the core verified it; the badge says "verified" only once every check passed.
// Its signatures are listed once the pack is read; the preview's renderers load with the first preview.
import { digestCode, formatBytes, h, jsonBlock, replace, table } from '../dom.mjs';
import { addressFromInput, diffHref, openHref, parseSource } from '../router.mjs';
import { describeSource } from '../sources.mjs';
import { badge, checksList, errorPanel, facts, section } from './common.mjs';
import { fileTable } from './files.mjs';
import { signaturesSection } from './signatures.mjs';

/**
 * @param {HTMLElement} main
 * @param {{source: object, path?: string, progress: ReturnType<import('./common.mjs').progressBar>}} options
 */
export function packView(main, { source, path, progress }) {
  const badgeSlot = h('span', { class: 'badge-slot' }, badge('verifying'));
  const uriSlot = h('code', { class: 'uri', dataset: { uri: '' } }, '…');
  const heading = h('h1', {}, path === undefined ? 'Pack ' : 'One file of pack ', badgeSlot);
  const factsSlot = h('div', {});
  const checksSlot = h('div', {}, h('p', {}, 'Checking…'));
  const contractSlot = h('div', {});
  const filesSlot = h('div', {});
  const previewSlot = h('div', { class: 'preview-slot', 'aria-live': 'polite' });
  const downloadsSlot = h('div', {});
  const signaturesSlot = h('div', {});
  const view = h(
    'div',
    { class: 'view pack-view' },
    heading,
    h('p', { class: 'uri-line' }, uriSlot),
    progress.element,
    factsSlot,
    section('Checks', checksSlot),
    signaturesSlot,
    previewSlot,
    contractSlot,
    filesSlot,
    downloadsSlot,
  );
  replace(main, view);
  let shown = false;
  let panel;
  const preview = () => (panel ??= import('./preview.mjs').then(({ previewPanel }) => previewPanel(previewSlot, { source, heading: 'Preview' })));

  function showManifest(manifest, info = {}) {
    if (shown) return;
    shown = true;
    replace(uriSlot, manifest.uri);
    uriSlot.dataset.uri = manifest.uri;
    document.title = `${manifest.uri} · ctxpack inspector`;
    replace(
      factsSlot,
      facts([
        ['From', h('code', {}, describeSource(source))],
        ['Created', info.created],
        ['Image manifest', info.digest ? digestCode(info.digest) : undefined],
        ['Files', `${manifest.outputs.entries.length} (${formatBytes(manifest.outputs.entries.reduce((sum, e) => sum + (e.size ?? 0), 0))})`],
        ['Tree digest', digestCode(manifest.outputs.digest)],
      ]),
    );
    replace(contractSlot, contractSection(manifest.contract), provenanceSection(manifest.provenance));
    replace(
      filesSlot,
      section(
        'Files',
        fileTable(manifest.outputs.entries, {
          onPreview: (entry) => preview().then((shown) => shown.show(entry.path)),
          onSave: (entry) => preview().then((shown) => shown.save(entry.path)),
        }),
      ),
    );
  }

  function finish(result) {
    if (result.manifest) showManifest(result.manifest, { created: result.created, digest: result.digest });
    else if (result.uri) replace(uriSlot, result.uri);
    if (result.mode === 'file') {
      replace(badgeSlot, badge('verified'));
      progress.finish(`${result.file.path}: its digest checked${result.file.fetchedBytes ? `, ${formatBytes(result.file.fetchedBytes)} fetched` : ''}`);
      replace(
        checksSlot,
        h('p', {}, `Only ${result.file.path} was read: its size and digest match the pack's verified manifest. `, h('a', { href: openHref(source) }, 'Verify the whole pack')),
      );
      preview().then((shown) => shown.showBytes(result.file));
    } else {
      replace(badgeSlot, badge(result.ok ? 'verified' : 'failed'));
      progress.finish(result.ok ? `every check passed (${result.summary.files} files, ${formatBytes(result.summary.bytes)})` : 'a check failed');
      replace(checksSlot, checksList(result.checks));
    }
    replace(downloadsSlot, downloadsSection(result, source), compareSection(source));
    const uri = result.manifest?.uri ?? result.uri ?? source.uri;
    if (uri) replace(signaturesSlot, signaturesSection(source, uri));
  }

  function fail(error) {
    replace(badgeSlot);
    replace(checksSlot, errorPanel(error, 'Could not finish'));
  }

  return { showManifest, finish, fail };
}

function contractSection(contract) {
  const inputs = Array.isArray(contract.inputs) ? contract.inputs : [];
  const transforms = Array.isArray(contract.transforms) ? contract.transforms : [];
  const rest = Object.fromEntries(Object.entries(contract).filter(([key]) => !['inputs', 'transforms', 'ctxpack'].includes(key)));
  return section(
    'Contract',
    facts([['Name', contract.name], ['Format', contract.ctxpack]]),
    table({
      caption: 'Inputs',
      head: ['Name', 'Kind', 'Identity'],
      rows: inputs.map((input) =>
        h('tr', {}, h('td', {}, input.name), h('td', {}, input.type ?? (input.uri ? 'pack' : 'digest')), h('td', {}, input.uri ? h('a', { href: uriLink(input.uri) }, h('code', {}, input.uri)) : digestCode(input.digest))),
      ),
    }),
    table({
      caption: 'Transforms',
      head: ['#', 'Tool', 'Version', 'Code', 'Params'],
      rows: transforms.map((transform, index) =>
        h(
          'tr',
          {},
          h('td', {}, String(index)),
          h('td', {}, transform.tool),
          h('td', {}, transform.tool_version ?? ''),
          h('td', {}, transform.code_hash ? digestCode(transform.code_hash) : h('em', {}, 'not part of the identity')),
          h('td', {}, transform.params === undefined ? '' : jsonBlock(transform.params, `params of transform ${index}`)),
        ),
      ),
    }),
    Object.keys(rest).length > 1 ? h('details', {}, h('summary', {}, 'Other fields'), jsonBlock(rest, 'other contract fields')) : null,
  );
}

/** Another pack named as an input opens in the same registry or pantry. */
function uriLink(uri) {
  const current = parseSource(location.hash.replace(/^#\/?/, '').split('?')[0]);
  if (current.kind === 'registry' || current.kind === 'pantry' || current.kind === 'layout') return openHref({ ...current, uri });
  return `#/pantry/ctx-${uri.slice('ctx://sha256:'.length)}`;
}

function provenanceSection(provenance) {
  if (!provenance || Object.keys(provenance).length === 0) return section('Provenance', h('p', {}, 'None recorded.'));
  const { command, ...rest } = provenance;
  return section(
    'Provenance',
    facts([
      ['Tool', provenance.tool ?? provenance.ctxpack],
      ['Command', Array.isArray(command) ? h('code', {}, command.join(' ')) : undefined],
      ['Created by', provenance.host ?? provenance.user],
    ]),
    h('details', {}, h('summary', {}, 'Everything recorded'), jsonBlock(rest, 'provenance')),
  );
}

function downloadsSection(result, source) {
  const links = [];
  if (source.kind === 'url') links.push(h('a', { href: source.url, download: '' }, 'The pack (.tar.gz)'));
  if (source.kind === 'file') links.push(h('a', { href: URL.createObjectURL(source.file), download: source.file.name }, `The pack (${source.file.name})`));
  for (const layer of result.downloads?.layers ?? []) {
    if (layer.url) links.push(h('a', { href: layer.url, download: layer.name }, `${layer.name} (${formatBytes(layer.size)})`));
  }
  if (links.length === 0) return null;
  return section('Download', h('ul', { class: 'links' }, links.map((link) => h('li', {}, link))), links.length > 1 ? h('p', { class: 'hint' }, 'A pack of several layers is one .tar.gz per layer, all checked against manifest.json.') : null);
}

/** A form to compare this pack with another address. */
export function compareSection(source) {
  const input = h('input', { id: 'compare-with', name: 'compare', type: 'text', required: true, placeholder: 'pantry/ctx-… or host/repo/ctx-…', autocomplete: 'off' });
  const error = h('p', { class: 'error', 'aria-live': 'polite' });
  return section(
    'Compare',
    h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (event) => {
          event.preventDefault();
          const other = parseSource(addressFromInput(input.value));
          if (other.invalid) return replace(error, other.invalid);
          location.hash = diffHref(source, other);
          return undefined;
        },
      },
      h('label', { for: 'compare-with' }, 'Compare with'),
      input,
      h('button', { type: 'submit' }, 'Compare'),
    ),
    error,
  );
}
