// The verifying store (stores/verifying-store.mjs): a copy into the pantry is refused, with the code of the
// identity check that failed, when the source holds a forged artifact under a URI's tag — and the refusal
// leaves no index entry and no blob. Each source is an OCI layout written by hand around genuine blobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { api, makeProject, PACKAGE_DIR, REPO_ROOT, rejectsWithCode, tempDir, writeTree } from './helpers.mjs';

const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));
const { openPantry } = await import(path.join(PACKAGE_DIR, 'lib', 'pantry.mjs'));
const { copyArtifact } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'copy.mjs'));
const { LayoutStore, MEDIA_TYPES, openLayoutToRead } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'layout-store.mjs'));
const { verifying } = await import(path.join(PACKAGE_DIR, 'lib', 'stores', 'verifying-store.mjs'));

const CREATED = '2026-01-01T00:00:00Z';
const FIXTURE_LOG = path.join(REPO_ROOT, 'tests', 'fixtures', 'execution', 'coding-agent.json');

async function seedPack(root, name, files, params) {
  const project = makeProject(path.join(root, name), params ? { params } : undefined);
  writeTree(project.outDir, files);
  const home = path.join(root, `${name}-home`);
  return { home, ...(await api.seed(project.outDir, { contractPath: project.contractPath, home })) };
}

/**
 * An OCI layout holding `blobs` (bytes) and the image manifest `oci` (bytes), tagged with `uri`.
 * @returns {Promise<string>} its directory
 */
async function forgedLayout(root, name, { blobs, oci, uri, artifactType = 'pack' }) {
  const dir = path.join(root, name);
  const layout = new LayoutStore(dir);
  for (const bytes of blobs) await layout.pushBytes(bytes, 'application/octet-stream');
  const descriptor = await layout.pushBytes(oci, MEDIA_TYPES.ociManifest);
  fs.writeFileSync(layout.indexPath, core.ociIndexAdd(null, descriptor, uri, artifactType));
  return dir;
}

/** The blob's bytes in a pantry. */
function blobOf(home, descriptor) {
  return openPantry({ home }).fetchBytes(descriptor);
}

/** Copy the layout's artifact into a fresh pantry through the verifying store: the error's code, and nothing left. */
async function refused(root, dir, uri, code) {
  const home = path.join(root, `pantry-${path.basename(dir)}`);
  const error = await rejectsWithCode(() => copyArtifact(openLayoutToRead(dir), verifying(openPantry({ home })), uri), code);
  const pantry = openPantry({ home });
  assert.deepEqual(pantry.entries(), [], 'nothing was tagged');
  const blobs = fs.existsSync(pantry.blobsDir) ? fs.readdirSync(pantry.blobsDir) : [];
  assert.deepEqual(blobs, [], 'the refused copy left no blob');
  return error;
}

