// Faults between ctxpack and a real registry, injected by the streaming proxy of harness.mjs: corrupt,
// short and cut bodies, a tag re-pointed to another pack, server errors and rate limits, and a registry
// that (like Quay and GitLab) refuses custom config media types. Every fault must end in the right typed
// error or a clean recovery, and a failed pull must leave nothing unverified in the pantry.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startFaultProxy, startRegistry } from './harness.mjs';
import {
  assertNothingUnverified,
  assertSamePack,
  assertVerifies,
  cleanEnv,
  ctx,
  failsWith,
  ok,
  packBlobs,
  registryManifest,
  removeAll,
  seedPack,
  smallFiles,
  tempDir,
} from './fixtures.mjs';

const MiB = 1024 * 1024;
let work, registry, proxy, packA, packB, blobsA, layerA;

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-faults-')));
  registry = await startRegistry({ auth: 'none' });
  proxy = await startFaultProxy(registry.url);
  const home = path.join(work, 'source');
  packA = await seedPack(work, { name: 'a', home, files: smallFiles('fault-a', 3 * MiB), input: 'a' });
  packB = await seedPack(work, { name: 'b', home, files: smallFiles('fault-b', 64 * 1024), input: 'b' });
  for (const pack of [packA, packB]) ok(await ctx(['push', pack.uri, '--registry', registry.ref('packs')], { home, env: cleanEnv() }));
  blobsA = packBlobs(home, packA.uri);
  layerA = blobsA.manifest.layers[0];
  assert.ok(layerA.size > 3 * MiB, `pack A's layer is ${layerA.size} bytes`);
});
after(async () => {
  await proxy?.close();
  await registry?.close();
  if (work) removeAll(work);
});
beforeEach(() => {
  proxy.setRules({});
  proxy.reset();
});

const pullVia = (t, uri, extra = {}) => {
  const home = tempDir(t);
  return ctx(['pull', uri, '--registry', proxy.ref('packs')], { home, env: cleanEnv(), ...extra }).then((result) => ({ ...result, home }));
};

