// The spec's test vectors (docs/spec-vectors.json) and the fixed pack (tests/fixtures/pack-vector.json)
// through the wasm core, so identity and pack bytes are proven equal in wasm and natively (cargo test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, REPO_ROOT } from './helpers.mjs';

const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));
const vectors = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'docs', 'spec-vectors.json'), 'utf8'));
const packVector = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'pack-vector.json'), 'utf8'));

test('JCS vectors', () => {
  for (const v of vectors.jcs) assert.equal(core.canonicalJson(v.input), v.canonical, v.name);
});

test('file digest and URI vectors', () => {
  for (const v of vectors.file_digests) assert.equal(core.sha256(Buffer.from(v.content_hex, 'hex')), v.digest, v.name);
  for (const v of vectors.uris) assert.equal(core.uriTag(v.uri), v.tag);
});

test('tree vectors', () => {
  for (const v of vectors.trees) assert.equal(core.treeDigest(v.entries).digest, v.digest, v.name);
});

test('multi-layer layout vectors', () => {
  const contract = { ctxpack: 'contract/v1', transforms: [{ tool: 'layout' }] };
  for (const v of vectors.layouts) {
    const { entries } = core.treeDigest(v.entries);
    const { bytes } = core.buildManifest({ contract, entries, provenance: {} });
    const layers = core.packLayout(bytes).layers.map(({ start, entries: count, bytes: size }) => ({ start, entries: count, bytes: size }));
    assert.deepEqual(layers, v.layers, v.name);
  }
});

test('contract vectors', () => {
  for (const v of vectors.contracts) {
    const { warnings, ...plan } = core.contractPlan(v.contract);
    assert.deepEqual(plan, v.plan, v.name);
    assert.deepEqual(warnings.map((warning) => /^transforms\[(\d+)\]/.exec(warning)?.[1]).map(Number), v.warned_transforms, v.name);
    const resolved = core.resolveContract(v.contract, v.resolutions);
    assert.equal(resolved.canonical, v.resolved, v.name);
    assert.equal(resolved.uri, v.uri, v.name);
    assert.equal(core.contractUri(resolved.contract), v.uri, v.name);
  }
});

test('rejection vectors give their stable error codes', () => {
  const attempt = {
    json: (input) => core.canonicalJson(input),
    uri: (input) => core.parseUri(input),
    digest: (input) => core.treeDigest([{ path: 'x', type: 'file', size: 0, digest: input, executable: false }]),
    // JSON cannot hold a name that is not UTF-8: such entries carry its bytes as `path_hex`.
    tree: (input) => core.treeDigest(input.map((e) => (e.path_hex ? { ...e, path: Buffer.from(e.path_hex, 'hex') } : e))),
    contract: (input) => core.contractPlan(input),
    resolve: (input) => core.resolveContract(input.contract, input.resolutions),
    resolved_contract: (input) => core.contractUri(input),
  };
  for (const v of vectors.rejections) {
    assert.throws(() => attempt[v.kind](v.input), (error) => error.name === 'CtxpackError' && error.code === v.error, `${v.kind}: ${v.name}`);
  }
});

/** Content of one artifact of the fixed pack; xorshift32 gives incompressible bytes (stored blocks). */
function artifactBytes(artifact) {
  if (artifact.text !== undefined) return Buffer.from(artifact.text);
  if (artifact.repeat !== undefined) return Buffer.from(artifact.repeat.repeat(artifact.times));
  if (artifact.xorshift32 === undefined) return undefined;
  const out = Buffer.alloc(artifact.bytes);
  let x = artifact.xorshift32 >>> 0;
  for (let i = 0; i < out.length; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

test('the fixed pack has the same bytes in wasm as natively', () => {
  const contents = new Map(packVector.artifacts.map((a) => [a.path, artifactBytes(a)]));
  const entries = packVector.artifacts.map((a) => {
    const bytes = contents.get(a.path);
    return bytes
      ? { path: a.path, type: 'file', size: bytes.length, digest: core.sha256(bytes), executable: a.executable === true }
      : { path: a.path, type: 'symlink', target: a.target };
  });
  const tree = core.treeDigest(entries);
  const built = core.buildManifest({ contract: packVector.contract, entries: tree.entries, provenance: packVector.provenance });
  assert.equal(built.uri, packVector.expected.uri);
  assert.equal(core.sha256(built.bytes), packVector.expected.manifest_digest);

  const writer = new core.PackWriter(built.bytes, { mtime: 0 });
  const parts = [];
  for (let next = writer.nextEntry(); next; next = writer.nextEntry()) {
    if (next.type !== 'file') continue;
    const bytes = contents.get(next.path);
    // A chunk size unlike the native test's: the bytes must not depend on chunking.
    for (let offset = 0; offset < bytes.length; offset += 65_537) {
      writer.write(bytes.subarray(offset, offset + 65_537));
      parts.push(writer.takeOutput());
    }
    writer.endEntry();
  }
  writer.finish();
  parts.push(writer.takeOutput());
  const layer = Buffer.concat(parts);
  assert.equal(layer.length, packVector.expected.layer_size);
  assert.equal(core.sha256(layer), packVector.expected.layer_digest);
});
