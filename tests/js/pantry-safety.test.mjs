// The pantry survives gc, interrupts and crashes: leases keep a running command's blobs from gc, SIGINT and
// SIGTERM remove what the command was writing, leftovers of killed commands are swept at once, and `fsck`
// finds (and `fsck --repair` fixes) whatever a crash or damage left. Real processes, real signals, real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, PACKAGE_DIR, api, cli, cliAsync, makeProject, mkfifo, rejectsWithCode, tempDir, writeOutputs, writeTree } from './helpers.mjs';

const MiB = 1024 * 1024;
const { openPantry } = await import(path.join(PACKAGE_DIR, 'lib', 'pantry.mjs'));

/** Incompressible, deterministic bytes. */
function noise(bytes, seed) {
  const out = Buffer.allocUnsafe(bytes);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out.writeUInt32LE(state >>> 0, Math.min(i, bytes - 4));
  }
  return out;
}

/** A project whose outputs are `mib` MiB in 8 MiB files (more than 64 MiB: several layers). */
function bigProject(root, { mib = 80, variant = 0 } = {}) {
  const project = makeProject(root, { params: { variant } });
  for (let i = 0; i < mib / 8; i += 1) writeTree(project.outDir, { [`part-${i}.bin`]: noise(8 * MiB, 7 + i + variant * 100) });
  return project;
}

