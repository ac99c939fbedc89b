// Moving packs between stores without a registry: pantry → OCI layout → another pantry (export/import,
// the air-gapped path), copyArtifact between two pantries, and what a damaged or lying source does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, api, cli, makeProject, rejectsWithCode, snapshot, tempDir, writeOutputs, writeTree } from './helpers.mjs';

const { copyArtifact } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'copy.mjs'));
const { verifying } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'verifying-store.mjs'));
const openPantryStore = (options) => verifying(api.openPantry(options));
const { configuredRegistry } = await import(path.join(PACKAGE_DIR, 'lib', 'registry', 'config.mjs'));

/** Seed a pack (distinct per `params`) into `home`; returns its URI and outputs folder. */
async function seedPack(root, home, params = { size: 512 }) {
  const project = makeProject(path.join(root, `project-${JSON.stringify(params).replace(/\W/g, '')}`), { params });
  writeOutputs(project.outDir);
  const seeded = await api.seed(project.outDir, { contractPath: project.contractPath, home });
  return { uri: seeded.uri, outDir: project.outDir, seeded };
}

function ingestLeftovers(home) {
  const dir = path.join(home, 'blobs', 'sha256');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.startsWith('.ingest-')) : [];
}

test('export to an OCI layout and import into another pantry: verified, identical, idempotent', async (t) => {
  const root = tempDir(t);
  const source = path.join(root, 'source');
  const target = path.join(root, 'target');
  const layout = path.join(root, 'layout');
  const first = await seedPack(root, source, { size: 1 });
  const second = await seedPack(root, source, { size: 2 });

  const events = [];
  const exported = await api.exportLayout([first.uri, second.uri], layout, { home: source, onProgress: (event) => events.push(event) });
  assert.equal(exported.path, layout);
  assert.deepEqual(exported.packs.map((pack) => [pack.uri, pack.alreadyPresent]), [[first.uri, false], [second.uri, false]]);
  assert.equal(fs.readFileSync(path.join(layout, 'oci-layout'), 'utf8'), '{"imageLayoutVersion":"1.0.0"}');
  assert.deepEqual(api.openPantry({ home: layout }).list().map((entry) => entry.uri).sort(), [first.uri, second.uri].sort());
  assert.deepEqual(exported.packs[0].manifest, first.seeded.manifest);
  const last = events.at(-1);
  assert.equal(last.phase, 'export');
  assert.equal(last.bytes, last.totalBytes);

  const imported = await api.importLayout(layout, { home: target });
  assert.deepEqual(imported.packs.map((pack) => pack.uri).sort(), [first.uri, second.uri].sort());
  assert.ok(imported.packs.every((pack) => !pack.alreadyPresent && pack.blobs.transferred === 2 && pack.blobs.skipped === 0));
  for (const pack of [first, second]) {
    assert.equal((await api.verify(pack.uri, { home: target })).uri, pack.uri);
    const out = path.join(root, `unpacked-${pack.uri.slice(-8)}`);
    await api.unpack(pack.uri, out, { home: target });
    assert.deepEqual(snapshot(out), snapshot(pack.outDir));
  }

  const again = await api.importLayout(layout, { home: target, uris: [first.uri] });
  assert.deepEqual(again.packs.map((pack) => [pack.uri, pack.alreadyPresent]), [[first.uri, true]]);
  const reexport = await api.exportLayout(first.uri, layout, { home: source });
  assert.equal(reexport.packs[0].alreadyPresent, true);
});

test('copyArtifact between two pantries skips blobs the target has and puts the manifest last', async (t) => {
  const root = tempDir(t);
  const homeA = path.join(root, 'a');
  const homeB = path.join(root, 'b');
  const { uri, seeded } = await seedPack(root, homeA);
  const from = openPantryStore({ home: homeA });
  const to = openPantryStore({ home: homeB });

  // The target already holds the config blob (as if an earlier copy had been interrupted).
  const configBytes = api.openPantry({ home: homeA }).fetchBytes(seeded.config);
  api.openPantry({ home: homeB }).pushBytes(configBytes, seeded.config.mediaType, seeded.config);
  assert.equal(api.openPantry({ home: homeB }).has(uri), false);

  const copied = await copyArtifact(from, to, uri, { concurrency: 2 });
  assert.equal(copied.alreadyPresent, false);
  assert.deepEqual(copied.blobs, { total: 2, transferred: 1, skipped: 1, mounted: 0 });
  assert.equal(copied.bytes, seeded.layer.size);
  assert.deepEqual(copied.manifest, seeded.manifest);
  assert.equal(api.openPantry({ home: homeB }).has(uri), true);

  const again = await copyArtifact(from, to, uri);
  assert.equal(again.alreadyPresent, true);
  await rejectsWithCode(copyArtifact(from, to, uri, { concurrency: 0 }), 'CTX_USAGE');
  await rejectsWithCode(copyArtifact(to, from, `ctx://sha256:${'c'.repeat(64)}`), 'CTX_NOT_FOUND');
});

