// What a registry holds under a URI's tag when it is not a ctxpack pack. A container image, an index or another
// tool's artifact pushed as `ctx-<hex>` gets an error naming the reference and what is there (never "the local
// layout is damaged"); a URI the registry only has under its 12-hex Python CtxPack v0 tag gets a `--legacy` hint.
// The manifests are pushed with plain HTTP requests, as another tool would; nothing enters the pantry.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { startRegistry } from './harness.mjs';
import { ctx, failsWith, tempDir } from './fixtures.mjs';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

let registry;
before(async () => {
  registry = await startRegistry();
});
after(() => registry?.close());

const sha256 = (bytes) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
const uriOf = (seed) => `ctx://sha256:${crypto.createHash('sha256').update(seed).digest('hex')}`;
const hexOf = (uri) => uri.slice('ctx://sha256:'.length);

async function pushBlob(repository, bytes) {
  const started = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  assert.equal(started.status, 202);
  const location = new URL(started.headers.get('location'), registry.url);
  location.searchParams.set('digest', sha256(bytes));
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(put.status, 201, await put.text());
  return { digest: sha256(bytes), size: bytes.length };
}

async function pushManifest(repository, tag, mediaType, document) {
  const put = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    body: JSON.stringify(document),
    headers: { 'content-type': mediaType },
  });
  assert.equal(put.status, 201, await put.text());
}

/** An image manifest (OCI or Docker) with one config and one layer; `extra` adds fields such as artifactType. */
async function pushImage(repository, tag, { mediaType = OCI_MANIFEST, configType = 'application/vnd.oci.image.config.v1+json', extra = {} } = {}) {
  const config = await pushBlob(repository, Buffer.from('{"architecture":"amd64","os":"linux"}'));
  const layer = await pushBlob(repository, Buffer.from('not a ctxpack layer'));
  const layerType = mediaType === DOCKER_MANIFEST ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip';
  await pushManifest(repository, tag, mediaType, {
    schemaVersion: 2,
    mediaType,
    ...extra,
    config: { mediaType: configType, ...config },
    layers: [{ mediaType: layerType, ...layer }],
  });
}


function assertForeign(error, uri, repository, found) {
  assert.equal(error.message, `the registry's ${registry.ref(repository)}:ctx-${hexOf(uri)} is not a ctxpack pack (${found})`);
  assert.match(error.hint, /something other than ctxpack wrote that tag/);
  assert.doesNotMatch(`${error.message} ${error.hint}`, /layout|gc|re-seed/, 'the local layout is not to blame');
}

test('a container image, another artifact type or an index under ctx-<hex> is named for what it is', async (t) => {
  const cases = [
    ['image', {}, `artifactType none / mediaType ${OCI_MANIFEST} / config application/vnd.oci.image.config.v1+json`],
    [
      'sbom',
      { extra: { artifactType: 'application/vnd.example.sbom.v1' }, configType: 'application/vnd.oci.empty.v1+json' },
      `artifactType application/vnd.example.sbom.v1 / mediaType ${OCI_MANIFEST}`,
    ],
  ];
  for (const [repository, image, found] of cases) {
    const uri = uriOf(repository);
    await pushImage(repository, `ctx-${hexOf(uri)}`, image);
    const home = tempDir(t);
    const error = failsWith(await ctx(['pull', uri, '--registry', registry.ref(repository)], { home }), 'CTX_OCI_INVALID');
    assertForeign(error, uri, repository, found);
    assert.equal(error.subject, uri);
    assert.equal(fs.existsSync(`${home}/index.json`), false, 'nothing entered the pantry');
  }

  // An index (a multi-platform image) under the tag.
  const uri = uriOf('index');
  await pushImage('index', 'child');
  const child = await fetch(`${registry.url}/v2/index/manifests/child`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
  await pushManifest('index', `ctx-${hexOf(uri)}`, OCI_INDEX, {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ mediaType: OCI_MANIFEST, digest: child.headers.get('docker-content-digest'), size: Number(child.headers.get('content-length')) }],
  });
  const error = failsWith(await ctx(['pull', uri, '--registry', registry.ref('index')], { home: tempDir(t) }), 'CTX_OCI_INVALID');
  assertForeign(error, uri, 'index', `mediaType ${OCI_INDEX}`);
});

test('a Docker image under ctx-<hex> is named by its media type, by pull and by copy', async (t) => {
  const uri = uriOf('docker');
  await pushImage('docker', `ctx-${hexOf(uri)}`, { mediaType: DOCKER_MANIFEST, configType: 'application/vnd.docker.container.image.v1+json' });
  const error = failsWith(await ctx(['pull', uri, '--registry', registry.ref('docker')], { home: tempDir(t) }), 'CTX_OCI_INVALID');
  assertForeign(error, uri, 'docker', `mediaType ${DOCKER_MANIFEST}`);

  // copy reads the source the same way.
  const copied = failsWith(await ctx(['copy', uri, '--from', registry.ref('docker'), '--to', registry.ref('elsewhere')]), 'CTX_OCI_INVALID');
  assertForeign(copied, uri, 'docker', `mediaType ${DOCKER_MANIFEST}`);
});

test('a URI the registry has only under its Python CtxPack v0 tag suggests --legacy', async (t) => {
  const uri = uriOf('legacy');
  await pushImage('legacy', hexOf(uri).slice(0, 12));
  const error = failsWith(await ctx(['pull', uri, '--registry', registry.ref('legacy')], { home: tempDir(t) }), 'CTX_NOT_FOUND');
  assert.match(error.message, new RegExp(`has the Python CtxPack v0 tag ${hexOf(uri).slice(0, 12)}`));
  assert.equal(error.hint, `read the old pack with \`ctxpack pull ${uri} --legacy -o <dir>\``);

  // Without the v0 tag, the usual hint.
  const other = failsWith(await ctx(['pull', uriOf('absent'), '--registry', registry.ref('legacy')], { home: tempDir(t) }), 'CTX_NOT_FOUND');
  assert.doesNotMatch(other.hint, /--legacy/);
});
