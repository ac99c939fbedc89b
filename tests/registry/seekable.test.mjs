// Seekable packs (spec §10, the block index): `ctxpack cat` reads one file of a multi-layer pack from a real
// Distribution with HTTP ranges, fetching a small fraction of the pack; a wrong or missing index and a registry
// that ignores ranges fall back to streaming and still verify; cat and ls from the pantry.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { run, startFaultProxy, startRegistry } from './harness.mjs';
import { BIN, PACKAGE_DIR, cleanEnv, ctx, failsWith, ok, packBlobs, pseudoRandom, removeAll, seedPack } from './fixtures.mjs';

const MiB = 1024 * 1024;
const BLOCKS = 'dev.ctxpack.blocks';
const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));
const api = await import(path.join(PACKAGE_DIR, 'lib', 'index.mjs'));
let work, registry, proxy, home, big, files;

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-seekable-')));
  registry = await startRegistry({ auth: 'none' });
  proxy = await startFaultProxy(registry.url);
  home = path.join(work, 'source');
  // Over 64 MiB of random data: several layers, each of stored (level 0) blocks.
  files = { 'notes/readme.txt': Buffer.from('the one small file\n'), 'empty.txt': Buffer.alloc(0) };
  for (let i = 0; i < 18; i += 1) files[`part-${String(i).padStart(2, '0')}.bin`] = pseudoRandom(4 * MiB + i * 1000, `part-${i}`);
  big = await seedPack(work, { name: 'big', home, files, input: 'big' });
  ok(await ctx(['push', big.uri, '--registry', registry.ref('packs')], { home, env: cleanEnv() }));
});

after(async () => {
  await proxy?.close();
  await registry?.close();
  if (work) removeAll(work);
});

const emptyHome = () => fs.mkdtempSync(path.join(work, 'home-'));

