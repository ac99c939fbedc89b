// The same-origin registry proxy of `ctxpack serve`: GET/HEAD /registry/<host[:port]>/v2/… is forwarded to that
// registry (https; http only for loopback hosts), so the inspector reaches registries that send no CORS headers
// and registries that need a login. The browser's own core still verifies every byte; this only carries them.
//
// Authentication is the core's: one RegistryClient per registry repository, with the user's credentials for
// that host (the sources `pull` uses), answers the registry's challenge (Basic, or a Bearer token for the
// repository's pull scope, realm rules and all). The proxy replays the Authorization that client sent to the
// registry's own origin, for that repository only. Redirects are followed here: to the same origin with it, to
// any other host (a storage CDN) without it, never from https down to http.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as core from '../core-node.mjs';
import { isCtxpackError } from '../errors.mjs';
import { credentialsFor } from '../registry/credentials.mjs';
import { createHttpFetch } from '../registry/http-fetch.mjs';
import { timeoutSeconds } from '../stores/remote-store.mjs';
import { sendRegistryError } from './http.mjs';

const PREFIX = '/registry/';
const MAX_REDIRECTS = 5;
const AUTHORITY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const REGISTRY_PATH = /^\/v2\/(?:(.+)\/(manifests|blobs)\/([^/]+)|(.+)\/tags\/list)?$/;
const FORWARDED_REQUEST_HEADERS = ['accept', 'range', 'if-none-match'];
const FORWARDED_RESPONSE_HEADERS = [
  'content-type', 'content-length', 'content-range', 'accept-ranges', 'docker-content-digest', 'etag',
  'docker-distribution-api-version', 'retry-after',
];

/**
 * @param {{env?: NodeJS.ProcessEnv, caFile?: string, timeout?: number, onEvent?: (event: {kind: string, message: string}) => void}} options
 * @returns {{handle: (request, response, pathname: string, search: string) => Promise<boolean>, stats: () => {requests: number, bytes: number}}}
 */