function names(dir) {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** Whatever an interrupted command must not leave: temp blobs, staging folders, leases, locks, temp files. */
function leftovers(home) {
  return [
    ...names(path.join(home, 'blobs', 'sha256')).filter((name) => name.startsWith('.ingest-')),
    ...names(path.join(home, 'unpacked')).filter((name) => name.startsWith('.')),
    ...names(path.join(home, 'leases')),
    ...names(path.join(home, 'locks')),
    ...names(home).filter((name) => name.includes('.tmp-')),
  ];
}

/** A pid that is certainly not running: a process that has exited. */
function deadPid() {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

function spawnCli(args, home) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CTXPACK_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

async function waitFor(condition, { timeoutMs = 60_000, what = 'the condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function fsckJson(home, ...args) {
  const result = cli(['fsck', '--json', ...args], { home });
  return { code: result.code, ...result.json() };
}

/** After a crash: fsck is clean, or --repair makes it clean; then every indexed pack verifies. */
function assertConsistentOrRepaired(home, context) {
  const first = fsckJson(home);
  if (first.code !== 0) {
    const repaired = fsckJson(home, '--repair');
    assert.equal(repaired.code, 0, `${context}: fsck --repair left problems: ${JSON.stringify(repaired.problems)}`);
    const again = fsckJson(home);
    assert.equal(again.code, 0, `${context}: fsck after --repair: ${JSON.stringify(again.problems)}`);
    assert.deepEqual(again.problems, []);
  }
  for (const pack of api.list({ home })) assert.equal(api.verify(pack.uri, { home }).uri, pack.uri, context);
  return first;
}

test('a lease keeps written and relied-on blobs from gc; failed work removes what it added', async (t) => {
  const home = tempDir(t);
  const pantry = openPantry({ home });
  let written;
  await pantry.withLease('test', async () => {
    written = await pantry.pushBytes(Buffer.from('written, not yet recorded'), 'application/octet-stream');
    const ingest = pantry.ingest();
    ingest.write(Buffer.from('half'));
    const leaseFiles = names(path.join(home, 'leases'));
    assert.equal(leaseFiles.length, 1);
    const lease = JSON.parse(fs.readFileSync(path.join(home, 'leases', leaseFiles[0]), 'utf8'));
    assert.equal(lease.pid, process.pid);
    assert.equal(lease.command, 'test');
    assert.deepEqual(lease.digests, [written.digest]);
    assert.ok(path.basename(ingest.tempPath).startsWith(`.ingest-${lease.id}-`));

    const collected = await api.gc({ home });
    assert.equal(collected.blobsRemoved, 0);
    assert.equal(collected.leftoversRemoved, 0);
    assert.ok(pantry.exists(written));
    assert.ok(fs.existsSync(ingest.tempPath), 'gc removed an ingest file of a live lease');
    ingest.abort();
  });
  assert.deepEqual(names(path.join(home, 'leases')), [], 'the lease is released when the work ends');
  assert.equal((await api.gc({ home })).blobsRemoved, 1, 'released: the unrecorded blob is garbage now');

  // A blob that is already there (unreferenced) and relied on: protected before the work checks for it.
  const orphan = await pantry.pushBytes(Buffer.from('already here'), 'application/octet-stream');
  await pantry.withLease('test', async () => {
    await pantry.protect([orphan.digest]);
    assert.equal((await api.gc({ home })).blobsRemoved, 0);
    assert.ok(pantry.exists(orphan));
  });

  // Failed work: the blobs it added go, the blob it found there stays for gc to judge.
  let added;
  await assert.rejects(
    pantry.withLease('test', async () => {
      added = await pantry.pushBytes(Buffer.from('added by failed work'), 'application/octet-stream');
      await pantry.pushBytes(Buffer.from('already here'), 'application/octet-stream');
      throw new Error('the work failed');
    }),
    /the work failed/,
  );
  assert.equal(pantry.exists(added), false, 'a failed command left its unreferenced blob');
  assert.ok(pantry.exists(orphan), 'a blob the failed work did not add was removed');
});

test('gc running again and again during a seed: the seed succeeds and the pack verifies', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  // Big enough that the parallel seed is still writing when the first gc starts, under load too.
  const project = bigProject(path.join(root, 'project'), { mib: 160 });
  const seeding = spawnCli(['seed', project.outDir, '--contract', project.contractPath, '--json'], home);
  let finished = false;
  seeding.done.then(() => (finished = true));
  while (!finished && names(path.join(home, 'leases')).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  let gcWhileLeased = 0;
  while (!finished) {
    const leased = names(path.join(home, 'leases')).length > 0;
    const collected = await cliAsync(['gc', '--json'], { home });
    assert.equal(collected.code, 0, collected.stderr);
    if (leased && !finished) gcWhileLeased += 1;
  }
  const result = await seeding.done;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(gcWhileLeased >= 1, 'no gc ran while the seed held its lease');
  const { uri, layers } = JSON.parse(result.stdout);
  assert.ok(layers.length >= 2, `a multi-layer pack (${layers.length} layers)`);
  assert.equal(api.verify(uri, { home }).uri, uri);
  assert.deepEqual(leftovers(home), []);
  assert.equal(fsckJson(home).code, 0);
});

for (const [signal, exitCode] of [['SIGTERM', 143], ['SIGINT', 130]]) {
  test(`${signal} during a seed removes its .ingest-* file, lease and lock, and exits ${exitCode}`, async (t) => {
    const root = tempDir(t);
    const home = path.join(root, 'home');
    const project = bigProject(path.join(root, 'project'), { mib: 72 });
    const seeding = spawnCli(['seed', project.outDir, '--contract', project.contractPath, '--json'], home);
    const blobsDir = path.join(home, 'blobs', 'sha256');
    await waitFor(() => names(blobsDir).some((name) => name.startsWith('.ingest-')), { what: 'the seed to write a blob' });
    seeding.child.kill(signal);
    const result = await seeding.done;
    assert.equal(result.code, exitCode, result.stderr);
    assert.equal(JSON.parse(result.stdout).error.code, 'CTX_INTERRUPTED');
    assert.deepEqual(leftovers(home), []);
    assert.deepEqual(api.list({ home }), []);
    // Layers it had finished are unreferenced, unleased: the next gc removes them.
    await api.gc({ home });
    assert.deepEqual(names(blobsDir), []);
  });
}

test('a 500 MiB .ingest-* file of a killed process is swept by the next gc, not after 24 h', async (t) => {
  const home = tempDir(t);
  const project = makeProject(tempDir(t));
  writeOutputs(project.outDir);
  const { uri } = await api.seed(project.outDir, { contractPath: project.contractPath, home });
  const blobsDir = path.join(home, 'blobs', 'sha256');
  const id = `${deadPid()}-0badcafe`;
  fs.mkdirSync(path.join(home, 'leases'), { recursive: true });
  fs.writeFileSync(path.join(home, 'leases', `${id}.json`), JSON.stringify({ id, pid: Number(id.split('-')[0]), host: (await import('node:os')).hostname(), startTime: 1, command: 'pull', digests: [] }));
  const planted = path.join(blobsDir, `.ingest-${id}-0f2b1c4e-5d6a-4b7c-8d9e-0a1b2c3d4e5f`);
  const fd = fs.openSync(planted, 'w');
  fs.ftruncateSync(fd, 500 * MiB);
  fs.closeSync(fd);
  // An older version's name, without a lease id: no lease can hold it either.
  fs.writeFileSync(path.join(blobsDir, '.ingest-3f2b1c4e-5d6a-4b7c-8d9e-0a1b2c3d4e5f'), 'partial');

  const before = fsckJson(home);
  assert.equal(before.code, 1);
  assert.deepEqual(before.problems.map((problem) => problem.code).sort(), ['ingest-leftover', 'ingest-leftover', 'lease-stale']);

  const collected = await api.gc({ home });
  assert.equal(collected.blobsRemoved, 0);
  assert.equal(collected.leftoversRemoved, 3);
  assert.ok(collected.bytesRemoved >= 500 * MiB, `${collected.bytesRemoved} bytes freed`);
  assert.deepEqual(leftovers(home), []);
  assert.equal(api.verify(uri, { home }).uri, uri);
  assert.equal(fsckJson(home).code, 0);
});

test("unpack -o: a staging folder left beside the target by a killed process is removed by the next unpack", async (t) => {
  const home = tempDir(t);
  const project = makeProject(tempDir(t));
  writeOutputs(project.outDir);
  const { uri } = await api.seed(project.outDir, { contractPath: project.contractPath, home });
  const parent = tempDir(t);
  const abandoned = path.join(parent, `.results.ctxpack-${deadPid()}-12345-AbC123`);
  writeTree(abandoned, { 'partial.txt': 'half an unpack' });
  const unrelated = path.join(parent, '.results.ctxpack-not-ours');
  fs.mkdirSync(unrelated);
  const result = cli(['unpack', uri, '-o', path.join(parent, 'results')], { home });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(names(parent).sort(), ['.results.ctxpack-not-ours', 'results']);
});

test('fsck reports damage with a code and a path; --repair makes the pantry consistent again', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const seedVariant = async (variant) => {
    const project = makeProject(path.join(root, `project-${variant}`), { params: { variant } });
    writeOutputs(project.outDir);
    return api.seed(project.outDir, { contractPath: project.contractPath, home });
  };
  const [intact, corrupt, missing, unpackedDamaged] = await Promise.all([0, 1, 2, 3].map(seedVariant));
  const clean = fsckJson(home);
  assert.equal(clean.code, 0);
  assert.deepEqual(clean.checked, { entries: 4, blobs: 12, bytes: clean.checked.bytes, unpacked: 0 });

  const blobPath = (digest) => path.join(home, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const layer = blobPath(corrupt.layer.digest);
  const bytes = fs.readFileSync(layer);
  bytes[100] ^= 1;
  fs.writeFileSync(layer, bytes);
  fs.rmSync(blobPath(missing.config.digest));
  const copy = await api.materialize(unpackedDamaged.uri, { home });
  fs.chmodSync(copy.path, 0o755);
  fs.chmodSync(path.join(copy.path, 'chunks.jsonl'), 0o644);
  fs.appendFileSync(path.join(copy.path, 'chunks.jsonl'), 'tampered\n');
  const orphan = path.join(home, 'unpacked', 'f'.repeat(64));
  writeTree(orphan, { 'x.txt': 'no pack' });
  fs.writeFileSync(path.join(home, 'locks', 'seed-ctx-dead.lock'), JSON.stringify({ pid: deadPid(), host: (await import('node:os')).hostname(), token: 'x', since: '' }));
  fs.writeFileSync(path.join(home, 'index.json.tmp-0f2b1c4e-5d6a-4b7c-8d9e-0a1b2c3d4e5f'), '{');

  const found = cli(['fsck'], { home });
  assert.equal(found.code, 1);
  const lines = found.stdout.trim().split('\n');
  const expected = [
    ['blob-corrupt', layer],
    ['blob-missing', blobPath(missing.config.digest)],
    ['unpacked-damaged', copy.path],
    ['unpacked-orphan', orphan],
    ['lock-stale', path.join(home, 'locks', 'seed-ctx-dead.lock')],
    ['temp-leftover', path.join(home, 'index.json.tmp-0f2b1c4e-5d6a-4b7c-8d9e-0a1b2c3d4e5f')],
  ];
  for (const [code, where] of expected) assert.ok(lines.some((line) => line.startsWith(`${code} ${where}: `)), `${code} ${where} in:\n${found.stdout}`);
  assert.equal(lines.length, expected.length, found.stdout);
  assert.match(found.stderr, /6 problems, 6 left \(run `ctxpack fsck --repair`\)/);

  const repaired = fsckJson(home, '--repair');
  assert.equal(repaired.code, 0, JSON.stringify(repaired.problems));
  assert.equal(repaired.ok, true);
  assert.ok(repaired.problems.every((problem) => problem.repaired));
  assert.deepEqual(repaired.problems.filter((problem) => problem.code === 'entry-dropped').map((problem) => problem.uri).sort(), [corrupt.uri, missing.uri].sort());
  assert.deepEqual(api.list({ home }).map((pack) => pack.uri).sort(), [intact.uri, unpackedDamaged.uri].sort());
  assert.equal(fs.existsSync(layer), false, 'the corrupt blob is removed');
  assert.equal(fs.existsSync(orphan), false);
  const after = fsckJson(home);
  assert.equal(after.code, 0);
  assert.deepEqual(after.problems, []);
  assert.ok(after.dangling.blobs > 0, 'the dropped packs left intact blobs for gc');
  await api.gc({ home });
  assert.equal(fsckJson(home).dangling.blobs, 0);
  for (const pack of api.list({ home })) assert.equal(api.verify(pack.uri, { home }).uri, pack.uri);
  assert.equal((await api.materialize(unpackedDamaged.uri, { home, fullCheck: true })).reused, false, 'unpacked again from the verified pack');
  // The JS API agrees.
  assert.equal((await api.fsck({ home })).ok, true);
});

test('kill -9 at random points of seed, gc and rm: fsck is clean or --repair makes it clean', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const projects = [0, 1, 2].map((variant) => bigProject(path.join(root, `project-${variant}`), { mib: 72, variant }));
  const kept = await api.seed(projects[0].outDir, { contractPath: projects[0].contractPath, home });
  const operations = [
    (i) => ['seed', projects[1 + (i % 2)].outDir, '--contract', projects[1 + (i % 2)].contractPath],
    () => ['gc'],
    (i) => {
      const victim = api.list({ home }).find((pack) => pack.uri !== kept.uri);
      return victim ? ['rm', victim.uri] : ['seed', projects[1 + (i % 2)].outDir, '--contract', projects[1 + (i % 2)].contractPath];
    },
  ];
  for (let i = 0; i < 9; i += 1) {
    const args = operations[i % operations.length](i);
    const running = spawnCli(args, home);
    await sleep(50 + Math.floor(Math.random() * 1500));
    running.child.kill('SIGKILL');
    await running.done;
    assertConsistentOrRepaired(home, `after kill -9 of ${args[0]} (round ${i})`);
  }
  assert.ok(api.list({ home }).some((pack) => pack.uri === kept.uri));
});

test('import reads only regular files inside the layout: a FIFO or a symlink out of it is an error, never a hang', async (t) => {
  const home = tempDir(t);
  const project = makeProject(tempDir(t));
  writeOutputs(project.outDir);
  const { uri, layer } = await api.seed(project.outDir, { contractPath: project.contractPath, home });
  const outside = tempDir(t);
  const fresh = () => {
    const dir = path.join(tempDir(t), 'layout');
    assert.equal(cli(['export', '--oci', dir, uri], { home }).code, 0);
    return dir;
  };
  const importInto = (dir) => cliAsync(['import', dir, '--json', '--home', tempDir(t)], {});
  const withinTimeout = (promise) =>
    Promise.race([promise, sleep(30_000).then(() => assert.fail('import hung'))]);

  // The layer blob is a FIFO (nobody will ever write to it).
  const fifoBlob = fresh();
  const layerPath = path.join(fifoBlob, 'blobs', 'sha256', layer.digest.slice('sha256:'.length));
  fs.rmSync(layerPath);
  if (!mkfifo(layerPath)) return t.skip('mkfifo is not available');
  let result = await withinTimeout(importInto(fifoBlob));
  assert.equal(result.code, 1);
  assert.equal(JSON.parse(result.stdout).error.code, 'CTX_UNSUPPORTED_ENTRY_TYPE');
  assert.match(JSON.parse(result.stdout).error.message, /is a FIFO, not a regular file/);

  // The layer blob is a symlink to a copy of itself outside the layout: refused although its bytes are right.
  const symlinked = fresh();
  const linkPath = path.join(symlinked, 'blobs', 'sha256', layer.digest.slice('sha256:'.length));
  fs.copyFileSync(linkPath, path.join(outside, 'layer'));
  fs.rmSync(linkPath);
  fs.symlinkSync(path.join(outside, 'layer'), linkPath);
  result = await withinTimeout(importInto(symlinked));
  assert.equal(result.code, 1);
  assert.equal(JSON.parse(result.stdout).error.code, 'CTX_SYMLINK_ESCAPES');

  // index.json is a FIFO.
  const fifoIndex = fresh();
  fs.rmSync(path.join(fifoIndex, 'index.json'));
  assert.ok(mkfifo(path.join(fifoIndex, 'index.json')));
  result = await withinTimeout(importInto(fifoIndex));
  assert.equal(result.code, 1);
  assert.equal(JSON.parse(result.stdout).error.code, 'CTX_UNSUPPORTED_ENTRY_TYPE');
  assert.match(JSON.parse(result.stdout).error.message, /index\.json is a FIFO/);

  await rejectsWithCode(api.importLayout(fifoIndex, { home: tempDir(t) }), 'CTX_UNSUPPORTED_ENTRY_TYPE');
});
