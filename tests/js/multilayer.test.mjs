// Multi-layer packs (spec §7.3) through the Node host: seed writes one layer per group, and inspect, verify,
// unpack, materialize, export and verifyStoredPack (the pull path) read them; the fallback OCI form works
// the same; a damaged or reordered layer is a typed error.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, makeProject, PACKAGE_DIR, rejectsWithCode, removeAll, writeTree } from './helpers.mjs';

const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));
const { verifyStoredPack, verifying } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'verifying-store.mjs'));
const { copyArtifact } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'copy.mjs'));
const { openPantry } = await import(path.join(PACKAGE_DIR, 'lib', 'pantry.mjs'));

const MIB = 1024 * 1024;
const BIG_FILE_BYTES = 20 * MIB;

/** A path the layout cuts after (first byte of its SHA-256 below 64), or one it does not. */
function pathName(prefix, cut) {
  for (let i = 0; ; i += 1) {
    const candidate = `${prefix}-${i}.bin`;
    if ((crypto.createHash('sha256').update(candidate).digest()[0] < 64) === cut) return candidate;
  }
}

let fixture;

/** One seeded 80 MiB pack shared by the tests: groups [big/a, big/b] and [big/c, big/d, small files]. */
before(async () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-multilayer-')));
  process.on('exit', () => removeAll(root));
  const project = makeProject(path.join(root, 'project'));
  const names = [pathName('big/a', false), pathName('big/b', true), pathName('big/c', false), pathName('big/d', false)];
  // None of the zz/ paths is a cut point either, so the second group runs to the end.
  const files = { 'zz/notes.txt': 'small\n', 'zz/run.sh': { content: '#!/bin/sh\n', mode: 0o755 }, 'zz/link': { symlink: 'notes.txt' } };
  for (const name of names) files[name] = crypto.randomBytes(BIG_FILE_BYTES);
  writeTree(project.outDir, files);
  const home = path.join(root, 'home');
  const result = await api.seed(project.outDir, { contractPath: project.contractPath, home });
  fixture = { root, home, project, result };
});

test('a pack above 64 MiB is seeded as several layers, each verified against the manifest', () => {
  const { result, home } = fixture;
  assert.equal(result.files, 6);
  assert.equal(result.layers.length, 2);
  const manifestBytes = openPantry({ home }).fetchBytes(result.config);
  const layout = core.packLayout(manifestBytes);
  assert.deepEqual(layout.layers.map((l) => [l.index, l.start, l.entries, l.bytes]), [
    [0, 0, 2, 2 * BIG_FILE_BYTES],
    [1, 2, 5, 2 * BIG_FILE_BYTES + 16],
  ]);
  const ociManifest = JSON.parse(fs.readFileSync(path.join(home, 'blobs', 'sha256', result.manifest.digest.slice(7)), 'utf8'));
  assert.deepEqual(ociManifest.layers.map((l) => l.annotations['org.opencontainers.image.title']), ['pack.0.tar.gz', 'pack.1.tar.gz']);
  assert.equal(result.layer.digest, result.layers[0].digest);

  const verified = api.verify(result.uri, { home });
  assert.equal(verified.files, 6);
  assert.equal(verified.bytes, 4 * BIG_FILE_BYTES + 16);
  assert.deepEqual(verified.layerDigests, result.layers.map((l) => l.digest));
  const info = api.inspect(result.uri, { home });
  assert.equal(info.sizes.layer, result.layers[0].size + result.layers[1].size);
  assert.equal(info.layerDigests.length, 2);
  const listed = api.list({ home }).find((entry) => entry.uri === result.uri);
  assert.equal(listed.layers, 2);
});

test('a copy moves the config first, then the layers biggest first', async (t) => {
  const { result, home, root } = fixture;
  const target = path.join(root, `copy-${process.pid}`);
  t.after(() => removeAll(target));
  const to = verifying(openPantry({ home: target }));
  const pushed = [];
  const push = to.push.bind(to);
  to.push = (descriptor, ...rest) => {
    pushed.push(descriptor.digest);
    return push(descriptor, ...rest);
  };
  await copyArtifact(openPantry({ home }), to, result.uri, { concurrency: 1 });
  const bySize = [...result.layers].sort((a, b) => b.size - a.size);
  assert.notDeepEqual(bySize, result.layers, 'the fixture has its biggest layer last');
  assert.deepEqual(pushed, [result.config.digest, ...bySize.map((layer) => layer.digest)]);
  assert.equal(openPantry({ home: target }).has(result.uri), true);
});

