// Real registries for the tests: CNCF Distribution 2.8.2 (Debian's /usr/bin/docker-registry) on 127.0.0.1,
// anonymous, htpasswd (bcrypt, made with `htpasswd -Bbn`) or token auth (a Node token server issuing real
// RS256 JWTs whose header carries the signing certificate in `x5c`), and a streaming fault-injection proxy
// that sits in front of a registry. Every server gets a free port and its own temporary directory; `close()`
// stops it and removes the directory, and a watchdog kills a registry whose test process died without it.
//
//   const registry = await startRegistry({ auth: 'token', users: { alice: 'secret' } });
//   registry.url          "http://127.0.0.1:40123"
//   registry.host         "127.0.0.1:40123"
//   registry.ref('packs') "127.0.0.1:40123/packs"
//   await registry.close();
//
//   const proxy = await startFaultProxy(registry.url, { failStatus: { status: 500, times: 2 } });
//   proxy.host / proxy.ref('packs'); proxy.rules (mutable); proxy.stats(); proxy.reset(); await proxy.close();
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const REGISTRY_BIN = process.env.CTXPACK_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';
const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';

/** Every live server of this process, closed at exit even when a test forgot to (or crashed). */
const live = new Set();
process.once('exit', () => {
  for (const server of live) server.killSync?.();
});

function tempDir(prefix) {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** A port nobody listens on right now (the kernel's choice for port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Run a command WITHOUT blocking the event loop (the proxy and token server live in this process, so
 * execFileSync against them would deadlock). Resolves { code, stdout, stderr }; never rejects on exit status.
 */
export function run(command, args, { env, cwd, input, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => { stderr += `\n[killed after ${timeoutMs} ms]`; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? (signal ? 128 : 1), signal, stdout, stderr }); });
    if (input !== undefined) {
      child.stdin.on('error', () => {}); // the child may exit without reading it
      child.stdin.end(input);
    }
  });
}