describe('corrupt data is refused, and nothing unverified is kept', () => {
  test('a manifest whose bytes do not match the registry digest: CTX_DIGEST_MISMATCH', async (t) => {
    // By tag and by digest: a client may resolve the tag with HEAD and then GET by digest.
    proxy.setRules({ tamperManifest: { reference: [packA.tag, blobsA.entry.digest] } });
    const result = await pullVia(t, packA.uri);
    failsWith(result, 'CTX_DIGEST_MISMATCH');
    assert.ok(proxy.stats().faults['tamper-manifest'] >= 1);
    await assertNothingUnverified(result.home, packA.uri);
  });

  test('a flipped byte in the layer: CTX_DIGEST_MISMATCH', async (t) => {
    proxy.setRules({ flipBlobByte: { digest: layerA.digest } });
    const result = await pullVia(t, packA.uri);
    failsWith(result, 'CTX_DIGEST_MISMATCH');
    assert.ok(proxy.stats().faults['flip-blob-byte'] >= 1);
    await assertNothingUnverified(result.home, packA.uri);
  });

  test('a flipped byte in the config (the pack manifest): CTX_DIGEST_MISMATCH', async (t) => {
    proxy.setRules({ flipBlobByte: { digest: blobsA.manifest.config.digest } });
    const result = await pullVia(t, packA.uri);
    failsWith(result, 'CTX_DIGEST_MISMATCH');
    await assertNothingUnverified(result.home, packA.uri);
  });

  test('a truncated layer (complete but short responses): CTX_SIZE_MISMATCH or CTX_TRUNCATED', async (t) => {
    proxy.setRules({ truncateBlob: { digest: layerA.digest, bytes: Math.floor(layerA.size / 2) } });
    const result = await pullVia(t, packA.uri);
    failsWith(result, ['CTX_SIZE_MISMATCH', 'CTX_TRUNCATED']);
    await assertNothingUnverified(result.home, packA.uri);
  });

  test("a tag re-pointed to another pack's manifest: CTX_URI_MISMATCH", async (t) => {
    proxy.setRules({ repointTag: { tag: packA.tag, to: packB.tag } });
    const result = await pullVia(t, packA.uri);
    failsWith(result, 'CTX_URI_MISMATCH');
    assert.ok(proxy.stats().faults['repoint-tag'] >= 1);
    await assertNothingUnverified(result.home, packA.uri);
    await assertNothingUnverified(result.home, packB.uri);
  });

  test('a pantry layer damaged after seeding: push fails with CTX_DIGEST_MISMATCH and the registry keeps no blob', async (t) => {
    // 20 MiB of random bytes: a layer uploaded in one streamed PATCH, read in place from the pantry's file.
    const pack = await seedPack(tempDir(t), { home: tempDir(t), files: smallFiles('damaged', 20 * MiB), input: 'damaged' });
    const layer = packBlobs(pack.home, pack.uri).manifest.layers[0];
    const file = path.join(pack.home, 'blobs', 'sha256', layer.digest.slice('sha256:'.length));
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, bytes);
    const error = failsWith(await ctx(['push', pack.uri, '--registry', registry.ref('damaged')], { home: pack.home, env: cleanEnv() }), 'CTX_DIGEST_MISMATCH');
    assert.equal(error.subject, layer.digest);
    const head = await fetch(`${registry.url}/v2/damaged/blobs/${layer.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 404, 'the registry holds the damaged layer');
    assert.equal((await registryManifest(registry.url, 'damaged', pack.tag)).status, 404);
  });
});

describe('server errors and rate limits', () => {
  test('500 on every request: CTX_REGISTRY_UNAVAILABLE after a bounded number of retries', async (t) => {
    proxy.setRules({ failStatus: { status: 500, times: Infinity, kind: ['manifest-get', 'manifest-head'] } });
    const started = Date.now();
    const result = await pullVia(t, packA.uri);
    failsWith(result, 'CTX_REGISTRY_UNAVAILABLE');
    const attempts = proxy.stats().faults['status-500'];
    assert.ok(attempts >= 2 && attempts <= 10, `${attempts} attempts`);
    assert.ok(Date.now() - started < 30_000);
    await assertNothingUnverified(result.home, packA.uri);
  });

  test('500 twice, then the registry answers: the pull succeeds', async (t) => {
    proxy.setRules({ failStatus: { status: 500, times: 2, kind: ['manifest-get', 'manifest-head', 'blob-get'] } });
    const result = await pullVia(t, packA.uri);
    ok(result);
    assert.equal(proxy.stats().faults['status-500'], 2);
    await assertSamePack(packA.home, result.home, packA.uri);
    await assertVerifies(result.home, packA.uri);
  });

  test('500 twice on upload requests: the push succeeds', async (t) => {
    const pack = await seedPack(tempDir(t), { home: tempDir(t), files: smallFiles('push-500', 256 * 1024), input: 'push-500' });
    proxy.setRules({ failStatus: { status: 500, times: 2, kind: ['upload-post', 'upload-put', 'upload-patch'] } });
    ok(await ctx(['push', pack.uri, '--registry', proxy.ref('packs')], { home: pack.home, env: cleanEnv() }));
    assert.equal(proxy.stats().faults['status-500'], 2);
    const stored = await registryManifest(registry.url, 'packs', pack.tag);
    assert.equal(stored.status, 200);
    const home = tempDir(t);
    ok(await ctx(['pull', pack.uri, '--registry', registry.ref('packs')], { home, env: cleanEnv() }));
    await assertSamePack(pack.home, home, pack.uri);
  });

  test('a pantry layer goes up in one streamed PATCH; a 500 on it starts the upload over', async (t) => {
    // 20 MiB of random bytes: more than one PUT may carry (8 MiB), sent as skopeo sends it.
    const pack = await seedPack(tempDir(t), { home: tempDir(t), files: smallFiles('push-stream', 20 * MiB), input: 'push-stream' });
    const layers = packBlobs(pack.home, pack.uri).manifest.layers;
    proxy.setRules({ failStatus: { status: 500, times: 1, kind: 'upload-patch' } });
    ok(await ctx(['push', pack.uri, '--registry', proxy.ref('packs')], { home: pack.home, env: cleanEnv() }));
    const patches = proxy.stats().requests.filter((request) => request.kind === 'upload-patch');
    assert.equal(patches.length, 2 * layers.filter((layer) => layer.size > 8 * MiB).length, 'one PATCH per big layer, and one again after the 500');
    const home = tempDir(t);
    ok(await ctx(['pull', pack.uri, '--registry', registry.ref('packs')], { home, env: cleanEnv() }));
    await assertSamePack(pack.home, home, pack.uri);
  });

  test('429 with Retry-After: 1, then the registry answers: the pull waits and succeeds', async (t) => {
    proxy.setRules({ failStatus: { status: 429, times: 1, retryAfter: 1, kind: 'blob-get', digest: layerA.digest } });
    const result = await pullVia(t, packA.uri);
    ok(result);
    const requests = proxy.stats().requests.filter((r) => r.kind === 'blob-get' && r.reference === layerA.digest);
    assert.equal(requests[0].status, 429);
    assert.ok(requests.length >= 2);
    const waited = requests[1].at - requests[0].at;
    assert.ok(waited >= 900, `retried after ${waited} ms despite Retry-After: 1`);
    await assertSamePack(packA.home, result.home, packA.uri);
  });

  test('429 on every request: CTX_RATE_LIMITED', async (t) => {
    proxy.setRules({ failStatus: { status: 429, times: Infinity, retryAfter: 1, kind: ['manifest-get', 'manifest-head'] } });
    const result = await pullVia(t, packA.uri);
    failsWith(result, 'CTX_RATE_LIMITED');
    await assertNothingUnverified(result.home, packA.uri);
  });
});

describe('a connection cut mid-blob', () => {
  test('resumes with a Range request (206) and verifies the whole blob', async (t) => {
    const cutAt = 1 * MiB + 12345;
    proxy.setRules({ cutBlob: { digest: layerA.digest, afterBytes: cutAt } });
    const result = await pullVia(t, packA.uri);
    ok(result);
    const gets = proxy.stats().requests.filter((r) => r.kind === 'blob-get' && r.reference === layerA.digest);
    assert.ok(gets[0].cut, 'the first download was not cut');
    const resumed = gets.find((r) => r.status === 206);
    assert.ok(resumed, `no 206 Range request after the cut: ${JSON.stringify(gets.map((g) => [g.status, g.range]))}`);
    const from = Number(/bytes=(\d+)-/.exec(resumed.range)?.[1]);
    assert.ok(from > 0 && from <= cutAt, `resumed from ${from}, cut at ${cutAt}`);
    const downloaded = gets.reduce((sum, r) => sum + r.bytesOut, 0);
    assert.ok(downloaded < layerA.size + cutAt + 1, `downloaded ${downloaded} bytes for a ${layerA.size}-byte layer`);
    await assertSamePack(packA.home, result.home, packA.uri);
    await assertVerifies(result.home, packA.uri);
  });
});

describe('a registry that refuses custom config media types (Quay, GitLab)', () => {
  test('push falls back to the empty-config form; pull reads it back verified', async (t) => {
    const pack = await seedPack(tempDir(t), { home: tempDir(t), files: smallFiles('quay', 128 * 1024), input: 'quay' });
    proxy.setRules({ rejectCustomConfig: true });
    const pushed = await ctx(['push', pack.uri, '--registry', proxy.ref('quay')], { home: pack.home, env: cleanEnv() });
    ok(pushed);
    assert.equal(pushed.json.fallback, true, JSON.stringify(pushed.json));
    assert.match(pushed.stderr, /warning/i);
    assert.ok(proxy.stats().faults['reject-custom-config'] >= 1, 'the custom config was never tried');
    const stored = await registryManifest(registry.url, 'quay', pack.tag);
    assert.equal(stored.status, 200);
    assert.equal(stored.json.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.equal(stored.json.annotations['dev.ctxpack.uri'], pack.uri);

    const home = tempDir(t);
    ok(await ctx(['pull', pack.uri, '--registry', proxy.ref('quay')], { home, env: cleanEnv() }));
    await assertVerifies(home, pack.uri);
    // manifest.json is a layer here, smaller than the archive: a layer copied before it would wait for it
    // forever in the one slot (a pull then ended with status 0 and nothing pulled).
    const oneAtATime = tempDir(t);
    const pulled = await ctx(['pull', pack.uri, '--registry', proxy.ref('quay'), '--concurrency', '1'], { home: oneAtATime, env: cleanEnv() });
    ok(pulled);
    assert.equal(pulled.json.uri, pack.uri);
    await assertVerifies(oneAtATime, pack.uri);
  });
});