test('unpack and materialize a multi-layer pack give the original folder', async (t) => {
  const { result, home, project, root } = fixture;
  const out = path.join(root, `unpacked-${process.pid}`);
  t.after(() => removeAll(out));
  const unpacked = await api.unpack(result.uri, out, { home });
  assert.equal(unpacked.files, 6);
  assertSameTree(project.outDir, out);
  const copy = await api.materialize(result.uri, { home });
  assertSameTree(project.outDir, copy.path);
});

test('export re-packs a multi-layer pack into one verified .tar.gz, reproducibly', async (t) => {
  const { result, home, project, root } = fixture;
  const file = path.join(root, 'export.tar.gz');
  t.after(() => fs.rmSync(file, { force: true }));
  const exported = api.exportPack(result.uri, file, { home, force: true });
  assert.equal(exported.size, fs.statSync(file).size);
  assert.equal(exported.digest, `sha256:${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`);
  const verified = api.verify(file, { expectUri: result.uri });
  assert.equal(verified.files, 6);
  const again = api.exportPack(result.uri, file, { home, force: true });
  assert.equal(again.digest, exported.digest);
  const out = path.join(root, 'from-export');
  t.after(() => removeAll(out));
  await api.unpack(file, out, { expectUri: result.uri });
  assertSameTree(project.outDir, out);
});

/** A second pantry holding only the pack's blobs (as a pull leaves them before tagging). */
function untaggedCopy(t, blobs) {
  const home = fs.mkdtempSync(path.join(fixture.root, 'pulled-'));
  t.after(() => removeAll(home));
  const pantry = openPantry({ home });
  pantry.ensureLayout();
  for (const blob of blobs) fs.copyFileSync(openPantry({ home: fixture.home }).blobPath(blob.digest), pantry.blobPath(blob.digest));
  return pantry;
}

test('verifyStoredPack verifies an untagged pack, in the normal and the fallback OCI form', async (t) => {
  const { result } = fixture;
  const pantry = untaggedCopy(t, [result.manifest, result.config, ...result.layers]);
  const verified = await verifyStoredPack(pantry, result.manifest, { expectUri: result.uri });
  assert.deepEqual(verified, { uri: result.uri, files: 6, bytes: 4 * BIG_FILE_BYTES + 16 });
  assert.equal(pantry.list().length, 0, 'nothing was tagged');
  const other = `ctx://sha256:${'0'.repeat(64)}`;
  await rejectsWithCode(() => verifyStoredPack(pantry, result.manifest, { expectUri: other }), 'CTX_URI_MISMATCH');

  const created = api.inspect(result.uri, { home: fixture.home }).provenance.created;
  const empty = core.ociEmptyConfig();
  assert.equal(empty.descriptor.digest, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  await pantry.pushBytes(empty.bytes, empty.descriptor.mediaType);
  const fallback = core.ociPackManifest({ config: result.config, layers: result.layers, uri: result.uri, created, fallback: true });
  const descriptor = await pantry.pushBytes(fallback.bytes, 'application/vnd.oci.image.manifest.v1+json');
  const parsed = core.ociParsePackManifest(fallback.bytes);
  assert.equal(parsed.fallback, true);
  assert.equal(parsed.layers[0].mediaType, 'application/vnd.ctxpack.manifest.v1+json');
  assert.deepEqual(await verifyStoredPack(pantry, descriptor, { expectUri: result.uri }), verified);

  // Once tagged, every read works on the fallback form too.
  await pantry.tag(descriptor, result.uri);
  assert.equal(api.verify(result.uri, { home: pantry.home }).files, 6);
  assert.equal(pantry.loadPack(result.uri).fallback, true);
  const collected = await api.gc({ home: pantry.home });
  assert.deepEqual([collected.blobsRemoved, collected.bytesRemoved], [1, result.manifest.size], 'only the untagged OCI manifest');
  assert.equal(api.verify(result.uri, { home: pantry.home }).files, 6, 'gc kept the empty config and the manifest layer');
});

test('a damaged or misplaced layer is a typed error', async (t) => {
  const { result } = fixture;
  const pantry = untaggedCopy(t, [result.config, ...result.layers]);
  const created = '2026-01-01T00:00:00Z';
  // Titled layers out of order are refused by their titles; untitled ones by what they hold.
  const swapped = core.ociPackManifest({ config: result.config, layers: [...result.layers].reverse(), uri: result.uri, created });
  const swappedDescriptor = await pantry.pushBytes(swapped.bytes, 'application/vnd.oci.image.manifest.v1+json');
  await rejectsWithCode(() => verifyStoredPack(pantry, swappedDescriptor), 'CTX_OCI_INVALID');
  const untitled = [...result.layers].reverse().map(({ mediaType, digest, size }) => ({ mediaType, digest, size, annotations: { 'org.opencontainers.image.title': 'layer' } }));
  const shuffled = core.ociPackManifest({ config: result.config, layers: untitled, uri: result.uri, created });
  const shuffledDescriptor = await pantry.pushBytes(shuffled.bytes, 'application/vnd.oci.image.manifest.v1+json');
  await rejectsWithCode(() => verifyStoredPack(pantry, shuffledDescriptor), 'CTX_ENTRY_UNEXPECTED');
  const one = core.ociPackManifest({ config: result.config, layers: [result.layers[0]], uri: result.uri, created });
  await rejectsWithCode(async () => verifyStoredPack(pantry, await pantry.pushBytes(one.bytes, 'application/vnd.oci.image.manifest.v1+json')), 'CTX_OCI_INVALID');

  const original = core.ociPackManifest({ config: result.config, layers: result.layers, uri: result.uri, created });
  const descriptor = await pantry.pushBytes(original.bytes, 'application/vnd.oci.image.manifest.v1+json');
  const layerPath = pantry.blobPath(result.layers[1].digest);
  fs.chmodSync(layerPath, 0o644);
  const fd = fs.openSync(layerPath, 'r+');
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, 5 * MIB);
  fs.writeSync(fd, Buffer.from([byte[0] ^ 0xff]), 0, 1, 5 * MIB);
  fs.closeSync(fd);
  await rejectsWithCode(() => verifyStoredPack(pantry, descriptor), 'CTX_DIGEST_MISMATCH');
});