/** run(), throwing with stderr when the exit status is not 0; returns stdout. */
export async function runOk(command, args, options) {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForHttp(url, { timeoutMs = 15_000, isAlive = () => true, describe = () => '', ca } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`server exited before ${url} answered\n${describe()}`);
    try {
      const status = await getStatus(url, ca);
      if (status === 200 || status === 401) return status;
      last = `status ${status}`;
    } catch (error) {
      last = error.code ?? error.message;
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})\n${describe()}`);
}

/** The status of a GET (https with `ca` trusted), within two seconds. */
function getStatus(url, ca) {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? https : http).get(url, { ca, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

/**
 * A test certificate authority and a server certificate it signed for 127.0.0.1 and localhost (openssl), in
 * `dir`: { caFile, certFile, keyFile }.
 */
export function makeTestCa(dir) {
  const file = (name) => path.join(dir, name);
  const openssl = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', '/CN=ctxpack test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', file('ca.key'), '-out', file('ca.crt')]);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr')]);
  fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', file('server.ext'), '-out', file('server.crt')]);
  return { caFile: file('ca.crt'), certFile: file('server.crt'), keyFile: file('server.key') };
}

function yamlString(value) {
  return JSON.stringify(String(value));
}

// ------------------------------------------------------------------------------------------------
// Token server
// ------------------------------------------------------------------------------------------------

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');

/** A self-signed RSA certificate and key for signing tokens (openssl; node:crypto cannot make certificates). */
function makeSigningCert(dir) {
  const keyFile = path.join(dir, 'token.key');
  const certFile = path.join(dir, 'token.crt');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', '/CN=ctxpack-test-token-issuer',
      '-keyout', keyFile, '-out', certFile],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const certPem = fs.readFileSync(certFile, 'utf8');
  const der = new crypto.X509Certificate(certPem).raw;
  return { keyFile, certFile, certPem, certDer: der, privateKey: crypto.createPrivateKey(fs.readFileSync(keyFile)) };
}

/**
 * A Docker/Distribution token server (docs/spec/auth/token.md) on 127.0.0.1.
 * @param {object} [options]
 * @param {Record<string,string>} [options.users]   username → password (Basic credentials the server accepts)
 * @param {'pull' | 'push' | null} [options.anonymous]  what a request without credentials is granted (default null)
 * @param {Record<string,string[]>} [options.grants] username → actions (default ['pull', 'push'])
 * @param {string} [options.service] the `aud` (default 'ctxpack-test-registry')
 * @param {string} [options.issuer]  the `iss` (default 'ctxpack-test-issuer')
 * @param {number} [options.expiresIn] seconds (default 300)
 * @param {Record<string,string>} [options.refreshTokens] identity (refresh) token → username, for the OAuth2
 *   `POST /token` form `grant_type=refresh_token` that Docker's `identitytoken` (ACR and others) uses
 */
export async function startTokenServer({
  users = {},
  anonymous = null,
  grants = {},
  service = 'ctxpack-test-registry',
  issuer = 'ctxpack-test-issuer',
  expiresIn = 300,
  refreshTokens = {},
} = {}) {
  const dir = tempDir('ctxpack-token-');
  const signing = makeSigningCert(dir);
  const log = [];

  const sign = (claims) => {
    const header = { alg: 'RS256', typ: 'JWT', x5c: [signing.certDer.toString('base64')] };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = crypto.sign('sha256', Buffer.from(input), signing.privateKey);
    return `${input}.${b64url(signature)}`;
  };

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url, 'http://token');
    const form = request.method === 'POST' ? new URLSearchParams(await readBody(request)) : null;
    const scopes = form ? form.getAll('scope') : url.searchParams.getAll('scope');
    const entry = { method: request.method, path: url.pathname, scopes, grant: form?.get('grant_type') ?? null, user: null, status: 0 };
    log.push(entry);
    const answer = (status, body, headers = {}) => {
      entry.status = status;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    if (url.pathname !== '/token' || (request.method !== 'GET' && request.method !== 'POST')) {
      return answer(404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });
    }
    let user = null;
    const authorization = request.headers.authorization ?? '';
    if (form) {
      const refreshToken = form.get('refresh_token') ?? '';
      if (form.get('grant_type') !== 'refresh_token' || !Object.hasOwn(refreshTokens, refreshToken)) {
        return answer(401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid grant' }] });
      }
      user = refreshTokens[refreshToken];
    } else if (authorization) {
      const match = /^Basic\s+(\S+)$/i.exec(authorization);
      const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      const name = colon < 0 ? '' : decoded.slice(0, colon);
      const password = colon < 0 ? '' : decoded.slice(colon + 1);
      if (!match || !Object.hasOwn(users, name) || users[name] !== password) {
        return answer(401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] },
          { 'www-authenticate': 'Basic realm="ctxpack-test-token"' });
      }
      user = name;
    } else if (!anonymous) {
      return answer(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        { 'www-authenticate': 'Basic realm="ctxpack-test-token"' });
    }
    entry.user = user;
    const askedService = form ? form.get('service') : url.searchParams.get('service');
    if (askedService && askedService !== service) {
      return answer(400, { errors: [{ code: 'INVALID_REQUEST', message: 'unknown service' }] });
    }
    const allowed = user ? (grants[user] ?? ['pull', 'push']) : anonymous === 'push' ? ['pull', 'push'] : ['pull'];
    const access = [];
    for (const scope of entry.scopes.flatMap((s) => s.split(' ')).filter(Boolean)) {
      // repository:<name>:<actions>; the name may itself hold ':' only in the `repository(plugin)` form.
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first < 0 || last === first) continue;
      const type = scope.slice(0, first).replace(/\(.*\)$/, '');
      const name = scope.slice(first + 1, last);
      const actions = scope.slice(last + 1).split(',').filter((action) => allowed.includes(action));
      if (type === 'repository') access.push({ type, name, actions });
    }
    entry.access = access;
    const now = Math.floor(Date.now() / 1000);
    const token = sign({
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    });
    answer(200, { token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() });
  });
  const port = await listenOnLoopback(server);
  const handle = {
    url: `http://127.0.0.1:${port}`,
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile: signing.certFile,
    dir,
    /** Every token request: { method, path, scopes, user, status, access }. */
    log,
    async close() {
      live.delete(handle);
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
    killSync() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(handle);
  return handle;
}

// ------------------------------------------------------------------------------------------------
// Registry (CNCF Distribution 2.8.2)
// ------------------------------------------------------------------------------------------------

// Runs the registry and kills it when the test process (PARENT) is gone: the harness's `exit` hook cannot
// run when the test runner is SIGKILLed, and an orphaned registry would keep its port and temp dir.
const WATCHDOG = `
"$REGISTRY_BIN" serve "$1" & child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT
while kill -0 "$PARENT" 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done
kill -TERM $child 2>/dev/null
wait $child
kill -0 "$PARENT" 2>/dev/null || rm -rf "$2"
`;

