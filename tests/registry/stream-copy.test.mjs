// Registry to registry copy streams: each blob goes from the source's download straight into the target's
// upload, with no spool file and memory bounded by the blobs in flight, not by the pack. A multi-layer pack
// (256 MiB; 1 GiB with CTXPACK_TEST_LARGE=1) is copied between two real registries by a child process whose
// peak RSS is measured and whose temporary directory must stay empty; the copy is then pulled and verified.
// A download cut midway and restarted from byte 0 (a source that ignores Range) still gives the target every
// byte once, in order, whether it is a registry or the pantry.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { run, startFaultProxy, startRegistry } from './harness.mjs';
import { PACKAGE_DIR, assertSamePack, assertVerifies, cleanEnv, ctx, ok, packBlobs, pseudoRandom, removeAll, seedPack, smallFiles, tempDir } from './fixtures.mjs';

const MiB = 1024 * 1024;
const LARGE = process.env.CTXPACK_TEST_LARGE === '1';
const PACK_MIB = LARGE ? 1024 : 256;
/**
 * Fixed, whatever the pack's size: Node and the wasm core (~60 MiB), 4 blobs in flight × (an 8 MiB upload piece
 * + 8 MiB downloaded ahead), and download chunks awaiting the garbage collector. Measured: 154 MiB for 256 MiB,
 * 196–200 MiB for 1 GiB, 202 MiB for 2 GiB.
 */
const RSS_CEILING_MIB = 256;

let work, source, target;
before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-stream-copy-')));
  source = await startRegistry({ auth: 'none' });
  target = await startRegistry({ auth: 'none' });
});
after(async () => {
  await source?.close();
  await target?.close();
  if (work) removeAll(work);
});

test(`copying a ${PACK_MIB} MiB pack between two registries streams in bounded memory, with no spool file`, { timeout: 1_800_000 }, async (t) => {
  const files = {};
  for (let i = 0; i < PACK_MIB / 32; i++) files[`shard-${String(i).padStart(2, '0')}.bin`] = pseudoRandom(32 * MiB, `stream-copy-${i}`);
  const pack = await seedPack(work, { home: path.join(work, 'home'), files, input: `stream-copy-${PACK_MIB}` });
  fs.rmSync(path.join(work, 'project'), { recursive: true, force: true });
  const { manifest } = packBlobs(pack.home, pack.uri);
  const packBytes = manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
  assert.ok(manifest.layers.length > 1 && packBytes >= PACK_MIB * MiB, `${manifest.layers.length} layer(s), ${packBytes} bytes`);
  ok(await ctx(['push', pack.uri, '--registry', source.ref('packs')], { home: pack.home, env: cleanEnv(), timeoutMs: 1_200_000 }));

  const spoolDir = tempDir(t);
  const script = path.join(work, 'copy-rss.mjs');
  fs.writeFileSync(script, `import fs from 'node:fs';
    import { copy } from ${JSON.stringify(path.join(PACKAGE_DIR, 'lib', 'index.mjs'))};
    const result = await copy(${JSON.stringify(pack.uri)}, { from: ${JSON.stringify(source.ref('packs'))}, to: ${JSON.stringify(target.ref('mirror'))} });
    // VmHWM, not resourceUsage().maxRSS: Linux carries the forking parent's peak across exec into maxRSS.
    const peak = /VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1];
    console.log(JSON.stringify({ uri: result.uri, blobs: result.blobs, maxRssKiB: Number(peak) }));`);
  const started = Date.now();
  const result = await run(process.execPath, [script], { env: cleanEnv({ TMPDIR: spoolDir }), timeoutMs: 1_200_000 });
  assert.equal(result.code, 0, result.stderr);
  const seconds = (Date.now() - started) / 1000;
  const { uri, blobs, maxRssKiB } = JSON.parse(result.stdout.trim().split('\n').pop());
  assert.equal(uri, pack.uri);
  assert.equal(blobs.transferred, manifest.layers.length + 1, 'every layer and manifest.json were copied');
  t.diagnostic(`registry → registry copy of ${(packBytes / MiB).toFixed(0)} MiB in ${manifest.layers.length} layers: ${seconds.toFixed(1)} s, peak RSS ${(maxRssKiB / 1024).toFixed(0)} MiB`);
  assert.deepEqual(fs.readdirSync(spoolDir), [], 'the copy wrote nothing to the temporary directory');
  assert.ok(maxRssKiB / 1024 < RSS_CEILING_MIB, `peak RSS ${(maxRssKiB / 1024).toFixed(0)} MiB`);

  const home = tempDir(t);
  ok(await ctx(['pull', pack.uri, '--registry', target.ref('mirror')], { home, env: cleanEnv(), timeoutMs: 1_200_000 }));
  await assertSamePack(pack.home, home, pack.uri);
  await assertVerifies(home, pack.uri);
});

test('a source that restarts a cut download from byte 0 still streams every byte once, into a registry or the pantry', { timeout: 300_000 }, async (t) => {
  const pack = await seedPack(tempDir(t), { home: tempDir(t), files: smallFiles('restart', 6 * MiB), input: 'restart' });
  ok(await ctx(['push', pack.uri, '--registry', source.ref('restart')], { home: pack.home, env: cleanEnv() }));
  const { manifest } = packBlobs(pack.home, pack.uri);
  const layer = manifest.layers[0];
  const proxy = await startFaultProxy(source.url);
  t.after(() => proxy.close());
  const cutAt = 3 * MiB + 4321;

  proxy.setRules({ cutBlob: { digest: layer.digest, afterBytes: cutAt }, ignoreRange: true });
  ok(await ctx(['copy', pack.uri, '--from', proxy.ref('restart'), '--to', target.ref('restarted')], { env: cleanEnv() }));
  assert.equal(proxy.stats().faults['ignore-range'], 1, 'the resume was answered with the whole blob');
  const home = tempDir(t);
  ok(await ctx(['pull', pack.uri, '--registry', target.ref('restarted')], { home, env: cleanEnv() }));
  await assertSamePack(pack.home, home, pack.uri);

  proxy.reset();
  proxy.setRules({ cutBlob: { digest: layer.digest, afterBytes: cutAt }, ignoreRange: true });
  const pulled = tempDir(t);
  ok(await ctx(['pull', pack.uri, '--registry', proxy.ref('restart')], { home: pulled, env: cleanEnv() }));
  assert.equal(proxy.stats().faults['ignore-range'], 1);
  await assertSamePack(pack.home, pulled, pack.uri);
  await assertVerifies(pulled, pack.uri);
});
