// A registry over TLS with a private CA (Distribution with http.tls, a CA and certificate made by openssl):
// trusted through --ca-file, CTXPACK_CA_FILE or NODE_EXTRA_CA_CERTS; without it a certificate error that is not
// retried and says what to do; https:// to a plain-HTTP registry and http:// to a TLS one each get a one-line
// explanation; and an https registry whose token realm is plain http never gets the credentials sent there.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTestCa, startRegistry } from './harness.mjs';
import { assertVerifies, cleanEnv, ctx, failsWith, ok, removeAll, seedPack, smallFiles, tempDir } from './fixtures.mjs';

const SECRET = 'tls-registry-secret';
let work, ca, tlsRegistry, plainRegistry, home, pack;

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-tls-')));
  ca = makeTestCa(work);
  tlsRegistry = await startRegistry({ auth: 'htpasswd', users: { alice: SECRET }, tls: ca });
  plainRegistry = await startRegistry({ auth: 'none' });
  home = path.join(work, 'source');
  pack = await seedPack(work, { name: 'tls', home, files: smallFiles('tls', 256 * 1024), input: 'tls' });
});
after(async () => {
  await tlsRegistry?.close();
  await plainRegistry?.close();
  if (work) removeAll(work);
});

const https = (registry, repository = 'packs') => `https://${registry.host}/${repository}`;
const credentials = (extra = {}) => cleanEnv({ CTXPACK_USER: 'alice', CTXPACK_TOKEN: SECRET, ...extra });

describe('a registry with a private CA', () => {
  test('is trusted with --ca-file, CTXPACK_CA_FILE or NODE_EXTRA_CA_CERTS', async (t) => {
    ok(await ctx(['push', pack.uri, '--registry', https(tlsRegistry), '--ca-file', ca.caFile], { home, env: credentials() }));
    for (const env of [credentials({ CTXPACK_CA_FILE: ca.caFile }), credentials({ NODE_EXTRA_CA_CERTS: ca.caFile })]) {
      const target = tempDir(t);
      ok(await ctx(['pull', pack.uri, '--registry', https(tlsRegistry)], { home: target, env }));
      await assertVerifies(target, pack.uri);
    }
  });

  test('without its CA: CTX_REGISTRY_TLS at once, not retried, saying what to do', async (t) => {
    const started = Date.now();
    const result = await ctx(['pull', pack.uri, '--registry', https(tlsRegistry)], { home: tempDir(t), env: credentials() });
    failsWith(result, 'CTX_REGISTRY_TLS');
    assert.match(result.error.message, /TLS connection to 127\.0\.0\.1:\d+ failed/);
    assert.match(result.error.hint, /--ca-file/);
    assert.doesNotMatch(result.stderr, /retry/);
    assert.ok(Date.now() - started < 5000);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(SECRET));
  });

  test('https:// to a plain-HTTP registry, and http:// to a TLS one, each say so in a line', async (t) => {
    const toPlain = await ctx(['pull', pack.uri, '--registry', https(plainRegistry)], { home: tempDir(t) });
    failsWith(toPlain, 'CTX_REGISTRY_TLS');
    assert.match(toPlain.error.message, /does not speak TLS on this port/);
    assert.match(toPlain.error.hint, /http:\/\//);

    const toTls = await ctx(['pull', pack.uri, '--registry', `http://${tlsRegistry.host}/packs`], { home: tempDir(t) });
    failsWith(toTls, 'CTX_REGISTRY_TLS');
    assert.match(toTls.error.message, /speaks HTTPS on this port/);
  });

  test('an https registry whose token realm is plain http never gets the credentials sent there', async (t) => {
    const tokenRegistry = await startRegistry({ auth: 'token', users: { alice: SECRET }, tls: ca });
    t.after(() => tokenRegistry.close());
    const env = credentials({ CTXPACK_CA_FILE: ca.caFile });
    const result = await ctx(['push', pack.uri, '--registry', https(tokenRegistry)], { home, env });
    failsWith(result, 'CTX_REGISTRY_INSECURE');
    assert.match(result.error.message, /not https; refusing to send credentials there/);
    assert.equal(tokenRegistry.tokenServer.log.length, 0, 'the token service saw nothing');
  });
});