/** The CLI with stdout kept as bytes (the harness's run() decodes it as text). */
function runBinary(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let stderr = '';
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

/** `ctxpack cat` without --json: stdout is the file. */
const catRaw = (uri, file, { home: at = emptyHome(), extra = [] } = {}) =>
  runBinary(['cat', uri, file, '--registry', proxy.ref('packs'), '--home', at, ...extra]);

const catJson = (uri, file, at = emptyHome(), extra = []) =>
  ctx(['cat', uri, file, '--registry', proxy.ref('packs'), ...extra], { home: at, env: cleanEnv() });

/** Re-tags the pack with its image manifest changed by `edit` (a producer that wrote a wrong index). */
async function retag(edit) {
  const { manifest } = packBlobs(home, big.uri);
  const edited = structuredClone(manifest);
  edit(edited);
  const bytes = new TextEncoder().encode(core.canonicalJson(JSON.stringify(edited)));
  const client = new core.RegistryClient({ registry: registry.ref('packs') });
  await client.pushManifest(core.uriTag(big.uri), bytes, 'application/vnd.oci.image.manifest.v1+json');
}

async function restoreTag() {
  const { manifest } = packBlobs(home, big.uri);
  await retag(() => {});
  return manifest;
}

/** The sizes of a layer's index, decoded (LEB128 in base64). */
function decodeIndex(text) {
  const bytes = Buffer.from(text, 'base64');
  const sizes = [];
  for (let i = 0, value = 0, shift = 0; i < bytes.length; i += 1) {
    value += (bytes[i] & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(bytes[i] & 0x80)) { sizes.push(value); value = 0; shift = 0; }
  }
  return sizes;
}

function encodeIndex(sizes) {
  const bytes = [];
  for (let value of sizes) {
    do { const low = value % 128; value = Math.floor(value / 128); bytes.push(value > 0 ? low | 0x80 : low); } while (value > 0);
  }
  return Buffer.from(bytes).toString('base64');
}

/** The first block one byte longer, the last one shorter: the totals fit the layer, every later boundary is off. */
function shiftBoundaries(manifest) {
  for (const layer of manifest.layers) {
    const sizes = decodeIndex(layer.annotations[BLOCKS]);
    sizes[0] += 1;
    sizes[sizes.length - 1] -= 1;
    layer.annotations[BLOCKS] = encodeIndex(sizes);
  }
}

test('seed annotates every layer with its block index', () => {
  const { manifest } = packBlobs(home, big.uri);
  assert.ok(manifest.layers.length > 1, `${manifest.layers.length} layers`);
  for (const layer of manifest.layers) {
    const sizes = decodeIndex(layer.annotations[BLOCKS]);
    assert.equal(10 + sizes.reduce((a, b) => a + b, 0) + 8, layer.size, 'header, blocks and trailer make the layer');
    assert.equal(encodeIndex(sizes), layer.annotations[BLOCKS]);
  }
});

test('cat from a registry fetches a small fraction of a multi-layer pack', async () => {
  const total = packBlobs(home, big.uri).manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
  for (const file of ['notes/readme.txt', 'part-07.bin', 'empty.txt']) {
    proxy.reset();
    const raw = await catRaw(big.uri, file);
    assert.equal(raw.code, 0, raw.stderr);
    assert.ok(raw.stdout.equals(files[file]), `${file}: ${raw.stdout.length} bytes printed`);
    assert.equal(raw.stderr, '', 'nothing on stderr when the index is used');
    const fetched = proxy.stats().downloadedBlobBytes;
    assert.ok(fetched <= files[file].length + 2 * MiB + 64 * 1024, `${file}: fetched ${fetched} of ${total} bytes`);
    assert.ok(proxy.requests('blob-get').filter((r) => r.range !== null).length <= 1);
  }
  const result = ok(await catJson(big.uri, 'part-03.bin'));
  assert.deepEqual(
    { source: result.source, seeked: result.seeked, path: result.file.path, size: result.file.size },
    { source: 'registry', seeked: true, path: 'part-03.bin', size: files['part-03.bin'].length },
  );
  assert.ok(result.fetchedBytes < files['part-03.bin'].length + 2 * MiB);
  failsWith(await catJson(big.uri, 'nope.txt'), 'CTX_NOT_FOUND');
});

test('RegistryClient.readFile and openPack, as browsers and edge functions use them', async () => {
  const client = new core.RegistryClient({ registry: proxy.ref('packs') });
  const opened = await client.openPack(big.uri);
  assert.equal(opened.layers.length, packBlobs(home, big.uri).manifest.layers.length);
  assert.ok(opened.layers.every((layer) => typeof layer.annotations[BLOCKS] === 'string'));
  const read = await client.readFile(big.uri, 'part-13.bin');
  assert.ok(Buffer.from(read.bytes).equals(files['part-13.bin']));
  assert.deepEqual([read.seeked, read.file.size, read.fallback], [true, files['part-13.bin'].length, undefined]);
  await assert.rejects(client.readFile(big.uri, 'part-13.bin', { maxBufferBytes: MiB }), { code: 'CTX_LIMIT_EXCEEDED' });
  const pieces = [];
  const streamed = await client.readFile(big.uri, 'part-13.bin', { maxBufferBytes: MiB, onData: (chunk) => void pieces.push(chunk) });
  assert.equal(streamed.bytes, undefined);
  assert.ok(pieces.length > 1 && Buffer.concat(pieces).equals(files['part-13.bin']));
});

test('a file larger than the buffer streams to stdout, verified at the end', async () => {
  const raw = await catRaw(big.uri, 'part-11.bin', { extra: ['--max-buffer-bytes', String(MiB)] });
  assert.equal(raw.code, 0, raw.stderr);
  assert.ok(raw.stdout.equals(files['part-11.bin']));
});

test('a reader that goes away (`cat … | head`) ends cat quietly, with the SIGPIPE status', async () => {
  for (const extra of [[], ['--max-buffer-bytes', String(MiB)]]) {
    const args = [BIN, 'cat', big.uri, 'part-12.bin', '--registry', proxy.ref('packs'), '--home', emptyHome(), ...extra];
    const child = spawn(process.execPath, args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 141, `${extra}: ${stderr}`);
    assert.equal(stderr, '', extra.join(' '));
  }
});

test('a wrong block index falls back to streaming and still verifies', async () => {
  try {
    await retag(shiftBoundaries);
    for (const file of ['part-05.bin', 'part-06.bin']) {
      const raw = await catRaw(big.uri, file);
      assert.equal(raw.code, 0, raw.stderr);
      assert.ok(raw.stdout.equals(files[file]), file);
      assert.match(raw.stderr, /block index was not used/);
    }
    // An index that does not fit the layer at all, and none: streamed, verified.
    await retag((manifest) => { for (const layer of manifest.layers) layer.annotations[BLOCKS] = 'AQID'; });
    const wrong = ok(await catJson(big.uri, 'part-09.bin'));
    assert.equal(wrong.seeked, false);
    assert.match(wrong.fallback, /block index/);
    await retag((manifest) => { for (const layer of manifest.layers) delete layer.annotations[BLOCKS]; });
    const none = ok(await catJson(big.uri, 'part-09.bin'));
    assert.deepEqual([none.seeked, none.fallback], [false, undefined]);
    const raw = await catRaw(big.uri, 'part-09.bin');
    assert.equal(raw.stderr, '', 'a pack without an index is read without a warning');
    assert.ok(raw.stdout.equals(files['part-09.bin']));
  } finally {
    await restoreTag();
  }
});

test('a registry that ignores Range gets the layer streamed, still verified', async () => {
  proxy.setRules({ ignoreRange: true });
  try {
    proxy.reset();
    const result = ok(await catJson(big.uri, 'notes/readme.txt'));
    assert.equal(result.seeked, false);
    assert.match(result.fallback, /ignores HTTP range/);
    assert.ok(proxy.stats().faults['ignore-range'] >= 1);
    const raw = await catRaw(big.uri, 'part-02.bin');
    assert.equal(raw.code, 0, raw.stderr);
    assert.ok(raw.stdout.equals(files['part-02.bin']));
  } finally {
    proxy.setRules({});
  }
});

test('tampered layer bytes are refused, never printed as the file', async () => {
  const layer = packBlobs(home, big.uri).manifest.layers[0];
  // An explicit offset: the same blob byte is flipped in whole and ranged answers.
  proxy.setRules({ flipBlobByte: { digest: layer.digest, offset: Math.floor(layer.size / 2) } });
  const refused = [];
  try {
    for (const file of Object.keys(files).filter((name) => name.startsWith('part-'))) {
      const raw = await catRaw(big.uri, file);
      if (raw.code === 0) {
        assert.ok(raw.stdout.equals(files[file]), `${file} printed wrong bytes with status 0`);
      } else {
        assert.match(raw.stderr, /CTX_DIGEST_MISMATCH|CTX_GZIP_CORRUPT/, file);
        assert.equal(raw.stdout.length, 0, `${file}: nothing printed for a buffered file that failed`);
        refused.push(file);
      }
    }
  } finally {
    proxy.setRules({});
  }
  assert.equal(refused.length, 1, `the file holding the flipped byte is refused (${refused})`);
});

test('cat and ls from the pantry; ls from the registry', async () => {
  const result = ok(await ctx(['cat', big.uri, 'part-01.bin'], { home, env: cleanEnv() }));
  assert.deepEqual([result.source, result.seeked], ['pantry', true]);
  assert.ok(result.fetchedBytes < files['part-01.bin'].length + 2 * MiB);
  const raw = await runBinary(['cat', big.uri, 'notes/readme.txt', '--home', home]);
  assert.equal(raw.stdout.toString(), 'the one small file\n');
  const bytes = (await api.cat(big.uri, 'part-10.bin', { home })).bytes;
  assert.ok(Buffer.from(bytes).equals(files['part-10.bin']));

  const listed = ok(await ctx(['ls', big.uri], { home, env: cleanEnv() }));
  assert.equal(listed.source, 'pantry');
  assert.deepEqual(listed.files.map((file) => file.path), Object.keys(files).sort());
  const remote = ok(await ctx(['ls', big.uri, '--registry', proxy.ref('packs')], { home: emptyHome(), env: cleanEnv() }));
  assert.equal(remote.source, 'registry');
  assert.deepEqual(remote.files, listed.files);
  const text = await run(process.execPath, [BIN, 'ls', big.uri, '--home', home], { env: cleanEnv() });
  assert.match(text.stdout, new RegExp(`file +${files['part-00.bin'].length}  part-00\\.bin`));
  assert.ok(ok(await ctx(['ls'], { home, env: cleanEnv() })).packs.some((pack) => pack.uri === big.uri), 'ls alone lists the packs');
});

test('a pulled pack whose index is wrong falls back in the pantry too', async () => {
  const pulledHome = emptyHome();
  try {
    await retag(shiftBoundaries);
    ok(await ctx(['pull', big.uri, '--registry', proxy.ref('packs')], { home: pulledHome, env: cleanEnv() }));
  } finally {
    await restoreTag();
  }
  const result = ok(await ctx(['cat', big.uri, 'part-03.bin'], { home: pulledHome, env: cleanEnv() }));
  assert.deepEqual([result.source, result.seeked], ['pantry', false]);
  assert.ok(result.fallback);
  const bytes = (await api.cat(big.uri, 'part-03.bin', { home: pulledHome })).bytes;
  assert.ok(Buffer.from(bytes).equals(files['part-03.bin']));
});
