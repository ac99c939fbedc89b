// seed / inspect / verify / export / unpack / ls / rm / gc against a real pantry in a temp folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { api, cli, makeProject, rejectsWithCode, snapshot, tempDir, writeOutputs, writeTree } from './helpers.mjs';

async function seededProject(t, options = {}) {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  writeOutputs(project.outDir);
  const result = await api.seed(project.outDir, { contractPath: project.contractPath, home, ...options });
  return { root, home, project, result };
}

test('seed stores an OCI layout pack; seeding again is a no-op', async (t) => {
  const { home, project, result } = await seededProject(t);
  assert.match(result.uri, /^ctx:\/\/sha256:[0-9a-f]{64}$/);
  assert.equal(result.alreadyPresent, false);
  assert.equal(result.files, 3);
  assert.equal(result.layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.equal(result.config.mediaType, 'application/vnd.ctxpack.manifest.v1+json');

  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(home, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(fs.readFileSync(path.join(home, 'index.json'), 'utf8'));
  assert.equal(index.manifests.length, 1);
  const hex = result.uri.slice('ctx://sha256:'.length);
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], `ctx-${hex}`);
  for (const blob of [result.manifest, result.config, result.layer]) {
    const blobPath = path.join(home, 'blobs', 'sha256', blob.digest.slice('sha256:'.length));
    assert.equal(fs.statSync(blobPath).size, blob.size);
  }
  const ociManifest = JSON.parse(fs.readFileSync(path.join(home, 'blobs', 'sha256', result.manifest.digest.slice(7)), 'utf8'));
  assert.equal(ociManifest.artifactType, 'application/vnd.ctxpack.pack.v1');

  const again = await api.seed(project.outDir, { contractPath: project.contractPath, home });
  assert.equal(again.alreadyPresent, true);
  assert.equal(again.layer.digest, result.layer.digest);
  assert.equal(fs.readdirSync(path.join(home, 'blobs', 'sha256')).length, 3, 'no blob was added');

  const cliAgain = cli(['seed', project.outDir, '--contract', project.contractPath, '--json'], { home });
  assert.equal(cliAgain.code, 0, cliAgain.stderr);
  assert.equal(cliAgain.json().alreadyPresent, true);
});

test('inspect shows contract, outputs, provenance and sizes, from the pantry and from a .tar.gz', async (t) => {
  const { root, home, result } = await seededProject(t);
  const info = api.inspect(result.uri, { home });
  assert.equal(info.uri, result.uri);
  assert.equal(info.source, 'pantry');
  assert.equal(info.contract.ctxpack, 'contract/v1');
  assert.deepEqual(
    { files: info.outputs.files, symlinks: info.outputs.symlinks, bytes: info.outputs.bytes },
    { files: 3, symlinks: 1, bytes: result.bytes },
  );
  assert.equal(info.outputs.digest, result.treeDigest);
  assert.equal(info.provenance.tool, 'ctxpack seed');
  assert.match(info.provenance.platform, /node-\d+/);
  assert.match(info.provenance.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(info.sizes, { layer: result.layer.size, config: result.config.size });

  const packPath = path.join(root, 'pack.tar.gz');
  api.exportPack(result.uri, packPath, { home });
  const fromFile = api.inspect(packPath);
  assert.equal(fromFile.source, 'file');
  assert.deepEqual(fromFile.contract, info.contract);
  assert.deepEqual(fromFile.outputs, info.outputs);
  assert.deepEqual(fromFile.sizes, info.sizes);

  const text = cli(['inspect', result.uri], { home });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(result.uri));
  const json = cli(['inspect', packPath, '--json']);
  assert.deepEqual(json.json().outputs, info.outputs);
});

test('verify and export: the exported .tar.gz is the layer blob, byte for byte', async (t) => {
  const { root, home, result } = await seededProject(t);
  const fromPantry = api.verify(result.uri, { home });
  assert.equal(fromPantry.uri, result.uri);
  assert.equal(fromPantry.files, 3);
  assert.equal(fromPantry.layerDigest, result.layer.digest);

  const packPath = path.join(root, 'exported.tar.gz');
  const exported = cli(['export', result.uri, '-o', packPath, '--json'], { home });
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(exported.json().digest, result.layer.digest);
  assert.deepEqual(fs.readFileSync(packPath), fs.readFileSync(path.join(home, 'blobs', 'sha256', result.layer.digest.slice(7))));

  const verified = cli(['verify', packPath, '--json']);
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(verified.json().ok, true);
  assert.equal(verified.json().uri, result.uri);

  const refused = cli(['export', result.uri, '-o', packPath, '--json'], { home });
  assert.equal(refused.code, 1);
  assert.equal(refused.json().error.code, 'CTX_TARGET_EXISTS');
  fs.writeFileSync(packPath, 'user data');
  const stillRefused = cli(['export', result.uri, '-o', packPath], { home });
  assert.equal(stillRefused.code, 1);
  assert.equal(fs.readFileSync(packPath, 'utf8'), 'user data', 'export never overwrites without --force');
  assert.equal(cli(['export', result.uri, '-o', packPath, '--force'], { home }).code, 0);
  assert.equal(api.verify(packPath).uri, result.uri);
});

