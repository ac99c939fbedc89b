// The edge example (examples/edge-verify/) in the real workerd (npm package `workerd`): a good pack is served
// whole and file by file, from an origin URL and from a registry (with credentials bound to the worker); a
// tampered pack and a wrong expected URI get 422 with a JSON error naming the failed check; nothing unverified
// is ever in a 200 body.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { assertWorkerdInstalled, startEdgeWorker } from './workerd.mjs';
import { startRegistry } from '../registry/harness.mjs';
import { cleanEnv, ctx, ok, packBlobs, removeAll, seedPack } from '../registry/fixtures.mjs';

const SECRET = 'edge-registry-secret';
let work, registry, origin, workerd, base, good, other, packBytes;

before(async () => {
  assertWorkerdInstalled();
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-edge-')));
  registry = await startRegistry({ auth: 'htpasswd', users: { edge: SECRET } });
  const home = path.join(work, 'home');
  const env = cleanEnv({ CTXPACK_USER: 'edge', CTXPACK_TOKEN: SECRET });
  good = await seedPack(work, { name: 'good', home, files: { 'notes.md': '# verified\n', 'data/rows.csv': 'a,b\n1,2\n' }, input: 'good' });
  other = await seedPack(work, { name: 'other', home, files: { 'x.txt': 'other\n' }, input: 'other' });
  ok(await ctx(['push', good.uri, '--registry', registry.ref('packs')], { home, env }));
  for (const pack of [good, other]) ok(await ctx(['export', pack.uri, '-o', path.join(work, `${pack.hex}.tar.gz`)], { home }));
  packBytes = fs.readFileSync(path.join(work, `${good.hex}.tar.gz`));
  const tampered = Buffer.from(packBytes);
  tampered[tampered.length - 6] ^= 1;
  fs.writeFileSync(path.join(work, 'tampered.tar.gz'), tampered);

  origin = http.createServer((request, response) => {
    const file = path.join(work, path.basename(new URL(request.url, 'http://o').pathname));
    if (!fs.existsSync(file)) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/gzip' });
    fs.createReadStream(file).pipe(response);
  });
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));

  ({ base, process: workerd } = await startEdgeWorker(path.join(work, 'worker'), ['--user', 'edge', '--token', SECRET]));
});
after(async () => {
  workerd?.kill();
  await new Promise((resolve) => origin?.close(resolve) ?? resolve());
  await registry?.close();
  if (work) removeAll(work);
});


const originUrl = (name) => `http://127.0.0.1:${origin.address().port}/${name}`;
const query = (route, params) => `${base}${route}?${new URLSearchParams(params)}`;

test('a verified pack is served whole, and its files one by one', async () => {
  const summary = await fetch(query('/verify', { url: originUrl(`${good.hex}.tar.gz`), uri: good.uri }));
  assert.equal(summary.status, 200);
  const json = await summary.json();
  assert.deepEqual([json.uri, json.files, json.verified], [good.uri, 2, true]);

  const whole = await fetch(query('/pack', { url: originUrl(`${good.hex}.tar.gz`), uri: good.uri }));
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('x-ctxpack-verified'), 'true');
  assert.deepEqual(Buffer.from(await whole.arrayBuffer()), packBytes);

  const fromPack = await fetch(query('/file', { url: originUrl(`${good.hex}.tar.gz`), uri: good.uri, path: 'data/rows.csv' }));
  assert.equal(fromPack.status, 200);
  assert.equal(await fromPack.text(), 'a,b\n1,2\n');
  assert.equal(fromPack.headers.get('content-type'), 'text/csv');

  const fromRegistry = await fetch(query('/file', { registry: registry.ref('packs'), uri: good.uri, path: 'notes.md' }));
  assert.equal(fromRegistry.status, 200, await fromRegistry.clone().text());
  assert.equal(await fromRegistry.text(), '# verified\n');
});

test('a tampered pack and a wrong expected URI get 422 with the failed check', async () => {
  for (const route of ['/verify', '/pack', '/file']) {
    const tampered = await fetch(query(route, { url: originUrl('tampered.tar.gz'), uri: good.uri, path: 'notes.md' }));
    if (route === '/file') {
      // The damage is in the gzip trailer, after the file: whether the reader reaches it before the file's end
      // depends on the block, so the file is either served verified or refused — never served wrong.
      if (tampered.status === 200) assert.equal(await tampered.text(), '# verified\n');
      else assert.equal((await tampered.json()).error.code, 'CTX_GZIP_CORRUPT');
      continue;
    }
    assert.equal(tampered.status, 422, route);
    assert.equal((await tampered.json()).error.code, 'CTX_GZIP_CORRUPT', route);
  }
  const wrong = await fetch(query('/pack', { url: originUrl(`${other.hex}.tar.gz`), uri: good.uri }));
  assert.equal(wrong.status, 422);
  assert.equal((await wrong.json()).error.code, 'CTX_URI_MISMATCH');

  // A layer altered in the registry's own storage.
  const layer = packBlobs(good.home, good.uri).manifest.layers[0];
  const stored = path.join(registry.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', layer.digest.slice(7, 9), layer.digest.slice(7), 'data');
  const original = fs.readFileSync(stored);
  const altered = Buffer.from(original);
  altered[Math.floor(altered.length / 2)] ^= 1;
  fs.writeFileSync(stored, altered);
  try {
    const refused = await fetch(query('/file', { registry: registry.ref('packs'), uri: good.uri, path: 'notes.md' }));
    assert.equal(refused.status, 422, await refused.clone().text());
    assert.match((await refused.json()).error.code, /^CTX_(GZIP_CORRUPT|DIGEST_MISMATCH|TAR_CORRUPT)$/);
  } finally {
    fs.writeFileSync(stored, original);
  }
});
