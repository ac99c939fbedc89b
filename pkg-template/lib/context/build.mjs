// `context build`: a packet from a task spec and the project's files. The core does the work (collect items,
// redact, budget, validate, hash); this host walks the files, keeps the cache and writes the audit log.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { contextBuild, contextCacheKey, contextParseTask, contextValidate } from '../core-node.mjs';
import { auditAppend } from './audit.mjs';
import { cacheGet, cachePut } from './cache.mjs';
import { documentFrom } from './documents.mjs';
import { blockedError, blockedFields, policyFrom, tally } from './operations.mjs';
import { collectFiles } from './walk.mjs';

/**
 * @param {object | string} taskSource the task spec, or its file
 * @param {{project?: string, home?: string, cache?: boolean, ttlSeconds?: number, now?: Date,
 *          tokenizer?: (text: string) => number, maxFileBytes?: number, policy?: object, schema?: string,
 *          gitleaks?: string[], approveRemote?: boolean}} [options]
 * @returns {Promise<{packet: object, cacheKey: string, cacheHit: boolean, skipped: object[]}>}
 */
export async function buildContext(taskSource, options = {}) {
  const started = Date.now();
  const project = path.resolve(options.project ?? process.cwd());
  const now = options.now ?? new Date();
  const task = contextParseTask(documentFrom(taskSource));
  const policy = policyFrom({ ...options, project });
  const { files, skipped } = collectFiles(task, { project, maxFileBytes: options.maxFileBytes });
  const inputs = files.map(({ path: file, digest, size }) => ({ path: file, digest, size }));
  const cacheKey = contextCacheKey(task, inputs, policy);
  const ttlSeconds = options.ttlSeconds ?? policy.cacheTtlSeconds;
  const audit = (event) => (options.audit === false ? undefined : auditAppend({ task_id: task.task_id, ...event }, { home: options.home, now }));

  // A host's tokenizer gives other counts than the built-in o200k_base count, so its packets are not the built-in's.
  const approveRemote = Boolean(options.approveRemote);
  const cacheable = options.cache !== false && options.tokenizer === undefined;
  if (cacheable) {
    const hit = cacheGet(cacheKey, { home: options.home, ttlSeconds, now });
    if (hit) {
      const packet_hash = hit.packet.provenance.packet_hash;
      await audit({ event: 'cache_hit', cache_key: cacheKey, packet_hash });
      // An approval is per request, not per packet: a cached remote packet is gated again.
      const { blocked } = contextValidate(hit.packet, policy, { approveRemote });
      await gateOutcome(hit.packet, blocked, audit, approveRemote, task.task_id);
      return { packet: hit.packet, cacheKey, cacheHit: true, skipped };
    }
  }

  const built = contextBuild(task, files, policy, {
    packetId: randomUUID(),
    createdAt: now.toISOString(),
    durationMs: Date.now() - started,
    tokenizer: options.tokenizer,
    approveRemote,
  });
  const { packet, blocked } = built;
  const redactions = packet.policy.redactions_applied;
  if (redactions.length > 0) await audit({ event: 'redaction_applied', packet_hash: packet.provenance.packet_hash, ...tally(redactions) });
  const dropped = packet.provenance.build_stats?.dropped ?? [];
  if (dropped.length > 0) await audit({ event: 'budget_trimmed', packet_hash: packet.provenance.packet_hash, dropped: dropped.length });
  await gateOutcome(packet, blocked, audit, approveRemote, task.task_id);
  await audit({
    event: 'packet_built',
    task_type: task.task_type,
    privacy: packet.header.privacy,
    cache_key: cacheKey,
    packet_hash: packet.provenance.packet_hash,
    items: packet.context.length,
    tokens_total: packet.provenance.build_stats?.tokens_total ?? 0,
  });
  if (cacheable) cachePut(cacheKey, packet, { home: options.home, now });
  return { packet, cacheKey, cacheHit: false, skipped };
}

/** Audits a block and throws it, or audits the remote route a packet is about to take. */
async function gateOutcome(packet, blocked, audit, approved, taskId) {
  const packet_hash = packet.provenance.packet_hash;
  if (blocked.length > 0) {
    await audit({ event: 'packet_blocked', packet_hash, ...blockedFields(blocked) });
    throw blockedError(blocked, taskId);
  }
  if (packet.header.privacy === 'remote_allowed') await audit({ event: 'remote_route_requested', packet_hash, approved });
}
