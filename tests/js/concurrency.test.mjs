// Several processes working on one pantry at once must never corrupt it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_DIR, api, cliAsync, makeProject, rejectsWithCode, snapshot, tempDir, writeOutputs, writeTree } from './helpers.mjs';

const PROCESSES = 4;

function leftovers(home) {
  const found = [];
  const visit = (dir) => {
    for (const name of fs.readdirSync(dir)) {
      const child = path.join(dir, name);
      if (name.startsWith('.') || name.endsWith('.lock') || name.includes('.tmp-')) found.push(path.relative(home, child));
      if (fs.lstatSync(child).isDirectory()) visit(child);
    }
  };
  visit(home);
  return found;
}

test('concurrent seeds of the same URI leave one verified pack', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  writeOutputs(project.outDir);
  fs.writeFileSync(path.join(project.outDir, 'payload.bin'), Buffer.alloc(8 * 1024 * 1024, 1));

  const results = await Promise.all(
    Array.from({ length: PROCESSES }, () => cliAsync(['seed', project.outDir, '--contract', project.contractPath, '--json'], { home })),
  );
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  const parsed = results.map((result) => JSON.parse(result.stdout));
  assert.equal(new Set(parsed.map((result) => result.uri)).size, 1);
  assert.equal(parsed.filter((result) => !result.alreadyPresent).length, 1, 'exactly one process did the work');

  const [uri] = parsed.map((result) => result.uri);
  assert.deepEqual(api.list({ home }).map((pack) => pack.uri), [uri]);
  assert.equal(api.verify(uri, { home }).uri, uri);
  assert.equal(fs.readdirSync(path.join(home, 'blobs', 'sha256')).length, 3);
  assert.deepEqual(leftovers(home), []);
});

test('concurrent seeds of different URIs all land in index.json', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const projects = Array.from({ length: PROCESSES }, (_, i) => {
    const project = makeProject(path.join(root, `project-${i}`), { params: { variant: i } });
    writeTree(project.outDir, { 'out.txt': `output ${i}\n` });
    return project;
  });
  const results = await Promise.all(
    projects.map((project) => cliAsync(['seed', project.outDir, '--contract', project.contractPath, '--json'], { home })),
  );
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  const uris = results.map((result) => JSON.parse(result.stdout).uri).sort();
  assert.deepEqual(api.list({ home }).map((pack) => pack.uri).sort(), uris);
  for (const uri of uris) assert.equal(api.verify(uri, { home }).uri, uri);
  assert.deepEqual(leftovers(home), []);
});

test('concurrent unpacks of the same URI into the pantry produce one intact copy', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  writeOutputs(project.outDir);
  const { uri } = await api.seed(project.outDir, { contractPath: project.contractPath, home });

  const results = await Promise.all(Array.from({ length: PROCESSES }, () => cliAsync(['unpack', uri, '--json'], { home })));
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  const paths = new Set(results.map((result) => JSON.parse(result.stdout).path));
  assert.equal(paths.size, 1);
  const [copy] = paths;
  const expected = Object.fromEntries(
    Object.entries(snapshot(project.outDir)).map(([key, value]) => [key, value.replace(/^644 /, '444 ').replace(/^755 /, '555 ')]),
  );
  assert.deepEqual(snapshot(copy), expected);
  assert.equal((await api.materialize(uri, { home, fullCheck: true })).reused, true);
  assert.deepEqual(leftovers(home), []);
});

test('a lock left by a dead process is taken over; a live holder makes waiters time out', async (t) => {
  const { withLock } = await import(path.join(PACKAGE_DIR, 'lib', 'lock.mjs'));
  const lockPath = path.join(tempDir(t), 'locks', 'job.lock');
  fs.mkdirSync(path.dirname(lockPath));
  // No pid is above the kernel's maximum (2^22), so this holder is certainly dead.
  fs.writeFileSync(lockPath, JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname(), token: 'dead', since: '2020-01-01T00:00:00Z' }));
  assert.equal(await withLock(lockPath, () => 'ran', { timeoutMs: 2000 }), 'ran');
  assert.equal(fs.existsSync(lockPath), false, 'released');

  fs.writeFileSync(lockPath, JSON.stringify({ pid: process.pid, host: os.hostname(), token: 'alive', since: '2020-01-01T00:00:00Z' }));
  await rejectsWithCode(withLock(lockPath, () => 'ran', { timeoutMs: 200 }), 'CTX_LOCK_TIMEOUT');
  assert.match(fs.readFileSync(lockPath, 'utf8'), /alive/, "a live holder's lock is left alone");
});