test('a pack: tampered manifest.json, a wrong URI annotation and a layer count mismatch are refused', async (t) => {
  const root = tempDir(t);
  const genuine = await seedPack(root, 'genuine', { 'a.txt': 'genuine\n' });
  const other = await seedPack(root, 'other', { 'a.txt': 'other\n' }, { size: 2 });
  assert.notEqual(other.uri, genuine.uri);
  const json = blobOf(genuine.home, genuine.config);
  const layer = openPantry({ home: genuine.home }).blobPath(genuine.layer.digest);
  const layerBytes = fs.readFileSync(layer);
  const manifestJson = JSON.parse(Buffer.from(json).toString('utf8'));

  // manifest.json whose contract was edited: it no longer derives the URI it claims.
  const edited = { ...manifestJson, contract: { ...manifestJson.contract, transforms: [] } };
  const tampered = Buffer.from(core.canonicalJson(JSON.stringify(edited)));
  const tamperedConfig = { mediaType: MEDIA_TYPES.packManifest, digest: core.sha256(tampered), size: tampered.length };
  let oci = core.ociPackManifest({ config: tamperedConfig, layers: genuine.layers, uri: genuine.uri, created: CREATED }).bytes;
  let error = await refused(root, await forgedLayout(root, 'tampered', { blobs: [tampered, layerBytes], oci, uri: genuine.uri }), genuine.uri, 'CTX_URI_MISMATCH');
  assert.match(error.message, /contract derives/);

  // manifest.json whose outputs were edited: the tree digest does not derive.
  const resized = structuredClone(manifestJson);
  resized.outputs.entries[0].size += 1;
  const resizedBytes = Buffer.from(core.canonicalJson(JSON.stringify(resized)));
  const resizedConfig = { mediaType: MEDIA_TYPES.packManifest, digest: core.sha256(resizedBytes), size: resizedBytes.length };
  oci = core.ociPackManifest({ config: resizedConfig, layers: genuine.layers, uri: genuine.uri, created: CREATED }).bytes;
  await refused(root, await forgedLayout(root, 'resized', { blobs: [resizedBytes, layerBytes], oci, uri: genuine.uri }), genuine.uri, 'CTX_DIGEST_MISMATCH');

  // The annotation says the genuine URI, manifest.json and the layer are the other pack's.
  const otherJson = blobOf(other.home, other.config);
  const otherLayer = fs.readFileSync(openPantry({ home: other.home }).blobPath(other.layer.digest));
  oci = core.ociPackManifest({ config: other.config, layers: other.layers, uri: genuine.uri, created: CREATED }).bytes;
  error = await refused(root, await forgedLayout(root, 'relabelled', { blobs: [otherJson, otherLayer], oci, uri: genuine.uri }), genuine.uri, 'CTX_URI_MISMATCH');
  assert.equal(error.subject, 'annotations.dev.ctxpack.uri');

  // A single-layer pack with a second layer.
  const extra = Buffer.from('an extra layer');
  const extraLayer = { mediaType: MEDIA_TYPES.layer, digest: core.sha256(extra), size: extra.length };
  oci = core.ociPackManifest({ config: genuine.config, layers: [genuine.layer, extraLayer], uri: genuine.uri, created: CREATED }).bytes;
  error = await refused(root, await forgedLayout(root, 'two-layers', { blobs: [json, layerBytes, extra], oci, uri: genuine.uri }), genuine.uri, 'CTX_OCI_INVALID');
  assert.match(error.message, /2 layer\(s\), its manifest\.json lays out 1/);

  // The honest layout copies, and the pantry verifies it.
  oci = core.ociPackManifest({ config: genuine.config, layers: genuine.layers, uri: genuine.uri, created: CREATED }).bytes;
  const honest = await forgedLayout(root, 'honest', { blobs: [json, layerBytes], oci, uri: genuine.uri });
  const home = path.join(root, 'honest-pantry');
  const copied = await copyArtifact(openLayoutToRead(honest), verifying(openPantry({ home })), genuine.uri);
  assert.equal(copied.kind, 'pack');
  assert.equal(api.verify(genuine.uri, { home }).files, 1);
});

test('an execution pack: config digest ≠ URI, a missing and an extra blob are refused', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'source');
  const packed = await api.tracePack(FIXTURE_LOG, { home, created: CREATED });
  const pantry = openPantry({ home });
  const descriptor = pantry.manifestFor(packed.uri, { artifactType: 'execution' });
  const parsed = core.ociParseExecutionManifest(pantry.fetchBytes(descriptor));
  const config = pantry.fetchBytes(parsed.config);
  const blobs = parsed.blobs.map((blob) => pantry.fetchBytes(blob));
  assert.ok(parsed.blobs.length >= 2);
  const source = { blobs: [config, ...blobs], uri: packed.uri, artifactType: 'execution' };

  // The URI annotation and the tag name another execution pack than the config is.
  const otherUri = `ctx://sha256:${'ab'.repeat(32)}`;
  const manifest = JSON.parse(Buffer.from(pantry.fetchBytes(descriptor)).toString('utf8'));
  manifest.annotations['dev.ctxpack.uri'] = otherUri;
  const relabelled = Buffer.from(core.canonicalJson(JSON.stringify(manifest)));
  await refused(root, await forgedLayout(root, 'relabelled', { ...source, oci: relabelled, uri: otherUri }), otherUri, 'CTX_URI_MISMATCH');

  // A blob the execution manifest names is not carried.
  let oci = core.ociExecutionManifest({ config: parsed.config, blobs: parsed.blobs.slice(1), uri: packed.uri, created: CREATED }).bytes;
  let error = await refused(root, await forgedLayout(root, 'missing', { ...source, oci }), packed.uri, 'CTX_OCI_INVALID');
  assert.match(error.message, /lacks 1 blob/);

  // A blob it does not name is carried too.
  const stranger = Buffer.from('nobody names me');
  const strangerBlob = { mediaType: MEDIA_TYPES.executionBlob, digest: core.sha256(stranger), size: stranger.length };
  oci = core.ociExecutionManifest({ config: parsed.config, blobs: [...parsed.blobs, strangerBlob], uri: packed.uri, created: CREATED }).bytes;
  error = await refused(root, await forgedLayout(root, 'extra', { ...source, blobs: [...source.blobs, stranger], oci }), packed.uri, 'CTX_OCI_INVALID');
  assert.match(error.message, /does not name/);

  // The honest one copies and verifies.
  oci = core.ociExecutionManifest({ config: parsed.config, blobs: parsed.blobs, uri: packed.uri, created: CREATED }).bytes;
  const target = path.join(root, 'target');
  const copied = await copyArtifact(openLayoutToRead(await forgedLayout(root, 'honest', { ...source, oci })), verifying(openPantry({ home: target })), packed.uri);
  assert.equal(copied.kind, 'execution');
  assert.equal(api.traceVerify(packed.uri, { home: target }).ok, true);
});