export function createRegistryProxy({ env = process.env, caFile, timeout, onEvent } = {}) {
  const httpFetch = createHttpFetch({ caFile, env });
  /** "<authority>/<repository>" → { client, authorization } */
  const sessions = new Map();
  const counters = { requests: 0, bytes: 0 };

  function session(authority, repository) {
    const key = `${authority}/${repository}`;
    let found = sessions.get(key);
    if (found) return found;
    const origin = upstreamOrigin(authority);
    found = { authorization: undefined };
    found.client = new core.RegistryClient({
      registry: `${origin}/${repository}`,
      fetch: (url, init) => {
        // What the core decided to send to the registry itself is what the proxy may replay there.
        const target = new URL(url);
        const authorization = new Headers(init?.headers ?? {}).get('authorization');
        if (target.origin === origin && target.pathname.startsWith('/v2/') && authorization) found.authorization = authorization;
        return httpFetch(url, init);
      },
      credentials: (host) => credentialsFor(host, { env }),
      timeout: timeoutSeconds(timeout, env),
      onEvent,
    });
    sessions.set(key, found);
    return found;
  }

  /** Lets the core authenticate for this repository, with the request it stands for. */
  async function authenticate(state, kind, reference) {
    state.authorization = undefined;
    try {
      if (kind === 'manifests') await state.client.headManifest(reference);
      else if (kind === 'blobs') await state.client.blobExists({ mediaType: 'application/octet-stream', digest: reference, size: 0 });
      else await state.client.checkLogin();
    } catch (error) {
      // A blob HEAD answered with its real size (not 0) still authenticated; auth failures are the answer.
      if (!isCtxpackError(error) || error.code !== 'CTX_SIZE_MISMATCH') return error;
    }
    return undefined;
  }

  async function handle(request, response, pathname, search) {
    if (!pathname.startsWith(PREFIX)) return false;
    const rest = pathname.slice(PREFIX.length);
    const slash = rest.indexOf('/');
    const authority = slash === -1 ? rest : rest.slice(0, slash);
    const upstreamPath = slash === -1 ? '/' : rest.slice(slash);
    const match = REGISTRY_PATH.exec(upstreamPath);
    if (!AUTHORITY.test(authority) || !match) {
      sendRegistryError(response, 404, 'NAME_UNKNOWN', 'the proxy serves /registry/<host[:port]>/v2/<repository>/(manifests|blobs)/<reference>');
      return true;
    }
    counters.requests += 1;
    const repository = match[1] ?? match[4];
    const kind = match[2] ?? (match[4] ? 'tags' : 'ping');
    const reference = match[3];
    const origin = upstreamOrigin(authority);
    const headers = {};
    for (const name of FORWARDED_REQUEST_HEADERS) if (request.headers[name]) headers[name] = request.headers[name];
    headers['accept-encoding'] = 'identity';
    const url = `${origin}${upstreamPath}${search}`;
    const state = repository ? session(authority, repository) : session(authority, '_');
    let upstream = await forward(url, request.method, headers, state.authorization, origin);
    if (upstream.status === 401) {
      await upstream.body?.cancel();
      const failure = await authenticate(state, kind, reference);
      if (failure) {
        sendRegistryError(response, failure.code === 'CTX_AUTH_DENIED' ? 403 : 401, 'UNAUTHORIZED', `${failure.message}${failure.hint ? ` (${failure.hint})` : ''}`);
        return true;
      }
      upstream = await forward(url, request.method, headers, state.authorization, origin);
      if (upstream.status === 401) {
        await upstream.body?.cancel();
        sendRegistryError(response, 401, 'UNAUTHORIZED', `${authority} refused the credentials ctxpack has for it (run \`ctxpack login ${authority}\`)`);
        return true;
      }
    }
    const out = {};
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) out[name] = value;
    }
    response.writeHead(upstream.status, out);
    if (!upstream.body || request.method === 'HEAD') {
      await upstream.body?.cancel();
      response.end();
      return true;
    }
    const body = Readable.fromWeb(upstream.body);
    body.on('data', (chunk) => (counters.bytes += chunk.length));
    await pipeline(body, response).catch(() => response.destroy());
    return true;
  }

  /** One request and its redirects; the authorization goes only to `origin` and never over a downgrade. */
  async function forward(url, method, headers, authorization, origin) {
    let target = new URL(url);
    for (let hop = 0; ; hop += 1) {
      const sameOrigin = target.origin === origin;
      const init = { method, headers: { ...headers, ...(sameOrigin && authorization ? { authorization } : {}) }, connectTimeout: 10_000 };
      let answer;
      try {
        answer = await httpFetch(target.href, init);
      } catch (error) {
        return errorResponse(502, 'UNREACHABLE', `${target.host} did not answer: ${error.cause?.code ?? error.message}`);
      }
      if (![301, 302, 303, 307, 308].includes(answer.status) || !answer.headers.get('location')) return answer;
      await answer.body?.cancel();
      if (hop >= MAX_REDIRECTS) return errorResponse(502, 'TOO_MANY_REDIRECTS', `${origin} redirected more than ${MAX_REDIRECTS} times`);
      const next = new URL(answer.headers.get('location'), target);
      if (!['http:', 'https:'].includes(next.protocol) || (target.protocol === 'https:' && next.protocol === 'http:')) {
        return errorResponse(502, 'REDIRECT_REFUSED', `${target.host} redirected to ${next.protocol} ${next.host}, which is not followed`);
      }
      target = next;
    }
  }

  return { handle, stats: () => ({ ...counters }) };
}

/** http for loopback hosts (as the core's clients do), https for every other. */
function upstreamOrigin(authority) {
  const host = authority.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  const loopback = host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
  return `${loopback ? 'http' : 'https'}://${authority}`;
}

function errorResponse(status, code, message) {
  return new Response(JSON.stringify({ errors: [{ code, message }] }), { status, headers: { 'content-type': 'application/json' } });
}
