// Python CtxPack v0 layers: extractLegacyLayer reads what v0's push wrote (crafted here with Python's
// tarfile), checks the manifest's URI, reports what cannot be verified, and refuses malicious layers
// without writing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, python, rejectsWithCode, snapshot, tempDir, writeTree } from './helpers.mjs';

const { extractLegacyLayer } = await import(path.join(PACKAGE_DIR, 'lib', 'legacy.mjs'));

const URI = 'ctx://sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881';

/** A v0 layer of a small output folder (a nested directory, an executable, a symlink), with an optional attack. */
function v0Layer(root, attack) {
  const packDir = path.join(root, 'pack');
  writeTree(packDir, {
    'index.bin': Buffer.from([0, 1, 2, 3, 255]),
    'docs/a.txt': 'alpha\n',
    'docs/deep/b.txt': 'beta\n',
    'run.sh': { content: '#!/bin/sh\necho v0\n', mode: 0o755 },
    'latest': { symlink: 'docs/a.txt' },
  });
  fs.mkdirSync(path.join(packDir, 'empty'));
  const layer = path.join(root, `layer-${attack ?? 'genuine'}.tar.gz`);
  python('craft_legacy.py', [packDir, URI, layer, ...(attack ? [attack] : [])]);
  return layer;
}

test('a v0 layer is extracted with its manifest and the reasons it cannot be verified', async (t) => {
  const root = tempDir(t);
  const layer = v0Layer(root);
  const out = path.join(root, 'out');
  const result = await extractLegacyLayer(layer, out, { expectUri: URI });
  assert.equal(result.uri, URI);
  assert.equal(result.manifest.provenance.user, 'rozetyp');
  assert.equal(result.files, 4);
  assert.equal(result.bytes, 5 + 6 + 5 + 18);
  assert.equal(result.unverified.length, 2);
  assert.match(result.unverified.join(' '), /digest/);
  const files = snapshot(out);
  assert.equal(files['latest'], '-> docs/a.txt');
  assert.equal(files['empty/'], 'dir');
  assert.equal(fs.readFileSync(path.join(out, 'docs/deep/b.txt'), 'utf8'), 'beta\n');
  assert.equal(fs.statSync(path.join(out, 'run.sh')).mode & 0o777, 0o755);
  assert.equal(files['manifest.json'], undefined, 'the manifest is reported, not extracted');

  // The same bytes as a stream; another URI is refused.
  const again = await extractLegacyLayer(fs.createReadStream(layer), path.join(root, 'again'));
  assert.equal(again.uri, URI);
  await rejectsWithCode(extractLegacyLayer(layer, path.join(root, 'other'), { expectUri: `ctx://sha256:${'1'.repeat(64)}` }), 'CTX_URI_MISMATCH');
  assert.equal(fs.existsSync(path.join(root, 'other')), false);
});

test('malicious v0 layers are refused and nothing is written', async (t) => {
  const root = tempDir(t);
  const cases = { 'escape-link': 'CTX_SYMLINK_ESCAPES', dotdot: 'CTX_PATH_INVALID', hardlink: 'CTX_UNSUPPORTED_ENTRY_TYPE', device: 'CTX_UNSUPPORTED_ENTRY_TYPE' };
  for (const [attack, code] of Object.entries(cases)) {
    const caseRoot = path.join(root, attack);
    fs.mkdirSync(caseRoot);
    const layer = v0Layer(caseRoot, attack);
    const before = snapshot(caseRoot);
    await rejectsWithCode(extractLegacyLayer(layer, path.join(caseRoot, 'out')), code);
    assert.deepEqual(snapshot(caseRoot), before, attack);
    assert.equal(fs.existsSync(path.join(root, 'etc')), false);
  }
  await rejectsWithCode(extractLegacyLayer(path.join(root, 'missing.tar.gz'), path.join(root, 'out')), 'CTX_NOT_FOUND');
});