test('a damaged layer in a layout is refused and leaves the pantry as it was', async (t) => {
  const root = tempDir(t);
  const source = path.join(root, 'source');
  const target = path.join(root, 'target');
  const layout = path.join(root, 'layout');
  const { uri, seeded } = await seedPack(root, source);
  await api.exportLayout([uri], layout, { home: source });

  const layerPath = path.join(layout, 'blobs', 'sha256', seeded.layer.digest.slice('sha256:'.length));
  const bytes = fs.readFileSync(layerPath);
  bytes[bytes.length - 10] ^= 0xff;
  fs.chmodSync(layerPath, 0o644);
  fs.writeFileSync(layerPath, bytes);

  await rejectsWithCode(api.importLayout(layout, { home: target }), 'CTX_DIGEST_MISMATCH');
  assert.equal(api.openPantry({ home: target }).has(uri), false);
  assert.deepEqual(ingestLeftovers(target), []);
});

test('a tag that names another pack is CTX_URI_MISMATCH', async (t) => {
  const root = tempDir(t);
  const source = path.join(root, 'source');
  const layout = path.join(root, 'layout');
  const honest = await seedPack(root, source, { size: 1 });
  const other = await seedPack(root, source, { size: 2 });
  await api.exportLayout([honest.uri, other.uri], layout, { home: source });

  // Point honest's ref name at other's manifest.
  const indexPath = path.join(layout, 'index.json');
  const index = JSON.parse(fs.readFileSync(indexPath, 'utf8'));
  const honestTag = `ctx-${honest.uri.slice('ctx://sha256:'.length)}`;
  const entry = index.manifests.find((candidate) => candidate.annotations['org.opencontainers.image.ref.name'] === honestTag);
  Object.assign(entry, { digest: other.seeded.manifest.digest, size: other.seeded.manifest.size });
  fs.writeFileSync(indexPath, JSON.stringify(index));

  const target = path.join(root, 'target');
  await rejectsWithCode(api.importLayout(layout, { home: target, uris: [honest.uri] }), 'CTX_URI_MISMATCH');
  assert.equal(api.openPantry({ home: target }).has(honest.uri), false);
});

test('importing a directory that is not a layout is CTX_NOT_FOUND', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'not-a-layout/readme.txt': 'hello' });
  const error = await rejectsWithCode(api.importLayout(path.join(root, 'not-a-layout'), { home: path.join(root, 'home') }), 'CTX_NOT_FOUND');
  assert.match(error.hint, /export --oci/);
});

test('CLI: export --oci and import, with --json', async (t) => {
  const root = tempDir(t);
  const source = path.join(root, 'source');
  const target = path.join(root, 'target');
  const layout = path.join(root, 'layout');
  const { uri } = await seedPack(root, source);

  const exported = cli(['export', '--oci', layout, uri, '--json'], { home: source });
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(exported.json().packs[0].uri, uri);

  const imported = cli(['import', layout], { home: target });
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(imported.stdout.trim(), uri);
  assert.match(imported.stderr, /imported 1 pack from /);
  assert.equal(cli(['verify', uri, '--json'], { home: target }).code, 0);

  const both = cli(['export', '--oci', layout, '-o', path.join(root, 'x.tar.gz'), uri, '--json'], { home: source });
  assert.equal(both.code, 2);
  const several = cli(['export', '-o', path.join(root, 'x.tar.gz'), uri, uri, '--json'], { home: source });
  assert.equal(several.json().error.code, 'CTX_USAGE');
});

test('registry commands need a registry: option, then $CTXPACK_REGISTRY, then the config file', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const { uri } = await seedPack(root, home);
  const configFile = path.join(root, 'config.json');
  const env = { CTXPACK_CONFIG: configFile, CTXPACK_REGISTRY: '' };

  assert.equal(configuredRegistry(undefined, { env }), undefined);
  fs.writeFileSync(configFile, JSON.stringify({ registry: 'file.example.com/packs' }));
  assert.equal(configuredRegistry(undefined, { env }), 'file.example.com/packs');
  assert.equal(configuredRegistry(undefined, { env: { ...env, CTXPACK_REGISTRY: 'env.example.com/packs' } }), 'env.example.com/packs');
  assert.equal(configuredRegistry('flag.example.com/packs', { env: { ...env, CTXPACK_REGISTRY: 'env.example.com/packs' } }), 'flag.example.com/packs');
  fs.writeFileSync(configFile, '["not", "an", "object"]');
  await rejectsWithCode(() => configuredRegistry(undefined, { env }), 'CTX_USAGE');

  fs.rmSync(configFile);
  const noRegistry = cli(['push', uri, '--json'], { home, env });
  assert.equal(noRegistry.code, 2);
  assert.match(noRegistry.json().error.hint, /CTXPACK_REGISTRY/);
  // Checked before the registry is contacted: a pack the pantry lacks cannot be pushed.
  const notHere = cli(['push', `ctx://sha256:${'d'.repeat(64)}`, '--registry', 'localhost:1/packs', '--json'], { home, env });
  assert.equal(notHere.json().error.code, 'CTX_NOT_FOUND');
  // resolve without any registry answers for the pantry alone.
  const resolved = cli(['resolve', uri, '--json'], { home, env });
  assert.equal(resolved.code, 0, resolved.stderr);
  assert.deepEqual(resolved.json().registry, null);
  assert.equal(resolved.json().pantry.found, true);
  for (const command of ['push', 'pull', 'resolve', 'copy', 'import', 'login']) {
    assert.match(cli([command, '--help']).stdout, new RegExp(`^Usage: ctxpack ${command}`), command);
  }
});
