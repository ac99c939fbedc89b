// Unpacked copies inside the pantry: unpacked/<hex>/ holds a pack's outputs, read-only, next to a stamp
// (unpacked/<hex>.stamp.json) recording each entry's size and mtime. Using a copy re-verifies it cheaply by
// comparing stats with the stamp; a full re-hash is available on request. A copy that fails either check
// is thrown away and unpacked again from the verified layer. A copy is built in a staging folder
// (unpacked/.<hex>.ctxpack-<lease id>-XXXXXX) owned by the work's lease, then renamed into place.
import fs from 'node:fs';
import path from 'node:path';
import * as core from './core-node.mjs';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { currentLease } from './lease.mjs';
import { writeFileAtomic } from './stores/blob-writer.mjs';
import { extractSource, resolvePackRef } from './read.mjs';
import { registerCleanup } from './signal-cleanup.mjs';
import { makeReadOnly, removeTree } from './output-dir.mjs';
import { hashTree } from './tree.mjs';
import { walkTree } from './walk.mjs';

/** The directory holding every unpacked copy. */
export function unpackedRoot(pantry) {
  return path.join(pantry.home, 'unpacked');
}

/** The prefix of the staging folders of a copy: ".<hex>.ctxpack-", then the lease id. */
export function stagingPrefix({ dir }) {
  return `.${path.basename(dir)}.ctxpack-`;
}

/** Locations of a URI's unpacked copy and its stamp. */
export function unpackedPaths(pantry, uri) {
  const hex = core.uriTag(uri).slice('ctx-'.length);
  const root = unpackedRoot(pantry);
  return { root, dir: path.join(root, hex), stampPath: path.join(root, `${hex}.stamp.json`) };
}

/**
 * The read-only unpacked copy of a pantry pack, created on first use.
 * @param {string} uri
 * @param {{home?: string, fullCheck?: boolean, limits?: object, lockTimeoutMs?: number, onProgress?: Function}} [options]
 *   fullCheck: re-hash every file instead of comparing stats
 * @returns {Promise<{uri: string, path: string, manifest: object, reused: boolean}>}
 */
export async function materialize(uri, options = {}) {
  const source = resolvePackRef(core.parseUri(uri), options);
  const { pantry } = source;
  const manifest = core.parseManifest(pantry.fetchBytes(source.pack.config));
  const paths = unpackedPaths(pantry, source.uri);
  const reuse = async () => ((await copyIsIntact(paths, manifest, options)) ? { uri: source.uri, path: paths.dir, manifest, reused: true } : null);
  const existing = await reuse();
  if (existing) return existing;
  return pantry.withLock(`unpack-${core.uriTag(source.uri)}`, () => pantry.withLease('unpack', async () => {
    const current = await reuse();
    if (current) return current;
    try {
      fs.rmSync(paths.stampPath, { force: true });
      removeTree(paths.dir);
      fs.mkdirSync(paths.root, { recursive: true });
      const lease = currentLease(pantry.home);
      lease.hold();
      const tempDir = fs.mkdtempSync(path.join(paths.root, `${stagingPrefix(paths)}${lease.id}-`));
      const unregister = registerCleanup(() => removeTree(tempDir));
      try {
        extractSource(source, tempDir, options);
        const stamp = { uri: source.uri, treeDigest: manifest.outputs.digest, entries: statEntries(tempDir, manifest) };
        makeReadOnly(tempDir);
        fs.renameSync(tempDir, paths.dir);
        // The stamp is written last: its presence means the copy is complete.
        writeFileAtomic(paths.stampPath, Buffer.from(JSON.stringify(stamp)));
      } catch (error) {
        removeTree(tempDir);
        throw error;
      } finally {
        unregister();
      }
    } catch (error) {
      throw toCtxpackError(error, paths.dir);
    }
    return { uri: source.uri, path: paths.dir, manifest, reused: false };
  }));
}

/** Remove a URI's unpacked copy and its stamp (nothing if there is none). */
export function removeUnpacked(pantry, uri) {
  const paths = unpackedPaths(pantry, uri);
  fs.rmSync(paths.stampPath, { force: true });
  removeTree(paths.dir);
}

/**
 * Does the copy still match the stamp (sizes, mtimes, link targets, and no extra entries)? With
 * `fullCheck`, re-hash it and compare the tree digest instead. False also when there is no stamp.
 * @param {{root: string, dir: string, stampPath: string}} paths unpackedPaths()
 * @param {{outputs: {digest: string}}} manifest the pack's manifest.json
 */
export async function copyIsIntact(paths, manifest, { fullCheck = false }) {
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(paths.stampPath, 'utf8'));
  } catch {
    return false;
  }
  if (stamp.treeDigest !== manifest.outputs.digest) return false;
  try {
    if (fullCheck) return (await hashTree(paths.dir)).digest === manifest.outputs.digest;
    if (walkTree(paths.dir).length !== stamp.entries.length) return false;
    return stamp.entries.every((entry) => {
      const absolute = path.join(paths.dir, entry.path);
      if (entry.type === 'symlink') return fs.readlinkSync(absolute) === entry.target;
      const stat = fs.lstatSync(absolute);
      return stat.isFile() && stat.size === entry.size && stat.mtimeMs === entry.mtimeMs;
    });
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'EINVAL') return false;
    throw toCtxpackError(error, paths.dir);
  }
}

/** Record what each entry looks like on disk right after extraction. */
function statEntries(dir, manifest) {
  return manifest.outputs.entries.map((entry) => {
    const absolute = path.join(dir, entry.path);
    if (entry.type === 'symlink') return { path: entry.path, type: 'symlink', target: entry.target };
    const stat = fs.lstatSync(absolute);
    if (stat.size !== entry.size) {
      throw new CtxpackError('CTX_SIZE_MISMATCH', `${entry.path} was written with ${stat.size} bytes, expected ${entry.size}`, {
        subject: entry.path,
      });
    }
    return { path: entry.path, type: 'file', size: stat.size, mtimeMs: stat.mtimeMs };
  });
}
