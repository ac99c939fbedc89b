// Who owns a lock, a lease or a staging folder: a process, named by its pid, its host and its start time.
// A pid alone is not enough: after a crash the kernel may give the same pid to another process, so where
// /proc exists the start time (in clock ticks since boot, /proc/<pid>/stat field 22) must match too.
import fs from 'node:fs';
import os from 'node:os';

/** @typedef {{pid: number, host: string, startTime: number | null}} Owner */

let self;

/** This process. @returns {Owner} */
export function currentOwner() {
  self ??= { pid: process.pid, host: os.hostname(), startTime: processStartTime(process.pid) };
  return self;
}

/**
 * Whether the owner may still be running. A process on another host cannot be checked, so it counts as alive.
 * @param {{pid: number, host?: string, startTime?: number | null}} owner
 */
export function ownerAlive(owner) {
  if (owner.host !== undefined && owner.host !== os.hostname()) return true;
  if (!processAlive(owner.pid)) return false;
  if (owner.startTime == null) return true;
  const startTime = processStartTime(owner.pid);
  return startTime === null || startTime === owner.startTime;
}

/** "<pid>-<start time>" (start time 0 where it is unknown): an owner in a file name, on this host. */
export function ownerToken() {
  const { pid, startTime } = currentOwner();
  return `${pid}-${startTime ?? 0}`;
}

/** Is the process an ownerToken() names still running? Null when `token` is not one. */
export function tokenAlive(token) {
  const match = /^(\d+)-(\d+)$/.exec(token);
  if (!match) return null;
  const startTime = Number(match[2]);
  return ownerAlive({ pid: Number(match[1]), startTime: startTime === 0 ? null : startTime });
}

function processAlive(pid) {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat, or null where there is no /proc (or the process is gone). */
function processStartTime(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = Number(fields[22 - 3]);
  return Number.isSafeInteger(startTime) ? startTime : null;
}
