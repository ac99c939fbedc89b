// Pantry housekeeping: ls, rm, gc.
import * as core from './core-node.mjs';
import { isCtxpackError } from './errors.mjs';
import { openPantry } from './pantry.mjs';
import { removeUnpacked } from './unpacked.mjs';

/**
 * Every pack in the pantry. A pack whose blobs are damaged is still listed, with `problem` saying why.
 * @param {{home?: string}} [options]
 */
export function list(options = {}) {
  const pantry = openPantry(options);
  return pantry.list().map((entry) => {
    const listed = { uri: entry.uri, tag: entry.tag, manifestDigest: entry.digest };
    try {
      const pack = pantry.loadPack(entry.uri);
      const size = pack.blobs.reduce((sum, blob) => sum + blob.size, pack.manifest.size);
      return { ...listed, created: pack.created, layer: pack.layer, layers: pack.layers.length, size };
    } catch (error) {
      if (!isCtxpackError(error)) throw error;
      return { ...listed, problem: `${error.code}: ${error.message}` };
    }
  });
}

/**
 * Remove a pack from the pantry: its index entry and its unpacked copy. Blobs go at the next gc.
 * @param {string} uri
 * @param {{home?: string, lockTimeoutMs?: number}} [options]
 */
export async function remove(uri, options = {}) {
  const pantry = openPantry(options);
  const canonical = core.parseUri(uri);
  await pantry.untag(canonical);
  await pantry.withLock(`unpack-${core.uriTag(canonical)}`, () => removeUnpacked(pantry, canonical));
  return { uri: canonical, removed: true };
}

/**
 * Delete blobs that no manifest in index.json (pack or execution pack) reaches and no live lease names,
 * unpacked copies of packs no longer indexed, and what stopped work left behind (see Pantry#gc).
 * @param {{home?: string, lockTimeoutMs?: number}} [options]
 * @returns {Promise<{blobsRemoved: number, bytesRemoved: number, unpackedRemoved: number, leftoversRemoved: number}>}
 */
export function gc(options = {}) {
  return openPantry(options).gc();
}