/**
 * Start Distribution on 127.0.0.1 with filesystem storage and deletes enabled, and wait for GET /v2/.
 * @param {object} [options]
 * @param {'none' | 'htpasswd' | 'token'} [options.auth]
 * @param {Record<string,string>} [options.users]  username → password (htpasswd and token); default { ctxpack: 'ctxpack-secret' }
 * @param {'pull' | 'push' | null} [options.anonymous] token auth: what anonymous requests may do (default null)
 * @param {object} [options.token]  more startTokenServer options
 */
export async function startRegistry({ auth = 'none', users = { ctxpack: 'ctxpack-secret' }, anonymous = null, token = {}, tls = null } = {}) {
  if (!['none', 'htpasswd', 'token'].includes(auth)) throw new Error(`unknown auth "${auth}"`);
  if (!fs.existsSync(REGISTRY_BIN)) {
    throw new Error(`${REGISTRY_BIN} is missing: run \`bash scripts/setup.sh test\` (apt package docker-registry)`);
  }
  const dir = tempDir('ctxpack-registry-');
  const storage = path.join(dir, 'storage');
  fs.mkdirSync(storage);
  const port = await freePort();
  let tokenServer = null;
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${yamlString(storage)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${yamlString(crypto.randomBytes(16).toString('hex'))}`,
  ];
  if (tls) lines.push('  tls:', `    certificate: ${yamlString(tls.certFile)}`, `    key: ${yamlString(tls.keyFile)}`);
  if (auth === 'htpasswd') {
    const file = path.join(dir, 'htpasswd');
    const entries = Object.entries(users).map(([name, password]) =>
      execFileSync('htpasswd', ['-Bbn', name, password], { encoding: 'utf8' }).trim());
    fs.writeFileSync(file, `${entries.join('\n')}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: ctxpack-test', `    path: ${yamlString(file)}`);
  } else if (auth === 'token') {
    tokenServer = await startTokenServer({ users, anonymous, ...token });
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${yamlString(tokenServer.realm)}`,
      `    service: ${yamlString(tokenServer.service)}`,
      `    issuer: ${yamlString(tokenServer.issuer)}`,
      `    rootcertbundle: ${yamlString(tokenServer.certFile)}`,
    );
  }
  const configFile = path.join(dir, 'config.yml');
  fs.writeFileSync(configFile, `${lines.join('\n')}\n`);
  const logFile = path.join(dir, 'registry.log');
  const logFd = fs.openSync(logFile, 'a');
  const child = spawn('bash', ['-c', WATCHDOG, 'registry-watchdog', configFile, dir], {
    env: { ...process.env, REGISTRY_BIN, PARENT: String(process.pid) },
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  let exited = false;
  const exitPromise = new Promise((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const describe = () => { try { return fs.readFileSync(logFile, 'utf8').slice(-4000); } catch { return ''; } };

  const handle = {
    url,
    host: `127.0.0.1:${port}`,
    port,
    auth,
    users,
    dir,
    storage,
    logFile,
    tokenServer,
    /** "<host>/<repository>", what ctxpack's --registry takes. */
    ref: (repository = 'packs') => `127.0.0.1:${port}/${repository}`,
    /** Curl-style Basic credentials of the first user ("user:password"), for skopeo --creds. */
    creds: () => { const [name, password] = Object.entries(users)[0]; return `${name}:${password}`; },
    /** Bytes under the storage root's blobs (what uploads have added). */
    blobBytes: () => dirBytes(path.join(storage, 'docker', 'registry', 'v2', 'blobs')),
    /** The registry's log (errors on failure to start, access log). */
    log: describe,
    async close() {
      live.delete(handle);
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(timer);
      }
      await tokenServer?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    killSync() {
      try { child.kill('SIGKILL'); } catch {}
      tokenServer?.killSync();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(handle);
  try {
    await waitForHttp(`${url}/v2/`, { isAlive: () => !exited, describe, ca: tls ? fs.readFileSync(tls.caFile) : undefined });
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

function dirBytes(dir) {
  let total = 0;
  const visit = (d) => {
    let names;
    try { names = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const entry of names) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) visit(p);
      else if (entry.isFile()) total += fs.statSync(p).size;
    }
  };
  visit(dir);
  return total;
}

// ------------------------------------------------------------------------------------------------
// Fault-injection proxy
// ------------------------------------------------------------------------------------------------

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
 *   ignoreRange: true                    blob GETs are forwarded without their Range header, so a resume is
 *                                        answered 200 with the whole blob (a registry or CDN without ranges)
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

/** Listen on a free port of 127.0.0.1; resolves with the port. */
async function listenOnLoopback(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server.address().port;
}

async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
