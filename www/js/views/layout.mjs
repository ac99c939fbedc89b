// An OCI layout folder chosen on this page: the packs and execution packs its index.json names.
import { h, replace, table } from '../dom.mjs';
import { forWorker, layoutName } from '../sources.mjs';
import { call } from '../worker-client.mjs';
import { errorPanel } from './common.mjs';

export async function renderLayout(main, { index }, { stillCurrent }) {
  const source = await forWorker({ kind: 'layout', index, uri: '' });
  if (source.missing) return replace(main, h('h1', {}, 'Nothing to show'), h('p', {}, source.missing), h('p', {}, h('a', { href: '#/' }, 'Open a pack')));
  replace(main, h('h1', {}, `Folder ${layoutName(index)}`), h('p', {}, 'Reading index.json…'));
  try {
    const { entries } = await call('listLayout', { source });
    if (!stillCurrent()) return undefined;
    return replace(
      main,
      h('h1', {}, `Folder ${layoutName(index)}`),
      entries.length === 0
        ? h('p', {}, 'Its index.json names no ctxpack pack.')
        : table({
            caption: `Packs and execution packs (${entries.length})`,
            head: ['URI', 'Kind'],
            rows: entries.map((entry) =>
              h('tr', {}, h('td', {}, h('a', { href: `#/layout/${index}/${entry.tag}` }, h('code', {}, entry.uri))), h('td', {}, entry.artifactType)),
            ),
          }),
    );
  } catch (error) {
    if (stillCurrent() && !error.cancelled) main.append(errorPanel(error, 'Could not read the folder'));
    return undefined;
  }
}
