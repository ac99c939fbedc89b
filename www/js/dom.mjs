// Building the page from data without ever parsing it as HTML: every text goes in as a text node.

/**
 * h('a', { href, class: 'x', onclick }, 'text', child, [more]) → an element. Attributes that are false,
 * null or undefined are left out; `on…` functions become listeners; children may be strings, nodes or arrays.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Empties `element` and puts `children` in it. */
export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** "sha256:0123456789ab…" for tables; the full value stays in the title. */
export function shortDigest(digest) {
  return typeof digest === 'string' && digest.length > 19 ? `${digest.slice(0, 19)}…` : String(digest ?? '');
}

/** A `<code>` that shows a digest short and keeps it whole for copying and screen readers. */
export function digestCode(digest) {
  return h('code', { class: 'digest', title: digest }, digest);
}

/** A JSON value, pretty-printed, as a <pre>. */
export function jsonBlock(value, label) {
  return h('pre', { class: 'json', tabindex: 0, 'aria-label': label }, JSON.stringify(value, null, 2));
}

/** A table in a scrolling, focusable wrapper (narrow screens scroll it, not the page). */
export function table({ caption, head, rows, className }) {
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h(
      'table',
      { class: className },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, head.map((cell) => h('th', { scope: 'col' }, cell)))),
      h('tbody', {}, rows),
    ),
  );
}