test('layers written side by side on worker threads are the bytes one writer on this thread writes', async () => {
  const { result, home, project } = fixture;
  const { drainInto, packLayer } = await import(path.join(PACKAGE_DIR, 'lib', 'pack-layer.mjs'));
  const manifestBytes = openPantry({ home }).fetchBytes(result.config);
  const sources = new Map(fs.readdirSync(project.outDir, { recursive: true })
    .filter((relative) => fs.lstatSync(path.join(project.outDir, relative)).isFile())
    .map((relative) => [relative.split(path.sep).join('/'), path.join(project.outDir, relative)]));
  for (const [layer, descriptor] of result.layers.entries()) {
    const hash = crypto.createHash('sha256');
    let size = 0;
    const drain = drainInto((bytes) => {
      hash.update(bytes);
      size += bytes.length;
    });
    const blocks = await packLayer(manifestBytes, { mtime: 0, layer, sources, drain });
    assert.equal(`sha256:${hash.digest('hex')}`, descriptor.digest, `layer ${layer}`);
    assert.equal(size, descriptor.size);
    assert.equal(blocks, descriptor.annotations['dev.ctxpack.blocks']);
  }
});

test('layers read side by side report the first damaged layer, and unpack leaves nothing behind', async (t) => {
  const { result, root } = fixture;
  const pantry = untaggedCopy(t, [result.manifest, result.config, ...result.layers]);
  await pantry.tag(result.manifest, result.uri);
  const layerPath = pantry.blobPath(result.layers[1].digest);
  fs.chmodSync(layerPath, 0o644);
  fs.truncateSync(layerPath, result.layers[1].size - 100);
  assert.throws(() => api.verify(result.uri, { home: pantry.home }), (error) => error.code === 'CTX_TRUNCATED' || error.code === 'CTX_DIGEST_MISMATCH');
  const out = path.join(root, `damaged-${process.pid}`);
  t.after(() => removeAll(out));
  await assert.rejects(() => api.unpack(result.uri, out, { home: pantry.home }), (error) => typeof error.code === 'string' && error.code.startsWith('CTX_'));
  assert.equal(fs.existsSync(out), false);
});

function assertSameTree(expectedDir, actualDir) {
  const list = (dir) => fs.readdirSync(dir, { recursive: true }).sort();
  assert.deepEqual(list(actualDir), list(expectedDir));
  for (const relative of list(expectedDir)) {
    const [expected, actual] = [path.join(expectedDir, relative), path.join(actualDir, relative)];
    const stat = fs.lstatSync(expected);
    if (stat.isSymbolicLink()) assert.equal(fs.readlinkSync(actual), fs.readlinkSync(expected));
    else if (stat.isFile()) {
      assert.ok(fs.readFileSync(actual).equals(fs.readFileSync(expected)), relative);
      assert.equal(fs.statSync(actual).mode & 0o111, stat.mode & 0o111, relative);
    }
  }
}
