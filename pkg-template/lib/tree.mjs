// Directory → tree/v1: walk, hash every file on the pool, let the core validate, sort and digest.
import * as core from './core-node.mjs';
import { hashFiles } from './hash-pool.mjs';
import { phaseReporter } from './progress.mjs';
import { walkTree } from './walk.mjs';

/**
 * Hash the files among walked entries, in one pool run, adding `digest` to each and setting `size` to the
 * bytes actually hashed.
 * @param {import('./walk.mjs').WalkedEntry[]} entries
 * @param {{onBytes?: (bytes: number) => void}} [options]
 */
export async function hashWalkedFiles(entries, { onBytes } = {}) {
  const files = entries.filter((entry) => entry.type === 'file');
  const results = await hashFiles(files, { onBytes });
  files.forEach((file, index) => {
    file.digest = results[index].digest;
    file.size = results[index].size;
  });
}

/**
 * The core's view of hashed entries: validated (paths, collisions, links inside the tree), NFC, sorted.
 * @returns {{digest: string, entries: object[], sources: Map<string, string | Uint8Array>}}
 *   `sources` maps each file's normalised tree path to the absolute path to read it from.
 */
export function treeOf(hashedEntries) {
  const { digest, entries } = core.treeDigest(hashedEntries.map(toTreeEntryInput));
  const sources = new Map();
  for (const entry of hashedEntries) {
    if (entry.type === 'file') sources.set(entry.path.normalize('NFC'), entry.source);
  }
  return { digest, entries, sources };
}

/** Walk, hash and digest one directory, reporting progress as phase "hash". */
export async function hashTree(dir, { followLinks = false, onProgress } = {}) {
  const walked = walkTree(dir, { followLinks });
  await hashWalkedFiles(walked, { onBytes: phaseReporter(onProgress, 'hash', fileBytes(walked)) });
  return treeOf(walked);
}

/** Sum of file sizes, for progress totals. */
export function fileBytes(entries) {
  return entries.reduce((sum, entry) => sum + (entry.type === 'file' ? entry.size : 0), 0);
}

function toTreeEntryInput(entry) {
  return entry.type === 'file'
    ? { path: entry.path, type: 'file', size: entry.size, digest: entry.digest, executable: entry.executable }
    : { path: entry.path, type: 'symlink', target: entry.target };
}
