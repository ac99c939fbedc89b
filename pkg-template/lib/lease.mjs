// Leases (containerd's idea): work in progress tells gc what it needs. A lease is <home>/leases/<id>.json,
// id "<pid>-<8 hex>", holding its owner (pid, host, start time), the command and the digests of the blobs the
// work has written or relies on but not yet recorded in index.json. Its temporary files (.ingest-<id>-…) and
// staging folders (unpacked/.<hex>.ctxpack-<id>-…) carry the id in their names. gc treats every blob a live
// lease names as reachable and every file a live lease owns as in use; a lease whose process is gone is stale
// and is removed with everything it owned. One lease per command: nested work joins the enclosing lease.
// The file is replaced by rename and never fsynced: after a crash its owner is gone, so it no longer counts.
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { toCtxpackError } from './errors.mjs';
import { currentOwner, ownerAlive } from './process-owner.mjs';
import { registerCleanup } from './signal-cleanup.mjs';

export const LEASES_DIR = 'leases';
const LEASE_ID = /^(\d+)-[0-9a-f]{8}$/;
const TEMP_SUFFIX = '.tmp';

const enclosing = new AsyncLocalStorage();

export class Lease {
  /**
   * @param {string} home the pantry
   * @param {string} command what the work is ("seed", "pull", …), for people reading the lease
   */
  constructor(home, command) {
    this.home = home;
    this.command = command;
    this.id = `${process.pid}-${randomBytes(4).toString('hex')}`;
    this.path = path.join(home, LEASES_DIR, `${this.id}.json`);
    this.since = new Date().toISOString();
    /** Digests of the blobs this lease keeps from gc. */
    this.digests = new Set();
    /** Blobs the work added to the pantry (not there before): a failed command removes those still unreferenced. */
    this.created = new Set();
    this.unregister = null;
  }

  /** Make sure the lease file exists: before the first temporary file that names it is created. */
  hold() {
    if (this.unregister === null) this.write();
  }

  /** Add digests to the lease (written at once, before the caller makes the blobs visible). */
  protect(digests) {
    const fresh = digests.filter((digest) => !this.digests.has(digest));
    for (const digest of fresh) this.digests.add(digest);
    if (fresh.length > 0 || this.unregister === null) this.write();
  }

  write() {
    const record = { id: this.id, ...currentOwner(), command: this.command, since: this.since, digests: [...this.digests] };
    const tempPath = `${this.path}${TEMP_SUFFIX}`;
    try {
      fs.mkdirSync(path.dirname(this.path), { recursive: true });
      fs.writeFileSync(tempPath, JSON.stringify(record));
      fs.renameSync(tempPath, this.path);
    } catch (error) {
      fs.rmSync(tempPath, { force: true });
      throw toCtxpackError(error, this.path);
    }
    this.unregister ??= registerCleanup(() => this.release());
  }

  /** Remove the lease file: the work is recorded, or it ended. */
  release() {
    if (this.unregister === null) return;
    fs.rmSync(this.path, { force: true });
    this.unregister();
    this.unregister = null;
  }
}

/** The lease of the work running in this async context on `home`, or null. */
export function currentLease(home) {
  const lease = enclosing.getStore();
  return lease?.home === home ? lease : null;
}

/** Run `fn` with `lease` as the current lease of its async context (and everything it starts). */
export function runWithLease(lease, fn) {
  return enclosing.run(lease, fn);
}

/**
 * The lease id a temporary file or staging folder name carries after `prefix`, or null.
 * @param {string} name e.g. ".ingest-123-0a1b2c3d-<uuid>"
 */
export function leaseIdIn(name, prefix) {
  if (!name.startsWith(prefix)) return null;
  const match = /^(\d+-[0-9a-f]{8})-/.exec(name.slice(prefix.length));
  return match ? match[1] : null;
}

/**
 * Every lease file of a pantry: the live ones (id → record) and the stale ones (their process is gone, or
 * the file is not a lease), with the reason. A lease file being written for the first time (`<id>.json.tmp`)
 * is stale only once its pid is gone.
 * @returns {{live: Map<string, {id: string, pid: number, command: string, since: string, digests: string[]}>,
 *   stale: Array<{path: string, id: string | null, reason: string}>}}
 */
export function readLeases(home) {
  const dir = path.join(home, LEASES_DIR);
  const live = new Map();
  const stale = [];
  for (const name of listDirectory(dir)) {
    const filePath = path.join(dir, name);
    if (name.endsWith(TEMP_SUFFIX)) {
      const id = name.slice(0, -`.json${TEMP_SUFFIX}`.length);
      const pid = LEASE_ID.exec(id)?.[1];
      if (pid === undefined || !ownerAlive({ pid: Number(pid) })) stale.push({ path: filePath, id, reason: 'left half-written by a process that is gone' });
      continue;
    }
    const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : null;
    if (id === null || !LEASE_ID.test(id)) {
      stale.push({ path: filePath, id: null, reason: 'not a lease file' });
      continue;
    }
    const record = parseLease(filePath, id);
    if (record === undefined) continue; // released meanwhile
    if (record === null) stale.push({ path: filePath, id, reason: 'unreadable' });
    else if (!ownerAlive(record)) stale.push({ path: filePath, id, reason: `its process (pid ${record.pid}, ${record.command}) is gone` });
    else live.set(id, record);
  }
  return { live, stale };
}

/** The lease record; null when the file is not one, undefined when it is gone. */
function parseLease(filePath, id) {
  let record;
  try {
    record = JSON.parse(fs.readFileSync(filePath, 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    if (error instanceof SyntaxError) return null;
    throw toCtxpackError(error, filePath);
  }
  const valid =
    record?.id === id && Number.isSafeInteger(record.pid) && Array.isArray(record.digests) && record.digests.every((digest) => typeof digest === 'string');
  return valid ? record : null;
}

function listDirectory(dir) {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw toCtxpackError(error, dir);
  }
}
