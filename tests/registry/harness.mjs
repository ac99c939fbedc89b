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
import { EMPTY_CONFIG, listenOnLoopback, live, readBody } from './loopback.mjs';

export { classify, startFaultProxy } from './fault-proxy.mjs';

const REGISTRY_BIN = process.env.CTXPACK_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';
/** The `http.headers` block of docs/edge.md: what a registry sends so that browser pages may read it. */
const CORS_HEADERS = [
  '  headers:',
  "    Access-Control-Allow-Origin: ['*']",
  "    Access-Control-Allow-Methods: ['HEAD', 'GET', 'OPTIONS']",
  "    Access-Control-Allow-Headers: ['Authorization', 'Accept', 'Range']",
  "    Access-Control-Expose-Headers: ['Docker-Content-Digest', 'Content-Length', 'Content-Range', 'WWW-Authenticate']",
];


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
 * @param {boolean} [options.cors] send the CORS headers of docs/edge.md, so a browser page reads it directly
 */
export async function startRegistry({ auth = 'none', users = { ctxpack: 'ctxpack-secret' }, anonymous = null, token = {}, tls = null, cors = false } = {}) {
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
  if (cors) lines.push(...CORS_HEADERS);
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
  // A process group of its own: killSync (at exit, when nothing can be awaited) kills the registry with its
  // watchdog. Killing the watchdog alone would orphan the registry, since a killed shell runs no trap.
  const child = spawn('bash', ['-c', WATCHDOG, 'registry-watchdog', configFile, dir], {
    env: { ...process.env, REGISTRY_BIN, PARENT: String(process.pid) },
    stdio: ['ignore', logFd, logFd],
    detached: true,
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
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
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
