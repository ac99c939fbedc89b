// verifyPack, the one-call verification every host shares: a whole pack from a Uint8Array, a Response, a web
// ReadableStream or a Node stream (an async iterable), with its summary; a flipped byte, a wrong expected URI
// and a source of the wrong kind each reject with a CtxpackError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PACKAGE_DIR, api, makeProject, tempDir, writeOutputs } from './helpers.mjs';

const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));

async function exportedPack(t) {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const { contractPath, outDir } = makeProject(root);
  writeOutputs(outDir);
  const { uri } = await api.seed(outDir, { contractPath, home });
  const file = path.join(root, 'pack.tar.gz');
  await api.exportPack(uri, file, { home });
  return { uri, file, bytes: fs.readFileSync(file) };
}

test('every kind of source verifies, with the same summary', async (t) => {
  const { uri, file, bytes } = await exportedPack(t);
  const sources = {
    'Uint8Array': () => new Uint8Array(bytes),
    'Response': () => new Response(bytes),
    'ReadableStream': () => Readable.toWeb(fs.createReadStream(file)),
    'Node stream': () => fs.createReadStream(file, { highWaterMark: 1000 }),
  };
  for (const [kind, source] of Object.entries(sources)) {
    const summary = await core.verifyPack(source(), { expectUri: uri });
    assert.equal(summary.uri, uri, kind);
    assert.equal(summary.files, 3, kind);
    assert.equal(summary.compressedBytes, bytes.length, kind);
    assert.equal(summary.manifest.uri, uri, kind);
  }
  const seen = [];
  await core.verifyPack(new Uint8Array(bytes), { onProgress: (p) => seen.push(p.bytes) });
  assert.ok(seen.every((n) => n <= bytes.length));
});

test('a corrupt pack, a wrong expected URI or a wrong source is a CtxpackError', async (t) => {
  const { bytes } = await exportedPack(t);
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 6] ^= 1; // the gzip trailer's CRC-32
  await assert.rejects(core.verifyPack(flipped), (e) => e instanceof core.CtxpackError && e.code === 'CTX_GZIP_CORRUPT');
  await assert.rejects(core.verifyPack(bytes.subarray(0, bytes.length - 9)), (e) => e instanceof core.CtxpackError);
  await assert.rejects(core.verifyPack(bytes, { expectUri: `ctx://sha256:${'b'.repeat(64)}` }), { code: 'CTX_URI_MISMATCH' });
  await assert.rejects(core.verifyPack(42), { code: 'CTX_INVALID_STATE' });
});
