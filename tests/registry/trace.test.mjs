// Execution packs (issue 4) through the registry commands, against a real registry (CNCF Distribution): a
// packed log is pushed (twice: the second uploads nothing), pulled into an empty pantry where `trace verify`
// passes and `trace export` gives the log back; a registry serving a tampered content blob leaves no index
// entry; `export --oci` + `import` carry an execution pack between pantries.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFaultProxy, startRegistry } from './harness.mjs';
import { REPO_ROOT, assertBlobsIntact, cleanEnv, ctx, failsWith, indexEntry, ok, tempDir } from './fixtures.mjs';

const FIXTURE = path.join(REPO_ROOT, 'tests', 'fixtures', 'execution', 'tool-heavy-agent.json');
const readFixture = () => JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));

/** `ctxpack trace pack` of the fixture into a fresh pantry. */
async function packExecution(t) {
  const home = tempDir(t);
  const packed = ok(await ctx(['trace', 'pack', FIXTURE], { home }));
  assert.ok(packed.blobs.total > 1, 'the fixture should have several content blobs');
  return { home, uri: packed.uri, tag: `ctx-${packed.uri.slice('ctx://sha256:'.length)}` };
}

/** The pantry holds the execution pack: `trace verify` passes and `trace export` gives the fixture back. */
async function assertSameExecution(t, home, uri) {
  const verified = ok(await ctx(['trace', 'verify', uri], { home }));
  assert.equal(verified.ok, true, JSON.stringify(verified.problems));
  assert.equal(indexEntry(home, uri)?.artifactType, 'application/vnd.ctxpack.execution.v1');
  const out = path.join(tempDir(t), 'x.json');
  ok(await ctx(['trace', 'export', uri, '-o', out], { home }));
  assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), readFixture());
}

