// Exclusive lock files between processes. A lock is a file created with O_EXCL that records who holds it
// (pid, host, process start time); a lock left by a process that died on this host (or whose pid now belongs
// to another process) is stale and is taken over. Waiting backs off up to a timeout. An interrupted holder
// removes its lock on the way out (signal-cleanup.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { currentOwner, ownerAlive } from './process-owner.mjs';
import { registerCleanup } from './signal-cleanup.mjs';

export const DEFAULT_LOCK_TIMEOUT_MS = 10 * 60 * 1000;
/** A lock file still empty or unreadable after this long was left by a process that died while creating it. */
const UNWRITTEN_LOCK_GRACE_MS = 30 * 1000;
const MAX_BACKOFF_MS = 250;
/** Suffix of the file that serialises takeovers of a stale lock. */
export const TAKEOVER_SUFFIX = '.takeover';

/**
 * Run `fn` while holding the lock at `lockPath`.
 * @template T
 * @param {string} lockPath
 * @param {() => Promise<T> | T} fn
 * @param {{timeoutMs?: number}} [options]
 * @returns {Promise<T>}
 */
export async function withLock(lockPath, fn, options) {
  const release = await acquireLock(lockPath, options);
  try {
    return await fn();
  } finally {
    release();
  }
}

/**
 * Take the lock, waiting for its holder if there is one. Returns the function that releases it.
 * @returns {Promise<() => void>}
 */
export async function acquireLock(lockPath, { timeoutMs = DEFAULT_LOCK_TIMEOUT_MS } = {}) {
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const token = randomUUID();
  const record = JSON.stringify({ ...currentOwner(), token, since: new Date().toISOString() });
  const deadline = Date.now() + timeoutMs;
  let backoff = 2;
  for (;;) {
    if (tryCreate(lockPath, record)) {
      const unregister = registerCleanup(() => releaseIfOurs(lockPath, token));
      return () => {
        unregister();
        releaseIfOurs(lockPath, token);
      };
    }
    if (breakIfStale(lockPath, record)) continue;
    if (Date.now() >= deadline) {
      const holder = readHolder(lockPath)?.owner;
      const who = holder ? ` (held by pid ${holder.pid} on ${holder.host} since ${holder.since})` : '';
      throw new CtxpackError('CTX_LOCK_TIMEOUT', `timed out after ${timeoutMs} ms waiting for lock ${lockPath}${who}`, {
        subject: lockPath,
      });
    }
    await sleep(backoff + Math.random() * backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
}

function tryCreate(lockPath, record) {
  let fd;
  try {
    fd = fs.openSync(lockPath, 'wx', 0o644);
  } catch (error) {
    if (error.code === 'EEXIST') return false;
    throw toCtxpackError(error, lockPath);
  }
  try {
    fs.writeSync(fd, record);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** @returns {{content: string, owner: object | null, mtimeMs: number} | null} null when there is no lock file */
function readHolder(lockPath) {
  let content;
  let mtimeMs;
  try {
    content = fs.readFileSync(lockPath, 'utf8');
    mtimeMs = fs.statSync(lockPath).mtimeMs;
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw toCtxpackError(error, lockPath);
  }
  let owner = null;
  try {
    owner = JSON.parse(content);
  } catch {
    // Still being written, or its writer died half-way: judged by age below.
  }
  return { content, owner, mtimeMs };
}

function isStale({ owner, mtimeMs }) {
  if (!owner || typeof owner.pid !== 'number') return Date.now() - mtimeMs > UNWRITTEN_LOCK_GRACE_MS;
  return !ownerAlive(owner);
}

/**
 * A lock file (or takeover guard) whose holder is gone, or null when it is held or absent.
 * @returns {{holder: object | null} | null}
 */
export function staleLock(lockPath) {
  const holder = readHolder(lockPath);
  return holder !== null && isStale(holder) ? { holder: holder.owner } : null;
}

/** Remove a stale lock the way a waiter takes it over (never a live one). @returns {boolean} removed */
export function removeStaleLock(lockPath) {
  if (lockPath.endsWith(TAKEOVER_SUFFIX)) {
    const guard = readHolder(lockPath);
    if (guard === null || !isStale(guard)) return false;
    fs.rmSync(lockPath, { force: true });
    return true;
  }
  const guard = readHolder(`${lockPath}${TAKEOVER_SUFFIX}`);
  if (guard !== null && isStale(guard)) fs.rmSync(`${lockPath}${TAKEOVER_SUFFIX}`, { force: true });
  const before = readHolder(lockPath);
  if (before === null || !isStale(before)) return false;
  breakIfStale(lockPath, JSON.stringify({ ...currentOwner(), token: randomUUID(), since: new Date().toISOString() }));
  return readHolder(lockPath)?.content !== before.content;
}

/**
 * Remove the lock if its holder is gone. Takeovers are serialised by a second lock file, and the stale lock
 * is removed only if it is still the very one judged stale, so two waiters never both take the lock.
 * @returns {boolean} true when the caller should retry at once
 */
function breakIfStale(lockPath, record) {
  const holder = readHolder(lockPath);
  if (holder === null) return true;
  if (!isStale(holder)) return false;
  const guardPath = `${lockPath}${TAKEOVER_SUFFIX}`;
  if (!tryCreate(guardPath, record)) {
    const guard = readHolder(guardPath);
    if (guard !== null && isStale(guard)) fs.rmSync(guardPath, { force: true });
    return false;
  }
  try {
    const current = readHolder(lockPath);
    if (current !== null && current.content === holder.content) fs.rmSync(lockPath, { force: true });
  } finally {
    fs.rmSync(guardPath, { force: true });
  }
  return true;
}

function releaseIfOurs(lockPath, token) {
  const holder = readHolder(lockPath);
  if (holder?.owner?.token === token) fs.rmSync(lockPath, { force: true });
}
