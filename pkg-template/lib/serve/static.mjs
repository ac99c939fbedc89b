// The inspector's own files for `ctxpack serve`: www/ at the root and the package's core/ at /core/, read only
// from inside those folders, gzip'd once per file when the browser accepts it (what the page really
// transfers), never listed.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * @param {{roots: Record<string, string>}} options URL prefix ("/", "/core/") → folder
 * @returns {(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse, pathname: string) => boolean}
 *   answers and returns true when `pathname` names one of the files
 */
export function createStaticHandler({ roots }) {
  const cache = new Map();
  const prefixes = Object.keys(roots).sort((a, b) => b.length - a.length);
  return (request, response, pathname) => {
    const prefix = prefixes.find((candidate) => pathname.startsWith(candidate));
    if (prefix === undefined) return false;
    const relative = pathname === '/' ? 'index.html' : pathname.slice(prefix.length);
    const file = fileInside(roots[prefix], relative);
    if (file === undefined) return false;
    const entry = load(cache, file);
    if (entry === undefined) return false;
    const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '') && entry.gzip.length < entry.bytes.length;
    const body = gzip ? entry.gzip : entry.bytes;
    response.writeHead(200, {
      'content-type': entry.type,
      'content-length': body.length,
      'cache-control': 'no-cache',
      etag: entry.etag,
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    response.end(request.method === 'HEAD' ? undefined : body);
    return true;
  };
}

/** The file `relative` names inside `root`, or undefined (outside it, hidden, or not a known type). */
function fileInside(root, relative) {
  let decoded;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.split('/').some((part) => part.startsWith('.'))) return undefined;
  const file = path.resolve(root, decoded);
  if (!file.startsWith(`${path.resolve(root)}${path.sep}`)) return undefined;
  return TYPES[path.extname(file)] === undefined ? undefined : file;
}

/** The file's bytes and gzip, cached while its size and mtime stay the same (a rebuilt package is picked up). */
function load(cache, file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (!stat.isFile()) return undefined;
  const stamp = `${stat.size}-${stat.mtimeMs}`;
  const cached = cache.get(file);
  if (cached?.stamp === stamp) return cached;
  const bytes = fs.readFileSync(file);
  const entry = {
    stamp,
    bytes,
    gzip: zlib.gzipSync(bytes, { level: 9 }),
    type: TYPES[path.extname(file)],
    etag: `"${stamp}"`,
  };
  cache.set(file, entry);
  return entry;
}
