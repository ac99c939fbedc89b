// Pulls against a real registry survive gc, signals and kill -9: a pull's lease keeps gc off the blobs it has
// written but not yet recorded, SIGINT/SIGTERM remove its temp files, a failed pull leaves no unreferenced blob,
// and after kill -9 at random points of seed, pull, gc and rm the pantry is consistent or `fsck --repair` makes it so.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, test } from 'node:test';
import { startFaultProxy, startRegistry } from './harness.mjs';
import { BIN, api, assertBlobsIntact, assertSamePack, cleanEnv, ctx, failsWith, ok, packBlobs, pseudoRandom, removeAll, seedPack, tempDir } from './fixtures.mjs';

const MiB = 1024 * 1024;
let work, registry, proxy, big, small, bigBlobs;

/** 80 MiB in 8 MiB files: a pack of several layers. */
const bigFiles = (seed) => Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`part-${i}.bin`, pseudoRandom(8 * MiB, `${seed}-${i}`)]));

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-safety-')));
  registry = await startRegistry({ auth: 'none' });
  proxy = await startFaultProxy(registry.url);
  const home = path.join(work, 'source');
  big = await seedPack(work, { name: 'big', home, files: bigFiles('big'), input: 'big' });
  small = await seedPack(work, { name: 'small', home, files: { 'a.txt': 'small pack\n' }, input: 'small' });
  for (const pack of [big, small]) ok(await ctx(['push', pack.uri, '--registry', registry.ref('packs')], { home, env: cleanEnv() }));
  bigBlobs = packBlobs(home, big.uri);
  assert.ok(bigBlobs.manifest.layers.length >= 2, `the big pack has ${bigBlobs.manifest.layers.length} layers`);
});
after(async () => {
  await proxy?.close();
  await registry?.close();
  if (work) removeAll(work);
});
beforeEach(() => {
  proxy.setRules({});
  proxy.reset();
});

const names = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
const hexBlobs = (home) => names(path.join(home, 'blobs', 'sha256')).filter((name) => /^[0-9a-f]{64}$/.test(name));

function leftovers(home) {
  return [
    ...names(path.join(home, 'blobs', 'sha256')).filter((name) => name.startsWith('.ingest-')),
    ...names(path.join(home, 'unpacked')).filter((name) => name.startsWith('.')),
    ...names(path.join(home, 'leases')),
    ...names(path.join(home, 'locks')),
    ...names(home).filter((name) => name.includes('.tmp-')),
  ];
}

/** The last layer's download waits `seconds` (503 + Retry-After), so the pull sits with blobs written but unrecorded. */
function stallLastLayer(seconds) {
  const last = bigBlobs.manifest.layers.at(-1);
  proxy.setRules({ failStatus: { status: 503, times: 1, kind: 'blob-get', reference: last.digest, retryAfter: seconds } });
}

