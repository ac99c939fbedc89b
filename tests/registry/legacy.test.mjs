// Packs pushed by the Python CtxPack v0 client: a `{}` image config, one tar.gz layer with the files and
// manifest.json at its root, tag = the first 12 hex of the hash. The test pushes one exactly as v0's push()
// did (monolithic POST + PUT, then the manifest as `json.dumps` wrote it) to a real registry, and
// `ctxpack pull --legacy` must read it into a directory, say what it could not verify, and refuse a v0 pack
// whose manifest names another URI.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startRegistry, runOk } from './harness.mjs';
import { ctx, failsWith, ok, REPO_ROOT, tempDir } from './fixtures.mjs';

const URI = 'ctx://sha256:854346c6a8e2b7b3f1d8e21f6f0c47d7c5c6f1e3b0a19e1c2d3b4a5f60718fec';
const HEX = URI.slice('ctx://sha256:'.length);
const V0_CONFIG = Buffer.from('{}');

let registry;
before(async () => {
  registry = await startRegistry();
});
after(() => registry?.close());

const sha256 = (bytes) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;

/** v0's push(): POST an upload, PUT the whole blob to its Location with ?digest=. */
async function pushBlobLikeV0(repository, bytes) {
  const digest = sha256(bytes);
  const started = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  assert.equal(started.status, 202);
  const location = new URL(started.headers.get('location'), registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201);
  return { digest, size: bytes.length };
}

/** Craft a v0 layer with Python's tarfile (as v0 did) and push it with v0's manifest under the 12-hex tag. */
async function pushV0Pack(t, repository, manifestUri) {
  const root = tempDir(t);
  const packDir = path.join(root, 'pack');
  fs.mkdirSync(path.join(packDir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(packDir, 'index.bin'), 'REAL_DATA_INDEX_12345');
  fs.writeFileSync(path.join(packDir, 'sub', 'x.json'), '{"chunk": 1}\n');
  const layerFile = path.join(root, 'layer.tar.gz');
  await runOk('python3', [path.join(REPO_ROOT, 'tests', 'js', 'fixtures', 'craft_legacy.py'), packDir, manifestUri, layerFile]);
  const layer = await pushBlobLikeV0(repository, fs.readFileSync(layerFile));
  const config = await pushBlobLikeV0(repository, V0_CONFIG);
  // json.dumps with its default separators and insertion order, as v0 wrote it.
  const manifest =
    '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", ' +
    `"config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": ${config.size}, "digest": "${config.digest}"}, ` +
    `"layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": ${layer.size}, "digest": "${layer.digest}"}]}`;
  const put = await fetch(`${registry.url}/v2/${repository}/manifests/${HEX.slice(0, 12)}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  assert.equal(put.status, 201);
}

test('pull --legacy reads a pack the v0 client pushed, and says what it could not verify', async (t) => {
  await pushV0Pack(t, 'legacy', URI);
  const output = path.join(tempDir(t), 'out');
  const pulled = ok(await ctx(['pull', URI, '--legacy', '--registry', registry.ref('legacy'), '-o', output], { home: tempDir(t) }));
  assert.equal(pulled.uri, URI);
  assert.equal(pulled.legacy, true);
  assert.equal(fs.readFileSync(path.join(output, 'index.bin'), 'utf8'), 'REAL_DATA_INDEX_12345');
  assert.equal(fs.readFileSync(path.join(output, 'sub', 'x.json'), 'utf8'), '{"chunk": 1}\n');
  assert.ok(pulled.verified.some((line) => line.includes(pulled.manifest.digest)), 'the manifest digest check is reported');
  assert.ok(pulled.unverified.length >= 2, 'the unverifiable parts are reported');
  assert.match(pulled.unverified.join('\n'), /digest/);
});

test('pull --legacy refuses a v0 pack whose manifest.json names another URI, writing nothing', async (t) => {
  const other = `ctx://sha256:${HEX.slice(0, 12)}${'0'.repeat(52)}`;
  await pushV0Pack(t, 'legacy-forged', other);
  const output = path.join(tempDir(t), 'out');
  failsWith(await ctx(['pull', URI, '--legacy', '--registry', registry.ref('legacy-forged'), '-o', output], { home: tempDir(t) }), ['CTX_URI_MISMATCH']);
  assert.equal(fs.existsSync(output), false);
});

test('without --legacy, a v0 pack is not found under ctx-<hex>', async (t) => {
  await pushV0Pack(t, 'legacy-plain', URI);
  failsWith(await ctx(['pull', URI, '--registry', registry.ref('legacy-plain')], { home: tempDir(t) }), ['CTX_NOT_FOUND']);
});
