// The `fetch` the Node host gives the registry client: WHATWG fetch's shape over node:http and node:https, so
// that what global fetch cannot do is possible — a connect timeout (init.connectTimeout, ms), a private CA
// (--ca-file, CTXPACK_CA_FILE) added to the trusted roots, and keep-alive connections per registry. It never
// follows redirects: the core's registry engine does, and decides where credentials may go. Failures reject as
// undici's do (`TypeError('fetch failed', { cause })` with the system or OpenSSL code on the cause), so the
// core classifies them the same way.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { CtxpackError } from '../errors.mjs';
import { responseBody } from './response-body.mjs';

/** Statuses whose Response must not have a body (the WHATWG Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** Agents per CA file ('' = the default roots), shared by every client of the process. */
const agents = new Map();

/**
 * @param {{caFile?: string, env?: NodeJS.ProcessEnv}} [options] caFile: PEM certificates to trust besides the
 *   default roots (and NODE_EXTRA_CA_CERTS); default $CTXPACK_CA_FILE
 * @returns {(url: string, init?: object) => Promise<Response>}
 */
export function createHttpFetch({ caFile, env = process.env } = {}) {
  const { httpAgent, httpsAgent } = agentsFor(caFile ?? env.CTXPACK_CA_FILE ?? '', env);
  return (url, init = {}) => request(new URL(url), init, url.startsWith('https:') ? httpsAgent : httpAgent);
}

function agentsFor(caFile, env) {
  let pair = agents.get(caFile);
  if (pair) return pair;
  const options = { keepAlive: true };
  if (caFile !== '') options.ca = trustedCertificates(caFile, env);
  pair = { httpAgent: new http.Agent({ keepAlive: true }), httpsAgent: new https.Agent(options) };
  agents.set(caFile, pair);
  return pair;
}

/** Node's default roots, NODE_EXTRA_CA_CERTS (which an explicit `ca` would otherwise drop) and the CA file. */
function trustedCertificates(caFile, env) {
  const read = (file, what) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new CtxpackError('CTX_IO', `cannot read ${what} ${file}: ${error.code ?? error.message}`, {
        subject: file,
        hint: 'give a PEM file with the certificate of the CA that signed the registry certificate',
      });
    }
  };
  const extra = env.NODE_EXTRA_CA_CERTS ? [read(env.NODE_EXTRA_CA_CERTS, 'NODE_EXTRA_CA_CERTS')] : [];
  const pem = read(caFile, 'the CA file');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CtxpackError('CTX_USAGE', `the CA file ${caFile} holds no PEM certificate`, {
      subject: caFile,
      hint: 'give a PEM file (-----BEGIN CERTIFICATE-----) with the certificate of the registry CA',
    });
  }
  return [...tls.rootCertificates, ...extra, pem];
}

function request(url, init, agent) {
  const { method = 'GET', signal, connectTimeout } = init;
  const headers = Object.fromEntries(new Headers(init.headers ?? {}));
  const streamed = isStreamBody(init.body);
  const body = init.body === undefined || init.body === null || streamed ? undefined : toBuffer(init.body);
  if (streamed) headers['content-length'] = String(init.body.byteLength);
  else if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const transport = url.protocol === 'https:' ? https : http;
    const outgoing = transport.request(url, { method, headers, agent });
    let connectTimer;
    const fail = (error) => {
      clearTimeout(connectTimer);
      signal?.removeEventListener('abort', onAbort);
      reject(new TypeError('fetch failed', { cause: error }));
    };
    const onAbort = () => outgoing.destroy(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    outgoing.on('socket', (socket) => {
      if (!connectTimeout || !socket.connecting) return;
      connectTimer = setTimeout(() => {
        const error = new Error(`could not connect to ${url.host} within ${connectTimeout} ms`);
        error.code = 'CTXPACK_CONNECT_TIMEOUT';
        outgoing.destroy(error);
      }, connectTimeout);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    outgoing.on('error', (error) => (error.name === 'AbortError' ? reject(error) : fail(error)));
    outgoing.on('response', (incoming) => {
      clearTimeout(connectTimer);
      const status = incoming.statusCode ?? 0;
      const nullBody = NULL_BODY_STATUSES.has(status) || method === 'HEAD';
      if (nullBody) incoming.resume();
      // A stream the caller stops reading is torn down with the connection when the signal fires.
      signal?.removeEventListener('abort', onAbort);
      signal?.addEventListener('abort', () => incoming.destroy(abortError()), { once: true });
      const responseHeaders = new Headers();
      for (let i = 0; i < incoming.rawHeaders.length; i += 2) responseHeaders.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1]);
      try {
        resolve(new Response(nullBody ? null : responseBody(incoming), { status, statusText: incoming.statusMessage, headers: responseHeaders }));
      } catch (error) {
        incoming.destroy();
        fail(error);
      }
    });
    if (streamed) void sendStream(outgoing, init.body);
    else outgoing.end(body);
  });
}

/** A body that produces its bytes while it is sent (the core's StreamBody): exactly `byteLength` bytes. */
function isStreamBody(body) {
  return typeof body === 'object' && body !== null && typeof body[Symbol.asyncIterator] === 'function' && Number.isSafeInteger(body.byteLength);
}

/** Writes a streamed body as the socket takes it; a failing body (a damaged blob) ends the request. */
async function sendStream(outgoing, body) {
  try {
    for await (const piece of body) {
      if (outgoing.destroyed) return;
      if (!outgoing.write(piece)) await drainedOrClosed(outgoing);
    }
    outgoing.end();
  } catch (error) {
    outgoing.destroy(error);
  }
}

/**
 * Until the request drains, or closes ('close' too: a request destroyed without an error never drains). Both
 * listeners go once either fires: an upload waits here once per socket buffer, and listeners left behind pile up.
 */
function drainedOrClosed(outgoing) {
  return new Promise((resolve) => {
    const done = () => {
      outgoing.off('drain', done);
      outgoing.off('close', done);
      resolve();
    };
    outgoing.on('drain', done);
    outgoing.on('close', done);
  });
}

function toBuffer(body) {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('the request body must be a string or bytes');
}

function abortError() {
  return new DOMException('The operation was aborted', 'AbortError');
}
