// Hostile and broken registries: credentials stay with the registry they belong to (an upload Location or a
// blob redirect on another host, a token realm elsewhere, `copy` between two hosts: checked by the other
// host's own request log), and nothing hangs (a registry that never answers ends in CTX_REGISTRY_TIMEOUT; a
// blob that stalls mid-way resumes with Range). The "other host" is a second proxy on its own port, a
// different origin, in front of the same Distribution.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startFaultProxy, startRegistry } from './harness.mjs';
import { assertNothingUnverified, assertVerifies, cleanEnv, ctx, failsWith, ok, packBlobs, removeAll, seedPack, smallFiles, tempDir } from './fixtures.mjs';

const SECRET = 'hunter2-registry-secret';
const BASIC = `Basic ${Buffer.from(`alice:${SECRET}`).toString('base64')}`;
const MiB = 1024 * 1024;
let work, registry, home, pack, layer;
/** `registry` is the one the user talks to (through `front`); `elsewhere` is another origin in front of it. */
let front, elsewhere;

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-hostile-')));
  registry = await startRegistry({ auth: 'htpasswd', users: { alice: SECRET } });
  front = await startFaultProxy(registry.url);
  elsewhere = await startFaultProxy(registry.url);
  home = path.join(work, 'source');
  pack = await seedPack(work, { name: 'p', home, files: smallFiles('hostile', 2 * MiB), input: 'p' });
  layer = packBlobs(home, pack.uri).manifest.layers[0];
});
after(async () => {
  await front?.close();
  await elsewhere?.close();
  await registry?.close();
  if (work) removeAll(work);
});
beforeEach(() => {
  for (const proxy of [front, elsewhere]) {
    proxy.setRules({});
    proxy.reset();
  }
});

/** The two ways a user hands over credentials: the environment, or Docker's config file. */
function credentialSources(t) {
  const dockerConfig = tempDir(t, 'ctxpack-docker-');
  fs.writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [front.host]: { auth: BASIC.slice(6) } } }));
  return {
    environment: cleanEnv({ CTXPACK_USER: 'alice', CTXPACK_TOKEN: SECRET, CTXPACK_REGISTRY: front.ref('packs') }),
    'Docker config': cleanEnv({ DOCKER_CONFIG: dockerConfig }),
  };
}

const seen = (proxy) => proxy.stats().requests;
const noSecretIn = (result) => assert.doesNotMatch(`${result.stdout}${result.stderr}`, new RegExp(`${SECRET}|${BASIC.slice(6)}`));

