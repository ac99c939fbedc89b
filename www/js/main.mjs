// The inspector's entry: route the address to a view, accept dropped files anywhere on the page, and move focus
// to the new view's heading so keyboard and screen-reader users land on it. Views other than a pack's are
// imported when first shown, so a deep link to a pack downloads only what it shows.
import { h, replace } from './dom.mjs';
import { parseRoute } from './router.mjs';
import { addFile } from './sources.mjs';
import { stopAll } from './worker-client.mjs';
import { renderOpen } from './views/open.mjs';

const main = document.getElementById('main');
let generation = 0;

async function route() {
  stopAll();
  const current = ++generation;
  const stillCurrent = () => current === generation;
  const target = parseRoute(location.hash);
  replace(main);
  if (target.view === 'home') await (await import('./views/home.mjs')).renderHome(main, { stillCurrent });
  else if (target.view === 'open') await renderOpen(main, target, { stillCurrent });
  else if (target.view === 'diff') await (await import('./views/diff.mjs')).renderDiff(main, target, { stillCurrent });
  else if (target.view === 'layout') await (await import('./views/layout.mjs')).renderLayout(main, target, { stillCurrent });
  else replace(main, h('h1', {}, 'This address opens nothing'), h('p', { class: 'error' }, target.reason), h('p', {}, h('a', { href: '#/' }, 'Open a pack')));
}

/** Focus the view's heading after navigation (not on the first load, which keeps the browser's own focus). */
let firstLoad = true;
function focusHeading() {
  if (firstLoad) {
    firstLoad = false;
    return;
  }
  main.querySelector('h1')?.setAttribute('tabindex', '-1');
  main.querySelector('h1')?.focus();
}

window.addEventListener('hashchange', () => route().then(focusHeading));
route().then(focusHeading);

document.querySelector('[data-skip]')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

// Drop a pack, a log or a packet anywhere: it opens as #/file/<n>.
const overlay = document.getElementById('drop-overlay');
let depth = 0;
window.addEventListener('dragenter', (event) => {
  if (!event.dataTransfer?.types.includes('Files')) return;
  depth += 1;
  overlay.hidden = false;
});
window.addEventListener('dragleave', () => {
  depth = Math.max(0, depth - 1);
  if (depth === 0) overlay.hidden = true;
});
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => {
  event.preventDefault();
  depth = 0;
  overlay.hidden = true;
  const file = event.dataTransfer?.files?.[0];
  if (file) location.hash = `#/file/${addFile(file)}`;
});
