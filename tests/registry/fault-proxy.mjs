// A streaming fault-injection proxy in front of a registry on 127.0.0.1 (hostile registries for the tests: errors,
// silence, stalls, cross-host redirects, lies), split from harness.mjs, which re-exports it.
//
//   const proxy = await startFaultProxy(registry.url, { failStatus: { status: 500, times: 2 } });
//   proxy.host / proxy.ref('packs'); proxy.rules (mutable); proxy.stats(); proxy.reset(); await proxy.close();
import http from 'node:http';
import path from 'node:path';
import { EMPTY_CONFIG, listenOnLoopback, live } from './loopback.mjs';

/**
 * Classify a registry request: { kind, repository, reference }.
 * kinds: ping, manifest-get, manifest-head, manifest-put, manifest-delete, blob-get, blob-head,
 * upload-post, upload-patch, upload-put, upload-get, upload-delete, tags, other.
 */
export function classify(method, pathname) {
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'ping' };
  let m = /^\/v2\/(.+)\/blobs\/uploads\/?(.*)$/.exec(pathname);
  if (m) return { kind: `upload-${method.toLowerCase()}`, repository: m[1], reference: m[2] || null };
  m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(pathname);
  if (m) return { kind: `blob-${method.toLowerCase()}`, repository: m[1], reference: decodeURIComponent(m[2]) };
  m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(pathname);
  if (m) return { kind: `manifest-${method.toLowerCase()}`, repository: m[1], reference: decodeURIComponent(m[2]) };
  m = /^\/v2\/(.+)\/tags\/list$/.exec(pathname);
  if (m) return { kind: 'tags', repository: m[1] };
  return { kind: 'other' };
}

const matches = (rule, info) => {
  if (!rule) return false;
  if (rule.kind && !(Array.isArray(rule.kind) ? rule.kind : [rule.kind]).includes(info.kind)) return false;
  if (rule.reference && rule.reference !== info.reference) return false;
  if (rule.digest && rule.digest !== info.reference) return false;
  if (rule.repository && rule.repository !== info.repository) return false;
  return true;
};

/**
 * A streaming HTTP proxy in front of a registry, with faults. `rules` (all optional, mutable later through
 * `proxy.rules`):
 *   tamperManifest: { reference? }       GET of that manifest (a tag, a digest, a list of them; default:
 *                                        every manifest): one byte of the body changed, headers
 *                                        (Docker-Content-Digest, Content-Length) kept → a digest mismatch
 *   repointTag: { tag, to }              GET/HEAD manifests/<tag> answered with manifests/<to> (another
 *                                        pack's manifest, by tag or digest), a consistent, valid response
 *   flipBlobByte: { digest, offset? }    GET of that blob: the byte at `offset` (default: the middle) XOR 0x01
 *   truncateBlob: { digest, bytes }      GET of that blob: only the first `bytes`, with a matching
 *                                        Content-Length (a complete, short response; Range requests too)
 *   cutBlob: { digest?, afterBytes, times? }  the first `times` (default 1) GETs of that blob (any blob
 *                                        when no digest) send the headers and `afterBytes` bytes, then the
 *                                        socket is destroyed; later requests (Range ones) pass through
 *   failStatus: { status, times, kind?, reference?, retryAfter?, body? }  answer `status` (with
 *                                        Retry-After when given) to the first `times` matching requests
 *   rejectCustomConfig: true             manifest PUT whose config.mediaType is not the empty one → 400
 *                                        MANIFEST_INVALID (like Quay and GitLab)
 *   uploadLocationTo: "<origin>"         the Location of upload answers (POST, PATCH) moved to another origin
 *                                        (e.g. another proxy in front of the same registry), path kept
 *   redirectBlobTo: "<origin>"           blob GETs answered 307 to the same path on another origin (a CDN)
 *   silence: { kind?, afterBytes?, times? }  the first `times` (default: all) matching requests get no answer
 *                                        at all, or (afterBytes) the headers and that many body bytes, then
 *                                        nothing: the connection stays open and silent
 *   upstreamAuthorization: "<value>"     every forwarded request carries this Authorization instead of the
 *                                        client's (a CDN or storage host that signs its own requests)
 *   ignoreRange: true                    blob GETs are forwarded without their Range header: the registry
 *                                        answers 200 with the whole blob, as servers that ignore ranges do
 * Stats: proxy.stats() → { requests: [...], byKind: { kind: { count, bytesIn, bytesOut, statuses } },
 *   uploadedBytes (request bodies of upload PATCH/PUT/POST), faults: { name: count } }.
 */