test('unpack restores the exact tree (modes, symlinks) from a URI and from a .tar.gz', async (t) => {
  const { root, home, project, result } = await seededProject(t);
  const expected = snapshot(project.outDir);

  const fromUri = path.join(root, 'restored-uri');
  const unpacked = await api.unpack(result.uri, fromUri, { home });
  assert.equal(unpacked.path, fromUri);
  assert.deepEqual(snapshot(fromUri), expected);

  const packPath = path.join(root, 'pack.tar.gz');
  api.exportPack(result.uri, packPath, { home });
  const fromFile = path.join(root, 'nested', 'restored-file');
  const viaCli = cli(['unpack', packPath, '-o', fromFile, '--json']);
  assert.equal(viaCli.code, 0, viaCli.stderr);
  assert.equal(viaCli.json().uri, result.uri);
  assert.deepEqual(snapshot(fromFile), expected);
  assert.equal(fs.statSync(fromFile).mode & 0o777, 0o755);
});

test('unpack into an existing empty directory is fine; a non-empty target is never touched', async (t) => {
  const { root, home, result } = await seededProject(t);
  const empty = path.join(root, 'empty');
  fs.mkdirSync(empty);
  await api.unpack(result.uri, empty, { home });
  assert.ok(fs.existsSync(path.join(empty, 'chunks.jsonl')));

  const occupied = path.join(root, 'occupied');
  writeTree(occupied, { 'mine.txt': 'do not touch', 'chunks.jsonl': 'mine too' });
  const before = snapshot(root);
  await rejectsWithCode(api.unpack(result.uri, occupied, { home }), 'CTX_TARGET_EXISTS');
  const viaCli = cli(['unpack', result.uri, '-o', occupied, '--json'], { home });
  assert.equal(viaCli.code, 1);
  assert.equal(viaCli.json().error.code, 'CTX_TARGET_EXISTS');
  const aFile = path.join(root, 'a-file');
  fs.writeFileSync(aFile, 'x');
  await rejectsWithCode(api.unpack(result.uri, aFile, { home }), 'CTX_TARGET_EXISTS');
  fs.rmSync(aFile);
  await rejectsWithCode(api.unpack(path.join(root, 'missing.tar.gz'), path.join(root, 'new', 'deep', 'target')), 'CTX_NOT_FOUND');
  assert.deepEqual(snapshot(root), before, 'nothing changed, and no temporary directory was left behind');
});

test('the same outputs seeded into two pantries with SOURCE_DATE_EPOCH give the same layer, byte for byte', async (t) => {
  const root = tempDir(t);
  const project = makeProject(path.join(root, 'project'));
  writeOutputs(project.outDir);
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const first = cli(['seed', project.outDir, '--contract', project.contractPath, '--json'], { home: path.join(root, 'h1'), env });
  const second = cli(['seed', project.outDir, '--contract', project.contractPath, '--json'], { home: path.join(root, 'h2'), env });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(first.json().layer.digest, second.json().layer.digest);
  assert.equal(first.json().manifest.digest, second.json().manifest.digest);
  const info = api.inspect(first.json().uri, { home: path.join(root, 'h1') });
  assert.equal(info.provenance.created, '2023-11-14T22:13:20Z');

  // The API agrees with the CLI when given the epoch directly.
  const viaApi = await api.seed(project.outDir, { contractPath: project.contractPath, home: path.join(root, 'h3'), sourceDateEpoch: 1700000000 });
  assert.equal(viaApi.layer.digest, first.json().layer.digest);
});

test('ls, rm and gc: removed packs lose their blobs at gc, others keep theirs', async (t) => {
  const { root, home, result } = await seededProject(t);
  const other = makeProject(path.join(root, 'other'), { params: { size: 1 } });
  writeTree(other.outDir, { 'only.txt': 'other pack' });
  const second = await api.seed(other.outDir, { contractPath: other.contractPath, home });

  const listed = cli(['ls', '--json'], { home });
  assert.equal(listed.code, 0, listed.stderr);
  const uris = listed.json().packs.map((pack) => pack.uri).sort();
  assert.deepEqual(uris, [result.uri, second.uri].sort());
  assert.match(cli(['ls'], { home }).stdout, new RegExp(second.uri));

  await api.materialize(result.uri, { home });
  const removed = cli(['rm', result.uri, '--json'], { home });
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(removed.json(), { uri: result.uri, removed: true });
  assert.deepEqual(api.list({ home }).map((pack) => pack.uri), [second.uri]);
  const again = cli(['rm', result.uri, '--json'], { home });
  assert.equal(again.code, 1);
  assert.equal(again.json().error.code, 'CTX_NOT_FOUND');

  const collected = cli(['gc', '--json'], { home });
  assert.equal(collected.code, 0, collected.stderr);
  const report = collected.json();
  assert.equal(report.blobsRemoved, 3);
  assert.equal(report.bytesRemoved, result.manifest.size + result.config.size + result.layer.size);
  assert.equal(fs.existsSync(path.join(home, 'unpacked', result.uri.slice(13))), false, 'the unpacked copy is gone');
  assert.equal(api.verify(second.uri, { home }).uri, second.uri);
  await rejectsWithCode(() => api.verify(result.uri, { home }), 'CTX_NOT_FOUND');
  assert.deepEqual(await api.gc({ home }), { blobsRemoved: 0, bytesRemoved: 0, unpackedRemoved: 0, leftoversRemoved: 0 });
});

