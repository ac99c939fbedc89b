// Push and pull through real registries (CNCF Distribution 2.8.2): anonymous, htpasswd (bcrypt) and token
// auth (real RS256 JWTs). A pack seeded in one pantry, pushed, then pulled into a second, empty pantry must
// arrive byte for byte and pass `ctxpack verify`; credentials come from the environment, from Docker's
// config written by `ctxpack login`, and wrong ones fail without leaking.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFaultProxy, startRegistry } from './harness.mjs';
import {
  api,
  assertBlobsIntact,
  assertNoSecret,
  assertSamePack,
  assertVerifies,
  cleanEnv,
  ctx,
  failsWith,
  indexEntry,
  ok,
  registryManifest,
  removeAll,
  seedPack,
  smallFiles,
  tempDir,
} from './fixtures.mjs';

const USER = 'alice';
const PASSWORD = 'pw-Alice-3f9c1e77';
const users = { [USER]: PASSWORD };

let work;
let pack; // seeded once, pushed to every registry
before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'ctxpack-roundtrip-')));
  pack = await seedPack(work, { home: path.join(work, 'source'), files: smallFiles('roundtrip', 512 * 1024) });
});
after(() => work && removeAll(work));

const withCreds = (extra = {}) => cleanEnv({ CTXPACK_USER: USER, CTXPACK_TOKEN: PASSWORD, ...extra });

/** push → pull into an empty pantry → same bytes, verify passes; `-o` puts the same files on disk. */
async function roundTrip(t, registry, env) {
  const pushed = ok(await ctx(['push', pack.uri, '--registry', registry.ref('packs')], { home: pack.home, env }));
  assert.equal(pushed.uri, pack.uri);
  assert.equal(pushed.alreadyPresent, false);
  const stored = await registryManifest(registry.url, 'packs', pack.tag, registry.auth === 'none' ? {} : await bearerOrBasic(registry));
  assert.equal(stored.status, 200, 'the registry has no manifest under ctx-<hex>');
  assert.equal(stored.json.annotations['dev.ctxpack.uri'], pack.uri);
  assert.equal(stored.digest, indexEntry(pack.home, pack.uri).digest, 'the registry holds another manifest than the pantry');

  const home = tempDir(t);
  const output = path.join(tempDir(t), 'out');
  const pulled = ok(await ctx(['pull', pack.uri, '--registry', registry.ref('packs'), '-o', output], { home, env }));
  assert.equal(pulled.uri, pack.uri);
  await assertSamePack(pack.home, home, pack.uri);
  await assertVerifies(home, pack.uri);
  for (const name of ['chunks.jsonl', 'nested/index.bin', 'nested/readme.md']) {
    assert.deepEqual(fs.readFileSync(path.join(output, name)), fs.readFileSync(path.join(pack.out, name)), name);
  }
  return { pushed, pulled, home };
}

/** Headers to read a protected registry directly (Basic for htpasswd; a token for token auth). */
async function bearerOrBasic(registry) {
  const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  if (registry.auth === 'htpasswd') return { authorization: basic };
  const url = `${registry.tokenServer.realm}?service=${registry.tokenServer.service}&scope=repository:packs:pull`;
  const { token } = await (await fetch(url, { headers: { authorization: basic } })).json();
  return { authorization: `Bearer ${token}` };
}

