// Previews of one file, read and checked by the worker: text, JSON, JSONL, Markdown, CSV (a table) and images;
// anything else as a hex dump of its start. Save downloads the whole file, verified.
import { formatBytes, h, replace } from '../dom.mjs';
import { parseCsv } from '../render/csv.mjs';
import { renderMarkdown } from '../render/markdown.mjs';
import { call } from '../worker-client.mjs';
import { errorPanel, section } from './common.mjs';

const TEXT_PREVIEW_BYTES = 1024 * 1024;
const IMAGE_PREVIEW_BYTES = 16 * 1024 * 1024;
const TABLE_ROWS = 200;
const IMAGE_TYPES = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml', bmp: 'image/bmp', ico: 'image/x-icon', avif: 'image/avif' };

const extension = (path) => /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';

/** A preview area in `slot` for files of `source`. */
export function previewPanel(slot, { source, heading }) {
  let objectUrl;
  const release = () => {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = undefined;
  };

  async function show(path) {
    release();
    replace(slot, section(`${heading}: ${path}`, h('p', {}, 'Reading and checking…')));
    try {
      const maxBytes = IMAGE_TYPES[extension(path)] ? IMAGE_PREVIEW_BYTES : TEXT_PREVIEW_BYTES;
      showBytes(await call('readFile', { source, path, maxBytes }));
    } catch (error) {
      if (!error.cancelled) replace(slot, section(`${heading}: ${path}`, errorPanel(error, 'Could not read this file')));
    }
  }

  /** @param {{path: string, bytes: Uint8Array, size: number, verified: boolean, fetchedBytes?: number}} file */
  function showBytes(file) {
    release();
    const { content, url } = render(file);
    objectUrl = url;
    const partial = file.bytes.length < file.size;
    replace(
      slot,
      section(
        `${heading}: ${file.path}`,
        h(
          'p',
          { class: 'preview-meta', dataset: { verified: String(file.verified) } },
          file.verified ? h('span', { class: 'badge badge-verified' }, 'digest checked') : null,
          ` ${formatBytes(file.size)}`,
          partial ? `, showing the first ${formatBytes(file.bytes.length)}` : '',
          file.fetchedBytes ? `, ${formatBytes(file.fetchedBytes)} fetched` : '',
        ),
        h('div', { class: 'preview', dataset: { preview: file.path } }, content),
      ),
    );
    slot.querySelector('h2')?.scrollIntoView?.({ block: 'nearest' });
  }

  async function save(path) {
    try {
      const file = await call('readFile', { source, path });
      const link = h('a', { href: URL.createObjectURL(new Blob([file.bytes])), download: path.split('/').pop() });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    } catch (error) {
      if (!error.cancelled) replace(slot, section(`Save ${path}`, errorPanel(error, 'Could not save this file')));
    }
  }

  return { show, save, showBytes };
}

/** The preview of a file's bytes, by its extension (and whether its start is text). */
function render({ path, bytes }) {
  const type = extension(path);
  if (IMAGE_TYPES[type]) {
    const url = URL.createObjectURL(new Blob([bytes], { type: IMAGE_TYPES[type] }));
    return { content: h('img', { src: url, alt: `the image ${path}` }), url };
  }
  const text = asText(bytes);
  if (text === undefined) return { content: hexDump(bytes) };
  if (type === 'json') {
    try {
      return { content: h('pre', { class: 'json', tabindex: 0 }, JSON.stringify(JSON.parse(text), null, 2)) };
    } catch {
      return { content: h('pre', { tabindex: 0 }, text) };
    }
  }
  if (type === 'jsonl' || type === 'ndjson') return { content: jsonLines(text) };
  if (type === 'csv' || type === 'tsv') return { content: csvTable(text, type === 'tsv' ? '\t' : ',', path) };
  if (type === 'md' || type === 'markdown') return { content: h('div', { class: 'markdown' }, renderMarkdown(text)) };
  return { content: h('pre', { tabindex: 0, class: 'text' }, text) };
}

function asText(bytes) {
  if (bytes.subarray(0, 8192).includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // A preview may cut a multi-byte character at its end; anything else is not UTF-8 text.
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, Math.max(0, bytes.length - 3)));
    } catch {
      return undefined;
    }
  }
}

function jsonLines(text) {
  const lines = text.split('\n').filter((line) => line.trim() !== '').slice(0, TABLE_ROWS);
  return h(
    'ol',
    { class: 'jsonl' },
    lines.map((line) => {
      let shown = line;
      try {
        shown = JSON.stringify(JSON.parse(line), null, 2);
      } catch {
        shown = line;
      }
      return h('li', {}, h('pre', { tabindex: 0 }, shown));
    }),
  );
}

function csvTable(text, separator, path) {
  const rows = parseCsv(text, separator, TABLE_ROWS + 1);
  if (rows.length === 0) return h('p', {}, 'Empty.');
  const [head, ...body] = rows;
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `table ${path}` },
    h(
      'table',
      { class: 'csv' },
      h('caption', {}, `${path}${body.length >= TABLE_ROWS ? ` (first ${TABLE_ROWS} rows)` : ''}`),
      h('thead', {}, h('tr', {}, head.map((cell) => h('th', { scope: 'col' }, cell)))),
      h('tbody', {}, body.slice(0, TABLE_ROWS).map((row) => h('tr', {}, row.map((cell) => h('td', {}, cell))))),
    ),
  );
}

function hexDump(bytes) {
  const lines = [];
  const shown = bytes.subarray(0, 512);
  for (let offset = 0; offset < shown.length; offset += 16) {
    const slice = [...shown.subarray(offset, offset + 16)];
    const hex = slice.map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    const ascii = slice.map((byte) => (byte >= 32 && byte < 127 ? String.fromCharCode(byte) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return h('div', {}, h('p', {}, 'Binary file: its first bytes.'), h('pre', { class: 'hex', tabindex: 0 }, lines.join('\n')));
}