describe('credentials go only to the registry they belong to', () => {
  test('an upload Location on another host gets the upload without credentials', async (t) => {
    for (const [source, env] of Object.entries(credentialSources(t))) {
      front.setRules({ uploadLocationTo: elsewhere.url });
      // The other host signs its own requests to the storage behind it, as a cloud upload URL would.
      elsewhere.setRules({ upstreamAuthorization: BASIC });
      const repository = `upload-${source.replace(' ', '-').toLowerCase()}`;
      const result = await ctx(['push', pack.uri, '--registry', front.ref(repository)], { home, env });
      ok(result);
      noSecretIn(result);
      const uploads = seen(elsewhere).filter((e) => e.kind.startsWith('upload-'));
      assert.ok(uploads.length >= 2, `${source}: the upload went on at the other host (${uploads.length} requests)`);
      assert.deepEqual(uploads.map((e) => e.authorization), uploads.map(() => null), `${source}: no credential reached the other host`);
      assert.ok(seen(front).some((e) => e.authorization === BASIC), `${source}: the registry itself got them`);
      front.reset();
      elsewhere.reset();
    }
  });

  test('another host that asks for credentials is refused them', async (t) => {
    const env = credentialSources(t).environment;
    front.setRules({ uploadLocationTo: elsewhere.url });
    const result = await ctx(['push', pack.uri, '--registry', front.ref('refused')], { home, env });
    failsWith(result, 'CTX_AUTH_FAILED');
    assert.match(result.error.message, new RegExp(`${elsewhere.url} asks for credentials`));
    noSecretIn(result);
    assert.ok(seen(elsewhere).length > 0);
    assert.ok(seen(elsewhere).every((e) => e.authorization === null));
  });

  test('a blob redirect to another host is followed without credentials', async (t) => {
    const env = credentialSources(t).environment;
    ok(await ctx(['push', pack.uri, '--registry', front.ref('packs')], { home, env }));
    front.setRules({ redirectBlobTo: elsewhere.url });
    elsewhere.setRules({ upstreamAuthorization: BASIC });
    const target = tempDir(t);
    const result = await ctx(['pull', pack.uri, '--registry', front.ref('packs')], { home: target, env });
    ok(result);
    await assertVerifies(target, pack.uri);
    const blobs = seen(elsewhere).filter((e) => e.kind === 'blob-get');
    assert.ok(blobs.length >= 1, 'blobs came from the other host');
    assert.ok(blobs.every((e) => e.authorization === null), 'without credentials');
    assert.ok(front.stats().faults['redirect-blob'] >= 1);
  });

  test('copy between two hosts: CTXPACK_USER/TOKEN go only to the registry CTXPACK_REGISTRY names', async (t) => {
    const open = await startRegistry({ auth: 'none' });
    const target = await startFaultProxy(open.url);
    t.after(async () => {
      await target.close();
      await open.close();
    });
    const env = credentialSources(t).environment;
    ok(await ctx(['push', pack.uri, '--registry', front.ref('packs')], { home, env }));
    const copied = await ctx(['copy', pack.uri, '--from', front.ref('packs'), '--to', target.ref('packs')], { env });
    ok(copied);
    assert.ok(seen(target).length > 0);
    assert.ok(seen(target).every((e) => e.authorization === null), 'the target never saw the credentials');
    noSecretIn(copied);

    // Without CTXPACK_REGISTRY they belong to neither: the source refuses, the target sees none, a warning says why.
    const unscoped = cleanEnv({ CTXPACK_USER: 'alice', CTXPACK_TOKEN: SECRET });
    target.reset();
    const refused = await ctx(['copy', pack.uri, '--from', front.ref('packs'), '--to', target.ref('other')], { env: unscoped });
    failsWith(refused, 'CTX_AUTH_FAILED');
    assert.ok(seen(target).every((e) => e.authorization === null));
    noSecretIn(refused);
  });

  test('a token realm on another host gets the credentials (loopback http), the registry only tokens', async (t) => {
    const tokenRegistry = await startRegistry({ auth: 'token', users: { alice: SECRET } });
    const proxy = await startFaultProxy(tokenRegistry.url);
    t.after(async () => {
      await proxy.close();
      await tokenRegistry.close();
    });
    const env = cleanEnv({ CTXPACK_USER: 'alice', CTXPACK_TOKEN: SECRET, CTXPACK_REGISTRY: proxy.ref('packs') });
    ok(await ctx(['push', pack.uri, '--registry', proxy.ref('packs')], { home, env }));
    const authorizations = seen(proxy).map((e) => e.authorization).filter(Boolean);
    assert.ok(authorizations.length > 0 && authorizations.every((a) => a.startsWith('Bearer ')), 'the registry saw only tokens');
    assert.ok(tokenRegistry.tokenServer.log.some((entry) => entry.user === 'alice'), 'the token service saw the login');
  });

  test('a reference that carries credentials is refused without repeating them', async () => {
    for (const reference of [`alice:${SECRET}@${front.host}/packs`, `${front.host}/packs?token=${SECRET}`]) {
      const result = await ctx(['pull', pack.uri, '--registry', reference], { home: work });
      failsWith(result, 'CTX_REGISTRY_INVALID');
      noSecretIn(result);
    }
    assert.equal(seen(front).length, 0);
  });
});

describe('nothing hangs', () => {
  test('a registry that never answers a blob request ends in CTX_REGISTRY_TIMEOUT', async (t) => {
    const env = credentialSources(t).environment;
    ok(await ctx(['push', pack.uri, '--registry', front.ref('packs')], { home, env }));
    front.setRules({ silence: { kind: 'blob-get' } });
    const target = tempDir(t);
    const started = Date.now();
    const result = await ctx(['pull', pack.uri, '--registry', front.ref('packs'), '--timeout', '1'], { home: target, env, timeoutMs: 60_000 });
    const elapsed = Date.now() - started;
    failsWith(result, 'CTX_REGISTRY_TIMEOUT');
    assert.match(result.error.hint, /--timeout/);
    // --timeout 1: a second per wait, four seconds without progress in all (plus start-up).
    assert.ok(elapsed < 15_000, `gave up after ${elapsed} ms`);
    await assertNothingUnverified(target, pack.uri);
  });

  test('a blob that stalls mid-way resumes with Range and completes', async (t) => {
    const env = credentialSources(t).environment;
    ok(await ctx(['push', pack.uri, '--registry', front.ref('packs')], { home, env }));
    front.setRules({ silence: { kind: 'blob-get', digest: layer.digest, afterBytes: 256 * 1024, times: 1 } });
    const target = tempDir(t);
    const result = await ctx(['pull', pack.uri, '--registry', front.ref('packs'), '--timeout', '1'], { home: target, env, timeoutMs: 60_000 });
    ok(result);
    await assertVerifies(target, pack.uri);
    const gets = seen(front).filter((e) => e.kind === 'blob-get' && e.reference === layer.digest);
    assert.equal(gets.length, 2);
    assert.match(gets[1].range ?? '', /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(gets[1].range)[0]) > 0);
  });
});