describe('anonymous registry', () => {
  let registry;
  before(async () => { registry = await startRegistry({ auth: 'none' }); });
  after(() => registry?.close());

  test('push, pull into an empty pantry: identical bytes, verify passes', async (t) => {
    await roundTrip(t, registry, cleanEnv());
  });

  test('pushing twice uploads nothing the second time (HEAD-skip, manifest last)', async (t) => {
    const proxy = await startFaultProxy(registry.url);
    t.after(() => proxy.close());
    const other = await seedPack(tempDir(t), { home: tempDir(t), files: smallFiles('twice', 256 * 1024), input: 'twice' });
    ok(await ctx(['push', other.uri, '--registry', proxy.ref('packs')], { home: other.home, env: cleanEnv() }));
    const first = proxy.stats();
    assert.ok(first.uploadedBytes > 256 * 1024, `the first push uploaded only ${first.uploadedBytes} bytes`);
    assert.equal(first.byKind['manifest-put']?.count, 1);
    proxy.reset();
    const again = ok(await ctx(['push', other.uri, '--registry', proxy.ref('packs')], { home: other.home, env: cleanEnv() }));
    const second = proxy.stats();
    const uploads = second.requests.filter((r) => r.kind.startsWith('upload-'));
    assert.deepEqual(uploads, [], `the second push opened uploads: ${JSON.stringify(uploads)}`);
    assert.equal(second.uploadedBytes, 0);
    assert.equal(again.blobs?.transferred ?? 0, 0, JSON.stringify(again));
  });

  test('the JS API: push, resolve, pull', async (t) => {
    const home = tempDir(t);
    const env = cleanEnv();
    await api.push(pack.uri, { registry: registry.ref('api'), home: pack.home, env });
    const where = await api.resolve(pack.uri, { registry: registry.ref('api'), home, env });
    assert.equal(where.pantry.found, false);
    assert.equal(where.registry.found, true);
    const pulled = await api.pull(pack.uri, { registry: registry.ref('api'), home, env });
    assert.equal(pulled.uri, pack.uri);
    await assertSamePack(pack.home, home, pack.uri);
    const missing = await api.resolve(pack.uri.replace(/.$/, (c) => (c === '0' ? '1' : '0')), { registry: registry.ref('api'), home, env });
    assert.equal(missing.registry.found, false);
  });

  test('pulling a URI the registry does not have is CTX_NOT_FOUND and leaves the pantry empty', async (t) => {
    const home = tempDir(t);
    const absent = `ctx://sha256:${'ab'.repeat(32)}`;
    failsWith(await ctx(['pull', absent, '--registry', registry.ref('packs')], { home, env: cleanEnv() }), 'CTX_NOT_FOUND');
    assert.equal(indexEntry(home, absent), undefined);
    await assertBlobsIntact(home);
  });

  test('copy between registries, then pull from the target', async (t) => {
    const target = await startRegistry({ auth: 'none' });
    t.after(() => target.close());
    ok(await ctx(['push', pack.uri, '--registry', registry.ref('packs')], { home: pack.home, env: cleanEnv() }));
    const copied = ok(await ctx(['copy', pack.uri, '--from', registry.ref('packs'), '--to', target.ref('mirror')], { env: cleanEnv() }));
    assert.match(copied.reference, new RegExp(`${target.host}/mirror:${pack.tag}$`));
    const a = await registryManifest(registry.url, 'packs', pack.tag);
    const b = await registryManifest(target.url, 'mirror', pack.tag);
    assert.deepEqual(b.bytes, a.bytes, 'copy changed the manifest bytes');
    const home = tempDir(t);
    ok(await ctx(['pull', pack.uri, '--registry', target.ref('mirror')], { home, env: cleanEnv() }));
    await assertSamePack(pack.home, home, pack.uri);
  });

  test('copy between two repositories of one registry mounts the blobs: no blob is downloaded or uploaded', async (t) => {
    const proxy = await startFaultProxy(registry.url);
    t.after(() => proxy.close());
    ok(await ctx(['push', pack.uri, '--registry', registry.ref('packs')], { home: pack.home, env: cleanEnv() }));
    proxy.reset();
    const copied = ok(await ctx(['copy', pack.uri, '--from', proxy.ref('packs'), '--to', proxy.ref('team/mirror')], { env: cleanEnv() }));
    assert.ok(copied.blobs.mounted > 0, `nothing was mounted: ${JSON.stringify(copied.blobs)}`);
    assert.equal(copied.blobs.transferred, 0);
    const { byKind } = proxy.stats();
    assert.equal(byKind['blob-get']?.count ?? 0, 0, 'a blob was downloaded');
    assert.equal(proxy.stats().uploadedBytes, 0, 'bytes were uploaded');
    const home = tempDir(t);
    ok(await ctx(['pull', pack.uri, '--registry', registry.ref('team/mirror')], { home, env: cleanEnv() }));
    await assertSamePack(pack.home, home, pack.uri);
  });
});

