// The page's address: everything after "#/", so deep links work from any static host and need no server.
//
//   #/                                        home: open a pack, the pantry (under `ctxpack serve`)
//   #/<host[:port]>/<repository>/ctx-<hex>    a pack or execution pack in a registry
//   #/pantry/ctx-<hex>                        one in the local pantry (`ctxpack serve`)
//   #/url/<encoded URL>                       a .tar.gz, an execution log or a context packet at a URL
//   #/file/<n>                                the n-th file opened (dropped or picked) on this page
//   #/layout/<n>[/ctx-<hex>]                  an OCI layout folder chosen on this page, or one pack in it
//   …?path=<file>                             one file of a pack: only what holds it is fetched
//   #/diff?a=<address>&b=<address>            two packs or two execution packs side by side

const TAG = /^ctx-[0-9a-f]{64}$/;

/**
 * @returns {{view: 'home'} | {view: 'open', source: Source, path?: string} | {view: 'diff', a: Source, b: Source}
 *   | {view: 'layout', index: number} | {view: 'invalid', reason: string}}
 */
export function parseRoute(hash) {
  const text = hash.replace(/^#\/?/, '');
  const [address, query = ''] = splitOnce(text, '?');
  const params = new URLSearchParams(query);
  if (address === '' || address === '/') return { view: 'home' };
  if (address === 'diff') {
    const a = parseSource(params.get('a') ?? '');
    const b = parseSource(params.get('b') ?? '');
    if (a.invalid || b.invalid) return { view: 'invalid', reason: a.invalid ?? b.invalid };
    return { view: 'diff', a, b };
  }
  const layoutList = /^layout\/(\d+)$/.exec(address);
  if (layoutList) return { view: 'layout', index: Number(layoutList[1]) };
  const source = parseSource(address);
  if (source.invalid) return { view: 'invalid', reason: source.invalid };
  const path = params.get('path') ?? undefined;
  return { view: 'open', source, path };
}

/**
 * A source: where an artifact is and how to reach it. Plain data (posted to the worker as is, File and
 * directory handles added by the page).
 * @typedef {{kind: 'registry', registry: string, uri: string} | {kind: 'pantry', uri: string}
 *   | {kind: 'url', url: string} | {kind: 'file', index: number} | {kind: 'layout', index: number, uri: string}} Source
 */
export function parseSource(address) {
  let decoded = address;
  if (address.startsWith('url/')) {
    try {
      const url = new URL(decodeURIComponent(address.slice(4)));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return { invalid: 'only http and https URLs open' };
      return { kind: 'url', url: url.href };
    } catch {
      return { invalid: `not a URL: ${address.slice(4)}` };
    }
  }
  const file = /^file\/(\d+)$/.exec(address);
  if (file) return { kind: 'file', index: Number(file[1]) };
  try {
    decoded = decodeURIComponent(address);
  } catch {
    return { invalid: 'the address is not valid percent-encoding' };
  }
  const parts = decoded.split('/');
  const tag = parts.at(-1);
  if (!TAG.test(tag ?? '')) return { invalid: 'the address does not end with ctx-<64 hex digits>' };
  const uri = `ctx://sha256:${tag.slice(4)}`;
  if (parts[0] === 'pantry' && parts.length === 2) return { kind: 'pantry', uri };
  if (parts[0] === 'layout' && parts.length === 3 && /^\d+$/.test(parts[1])) return { kind: 'layout', index: Number(parts[1]), uri };
  if (parts.length < 3) return { invalid: 'a registry address is <host[:port]>/<repository>/ctx-<hex>' };
  return { kind: 'registry', registry: parts.slice(0, -1).join('/'), uri };
}

/** The address of a source (what follows "#/"). */
export function sourceAddress(source) {
  const tag = source.uri ? `ctx-${source.uri.slice('ctx://sha256:'.length)}` : '';
  switch (source.kind) {
    case 'registry':
      return `${source.registry}/${tag}`;
    case 'pantry':
      return `pantry/${tag}`;
    case 'url':
      return `url/${encodeURIComponent(source.url)}`;
    case 'file':
      return `file/${source.index}`;
    case 'layout':
      return `layout/${source.index}/${tag}`;
    default:
      return '';
  }
}

export function openHref(source, path) {
  return `#/${sourceAddress(source)}${path === undefined ? '' : `?path=${encodeURIComponent(path)}`}`;
}

export function diffHref(a, b) {
  return `#/diff?a=${encodeURIComponent(sourceAddress(a))}&b=${encodeURIComponent(sourceAddress(b))}`;
}

/** A deep link or address typed by the user ("https://host/#/…", "#/…", "host/repo/ctx-…", "host/repo:ctx-…"). */
export function addressFromInput(text) {
  const trimmed = text.trim();
  const hash = trimmed.indexOf('#/');
  if (hash !== -1) return trimmed.slice(hash + 2);
  return trimmed.replace(/^(?:https?:\/\/)/, '').replace(/:(ctx-[0-9a-f]{64})$/, '/$1');
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at === -1 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}
