// The stat cache of identity: the URI is the same with and without it, files changed in the same second as
// the cache write are hashed again, and the cache is really consulted (a tampered record shows through, and
// --no-cache / CTXPACK_NO_STAT_CACHE=1 trust nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, cli, tempDir, writeTree } from './helpers.mjs';

function project(root) {
  const files = {};
  for (let i = 0; i < 40; i++) files[`data/d${i % 4}/f${i}.txt`] = `file ${i}\n`;
  // Big enough for a record of its own (a smaller file input is hashed every time).
  files['code.py'] = 'print("x")\n'.repeat(30_000);
  writeTree(root, files);
  const contractPath = path.join(root, 'contract.json');
  const contract = { name: 'cached', inputs: [{ name: 'data', path: 'data' }], transforms: [{ tool: 'python', code_path: 'code.py' }] };
  fs.writeFileSync(contractPath, JSON.stringify(contract));
  return contractPath;
}

const uriOf = async (contractPath, options) => (await api.computeIdentity({ contractPath, ...options })).uri;

function cacheFiles(home) {
  const dir = path.join(home, 'stat-cache');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith('.bin')).map((name) => path.join(dir, name)) : [];
}

test('the URI is the same with and without the stat cache, before and after changes', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const contractPath = project(path.join(root, 'p'));
  const truth = await uriOf(contractPath, { home, cache: false });
  assert.equal(cacheFiles(home).length, 0, 'cache: false writes no cache');
  assert.equal(await uriOf(contractPath, { home }), truth);
  assert.equal(cacheFiles(home).length, 2, 'one record per input: the tree and the code file');
  assert.equal(await uriOf(contractPath, { home }), truth, 'read back from the cache');

  const changed = path.join(root, 'p', 'data', 'd1', 'f5.txt');
  fs.writeFileSync(changed, 'FILE 5\n');
  fs.writeFileSync(path.join(root, 'p', 'data', 'new.txt'), 'new\n');
  fs.rmSync(path.join(root, 'p', 'data', 'd2', 'f6.txt'));
  const after = await uriOf(contractPath, { home, cache: false });
  assert.notEqual(after, truth);
  assert.equal(await uriOf(contractPath, { home }), after);
  assert.equal(await uriOf(contractPath, { home }), after);
});

test('a small file input is hashed every time, with no record kept', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  writeTree(path.join(root, 'p'), { 'small.txt': 'small\n' });
  const contractPath = path.join(root, 'p', 'contract.json');
  fs.writeFileSync(contractPath, JSON.stringify({ name: 'small', inputs: [{ name: 'small', path: 'small.txt' }], transforms: [] }));
  const truth = await uriOf(contractPath, { home, cache: false });
  assert.equal(await uriOf(contractPath, { home }), truth);
  assert.equal(cacheFiles(home).length, 0);
  fs.writeFileSync(path.join(root, 'p', 'small.txt'), 'SMALL\n');
  assert.notEqual(await uriOf(contractPath, { home }), truth);
});

test('a file rewritten in the same second as the cache write, same size and mtime, is hashed again', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const contractPath = project(path.join(root, 'p'));
  const file = path.join(root, 'p', 'data', 'd0', 'f0.txt');
  for (let round = 0; round < 5; round++) {
    const first = await uriOf(contractPath, { home });
    const { mtime } = fs.statSync(file);
    // Same size, new content, the old mtime put back (as a file system with coarse timestamps would show it).
    fs.writeFileSync(file, `FILE ${round}\n`.padEnd(7).slice(0, 7));
    fs.utimesSync(file, mtime, mtime);
    const truth = await uriOf(contractPath, { home, cache: false });
    assert.equal(await uriOf(contractPath, { home }), truth, `round ${round}`);
    assert.notEqual(first, truth);
  }
});

test('old records are trusted: a tampered record shows through, --no-cache and CTXPACK_NO_STAT_CACHE=1 trust nothing', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const contractPath = project(path.join(root, 'p'));
  await sleep(200);
  const truth = await uriOf(contractPath, { home });
  // Flip one digest byte of every record (the digests follow a 24-byte header and 40 bytes of stat per entry).
  for (const file of cacheFiles(home)) {
    const bytes = fs.readFileSync(file);
    const count = bytes.readUInt32LE(16);
    bytes[24 + count * 40] ^= 0xff;
    fs.writeFileSync(file, bytes);
  }
  assert.notEqual(await uriOf(contractPath, { home }), truth, 'the stat cache is consulted');
  assert.equal(await uriOf(contractPath, { home, cache: false }), truth);
  const noCache = cli(['id', '--contract', contractPath, '--no-cache'], { home });
  assert.equal(noCache.code, 0, noCache.stderr);
  assert.equal(noCache.stdout.trim(), truth);
  const byEnv = cli(['id', '--contract', contractPath], { home, env: { CTXPACK_NO_STAT_CACHE: '1' } });
  assert.equal(byEnv.stdout.trim(), truth);
});
