// `ctxpack serve`: the browser inspector (www/ and the wasm core), a same-origin proxy to registries that adds
// the user's credentials for the registry the path names (serve/registry-proxy.mjs), and the local pantry as a
// read-only registry plus a listing (serve/pantry-registry.mjs). node:http, loopback by default.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CtxpackError, isCtxpackError } from './errors.mjs';
import { defaultHome } from './pantry.mjs';
import { sendJson, sendRegistryError } from './serve/http.mjs';
import { listPantry, servePantryRegistry } from './serve/pantry-registry.mjs';
import { createRegistryProxy } from './serve/registry-proxy.mjs';
import { createStaticHandler } from './serve/static.mjs';
import { readPublicKey } from './sign/keys.mjs';
import { PACKAGE_VERSION } from './version.mjs';

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_PORT = 8371;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Start the inspector's server.
 * @param {{port?: number, host?: string, home?: string, env?: NodeJS.ProcessEnv, caFile?: string, timeout?: number,
 *   trustKeys?: string[], onEvent?: (event: {kind: string, message: string}) => void}} [options] port 0: any free port;
 *   trustKeys: public key files the inspector offers as trusted keys
 * @returns {Promise<{url: string, host: string, port: number, loopback: boolean, close: () => Promise<void>,
 *   stats: () => {requests: number, bytes: number}}>}
 */
export async function serve({ port = DEFAULT_PORT, host = '127.0.0.1', home, env = process.env, caFile, timeout, trustKeys = [], onEvent } = {}) {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CtxpackError('CTX_USAGE', `--port must be a whole number from 0 to 65535, got ${port}`, { hint: 'e.g. --port 8371, or --port 0 for any free port' });
  }
  const pantryHome = path.resolve(home ?? env.CTXPACK_HOME ?? defaultHome());
  // Read once, before listening: a bad key file is a usage error now, not a broken page later.
  const trustedKeys = trustKeys.map((file) => ({ file: path.resolve(file), pem: readPublicKey(file) }));
  const loopback = LOOPBACK.has(host) || /^127\./.test(host);
  const files = createStaticHandler({ roots: { '/': path.join(PACKAGE_DIR, 'www'), '/core/': path.join(PACKAGE_DIR, 'core') } });
  const proxy = createRegistryProxy({ env, caFile, timeout, onEvent });
  let allowedHosts = new Set();

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error) => {
      if (response.headersSent) return response.destroy();
      const message = isCtxpackError(error) ? error.message : 'internal error';
      sendRegistryError(response, isCtxpackError(error) && error.code === 'CTX_NOT_FOUND' ? 404 : 500, error.code ?? 'UNKNOWN', message);
    });
  });

  async function handle(request, response) {
    setSecurityHeaders(response);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' });
      return response.end();
    }
    // DNS rebinding: on loopback only this server's own names are answered.
    if (loopback && !allowedHosts.has((request.headers.host ?? '').toLowerCase())) {
      return sendJson(response, 421, { error: `this server answers only to ${[...allowedHosts][0]}` });
    }
    const { pathname, search } = new URL(request.url, 'http://server');
    const dataRequest = pathname.startsWith('/registry/') || pathname.startsWith('/api/') || pathname.startsWith('/v2');
    // Another site's page may not use the user's credentials or read the pantry through this server.
    if (dataRequest && request.headers['sec-fetch-site'] === 'cross-site') {
      return sendJson(response, 403, { error: 'cross-site requests are refused' });
    }
    if (pathname === '/api/info') return sendJson(response, 200, { ctxpack: PACKAGE_VERSION, serve: true, pantry: pantryHome, trustedKeys });
    if (pathname === '/api/pantry') return listPantry(response, { home: pantryHome });
    if (pathname.startsWith('/v2') && servePantryRegistry(request, response, pathname, { home: pantryHome })) return undefined;
    if (await proxy.handle(request, response, pathname, search)) return undefined;
    if (files(request, response, pathname)) return undefined;
    return sendJson(response, 404, { error: `nothing at ${pathname}` });
  }

  await new Promise((resolve, reject) => {
    server.once('error', (error) => {
      if (error.code === 'EADDRINUSE') {
        reject(new CtxpackError('CTX_USAGE', `port ${port} on ${host} is in use`, { hint: 'pick another with --port <n>, or --port 0 for any free port' }));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new CtxpackError('CTX_USAGE', `cannot listen on ${host}: no such address here`, { hint: 'use --host 127.0.0.1 (the default)' }));
      } else reject(error);
    });
    server.listen(port, host, resolve);
  });
  const bound = server.address().port;
  const shown = host.includes(':') ? `[${host}]` : host;
  allowedHosts = new Set([`${shown}:${bound}`, `127.0.0.1:${bound}`, `localhost:${bound}`, `[::1]:${bound}`]);
  return {
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : shown}:${bound}/`,
    host,
    port: bound,
    loopback,
    stats: proxy.stats,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function setSecurityHeaders(response) {
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('referrer-policy', 'no-referrer');
  response.setHeader('x-frame-options', 'DENY');
  response.setHeader(
    'content-security-policy',
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' http: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  );
}
