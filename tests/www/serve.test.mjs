// `ctxpack serve` over HTTP: credentials go only to the registry they belong to (never to another host, nor
// after a redirect to one), the pantry as a read-only registry and a listing, DNS-rebinding and cross-site
// refusals, gzip'd static files that stay inside the package, a warning off loopback, and Ctrl-C.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../js/helpers.mjs';
import { startRegistry } from '../registry/harness.mjs';
import { cleanEnv, ctx, ok, packBlobs, removeAll } from '../registry/fixtures.mjs';
import { startServe } from './fixtures.mjs';

const USER = 'ctxpack';
const PASSWORD = 'ctxpack-secret';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
let work, home, uri, registry, serve, upstream, cdn;

/** A plain HTTP server recording every request's Authorization; `answer(request, response)` replies. */
async function recordingServer(answer) {
  const seen = [];
  const server = http.createServer((request, response) => {
    seen.push({ path: request.url, method: request.method, authorization: request.headers.authorization });
    answer(request, response);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${server.address().port}`, seen, close: () => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }) };
}

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-serve-')));
  home = path.join(work, 'home');
  const project = path.join(work, 'project');
  fs.mkdirSync(path.join(project, 'out'), { recursive: true });
  fs.writeFileSync(path.join(project, 'out', 'a.txt'), 'alpha\n');
  fs.writeFileSync(path.join(project, 'input.txt'), 'serve');
  fs.writeFileSync(path.join(project, 'contract.json'), JSON.stringify({ inputs: [{ name: 'in', path: 'input.txt' }], transforms: [{ tool: 't', tool_version: '1', code_hash: `sha256:${'cd'.repeat(32)}` }], outputs: 'out' }));
  uri = ok(await ctx(['seed', 'out', '--contract', 'contract.json'], { home, cwd: project })).uri;
  ok(await ctx(['trace', 'pack', path.join(REPO_ROOT, 'tests/fixtures/execution/rag-agent.json')], { home }));
  registry = await startRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
  ok(await ctx(['push', uri, '--registry', registry.ref('packs')], { home, env: cleanEnv({ CTXPACK_USER: USER, CTXPACK_TOKEN: PASSWORD, CTXPACK_REGISTRY: registry.ref('packs') }) }));
  // A registry that keeps its blobs on another host (a CDN): blob GETs are redirected there.
  cdn = await recordingServer((request, response) => response.end('blob bytes from the CDN'));
  upstream = await recordingServer((request, response) => {
    if (request.headers.authorization !== BASIC) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="cdn-test"', 'content-type': 'application/json' });
      return response.end('{"errors":[{"code":"UNAUTHORIZED","message":"log in"}]}');
    }
    if (request.method === 'HEAD') {
      response.writeHead(200, { 'content-length': '23', 'docker-content-digest': request.url.split('/').pop() });
      return response.end();
    }
    response.writeHead(307, { location: `http://${cdn.host}/storage/blob` });
    return response.end();
  });
  serve = await startServe({ home, env: cleanEnv({ CTXPACK_USER: USER, CTXPACK_TOKEN: PASSWORD, CTXPACK_REGISTRY: `${upstream.host}/packs` }) });
});

after(async () => {
  await serve?.close();
  await registry?.close();
  await upstream?.close();
  await cdn?.close();
  if (work) removeAll(work);
});

const get = (pathname, headers = {}) => fetch(new URL(pathname, serve.url), { headers });

/** A raw request (fetch will not send another Host header). */
function rawGet(pathname, headers) {
  return new Promise((resolve, reject) => {
    const request = http.get(new URL(pathname, serve.url), { headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    });
    request.on('error', reject);
  });
}

test('credentials go to the registry they belong to, never to another host or after a redirect to one', async () => {
  const digest = `sha256:${'0'.repeat(64)}`;
  const blob = await get(`/registry/${upstream.host}/v2/packs/blobs/${digest}`);
  assert.equal(blob.status, 200);
  assert.equal(await blob.text(), 'blob bytes from the CDN');
  assert.ok(upstream.seen.some((request) => request.authorization === BASIC), 'the registry got the credentials');
  assert.ok(cdn.seen.length > 0 && cdn.seen.every((request) => request.authorization === undefined), 'the CDN got none');

  // The htpasswd registry is not the one CTXPACK_USER/TOKEN belong to: nothing is sent, and the browser is told.
  const refused = await get(`/registry/${registry.host}/v2/packs/manifests/ctx-${uri.slice(13)}`);
  assert.equal(refused.status, 401);
  const body = await refused.json();
  assert.equal(body.errors[0].code, 'UNAUTHORIZED');
  assert.ok(!JSON.stringify(body).includes(PASSWORD));
  assert.equal(refused.headers.get('www-authenticate'), null, 'the browser is not asked to log in itself');
});

test('the pantry: a listing, and a read-only registry with ranges', async () => {
  const listing = await (await get('/api/pantry')).json();
  assert.deepEqual(listing.packs.map((pack) => pack.uri), [uri]);
  assert.equal(listing.executions.length, 1);
  assert.equal(listing.executions[0].model, 'gpt-4o-2024-08-06');
  const manifest = await get(`/v2/pantry/manifests/ctx-${uri.slice(13)}`);
  assert.equal(manifest.status, 200);
  const { manifest: stored } = packBlobs(home, uri);
  assert.deepEqual(await manifest.json(), stored);
  const layer = stored.layers[0];
  const ranged = await get(`/v2/pantry/blobs/${layer.digest}`, { range: 'bytes=10-19' });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers.get('content-range'), `bytes 10-19/${layer.size}`);
  const whole = Buffer.from(await (await get(`/v2/pantry/blobs/${layer.digest}`)).arrayBuffer());
  assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), whole.subarray(10, 20));
  assert.equal((await get(`/v2/pantry/blobs/sha256:${'1'.repeat(64)}`)).status, 404);
  assert.equal((await fetch(new URL('/v2/pantry/blobs/x', serve.url), { method: 'DELETE' })).status, 405);
});

test('other sites and other host names are refused; static files are gzip\'d and stay inside the package', async () => {
  assert.equal(await rawGet('/api/pantry', { host: `attacker.example:${new URL(serve.url).port}` }), 421);
  assert.equal((await get('/api/pantry', { 'sec-fetch-site': 'cross-site' })).status, 403);
  assert.equal((await get(`/registry/${registry.host}/v2/`, { 'sec-fetch-site': 'cross-site' })).status, 403);
  const page = await fetch(serve.url, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-encoding'), 'gzip');
  assert.match(page.headers.get('content-security-policy'), /default-src 'self'/);
  assert.match(await page.text(), /ctxpack inspector/);
  assert.equal((await get('/core/web.js')).status, 200);
  assert.equal(await rawGet('/%2e%2e/lib/serve.mjs', {}), 404);
  assert.equal(await rawGet('/../package.json', {}), 404);
  assert.equal((await get('/core/../lib/serve.mjs')).status, 404);
});

test('off loopback it warns; Ctrl-C stops it cleanly', async () => {
  const open = await startServe({ home, env: cleanEnv(), args: ['--host', '0.0.0.0'] });
  assert.match(open.stderr(), /warning: listening on 0\.0\.0\.0: anyone who can reach port \d+ can use the registry credentials/);
  assert.equal(await open.close(), 0);
  assert.match(open.stderr(), /ctxpack serve: stopped/);
});
