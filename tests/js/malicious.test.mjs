// Hostile packs, written by Python's tarfile (a tar writer nobody here wrote): each must fail verify and
// unpack with its own CTX_ code, and unpack must leave no file anywhere, inside the target or outside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { api, cli, makeProject, python, rejectsWithCode, snapshot, tempDir, writeOutputs, writeTree } from './helpers.mjs';

const CASES = [
  { name: 'absolute', code: 'CTX_PATH_INVALID', argument: (root) => path.join(root, 'absolute-evil.txt') },
  { name: 'dotdot', code: 'CTX_PATH_INVALID', argument: () => '../../dotdot-evil.txt' },
  { name: 'symlink-escape', code: 'CTX_SYMLINK_ESCAPES', argument: () => '../../..' },
  { name: 'hardlink', code: 'CTX_UNSUPPORTED_ENTRY_TYPE' },
  { name: 'chardev', code: 'CTX_UNSUPPORTED_ENTRY_TYPE' },
  { name: 'fifo', code: 'CTX_UNSUPPORTED_ENTRY_TYPE' },
  { name: 'duplicate', code: 'CTX_ENTRY_DUPLICATE' },
  { name: 'unexpected', code: 'CTX_ENTRY_UNEXPECTED' },
  { name: 'tampered', code: 'CTX_DIGEST_MISMATCH' },
  { name: 'missing', code: 'CTX_ENTRY_MISSING' },
  { name: 'no-manifest', code: 'CTX_MANIFEST_INVALID' },
  { name: 'forged-contract', code: 'CTX_URI_MISMATCH' },
];

test('hostile packs are rejected with a typed error and write nothing', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  writeOutputs(project.outDir);
  writeTree(project.outDir, { 'large.bin': Buffer.alloc(64 * 1024, 3) });
  const { uri } = await api.seed(project.outDir, { contractPath: project.contractPath, home });
  const packs = path.join(root, 'packs');
  fs.mkdirSync(packs);
  const genuine = path.join(packs, 'genuine.tar.gz');
  api.exportPack(uri, genuine, { home });
  const sandbox = path.join(root, 'sandbox');
  fs.mkdirSync(sandbox);

  /** Unpack must fail with `code` and leave the whole test folder exactly as it was. */
  async function assertRejected(packPath, code, options = {}) {
    const before = snapshot(root);
    const target = path.join(sandbox, 'target');
    await rejectsWithCode(api.unpack(packPath, target, options), code);
    assert.deepEqual(snapshot(root), before, 'unpack left files behind');
    await rejectsWithCode(() => api.verify(packPath, options), code);
  }

  for (const { name, code, argument } of CASES) {
    await t.test(`${name} → ${code}`, async () => {
      const packPath = path.join(packs, `${name}.tar.gz`);
      python('craft_pack.py', [genuine, packPath, name, ...(argument ? [argument(root)] : [])]);
      await assertRejected(packPath, code);
    });
  }

  await t.test('the CLI reports a hostile pack as a coded error, exit 1', () => {
    const before = snapshot(root);
    const result = cli(['unpack', path.join(packs, 'symlink-escape.tar.gz'), '-o', path.join(sandbox, 'target'), '--json']);
    assert.equal(result.code, 1);
    assert.equal(result.json().error.code, 'CTX_SYMLINK_ESCAPES');
    assert.deepEqual(snapshot(root), before);
  });

  await t.test('an entry over the configured size limit → CTX_LIMIT_EXCEEDED', async () => {
    await assertRejected(genuine, 'CTX_LIMIT_EXCEEDED', { limits: { maxEntryBytes: 1024 } });
    const viaCli = cli(['verify', genuine, '--max-entry-bytes', '1024', '--json']);
    assert.equal(viaCli.code, 1);
    assert.equal(viaCli.json().error.code, 'CTX_LIMIT_EXCEEDED');
    await assertRejected(genuine, 'CTX_LIMIT_EXCEEDED', { limits: { maxEntries: 2 } });
  });

  await t.test('a gzip bomb (a manifest claiming 64 GiB of zeros) stops at the ratio limit', async () => {
    const packPath = path.join(packs, 'bomb.tar.gz');
    python('craft_pack.py', [genuine, packPath, 'bomb', String(64 * 1024 ** 3 - 1)]);
    assert.ok(fs.statSync(packPath).size < 1024 * 1024, 'the bomb is small');
    const started = Date.now();
    await assertRejected(packPath, 'CTX_LIMIT_EXCEEDED', { limits: { maxRatio: 100 } });
    assert.ok(Date.now() - started < 20_000, 'rejected early, without inflating everything');
  });

  await t.test('a 60 MiB provenance (not identity) in a small pack is refused fast, before it is parsed', async () => {
    const packPath = path.join(packs, 'provenance.tar.gz');
    python('craft_pack.py', [genuine, packPath, 'provenance', String(60 * 1024 * 1024)]);
    assert.ok(fs.statSync(packPath).size < 1024 * 1024, 'the pack is small');
    const started = Date.now();
    await assertRejected(packPath, 'CTX_LIMIT_EXCEEDED');
    assert.ok(Date.now() - started < 20_000, 'rejected fast');
    const refused = cli(['verify', packPath, '--json']).json().error;
    assert.equal(refused.subject, 'provenance');
    assert.match(refused.message, /above the limit of 1048576 bytes \(maxProvenanceBytes\)/);
    const allowed = cli(['verify', packPath, '--max-provenance-bytes', String(64 * 1024 * 1024), '--json']);
    assert.equal(allowed.code, 0, allowed.stdout);
    assert.equal(allowed.json().uri, uri, 'the provenance limit is the only thing wrong with it');
  });

  await t.test('a truncated pack → CTX_TRUNCATED, a pack with the wrong URI → CTX_URI_MISMATCH', async () => {
    const bytes = fs.readFileSync(genuine);
    const truncated = path.join(packs, 'truncated.tar.gz');
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assertRejected(truncated, 'CTX_TRUNCATED');
    await assertRejected(genuine, 'CTX_URI_MISMATCH', { expectUri: `ctx://sha256:${'0'.repeat(64)}` });
  });
});