for (const auth of ['htpasswd', 'token']) {
  describe(`${auth} registry`, () => {
    let registry;
    before(async () => { registry = await startRegistry({ auth, users }); });
    after(() => registry?.close());

    test('anonymous push is refused (CTX_AUTH_FAILED)', async () => {
      const result = await ctx(['push', pack.uri, '--registry', registry.ref('anon')], { home: pack.home, env: cleanEnv() });
      failsWith(result, ['CTX_AUTH_FAILED', 'CTX_AUTH_DENIED']);
    });

    test('push and pull with CTXPACK_USER / CTXPACK_TOKEN', async (t) => {
      await roundTrip(t, registry, withCreds());
      if (auth === 'token') {
        const issued = registry.tokenServer.log.filter((e) => e.status === 200 && e.user === USER);
        assert.ok(issued.some((e) => e.access.some((a) => a.name === 'packs' && a.actions.includes('push'))),
          `no push token was issued: ${JSON.stringify(registry.tokenServer.log)}`);
      }
    });

    test('wrong credentials: CTX_AUTH_FAILED, and the password is in no message or output', async (t) => {
      const wrong = 'Wrong-Secret-8d2b5a';
      const pushed = await ctx(['push', pack.uri, '--registry', registry.ref('packs')], { home: pack.home, env: withCreds({ CTXPACK_TOKEN: wrong }) });
      failsWith(pushed, 'CTX_AUTH_FAILED');
      assertNoSecret(pushed, [wrong, PASSWORD]);

      const home = tempDir(t);
      const pulled = await ctx(['pull', pack.uri, '--registry', registry.ref('packs')], { home, env: withCreds({ CTXPACK_TOKEN: wrong }) });
      failsWith(pulled, 'CTX_AUTH_FAILED');
      assertNoSecret(pulled, [wrong, PASSWORD]);
      assert.equal(indexEntry(home, pack.uri), undefined);

      // The same through the JS API: the error object carries no secret either.
      try {
        await api.push(pack.uri, { registry: registry.ref('packs'), home: pack.home, env: withCreds({ CTXPACK_TOKEN: wrong }) });
        assert.fail('push with a wrong password succeeded');
      } catch (error) {
        assert.equal(error.code, 'CTX_AUTH_FAILED', String(error));
        const seen = JSON.stringify({ message: error.message, hint: error.hint, subject: error.subject, stack: error.stack });
        assert.ok(!seen.includes(wrong) && !seen.includes(Buffer.from(`${USER}:${wrong}`).toString('base64')), seen);
      }
    });

    test('ctxpack login stores credentials in DOCKER_CONFIG; push then works without env credentials', async (t) => {
      const fakeHome = tempDir(t);
      const dockerConfig = path.join(fakeHome, 'docker');
      const env = cleanEnv({ HOME: fakeHome, DOCKER_CONFIG: dockerConfig });

      const refused = await ctx(['login', registry.ref('packs'), '-u', USER, '--password-stdin'], { env, input: 'not-the-password\n' });
      failsWith(refused, 'CTX_AUTH_FAILED');
      assertNoSecret(refused, ['not-the-password']);
      assert.ok(!fs.existsSync(path.join(dockerConfig, 'config.json')) ||
        !fs.readFileSync(path.join(dockerConfig, 'config.json'), 'utf8').includes(Buffer.from(`${USER}:not-the-password`).toString('base64')),
        'login stored credentials the registry refused');

      const login = await ctx(['login', registry.ref('packs'), '-u', USER, '--password-stdin'], { env, input: `${PASSWORD}\n` });
      ok(login);
      assertNoSecret(login, [PASSWORD]);
      const configFile = path.join(dockerConfig, 'config.json');
      assert.equal(fs.statSync(configFile).mode & 0o777, 0o600);
      const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
      assert.equal(Buffer.from(config.auths[registry.host].auth, 'base64').toString(), `${USER}:${PASSWORD}`);

      const home = tempDir(t);
      const pushed = await ctx(['push', pack.uri, '--registry', registry.ref('login')], { home: pack.home, env });
      ok(pushed);
      ok(await ctx(['pull', pack.uri, '--registry', registry.ref('login')], { home, env }));
      await assertSamePack(pack.home, home, pack.uri);
    });

    if (auth === 'token') {
      test('token server granting pull only: anonymous pull works, anonymous push is refused', async (t) => {
        const readOnly = await startRegistry({ auth: 'token', users, anonymous: 'pull' });
        t.after(() => readOnly.close());
        ok(await ctx(['push', pack.uri, '--registry', readOnly.ref('public')], { home: pack.home, env: withCreds() }));
        const home = tempDir(t);
        ok(await ctx(['pull', pack.uri, '--registry', readOnly.ref('public')], { home, env: cleanEnv() }));
        await assertSamePack(pack.home, home, pack.uri);
        const other = await seedPack(tempDir(t), { home: tempDir(t), files: smallFiles('anon-push', 4096), input: 'anon-push' });
        failsWith(await ctx(['push', other.uri, '--registry', readOnly.ref('public')], { home: other.home, env: cleanEnv() }),
          ['CTX_AUTH_FAILED', 'CTX_AUTH_DENIED']);
        const anonymousTokens = readOnly.tokenServer.log.filter((e) => e.user === null && e.status === 200);
        assert.ok(anonymousTokens.length > 0, 'the anonymous pull got no token');
        assert.ok(anonymousTokens.every((e) => e.access.every((a) => !a.actions.includes('push'))));
      });

      test('an identitytoken in the Docker config is exchanged with the OAuth2 refresh_token grant', async (t) => {
        const refreshToken = 'rt-8c1f0e5a-identity';
        const oauth = await startRegistry({ auth: 'token', users, token: { refreshTokens: { [refreshToken]: USER } } });
        t.after(() => oauth.close());
        const dockerConfig = tempDir(t);
        const writeConfig = (token) =>
          fs.writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [oauth.host]: { identitytoken: token } } }));
        const env = cleanEnv({ HOME: tempDir(t), DOCKER_CONFIG: dockerConfig });

        writeConfig(refreshToken);
        ok(await ctx(['push', pack.uri, '--registry', oauth.ref('oauth')], { home: pack.home, env }));
        const grants = oauth.tokenServer.log.filter((e) => e.method === 'POST' && e.status === 200);
        assert.ok(grants.length > 0 && grants.every((e) => e.grant === 'refresh_token' && e.user === USER), 'no refresh_token grant was used');
        const home = tempDir(t);
        ok(await ctx(['pull', pack.uri, '--registry', oauth.ref('oauth')], { home, env }));
        await assertSamePack(pack.home, home, pack.uri);

        writeConfig('rt-revoked');
        const refused = await ctx(['pull', pack.uri, '--registry', oauth.ref('oauth')], { home: tempDir(t), env });
        failsWith(refused, ['CTX_AUTH_FAILED']);
        assertNoSecret(refused, ['rt-revoked', refreshToken]);
      });
    }
  });
}