/**
 * The layout as a source whose layer streams let the consumer take the digest check over (as a registry
 * download does), with each layer chunk passed through `tamper`. `taken`: the layers whose check was taken.
 */
function digestTakingSource(dir, tamper = (chunk) => chunk) {
  const source = openLayoutToRead(dir);
  const taken = [];
  const wrapped = Object.create(source);
  wrapped.taken = taken;
  wrapped.fetch = (descriptor, options) => {
    const inner = source.fetch(descriptor, options);
    if (descriptor.mediaType !== MEDIA_TYPES.layer) return inner;
    const stream = (async function* () {
      for await (const chunk of inner) yield tamper(Uint8Array.from(chunk));
    })();
    stream.takeDigestCheck = () => {
      taken.push(descriptor.digest);
      return true;
    };
    return stream;
  };
  return wrapped;
}

test('a layer whose digest the verifier thread checks: other bytes are refused as CTX_DIGEST_MISMATCH first, the blob copies', async (t) => {
  const root = tempDir(t);
  const genuine = await seedPack(root, 'genuine', { 'a.txt': 'genuine\n'.repeat(1000) });
  const json = blobOf(genuine.home, genuine.config);
  const layerBytes = fs.readFileSync(openPantry({ home: genuine.home }).blobPath(genuine.layer.digest));
  const oci = core.ociPackManifest({ config: genuine.config, layers: genuine.layers, uri: genuine.uri, created: CREATED }).bytes;
  const dir = await forgedLayout(root, 'source', { blobs: [json, layerBytes], oci, uri: genuine.uri });

  const copyInto = (name, source) => {
    const home = path.join(root, name);
    return { home, outcome: copyArtifact(source, verifying(openPantry({ home })), genuine.uri) };
  };
  const nothingLeft = (home) => {
    const pantry = openPantry({ home });
    assert.deepEqual(pantry.entries(), [], 'nothing was tagged');
    assert.ok(!fs.readdirSync(pantry.blobsDir).includes(genuine.layer.digest.slice('sha256:'.length)), 'no layer blob');
    assert.deepEqual(fs.readdirSync(pantry.blobsDir).filter((name) => name.startsWith('.ingest-')), [], 'no temp file');
  };

  // A flipped byte mid-layer: the archive fails too, but the digest mismatch is what is reported.
  const middle = Math.floor(layerBytes.length / 2);
  const flipped = digestTakingSource(dir, (chunk) => {
    if (chunk.length > middle) chunk[middle] ^= 0xff;
    return chunk;
  });
  let { home, outcome } = copyInto('flipped', flipped);
  const error = await rejectsWithCode(() => outcome, 'CTX_DIGEST_MISMATCH');
  assert.equal(error.subject, genuine.layer.digest);
  assert.deepEqual(flipped.taken, [genuine.layer.digest], 'the verifier thread took the check');
  nothingLeft(home);

  // The layer cut short: its bytes are not the blob.
  ({ home, outcome } = copyInto('short', digestTakingSource(dir, (chunk) => chunk.subarray(0, chunk.length - 1))));
  await rejectsWithCode(() => outcome, 'CTX_DIGEST_MISMATCH');
  nothingLeft(home);

  // The genuine bytes copy, hashed only in the verifier thread, and the pantry verifies them.
  const honest = digestTakingSource(dir);
  ({ home, outcome } = copyInto('honest', honest));
  assert.equal((await outcome).kind, 'pack');
  assert.deepEqual(honest.taken, [genuine.layer.digest]);
  assert.equal(api.verify(genuine.uri, { home }).files, 1);
});
