// The local pantry: the OCI image layout under $CTXPACK_HOME (stores/layout-store.mjs) with leases, plus what
// only the pantry has: unpacked copies of its packs (unpacked.mjs) and the context packets' cache and audit log
// (context/), and a gc that sweeps all of it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as core from './core-node.mjs';
import { readLeases } from './lease.mjs';
import { findLeftovers, listPantry, removeLeftover } from './leftovers.mjs';
import { removeTree } from './output-dir.mjs';
import { LayoutStore } from './stores/layout-store.mjs';
import { unpackedRoot } from './unpacked.mjs';

export { ARTIFACT_TYPES, MEDIA_TYPES } from './stores/layout-store.mjs';
export { INGEST_PREFIX, writeFileAtomic } from './stores/blob-writer.mjs';

const HEX_NAME = /^[0-9a-f]{64}$/;

/** `$CTXPACK_HOME`, else `~/.cache/ctxpack`. */
export function defaultHome() {
  return process.env.CTXPACK_HOME || path.join(os.homedir(), '.cache', 'ctxpack');
}

/**
 * @param {{home?: string, lockTimeoutMs?: number}} [options]
 * @returns {Pantry}
 */
export function openPantry({ home, lockTimeoutMs } = {}) {
  return new Pantry(path.resolve(home ?? defaultHome()), { lockTimeoutMs });
}

export class Pantry extends LayoutStore {
  /** @param {string} home @param {{lockTimeoutMs?: number}} [options] */
  constructor(home, { lockTimeoutMs } = {}) {
    super(home, { label: 'pantry', lockTimeoutMs, leases: true });
  }

  /**
   * Delete blobs that no manifest in index.json (pack or execution pack) reaches and no live lease names,
   * unpacked copies of packs no longer indexed, and what stopped work left behind: `.ingest-*` files and staging
   * folders no live lease owns, temp files, stale leases and locks. Holds the index lock throughout.
   * @returns {Promise<{blobsRemoved: number, bytesRemoved: number, unpackedRemoved: number, leftoversRemoved: number}>}
   */
  async gc() {
    const result = { blobsRemoved: 0, bytesRemoved: 0, unpackedRemoved: 0, leftoversRemoved: 0 };
    if (!fs.existsSync(this.home)) return result;
    return this.withLock('index', () => {
      // Listed before the leases are read: a blob or temp file that is listed was leased before it appeared,
      // if its work is still running (see LayoutStore#referencedDigests and BlobWriter#commit).
      const listing = listPantry(this);
      const leases = readLeases(this.home);
      Object.assign(result, this.sweepBlobs(listing.blobs, leases));
      result.unpackedRemoved = this.removeOrphanUnpacked(listing.unpacked);
      for (const leftover of findLeftovers(this, listing, leases, { indexLocked: true })) {
        result.bytesRemoved += removeLeftover(leftover);
        result.leftoversRemoved += 1;
      }
      return result;
    });
  }

  /** Unpacked copies (and stamps) of packs that are not in index.json. @returns {number} copies removed */
  removeOrphanUnpacked(names) {
    const indexed = new Set(this.list().map((entry) => core.uriTag(entry.uri).slice('ctx-'.length)));
    const root = unpackedRoot(this);
    let removed = 0;
    for (const name of names) {
      const hex = name.replace(/\.stamp\.json$/, '');
      if (!HEX_NAME.test(hex) || indexed.has(hex)) continue;
      removeTree(path.join(root, name));
      if (name === hex) removed += 1;
    }
    return removed;
  }
}
