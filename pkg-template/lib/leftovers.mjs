// What interrupted or crashed work leaves in a pantry, told apart from what running work still uses:
// `.ingest-*` files and unpacked staging folders whose lease is not live, temp files of atomic writes whose
// writer is gone, stale leases, and stale locks. gc removes them all; fsck reports them (and removes them with
// --repair). Callers hold the index lock and list the directories *before* reading the leases, so anything
// listed was already leased if its work is still running.
import fs from 'node:fs';
import path from 'node:path';
import { toCtxpackError } from './errors.mjs';
import { leaseIdIn } from './lease.mjs';
import { TAKEOVER_SUFFIX, removeStaleLock, staleLock } from './lock.mjs';
import { INGEST_PREFIX } from './stores/blob-writer.mjs';
import { removeTree } from './output-dir.mjs';
import { unpackedRoot } from './unpacked.mjs';

/** Temp files of writeFileAtomic: "<file>.tmp-<uuid>". */
const ATOMIC_TEMP = /^(.+)\.tmp-[0-9a-f-]{36}$/;
const STAGING = /^\.([0-9a-f]{64})\.ctxpack-/;
const STAMP = /^([0-9a-f]{64})\.stamp\.json$/;
/** oci-layout is written without a lock (on first write); a temp file of it older than this was abandoned. */
const UNLOCKED_TEMP_GRACE_MS = 60 * 1000;

/** @typedef {{code: string, path: string, message: string}} Leftover */

/** The directory listings a scan works on; take them before readLeases(). */
export function listPantry(pantry) {
  return {
    home: listDirectory(pantry.home),
    blobs: listDirectory(pantry.blobsDir),
    unpacked: listDirectory(unpackedRoot(pantry)),
    locks: listDirectory(path.join(pantry.home, 'locks')),
  };
}

/**
 * @param {import('./pantry.mjs').Pantry} pantry
 * @param {ReturnType<typeof listPantry>} listing
 * @param {ReturnType<typeof import('./lease.mjs').readLeases>} leases
 * @param {{indexLocked: boolean}} options whether the caller holds the index lock (then index.json's temp
 *   files are nobody's)
 * @returns {Leftover[]}
 */
export function findLeftovers(pantry, listing, leases, { indexLocked }) {
  const found = [];
  const add = (code, filePath, message) => found.push({ code, path: filePath, message });
  const leaseLive = (name, prefix) => leases.live.has(leaseIdIn(name, prefix));

  for (const name of listing.blobs) {
    if (name.startsWith(INGEST_PREFIX) && !leaseLive(name, INGEST_PREFIX)) {
      add('ingest-leftover', path.join(pantry.blobsDir, name), 'a blob being written when its process stopped');
    }
  }
  const root = unpackedRoot(pantry);
  for (const name of listing.unpacked) {
    const staging = STAGING.exec(name);
    if (staging && !leaseLive(name, `.${staging[1]}.ctxpack-`)) {
      add('staging-leftover', path.join(root, name), 'an unpacked copy being built when its process stopped');
      continue;
    }
    const temp = ATOMIC_TEMP.exec(name);
    const stamp = temp && STAMP.exec(temp[1]);
    if (stamp && !lockHeld(pantry, `unpack-ctx-${stamp[1]}`)) {
      add('temp-leftover', path.join(root, name), 'a stamp being written when its process stopped');
    }
  }
  for (const name of listing.home) {
    const temp = ATOMIC_TEMP.exec(name);
    if (temp?.[1] === 'index.json' && (indexLocked || !lockHeld(pantry, 'index'))) {
      add('temp-leftover', path.join(pantry.home, name), 'index.json being written when its process stopped');
    } else if (temp?.[1] === 'oci-layout' && olderThan(path.join(pantry.home, name), UNLOCKED_TEMP_GRACE_MS)) {
      add('temp-leftover', path.join(pantry.home, name), 'oci-layout being written when its process stopped');
    }
  }
  for (const stale of leases.stale) add('lease-stale', stale.path, `a lease ${stale.reason}`);
  for (const name of listing.locks) {
    const lockPath = path.join(pantry.home, 'locks', name);
    if (!name.endsWith('.lock') && !name.endsWith(`.lock${TAKEOVER_SUFFIX}`)) continue;
    const stale = staleLock(lockPath);
    if (stale) add('lock-stale', lockPath, `a lock ${stale.holder ? `held by pid ${stale.holder.pid}, which is gone` : 'never written completely'}`);
  }
  return found;
}

/** Is the named pantry lock held by a live process? */
function lockHeld(pantry, name) {
  const lockPath = path.join(pantry.home, 'locks', `${name}.lock`);
  return fs.existsSync(lockPath) && staleLock(lockPath) === null;
}

function olderThan(filePath, ms) {
  try {
    return Date.now() - fs.lstatSync(filePath).mtimeMs > ms;
  } catch {
    return false;
  }
}

/** Remove a leftover; what is gone already counts as removed. @returns {number} bytes freed */
export function removeLeftover(leftover) {
  let stat;
  try {
    stat = fs.lstatSync(leftover.path);
  } catch (error) {
    if (error.code === 'ENOENT') return 0;
    throw toCtxpackError(error, leftover.path);
  }
  if (leftover.code === 'lock-stale') {
    removeStaleLock(leftover.path);
    return 0;
  }
  if (stat.isDirectory()) removeTree(leftover.path);
  else fs.rmSync(leftover.path, { force: true });
  return stat.isDirectory() ? 0 : stat.size;
}

function listDirectory(dir) {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw toCtxpackError(error, dir);
  }
}
