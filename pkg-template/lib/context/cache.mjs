// The packet cache in the pantry: <home>/context/cache/<hex>.json, keyed by the core's cache_key (task spec with
// its id, the digests of every input file, the policy and the builder version). An entry is written
// atomically, expires after its TTL (measured from the time stored in it, not the file's mtime, which copies
// and backups change), and is re-checked on read: a damaged or edited entry is a miss and is removed.
import fs from 'node:fs';
import path from 'node:path';
import { contextHash } from '../core-node.mjs';
import { defaultHome, writeFileAtomic } from '../pantry.mjs';
import { toCtxpackError } from '../errors.mjs';

export const DEFAULT_TTL_SECONDS = 24 * 60 * 60;
const KEY_PATTERN = /^sha256:([0-9a-f]{64})$/;

export function cacheDir(home = defaultHome()) {
  return path.join(path.resolve(home), 'context', 'cache');
}

function entryPath(home, cacheKey) {
  const match = KEY_PATTERN.exec(cacheKey);
  if (!match) throw new TypeError(`not a cache key: ${cacheKey}`);
  return path.join(cacheDir(home), `${match[1]}.json`);
}

/**
 * The cached packet for `cacheKey`, or undefined.
 * @param {{home?: string, ttlSeconds?: number, now?: Date}} [options]
 */
export function cacheGet(cacheKey, { home, ttlSeconds = DEFAULT_TTL_SECONDS, now = new Date() } = {}) {
  const file = entryPath(home, cacheKey);
  let entry;
  try {
    entry = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    fs.rmSync(file, { force: true });
    return undefined;
  }
  const storedAt = Date.parse(entry?.stored_at);
  const fresh = Number.isFinite(storedAt) && now.getTime() - storedAt < ttlSeconds * 1000 && storedAt <= now.getTime() + 60_000;
  if (!fresh || entry.cache_key !== cacheKey || !intact(entry.packet, cacheKey)) {
    fs.rmSync(file, { force: true });
    return undefined;
  }
  return { packet: entry.packet, storedAt: entry.stored_at };
}

/** A cached packet is used only if it is still a well-formed packet whose content hashes to what it says. */
function intact(packet, cacheKey) {
  try {
    return packet?.provenance?.cache_key === cacheKey && contextHash(packet) === packet.provenance.packet_hash;
  } catch {
    return false;
  }
}

export function cachePut(cacheKey, packet, { home, now = new Date() } = {}) {
  const file = entryPath(home, cacheKey);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  } catch (error) {
    throw toCtxpackError(error, path.dirname(file));
  }
  const entry = { cache_key: cacheKey, stored_at: now.toISOString(), packet };
  writeFileAtomic(file, Buffer.from(JSON.stringify(entry)));
}

/** Remove expired entries (or all of them); returns how many were removed and kept. */
export function cachePrune({ home, ttlSeconds = DEFAULT_TTL_SECONDS, now = new Date(), all = false } = {}) {
  const dir = cacheDir(home);
  let names = [];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch (error) {
    if (error.code !== 'ENOENT') throw toCtxpackError(error, dir);
  }
  let removed = 0;
  for (const name of names) {
    const key = `sha256:${name.slice(0, -'.json'.length)}`;
    if (all || !KEY_PATTERN.test(key) || cacheGet(key, { home, ttlSeconds, now }) === undefined) {
      fs.rmSync(path.join(dir, name), { force: true });
      removed += 1;
    }
  }
  return { removed, kept: names.length - removed };
}
