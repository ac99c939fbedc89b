// RegistryClient.pullPack: a pack straight from a real Distribution, verified as it streams, the way browsers and
// edge functions read packs (no pantry): every event of every layer, or one file's bytes fetching only its layer;
// a tampered layer errors the stream; a tag naming another pack is refused before anything streams.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startFaultProxy, startRegistry } from './harness.mjs';
import { PACKAGE_DIR, cleanEnv, ctx, ok, packBlobs, removeAll, seedPack } from './fixtures.mjs';

const MiB = 1024 * 1024;
const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));
let work, registry, proxy, home, big, small;

/** Files in tree order with their contents, as seeded. */
function bigFiles() {
  const files = {};
  // Over 64 MiB in all, so the pack has several layers; each file different (random per name).
  for (let i = 0; i < 20; i += 1) files[`part-${String(i).padStart(2, '0')}.bin`] = deterministic(`part-${i}`, 4 * MiB);
  files['notes/readme.txt'] = Buffer.from('the one small file\n');
  return files;
}

function deterministic(seed, size) {
  const out = Buffer.alloc(size);
  let x = [...seed].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 2166136261);
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-pullpack-')));
  registry = await startRegistry({ auth: 'none' });
  proxy = await startFaultProxy(registry.url);
  home = path.join(work, 'source');
  big = await seedPack(work, { name: 'big', home, files: bigFiles(), input: 'big' });
  small = await seedPack(work, { name: 'small', home, files: { 'a.txt': Buffer.from('alpha\n'), 'b/c.json': Buffer.from('{"c":1}\n') }, input: 'small' });
  for (const pack of [big, small]) ok(await ctx(['push', pack.uri, '--registry', registry.ref('packs')], { home, env: cleanEnv() }));
});
after(async () => {
  await proxy?.close();
  await registry?.close();
  if (work) removeAll(work);
});

const client = () => new core.RegistryClient({ registry: proxy.ref('packs') });

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

test('every layer streams as verified events', async () => {
  const pulled = await client().pullPack(big.uri);
  assert.equal(pulled.uri, big.uri);
  assert.ok(pulled.layers > 1, `${pulled.layers} layers`);
  const events = await collect(pulled.events);
  const entries = events.filter((e) => e.kind === 'entry').map((e) => e.path);
  assert.deepEqual(entries, Object.keys(bigFiles()).sort());
  const bytes = events.filter((e) => e.kind === 'data').reduce((sum, e) => sum + e.bytes.length, 0);
  assert.equal(bytes, Object.values(bigFiles()).reduce((sum, b) => sum + b.length, 0));
});

test('one file streams from the one layer that holds it', async () => {
  proxy.reset();
  const pulled = await client().pullPack(big.uri, { path: 'notes/readme.txt' });
  assert.deepEqual(pulled.file.path, 'notes/readme.txt');
  const body = Buffer.concat(await collect(pulled.body));
  assert.equal(body.toString(), 'the one small file\n');
  const layers = packBlobs(home, big.uri).manifest.layers;
  const total = layers.reduce((sum, layer) => sum + layer.size, 0);
  const fetched = proxy.stats().downloadedBlobBytes;
  assert.ok(fetched < total / 2, `fetched ${fetched} of ${total} bytes`);
  await assert.rejects(client().pullPack(small.uri, { path: 'nope.txt' }), { code: 'CTX_NOT_FOUND' });
});

test('a flipped byte in a layer errors the stream; a tag naming another pack is refused up front', async () => {
  const layer = packBlobs(home, small.uri).manifest.layers[0];
  proxy.setRules({ flipBlobByte: { digest: layer.digest } });
  const pulled = await client().pullPack(small.uri);
  await assert.rejects(collect(pulled.events), (error) => ['CTX_GZIP_CORRUPT', 'CTX_DIGEST_MISMATCH'].includes(error.code) && error instanceof core.CtxpackError);
  proxy.setRules({ repointTag: { tag: core.uriTag(small.uri), to: core.uriTag(big.uri) } });
  await assert.rejects(client().pullPack(small.uri), { code: 'CTX_URI_MISMATCH' });
  proxy.setRules({});
});
