// The verifier threads' shared ring (verify-pool.mjs): a pack several times the ring's size, written in chunks of
// every awkward size (a byte, odd lengths, more than the whole ring at once), is verified whole; a damaged byte far
// past the first wrap of the ring is still caught, with the reader's own error code. So it is in the whole 1 MiB
// batches a download gives, which go straight into the ring, mixed with odd sizes and offsets that do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, makeProject, PACKAGE_DIR, removeAll, writeTree } from './helpers.mjs';

const { openLayerVerifier } = await import(path.join(PACKAGE_DIR, 'lib', 'verify-pool.mjs'));
const { openPantry } = await import(path.join(PACKAGE_DIR, 'lib', 'pantry.mjs'));

/** Chunk sizes cycling through a byte, odd lengths and one larger than the whole ring. */
const CHUNKS = [1, 65_537, 7, 5 * 1024 * 1024 + 3, 1_048_575, 333_333];
/** Whole batches (1 MiB), more than one at once, then an odd size that shifts the next ones off 8-byte alignment. */
const BATCHES = [1024 * 1024, 1024 * 1024, 3 * 1024 * 1024, 1024 * 1024 + 5, 1024 * 1024 - 5, 2 * 1024 * 1024];

async function feed(verifier, bytes, chunks = CHUNKS) {
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = chunks[i % chunks.length];
    // A copy the writer may not keep: overwritten as soon as write() has returned (or resolved).
    const chunk = Uint8Array.from(bytes.subarray(offset, offset + size));
    await verifier.write(chunk);
    chunk.fill(0xee);
    offset += size;
  }
  return verifier.finish();
}

test('a pack many times the ring, in chunks of every size, is verified; a damaged byte past the first wrap fails', async (t) => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-verify-pool-')));
  t.after(() => removeAll(root));
  const project = makeProject(path.join(root, 'project'));
  // Random bytes do not compress: the pack is as big as its files (17 MiB), and its layer is one archive.
  writeTree(project.outDir, { 'random.bin': crypto.randomBytes(16 * 1024 * 1024), 'b.txt': 'small\n', 'c/d.bin': crypto.randomBytes(1024 * 1024 + 1) });
  const home = path.join(root, 'home');
  const seeded = await api.seed(project.outDir, { contractPath: project.contractPath, home });
  assert.equal(seeded.layers.length, 1);
  const pantry = openPantry({ home });
  const layer = fs.readFileSync(pantry.blobPath(seeded.layers[0].digest));
  assert.ok(layer.length > 16 * 1024 * 1024);

  const result = await feed(openLayerVerifier({ expectUri: seeded.uri }, { bytes: layer.length }), layer);
  assert.equal(result.uri, seeded.uri);
  assert.equal(result.files, 3);
  assert.equal(result.compressedBytes, layer.length);

  const batched = await feed(openLayerVerifier({ expectUri: seeded.uri }, { bytes: layer.length }), layer, BATCHES);
  assert.deepEqual(batched, result);

  const damaged = Uint8Array.from(layer);
  damaged[12 * 1024 * 1024] ^= 0x40;
  for (const chunks of [CHUNKS, BATCHES]) {
    await assert.rejects(
      () => feed(openLayerVerifier({ expectUri: seeded.uri }, { bytes: damaged.length }), damaged, chunks),
      (error) => ['CTX_DIGEST_MISMATCH', 'CTX_GZIP_CORRUPT'].includes(error.code),
    );
  }
});
