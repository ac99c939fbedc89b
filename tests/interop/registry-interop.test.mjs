// Standard OCI tools and ctxpack share packs through a real registry (CNCF Distribution 2.8.2 on
// 127.0.0.1): skopeo copies a pushed pack between registries and into an OCI layout, and ctxpack pulls /
// imports what skopeo wrote; the `oras` Python SDK pulls a ctxpack pack and gets the same layer bytes.
// skopeo, docker-registry and oras are installed by `scripts/setup.sh test`; these tests never skip.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { run, runOk, startRegistry } from '../registry/harness.mjs';
import {
  REPO_ROOT,
  assertSamePack,
  assertVerifies,
  cleanEnv,
  ctx,
  ok,
  packBlobs,
  registryManifest,
  removeAll,
  seedPack,
  sha256File,
  smallFiles,
  tempDir,
} from '../registry/fixtures.mjs';

let work, source, target, pack, blobs;

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-reginterop-')));
  [source, target] = await Promise.all([startRegistry({ auth: 'none' }), startRegistry({ auth: 'none' })]);
  pack = await seedPack(work, { home: path.join(work, 'home'), files: smallFiles('interop', 1024 * 1024), input: 'interop' });
  ok(await ctx(['push', pack.uri, '--registry', source.ref('packs')], { home: pack.home, env: cleanEnv() }));
  blobs = packBlobs(pack.home, pack.uri);
});
after(async () => {
  await source?.close();
  await target?.close();
  if (work) removeAll(work);
});

test('skopeo copies a pushed pack to another registry byte for byte; ctxpack pulls the copy', async (t) => {
  await runOk('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests',
    `docker://${source.host}/packs:${pack.tag}`, `docker://${target.host}/other:${pack.tag}`]);
  const copied = await registryManifest(target.url, 'other', pack.tag);
  assert.equal(copied.status, 200);
  assert.equal(copied.digest, blobs.entry.digest, 'skopeo rewrote the manifest');
  const home = tempDir(t);
  ok(await ctx(['pull', pack.uri, '--registry', target.ref('other')], { home, env: cleanEnv() }));
  await assertSamePack(pack.home, home, pack.uri);
  await assertVerifies(home, pack.uri);
});

test('skopeo copies a pushed pack into an OCI layout; ctxpack import reads it', async (t) => {
  const layout = path.join(tempDir(t), 'layout');
  await runOk('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--preserve-digests',
    `docker://${source.host}/packs:${pack.tag}`, `oci:${layout}:${pack.tag}`]);
  for (const digest of blobs.digests) {
    assert.equal(await sha256File(path.join(layout, 'blobs', 'sha256', digest.slice(7))), digest);
  }
  const home = tempDir(t);
  const imported = ok(await ctx(['import', layout], { home, env: cleanEnv() }));
  assert.deepEqual(imported.packs.map((p) => p.uri), [pack.uri]);
  await assertSamePack(pack.home, home, pack.uri);
  await assertVerifies(home, pack.uri);
});

test('ctxpack export --oci writes a layout skopeo pushes; ctxpack pulls it from the registry', async (t) => {
  const layout = path.join(tempDir(t), 'exported');
  ok(await ctx(['export', '--oci', layout, pack.uri], { home: pack.home, env: cleanEnv() }));
  await runOk('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests',
    `oci:${layout}:${pack.tag}`, `docker://${target.host}/from-layout:${pack.tag}`]);
  const home = tempDir(t);
  ok(await ctx(['pull', pack.uri, '--registry', target.ref('from-layout')], { home, env: cleanEnv() }));
  await assertSamePack(pack.home, home, pack.uri);
});

/** python3 that can `import oras`: scripts/setup.sh's venv when it made one, else the system's. */
function oraPython() {
  const venv = path.join(REPO_ROOT, '.tools', 'venv', 'bin', 'python3');
  return fs.existsSync(venv) ? venv : 'python3';
}

test('the oras Python SDK pulls a ctxpack pack: the same layer bytes, and the files it extracts', async (t) => {
  const outdir = tempDir(t);
  // oras-py treats a tar+gzip layer as a packed directory and extracts it on pull(); the layer bytes
  // themselves come from its download_blob(), digest by digest, as the manifest lists them.
  const script = `
import hashlib, json, os, sys
import oras.client
target, outdir = sys.argv[1], sys.argv[2]
client = oras.client.OrasClient(hostname=target.split("/")[0], insecure=True)
registry = getattr(client, "remote", client)
container = registry.get_container(target)
manifest = registry.get_manifest(container)
layers = {}
for layer in manifest["layers"]:
    blob = os.path.join(outdir, "blobs", layer["digest"].replace(":", "-"))
    os.makedirs(os.path.dirname(blob), exist_ok=True)
    registry.download_blob(container, layer["digest"], blob)
    h = hashlib.sha256()
    with open(blob, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    layers[layer["digest"]] = "sha256:" + h.hexdigest()
pulled = client.pull(target=target, outdir=os.path.join(outdir, "pulled"))
print(json.dumps({"layers": layers, "pulled": [os.path.relpath(p, outdir) for p in pulled]}))
`;
  const result = await run(oraPython(), ['-c', script, `${source.host}/packs:${pack.tag}`, outdir]);
  assert.equal(result.code, 0, `oras failed:\n${result.stderr}`);
  const { layers } = JSON.parse(result.stdout.trim().split('\n').pop());
  const expected = blobs.manifest.layers.map((l) => l.digest);
  assert.deepEqual(Object.keys(layers), expected);
  for (const digest of expected) assert.equal(layers[digest], digest, 'oras downloaded other bytes than ctxpack pushed');
  // pull() extracted the layer: the pack's manifest.json and the outputs under artifacts/.
  const extracted = path.join(outdir, 'pulled');
  const config = JSON.parse(fs.readFileSync(path.join(extracted, 'manifest.json'), 'utf8'));
  assert.equal(config.uri, pack.uri);
  for (const name of ['chunks.jsonl', 'nested/index.bin', 'nested/readme.md']) {
    assert.deepEqual(fs.readFileSync(path.join(extracted, 'artifacts', name)), fs.readFileSync(path.join(pack.out, name)), name);
  }
});