/** The CLI as a child process we can signal. */
function spawnCtx(args, home) {
  const child = spawn(process.execPath, [BIN, ...args, '--home', home, '--json'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

async function waitFor(condition, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function fsck(home, ...args) {
  const result = await ctx(['fsck', ...args], { home });
  assert.ok(result.json && !result.error, `fsck failed to run: ${result.stdout}${result.stderr}`);
  return { code: result.code, ...result.json };
}

async function assertConsistentOrRepaired(home, context) {
  const first = await fsck(home);
  if (first.code !== 0) {
    const repaired = await fsck(home, '--repair');
    assert.equal(repaired.code, 0, `${context}: fsck --repair left problems: ${JSON.stringify(repaired.problems)}`);
    const again = await fsck(home);
    assert.deepEqual([again.code, again.problems], [0, []], `${context}: fsck after --repair`);
  }
  for (const pack of api.list({ home })) {
    const verified = await ctx(['verify', pack.uri], { home, timeoutMs: 120_000 });
    assert.equal(verified.code, 0, `${context}: ${pack.uri} no longer verifies: ${verified.stdout}`);
  }
}

test('gc running again and again during a pull: the pull succeeds with every blob', async (t) => {
  const home = tempDir(t);
  stallLastLayer(2);
  const pulling = spawnCtx(['pull', big.uri, '--registry', proxy.ref('packs')], home);
  let finished = false;
  pulling.done.then(() => (finished = true));
  let gcWithUnrecordedBlobs = 0;
  while (!finished) {
    const unrecorded = names(path.join(home, 'leases')).length > 0 && hexBlobs(home).length > 0;
    ok(await ctx(['gc'], { home }));
    if (unrecorded && !finished) gcWithUnrecordedBlobs += 1;
  }
  const result = await pulling.done;
  assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
  assert.ok(gcWithUnrecordedBlobs >= 1, 'no gc ran while the pull had written blobs it had not recorded');
  await assertSamePack(big.home, home, big.uri);
  assert.deepEqual(leftovers(home), []);
  assert.equal((await fsck(home)).code, 0);
});

test('a failed pull leaves no unreferenced blob behind', async (t) => {
  const home = tempDir(t);
  ok(await ctx(['pull', small.uri, '--registry', registry.ref('packs')], { home }));
  const before = hexBlobs(home).sort();
  // The last layer is corrupted in transit: the config and the other layers were written before it failed.
  proxy.setRules({ flipBlobByte: { digest: bigBlobs.manifest.layers.at(-1).digest } });
  failsWith(await ctx(['pull', big.uri, '--registry', proxy.ref('packs')], { home }), 'CTX_DIGEST_MISMATCH');
  assert.ok(proxy.stats().faults['flip-blob-byte'] >= 1);
  assert.deepEqual(hexBlobs(home).sort(), before, 'blobs of the failed pull are left in the pantry');
  assert.deepEqual(leftovers(home), []);
  await assertBlobsIntact(home);
  const checked = await fsck(home);
  assert.deepEqual([checked.code, checked.dangling.blobs], [0, 0]);
});

for (const [signal, exitCode] of [['SIGTERM', 143], ['SIGINT', 130]]) {
  test(`${signal} during a pull removes its .ingest-* files, staging folder, lease and locks`, async (t) => {
    const home = tempDir(t);
    const output = path.join(tempDir(t), 'out');
    stallLastLayer(5);
    const pulling = spawnCtx(['pull', big.uri, '--registry', proxy.ref('packs'), '-o', output], home);
    await waitFor(() => names(path.join(home, 'leases')).length > 0 && hexBlobs(home).length > 0, 'the pull to write a blob');
    pulling.child.kill(signal);
    const result = await pulling.done;
    assert.equal(result.code, exitCode, `${result.stdout}${result.stderr}`);
    assert.equal(JSON.parse(result.stdout).error.code, 'CTX_INTERRUPTED');
    assert.deepEqual(leftovers(home), []);
    assert.deepEqual(names(path.dirname(output)), [], 'something was left beside the output');
    assert.equal(api.list({ home }).length, 0);
    // What it had committed is unreferenced and unleased: gc removes it; the pantry is consistent.
    await ctx(['gc'], { home });
    assert.deepEqual(hexBlobs(home), []);
    assert.equal((await fsck(home)).code, 0);
  });
}

test('kill -9 at random points of seed, pull, gc and rm: fsck is clean or --repair makes it clean', async (t) => {
  const home = tempDir(t);
  const project = path.join(work, 'big');
  const operations = [
    () => ['pull', big.uri, '--registry', registry.ref('packs')],
    () => ['seed', 'out', '--contract', 'contract.json'],
    () => ['gc'],
    () => (api.list({ home }).length > 0 ? ['rm', api.list({ home })[0].uri] : ['pull', small.uri, '--registry', registry.ref('packs')]),
  ];
  for (let round = 0; round < 8; round += 1) {
    const args = operations[round % operations.length]();
    const child = spawn(process.execPath, [BIN, ...args, '--home', home], { cwd: project, env: cleanEnv(), stdio: 'ignore' });
    const done = new Promise((resolve) => child.on('close', resolve));
    await sleep(50 + Math.floor(Math.random() * 1500));
    child.kill('SIGKILL');
    await done;
    await assertConsistentOrRepaired(home, `after kill -9 of ${args[0]} (round ${round})`);
  }
});
