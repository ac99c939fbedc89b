// The digest identity gives an input tree (tree-digest.mjs: compact entries, the document hashed by node:crypto)
// is the core's tree/v1 digest of the same entries as objects (tree.mjs, what seed and the manifest use), on
// odd trees, inline and on the hashing threads, with the stat cache cold, warm and off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, api, tempDir, writeTree } from './helpers.mjs';

const { hashTree } = await import(path.join(PACKAGE_DIR, 'lib', 'tree.mjs'));
const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));

/** The identity digest of `dir` as an input tree, through computeIdentity. */
async function identityDigest(dir, options = {}) {
  const contract = { inputs: [{ name: 'data', path: dir }], transforms: [] };
  const { contract: resolved } = await api.computeIdentity({ contract, baseDir: dir, ...options });
  return resolved.inputs[0].digest;
}

/** Files with names that NFC changes, JSON escapes (a path holds no control character nor backslash), spaces, deep folders, empty files and executables. */
function oddTree(root, files) {
  writeTree(root, {
    'plain.txt': 'plain\n',
    'e\u0301t\u00e9.txt': 'nfc changes this name\n',
    'quote"and<angle>&.txt': 'json escapes\n',
    'line\u2028separator\u00a0nbsp.txt': 'escaped by JSON.stringify, not by JCS\n',
    'space name.md': '',
    'deep/er/and/deeper/leaf.bin': Buffer.from([0, 1, 2, 255]),
    '\u{1f600}/smile.txt': 'astral plane\n',
  });
  fs.mkdirSync(path.join(root, 'empty', 'nested'), { recursive: true });
  fs.chmodSync(path.join(root, 'plain.txt'), 0o755);
  fs.symlinkSync('plain.txt', path.join(root, 'link'));
  fs.symlinkSync('../plain.txt', path.join(root, 'deep', 'up-link'));
  fs.symlinkSync('deep/er', path.join(root, 'dir-link'));
  for (let i = 0; i < files; i++) {
    const file = path.join(root, 'many', `d${i % 7}`, `f${i}.txt`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${i}\n`.repeat(i % 5));
    if (i % 11 === 0) fs.chmodSync(file, 0o700);
  }
}

for (const files of [0, 300, 5000]) {
  test(`identity's tree digest is the core's tree/v1 digest (${files} extra files)`, async (t) => {
    const root = tempDir(t);
    oddTree(root, files);
    const expected = (await hashTree(root)).digest;
    const home = tempDir(t);
    assert.equal(await identityDigest(root, { cache: false }), expected, 'without the stat cache');
    assert.equal(await identityDigest(root, { home }), expected, 'the stat cache cold');
    assert.equal(await identityDigest(root, { home }), expected, 'the stat cache warm');
    assert.equal(await identityDigest(root, { followLinks: true, cache: false }), (await hashTree(root, { followLinks: true })).digest, 'links followed');
  });
}

test('treeDocumentCompact hands over the document whose SHA-256 is treeDigestCompact', () => {
  const digest = (text) => crypto.createHash('sha256').update(text).digest();
  const names = Array.from({ length: 2000 }, (_, i) => `d${i % 13}/n\u00e9${i}".txt`);
  const paths = [...names, 'link'].join('\0');
  const kinds = Uint8Array.from([...names.map((_, i) => i % 2), 2]);
  const sizes = Float64Array.from([...names.map((_, i) => i * 1000), 0]);
  const digests = new Uint8Array((names.length + 1) * 32);
  names.forEach((name, i) => digests.set(digest(name), i * 32));
  const hash = crypto.createHash('sha256');
  let pieces = 0;
  core.treeDocumentCompact(paths, kinds, sizes, digests, names[5], (piece) => {
    pieces += 1;
    hash.update(piece);
  });
  assert.ok(pieces > 1, 'a document this big comes in several pieces');
  assert.equal(`sha256:${hash.digest('hex')}`, core.treeDigestCompact(paths, kinds, sizes, digests, names[5]));
  const thrown = new Error('sink failed');
  assert.throws(
    () =>
      core.treeDocumentCompact(paths, kinds, sizes, digests, names[5], () => {
        throw thrown;
      }),
    (error) => error === thrown,
  );
  assert.throws(() => core.treeDocumentCompact('a\0a', Uint8Array.of(0, 0), Float64Array.of(1, 1), new Uint8Array(64), '', () => {}), {
    code: 'CTX_PATH_COLLISION',
  });
});
