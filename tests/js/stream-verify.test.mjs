// Verification while streaming (pull, import): a layer that does not match the pack's manifest.json is
// caught by the worker-thread verifier as it is copied into the pantry, leaving no blob and no index entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, makeProject, PACKAGE_DIR, rejectsWithCode, removeAll, writeTree } from './helpers.mjs';

const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));
const { openPantry, INGEST_PREFIX } = await import(path.join(PACKAGE_DIR, 'lib', 'pantry.mjs'));
const { copyArtifact } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'copy.mjs'));
const { openLayoutToRead } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'layout-store.mjs'));
const { verifying } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'verifying-store.mjs'));
const openPantryStore = (options) => verifying(openPantry(options));

async function seedTree(root, name, files) {
  const project = makeProject(path.join(root, name));
  writeTree(project.outDir, files);
  return api.seed(project.outDir, { contractPath: project.contractPath, home: path.join(root, `${name}-home`) });
}

test('a layer swapped for another pack\'s is rejected while it streams into the pantry', async (t) => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-stream-verify-')));
  t.after(() => removeAll(root));
  const genuine = await seedTree(root, 'genuine', { 'a.txt': 'genuine\n' });
  const other = await seedTree(root, 'other', { 'a.txt': 'forged!\n' });

  // A layout that tags the genuine pack's URI and manifest.json with the other pack's (self-consistent) layer.
  const layout = openPantry({ home: path.join(root, 'layout') });
  layout.ensureLayout();
  for (const [result, blob] of [[genuine, genuine.config], [other, other.layers[0]]]) {
    fs.copyFileSync(openPantry({ home: path.join(root, `${result === genuine ? 'genuine' : 'other'}-home`) }).blobPath(blob.digest), layout.blobPath(blob.digest));
  }
  const forged = core.ociPackManifest({ config: genuine.config, layers: other.layers, uri: genuine.uri, created: '2026-01-01T00:00:00Z' });
  const descriptor = await layout.pushBytes(forged.bytes, 'application/vnd.oci.image.manifest.v1+json');
  await layout.tag(descriptor, genuine.uri);

  const home = path.join(root, 'pull-home');
  await rejectsWithCode(
    () => copyArtifact(openLayoutToRead(layout.home), openPantryStore({ home }), genuine.uri),
    'CTX_MANIFEST_INVALID',
  );
  const pantry = openPantry({ home });
  assert.equal(pantry.exists(other.layers[0]), false, 'the forged layer was never committed');
  assert.deepEqual(pantry.list(), [], 'nothing was tagged');
  assert.deepEqual(fs.readdirSync(pantry.blobsDir).filter((name) => name.startsWith(INGEST_PREFIX)), [], 'no temp file is left');

  // The genuine pack copies and is tagged.
  const genuineLayout = openLayoutToRead(path.join(root, 'genuine-home'));
  const copied = await copyArtifact(genuineLayout, openPantryStore({ home }), genuine.uri);
  assert.equal(copied.alreadyPresent, false);
  assert.equal(api.verify(genuine.uri, { home }).files, 1);
});
