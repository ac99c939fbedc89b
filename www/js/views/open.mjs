// Opening an address: the worker reads and checks what the source holds, and the matching view shows it.
import { h, replace } from '../dom.mjs';
import { describeSource, forWorker } from '../sources.mjs';
import { call } from '../worker-client.mjs';
import { errorPanel, progressBar } from './common.mjs';
import { packView } from './pack.mjs';

export async function renderOpen(main, { source, path }, { stillCurrent }) {
  const workerSource = await forWorker(source);
  if (workerSource.missing) {
    replace(main, h('h1', {}, 'Nothing to show'), h('p', {}, workerSource.missing), h('p', {}, h('a', { href: '#/' }, 'Open a pack')));
    return;
  }
  const heading = h('h1', {}, path === undefined ? 'Opening…' : `Opening ${path}…`);
  const progress = progressBar('Reading and checking');
  const body = h('div', { class: 'view' });
  replace(main, heading, h('p', { class: 'source' }, 'From ', h('code', {}, describeSource(source))), progress.element, body);
  let pack;
  const ensurePack = () => (pack ??= packView(main, { source: workerSource, path, progress }));
  try {
    const result = await call('open', { source: workerSource, path }, {
      onManifest: (manifest, info) => stillCurrent() && ensurePack().showManifest(manifest, info),
      onProgress: (value) => stillCurrent() && progress.update(value),
    });
    if (!stillCurrent()) return;
    if (result.kind === 'pack') ensurePack().finish(result);
    else if (result.kind === 'execution') (await import('./execution.mjs')).renderExecution(main, result, { source: workerSource, progress });
    else if (result.kind === 'context') (await import('./context.mjs')).renderContext(main, result, { source: workerSource, progress });
  } catch (error) {
    if (!stillCurrent() || error.cancelled) return;
    progress.finish('stopped');
    if (pack) pack.fail(error);
    else {
      replace(heading, 'Could not open this');
      body.append(errorPanel(error, 'What went wrong'));
    }
  }
}