test('the pantry keeps a read-only unpacked copy, re-verified on use and repaired when damaged', async (t) => {
  const { home, project, result } = await seededProject(t);
  const first = await api.materialize(result.uri, { home });
  assert.equal(first.reused, false);
  assert.deepEqual(snapshot(first.path), Object.fromEntries(
    Object.entries(snapshot(project.outDir)).map(([key, value]) => [key, value.replace(/^644 /, '444 ').replace(/^755 /, '555 ')]),
  ));
  assert.equal(fs.statSync(first.path).mode & 0o777, 0o555);
  assert.equal((await api.materialize(result.uri, { home })).reused, true);

  // Damage the copy behind ctxpack's back: the stat check notices and the copy is rebuilt.
  const victim = path.join(first.path, 'chunks.jsonl');
  fs.chmodSync(first.path, 0o755);
  fs.chmodSync(victim, 0o644);
  fs.appendFileSync(victim, 'tampered');
  const repaired = await api.materialize(result.uri, { home });
  assert.equal(repaired.reused, false);
  assert.equal(fs.readFileSync(path.join(repaired.path, 'chunks.jsonl'), 'utf8'), fs.readFileSync(path.join(project.outDir, 'chunks.jsonl'), 'utf8'));

  const printed = cli(['unpack', result.uri, '--json'], { home });
  assert.equal(printed.code, 0, printed.stderr);
  assert.deepEqual(printed.json(), { uri: result.uri, path: first.path, reused: true });
});

test('a damaged layer blob in the pantry fails verify and export', async (t) => {
  const { root, home, result } = await seededProject(t);
  const blobPath = path.join(home, 'blobs', 'sha256', result.layer.digest.slice(7));
  const bytes = fs.readFileSync(blobPath);
  bytes[bytes.length - 20] ^= 0xff;
  fs.writeFileSync(blobPath, bytes);
  const verified = cli(['verify', result.uri, '--json'], { home });
  assert.equal(verified.code, 1);
  assert.match(verified.json().error.code, /^CTX_(DIGEST_MISMATCH|GZIP_CORRUPT|SIZE_MISMATCH|TAR_CORRUPT)$/);
  const out = path.join(root, 'x.tar.gz');
  await rejectsWithCode(() => api.exportPack(result.uri, out, { home }), 'CTX_DIGEST_MISMATCH');
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(root).filter((name) => name.startsWith('.')), [], 'no temp file left');
});

test('seeding outputs with an escaping symlink, or a missing folder, fails with a coded error', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  writeTree(project.outDir, { 'ok.txt': 'ok', 'escape': { symlink: '../../etc/passwd' } });
  await rejectsWithCode(api.seed(project.outDir, { contractPath: project.contractPath, home }), 'CTX_SYMLINK_ESCAPES');
  assert.deepEqual(api.list({ home }), []);

  // Following links records the link as the file it points to.
  fs.rmSync(path.join(project.outDir, 'escape'));
  writeTree(root, { 'outside.txt': 'outside content' });
  fs.symlinkSync(path.join(root, 'outside.txt'), path.join(project.outDir, 'followed'));
  const followed = await api.seed(project.outDir, { contractPath: project.contractPath, home, followLinks: true });
  const restored = path.join(root, 'restored');
  await api.unpack(followed.uri, restored, { home });
  assert.equal(fs.lstatSync(path.join(restored, 'followed')).isFile(), true);
  assert.equal(fs.readFileSync(path.join(restored, 'followed'), 'utf8'), 'outside content');

  const missing = cli(['seed', path.join(root, 'nope'), '--contract', project.contractPath, '--json'], { home });
  assert.equal(missing.code, 1);
  assert.equal(missing.json().error.code, 'CTX_IO');
});

test('a file name that is not UTF-8 is CTX_PATH_NOT_UTF8', async (t) => {
  const root = tempDir(t);
  const project = makeProject(path.join(root, 'project'));
  fs.mkdirSync(project.outDir);
  try {
    fs.writeFileSync(Buffer.concat([Buffer.from(`${project.outDir}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]), 'x');
  } catch {
    return t.skip('this file system refuses names that are not UTF-8');
  }
  await rejectsWithCode(api.seed(project.outDir, { contractPath: project.contractPath, home: path.join(root, 'home') }), 'CTX_PATH_NOT_UTF8');
});