export async function startFaultProxy(upstreamUrl, rules = {}) {
  const upstream = new URL(upstreamUrl);
  let stats;
  const resetStats = () => {
    stats = { requests: [], byKind: {}, uploadedBytes: 0, downloadedBlobBytes: 0, faults: {} };
  };
  resetStats();
  const counters = new Map(); // rule object → times used
  const fault = (name) => { stats.faults[name] = (stats.faults[name] ?? 0) + 1; };
  const sockets = new Set();

  const record = (info, request, extra) => {
    const entry = { method: request.method, path: request.url, kind: info.kind, reference: info.reference ?? null,
      range: request.headers.range ?? null, authorization: request.headers.authorization ?? null, at: Date.now(),
      status: 0, bytesIn: 0, bytesOut: 0, ...extra };
    stats.requests.push(entry);
    return entry;
  };
  const finish = (entry) => {
    const k = (stats.byKind[entry.kind] ??= { count: 0, bytesIn: 0, bytesOut: 0, statuses: {} });
    k.count += 1;
    k.bytesIn += entry.bytesIn;
    k.bytesOut += entry.bytesOut;
    k.statuses[entry.status] = (k.statuses[entry.status] ?? 0) + 1;
    if (entry.kind.startsWith('upload-')) stats.uploadedBytes += entry.bytesIn;
    if (entry.kind === 'blob-get') stats.downloadedBlobBytes += entry.bytesOut;
  };
  const use = (rule) => {
    const used = counters.get(rule) ?? 0;
    counters.set(rule, used + 1);
    return used;
  };

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url, 'http://proxy');
    let info = classify(request.method, url.pathname);
    const entry = record(info, request);
    let finished = false;
    const done = () => { if (!finished) { finished = true; finish(entry); } };
    response.on('close', done);
    const r = handle.rules;

    // Injected status answers (500 ×N, 429 + Retry-After ×N, …).
    const failRules = [r.failStatus].flat().filter(Boolean);
    for (const rule of failRules) {
      if (matches(rule, info) && use(rule) < rule.times) {
        fault(`status-${rule.status}`);
        request.resume();
        request.on('end', () => {
          entry.status = rule.status;
          const headers = { 'content-type': 'application/json' };
          if (rule.retryAfter !== undefined) headers['retry-after'] = String(rule.retryAfter);
          const body = rule.body ?? JSON.stringify({ errors: [{ code: rule.status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN', message: `injected ${rule.status}` }] });
          headers['content-length'] = Buffer.byteLength(body);
          response.writeHead(rule.status, headers);
          response.end(body);
        });
        return;
      }
    }

    // A registry that stops answering: the request is read, then nothing comes back.
    if (r.silence && matches(r.silence, info) && r.silence.afterBytes === undefined && use(r.silence) < (r.silence.times ?? Infinity)) {
      fault('silence');
      request.resume();
      return;
    }

    // Blobs served from another origin.
    if (r.redirectBlobTo && info.kind === 'blob-get') {
      fault('redirect-blob');
      entry.status = 307;
      response.writeHead(307, { location: `${r.redirectBlobTo}${request.url}`, 'content-length': '0' });
      return response.end();
    }

    // Quay/GitLab-like rejection of custom config media types.
    if (r.rejectCustomConfig && info.kind === 'manifest-put') {
      const chunks = [];
      for await (const chunk of request) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      entry.bytesIn = body.length;
      let configType = null;
      try { configType = JSON.parse(body.toString('utf8')).config?.mediaType ?? null; } catch {}
      if (configType !== null && configType !== EMPTY_CONFIG) {
        fault('reject-custom-config');
        const answer = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid',
          detail: `unknown media type: ${configType}` }] });
        entry.status = 400;
        response.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
        response.end(answer);
        return;
      }
      return forward(request, response, entry, info, { body });
    }

    // Re-pointed tag: ask upstream for another manifest under this request.
    let upstreamPath = request.url;
    if (r.repointTag && (info.kind === 'manifest-get' || info.kind === 'manifest-head') && info.reference === r.repointTag.tag) {
      fault('repoint-tag');
      upstreamPath = `/v2/${info.repository}/manifests/${encodeURIComponent(r.repointTag.to)}${url.search}`;
    }
    return forward(request, response, entry, info, { upstreamPath });
  });

  function forward(request, response, entry, info, { body, upstreamPath = request.url } = {}) {
    const r = handle.rules;
    const headers = { ...request.headers };
    if (r.upstreamAuthorization) headers.authorization = r.upstreamAuthorization;
    if (r.ignoreRange && info.kind === 'blob-get' && headers.range !== undefined) {
      fault('ignore-range');
      delete headers.range;
    }
    const upstreamRequest = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: upstreamPath,
      headers, // Host kept: Distribution builds Location URLs from it, so they point back at the proxy
    });
    upstreamRequest.on('error', (error) => {
      entry.error = error.message;
      if (!response.headersSent) {
        entry.status = 502;
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`proxy: upstream error ${error.message}`);
      } else response.destroy();
    });
    if (body !== undefined) {
      upstreamRequest.end(body);
    } else {
      request.on('data', (chunk) => { entry.bytesIn += chunk.length; });
      request.pipe(upstreamRequest);
    }
    upstreamRequest.on('response', (upstreamResponse) => {
      entry.status = upstreamResponse.statusCode;
      const outHeaders = { ...upstreamResponse.headers };
      const ok = upstreamResponse.statusCode === 200 || upstreamResponse.statusCode === 206;
      const isBlobGet = info.kind === 'blob-get' && ok;
      const isManifestGet = info.kind === 'manifest-get' && upstreamResponse.statusCode === 200;
      if (r.uploadLocationTo && info.kind.startsWith('upload-') && outHeaders.location) {
        fault('upload-location-elsewhere');
        const location = new URL(outHeaders.location, `http://${request.headers.host}`);
        outHeaders.location = `${r.uploadLocationTo}${location.pathname}${location.search}`;
      }

      // Streaming body transforms: each returns the chunk to send (or null to stop and cut).
      let transform = null;
      let cutAfter = null;
      let limit = null;
      if (isManifestGet && r.tamperManifest && [r.tamperManifest.reference ?? info.reference].flat().includes(info.reference)) {
        fault('tamper-manifest');
        const chunks = [];
        upstreamResponse.on('data', (c) => chunks.push(c));
        upstreamResponse.on('end', () => {
          const bytes = Buffer.concat(chunks);
          // Same length, different bytes: the declared digest and size stay as the registry sent them.
          const i = bytes.indexOf('"schemaVersion"');
          if (i >= 0) bytes[i + 1] = 'S'.charCodeAt(0); else bytes[Math.floor(bytes.length / 2)] ^= 0x01;
          entry.bytesOut = bytes.length;
          response.writeHead(upstreamResponse.statusCode, outHeaders);
          response.end(bytes);
        });
        return;
      }
      if (isBlobGet) {
        const rangeStart = upstreamResponse.statusCode === 206
          ? Number(/bytes (\d+)-/.exec(upstreamResponse.headers['content-range'] ?? '')?.[1] ?? 0) : 0;
        if (r.flipBlobByte && matches({ digest: r.flipBlobByte.digest }, info)) {
          fault('flip-blob-byte');
          const total = Number(upstreamResponse.headers['content-length'] ?? 0) + rangeStart;
          const target = r.flipBlobByte.offset ?? Math.floor(total / 2);
          let position = rangeStart;
          transform = (chunk) => {
            if (target >= position && target < position + chunk.length) {
              chunk = Buffer.from(chunk);
              chunk[target - position] ^= 0x01;
            }
            position += chunk.length;
            return chunk;
          };
        }
        if (r.truncateBlob && matches({ digest: r.truncateBlob.digest }, info)) {
          fault('truncate-blob');
          const keep = Math.max(0, r.truncateBlob.bytes - rangeStart);
          const length = Number(upstreamResponse.headers['content-length'] ?? 0);
          limit = Math.min(keep, length);
          outHeaders['content-length'] = String(limit);
          if (upstreamResponse.statusCode === 206 && outHeaders['content-range']) {
            outHeaders['content-range'] = outHeaders['content-range'].replace(/bytes (\d+)-(\d+)/, (_, s) => `bytes ${s}-${Number(s) + limit - 1}`);
          }
        }
        const quiet = r.silence;
        if (quiet?.afterBytes !== undefined && matches(quiet, info) && use(quiet) < (quiet.times ?? Infinity)) {
          fault('silence');
          cutAfter = quiet.afterBytes;
          entry.silent = true;
        }
        const cut = r.cutBlob;
        if (cut && matches({ digest: cut.digest }, info) && request.method === 'GET') {
          if (use(cut) < (cut.times ?? 1)) {
            fault('cut-blob');
            cutAfter = cut.afterBytes;
          }
        }
      }
      response.writeHead(upstreamResponse.statusCode, outHeaders);
      if (!transform && limit === null && cutAfter === null) {
        upstreamResponse.on('data', (chunk) => { entry.bytesOut += chunk.length; });
        upstreamResponse.pipe(response);
        return;
      }
      let sent = 0;
      const stop = (cutSocket) => {
        upstreamResponse.unpipe?.();
        upstreamResponse.destroy();
        if (entry.silent) return; // the connection stays open with nothing more to say
        if (cutSocket) {
          entry.cut = true;
          // Give the written bytes a moment to leave, then drop the connection mid-body.
          setTimeout(() => response.socket?.destroy(), 20);
        } else response.end();
      };
      upstreamResponse.on('data', (chunk) => {
        if (transform) chunk = transform(chunk);
        let max = Infinity;
        if (limit !== null) max = Math.min(max, limit - sent);
        if (cutAfter !== null) max = Math.min(max, cutAfter - sent);
        if (chunk.length > max) chunk = chunk.subarray(0, Math.max(0, max));
        if (chunk.length) {
          sent += chunk.length;
          entry.bytesOut += chunk.length;
          if (!response.write(chunk)) {
            upstreamResponse.pause();
            response.once('drain', () => upstreamResponse.resume());
          }
        }
        if (cutAfter !== null && sent >= cutAfter) return stop(true);
        if (limit !== null && sent >= limit) return stop(false);
      });
      upstreamResponse.on('end', () => { if (!response.writableEnded && !entry.cut && !entry.silent) response.end(); });
    });
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5000;
  const port = await listenOnLoopback(server);
  const handle = {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    rules,
    ref: (repository = 'packs') => `127.0.0.1:${port}/${repository}`,
    /** Replace the rules (and restart their counters). */
    setRules(next) { handle.rules = next; counters.clear(); },
    stats: () => stats,
    reset() { resetStats(); counters.clear(); },
    /** Requests of one kind (or several). */
    requests: (...kinds) => stats.requests.filter((e) => kinds.length === 0 || kinds.includes(e.kind)),
    async close() {
      live.delete(handle);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
    killSync() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
  live.add(handle);
  return handle;
}