describe('execution packs through a registry', () => {
  let registry;
  before(async () => { registry = await startRegistry({ auth: 'none' }); });
  after(() => registry?.close());

  test('trace pack → push (twice: nothing uploaded again) → pull into an empty pantry → verify, export', async (t) => {
    const source = await packExecution(t);
    const proxy = await startFaultProxy(registry.url);
    t.after(() => proxy.close());
    const env = cleanEnv();

    const pushed = ok(await ctx(['push', source.uri, '--registry', proxy.ref('traces')], { home: source.home, env }));
    assert.equal(pushed.kind, 'execution');
    assert.equal(pushed.alreadyPresent, false);
    assert.ok(proxy.stats().uploadedBytes > 0);
    assert.equal(proxy.stats().byKind['manifest-put']?.count, 1);

    proxy.reset();
    const again = ok(await ctx(['push', source.uri, '--registry', proxy.ref('traces')], { home: source.home, env }));
    const uploads = proxy.stats().requests.filter((request) => request.kind.startsWith('upload-'));
    assert.deepEqual(uploads, [], `the second push opened uploads: ${JSON.stringify(uploads)}`);
    assert.equal(proxy.stats().uploadedBytes, 0);
    assert.equal(again.kind, 'execution');
    assert.equal(again.blobs.transferred, 0);

    const home = tempDir(t);
    const pulled = ok(await ctx(['pull', source.uri, '--registry', registry.ref('traces')], { home, env }));
    assert.equal(pulled.kind, 'execution');
    assert.equal(pulled.uri, source.uri);
    assert.equal(indexEntry(home, source.uri)?.digest, indexEntry(source.home, source.uri).digest);
    await assertSameExecution(t, home, source.uri);
    const listed = ok(await ctx(['trace', 'log'], { home }));
    assert.deepEqual(listed.executions.map((entry) => entry.uri), [source.uri]);

    const where = ok(await ctx(['resolve', source.uri, '--registry', registry.ref('traces')], { home, env }));
    assert.equal(where.pantry.kind, 'execution');
    assert.equal(where.registry.found, true);
  });

  test('pull -o of an execution pack is CTX_USAGE (pointing at trace export) and downloads nothing', async (t) => {
    const source = await packExecution(t);
    ok(await ctx(['push', source.uri, '--registry', registry.ref('traces')], { home: source.home, env: cleanEnv() }));
    const home = tempDir(t);
    const error = failsWith(await ctx(['pull', source.uri, '--registry', registry.ref('traces'), '-o', path.join(tempDir(t), 'out')], { home, env: cleanEnv() }), 'CTX_USAGE');
    assert.match(error.hint, /ctxpack trace export/);
    assert.equal(indexEntry(home, source.uri), undefined);
  });

  test('a registry serving a tampered content blob: a typed error, and no index entry', async (t) => {
    const source = await packExecution(t);
    ok(await ctx(['push', source.uri, '--registry', registry.ref('tampered')], { home: source.home, env: cleanEnv() }));
    const stored = JSON.parse(fs.readFileSync(path.join(source.home, 'blobs', 'sha256', indexEntry(source.home, source.uri).digest.slice(7)), 'utf8'));
    const content = stored.layers.reduce((biggest, layer) => (layer.size > biggest.size ? layer : biggest));
    const proxy = await startFaultProxy(registry.url, { flipBlobByte: { digest: content.digest } });
    t.after(() => proxy.close());
    const home = tempDir(t);
    failsWith(await ctx(['pull', source.uri, '--registry', proxy.ref('tampered')], { home, env: cleanEnv() }), ['CTX_DIGEST_MISMATCH', 'CTX_SIZE_MISMATCH']);
    assert.ok(proxy.stats().faults['flip-blob-byte'] > 0, 'the tampered blob was never fetched');
    assert.equal(indexEntry(home, source.uri), undefined);
    assert.ok(!fs.existsSync(path.join(home, 'blobs', 'sha256', content.digest.slice(7))), 'the tampered blob was stored');
    await assertBlobsIntact(home);
  });

  test('an OCI manifest lacking a blob its execution manifest refers to: CTX_OCI_INVALID, no index entry', async (t) => {
    const source = await packExecution(t);
    ok(await ctx(['push', source.uri, '--registry', registry.ref('partial')], { home: source.home, env: cleanEnv() }));
    const digest = indexEntry(source.home, source.uri).digest;
    const manifest = JSON.parse(fs.readFileSync(path.join(source.home, 'blobs', 'sha256', digest.slice(7)), 'utf8'));
    manifest.layers.pop();
    const put = await fetch(`${registry.url}/v2/partial/manifests/${source.tag}`, {
      method: 'PUT',
      headers: { 'content-type': manifest.mediaType },
      body: JSON.stringify(manifest),
    });
    assert.equal(put.status, 201, await put.text());
    const home = tempDir(t);
    const error = failsWith(await ctx(['pull', source.uri, '--registry', registry.ref('partial')], { home, env: cleanEnv() }), 'CTX_OCI_INVALID');
    assert.match(error.message, /lacks 1 blob/);
    assert.equal(indexEntry(home, source.uri), undefined);
    await assertBlobsIntact(home);
  });
});

test('export --oci + import carry an execution pack between two pantries', async (t) => {
  const source = await packExecution(t);
  const layout = path.join(tempDir(t), 'layout');
  const exported = ok(await ctx(['export', '--oci', layout, source.uri], { home: source.home }));
  assert.deepEqual(exported.packs.map((pack) => [pack.uri, pack.kind]), [[source.uri, 'execution']]);
  const home = tempDir(t);
  const imported = ok(await ctx(['import', layout], { home }));
  assert.deepEqual(imported.packs.map((pack) => [pack.uri, pack.kind, pack.alreadyPresent]), [[source.uri, 'execution', false]]);
  await assertSameExecution(t, home, source.uri);
  const again = ok(await ctx(['import', layout, source.uri], { home }));
  assert.deepEqual(again.packs.map((pack) => [pack.kind, pack.alreadyPresent]), [['execution', true]]);
});
