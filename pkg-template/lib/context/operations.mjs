// The context-packet operations of the JS API. Each takes a document or a file path, applies the project's
// policy through the core, and records what it did in the audit log when it changes or blocks a packet.
import fs from 'node:fs';
import { contextBudget, contextHash, contextRedact, contextRedactStream, contextRedactText, contextValidate } from '../core-node.mjs';
import { CtxpackError, isCtxpackError, toCtxpackError } from '../errors.mjs';
import { auditAppend } from './audit.mjs';
import { MAX_DOCUMENT_BYTES, checkDocumentSize, documentFrom } from './documents.mjs';
import { loadContextPolicy } from './policy.mjs';
import { openSpool } from './spool.mjs';

/** Policy options shared by every operation: an explicit ContextPolicy, or where to load one from. */
export function policyFrom(options) {
  return options.policy && typeof options.policy === 'object' ? options.policy : loadContextPolicy(options).policy;
}

/** The error a blocked packet raises: it names rules and places, never the text that matched. */
export function blockedError(blocked, subject) {
  const lines = blocked.map((violation) => `${violation.path}: ${violation.code} ${violation.message}`);
  const error = new CtxpackError('CTX_PACKET_BLOCKED', `packet may not be sent to a remote model:\n${lines.join('\n')}`, {
    subject,
  });
  error.violations = blocked;
  return error;
}

/**
 * Check a packet against the schema and the policy (`approveRemote`: the user approved a remote route the
 * policy reserves for approval). Never throws for a bad packet.
 * @returns {{valid: boolean, violations: object[], blocked: object[]}}
 */
export async function validatePacket(source, options = {}) {
  const packet = documentFrom(source);
  const result = contextValidate(packet, policyFrom(options), { approveRemote: Boolean(options.approveRemote) });
  if (!result.valid && options.audit !== false) {
    await auditAppend(
      { event: 'validation_failed', task_id: packet?.header?.task_id ?? null, codes: [...new Set(result.violations.map((v) => v.code))] },
      options,
    );
  }
  return result;
}

/**
 * Redact a packet under the policy. Throws CTX_PACKET_BLOCKED when it is marked remote_allowed and still
 * breaks a routing rule afterwards.
 * @returns {{packet: object, applied: object[]}}
 */
export async function redactPacket(source, options = {}) {
  const input = documentFrom(source, options.maxBytes);
  const { packet, applied, blocked } = contextRedact(input, policyFrom(options), { approveRemote: Boolean(options.approveRemote) });
  const task_id = packet.header?.task_id ?? null;
  if (applied.length > 0 && options.audit !== false) {
    await auditAppend({ event: 'redaction_applied', task_id, packet_hash: packet.provenance?.packet_hash ?? null, ...tally(applied) }, options);
  }
  if (blocked.length > 0) {
    if (options.audit !== false) await auditAppend({ event: 'packet_blocked', task_id, ...blockedFields(blocked) }, options);
    throw blockedError(blocked, typeof source === 'string' ? source : task_id ?? undefined);
  }
  if (packet.header.privacy === 'remote_allowed' && options.audit !== false) {
    await auditAppend({ event: 'remote_route_requested', task_id, packet_hash: packet.provenance?.packet_hash ?? null, approved: Boolean(options.approveRemote) }, options);
  }
  return { packet, applied };
}

/**
 * Redact a packet file into `output` (a file, replaced atomically; stdout when undefined) as `format` (yaml or
 * json). A YAML packet streams through the core item by item (`contextRedactStream`), so memory holds one item
 * whatever the packet's size; `maxBytes` (16 MiB by default) bounds one item, and the packet without its items.
 * A packet that cannot stream (JSON, its items before its header) is read whole, up to `maxBytes`. Audits and
 * throws as `redactPacket` does; an invalid or blocked packet is not written.
 * @returns {Promise<{applied: object[]}>}
 */
export async function redactPacketFile(file, output, options = {}) {
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES;
  const policy = policyFrom(options);
  const coreOptions = { approveRemote: Boolean(options.approveRemote), format: options.format ?? 'yaml', maxBytes };
  const spool = openSpool(output);
  try {
    let result;
    try {
      result = streamFile(file, spool, policy, coreOptions);
      if (result === null) {
        spool.restart();
        checkDocumentSize(file, maxBytes);
        const whole = contextRedactText(fs.readFileSync(file), policy, coreOptions);
        spool.write(whole.bytes);
        result = whole;
      }
    } catch (error) {
      if (isCtxpackError(error) && error.subject === undefined) error.subject = file;
      throw toCtxpackError(error, file);
    }
    const { applied, blocked, taskId, packetHash, privacy } = result;
    if (applied.length > 0 && options.audit !== false) {
      await auditAppend({ event: 'redaction_applied', task_id: taskId, packet_hash: packetHash, ...tally(applied) }, options);
    }
    if (blocked.length > 0) {
      if (options.audit !== false) await auditAppend({ event: 'packet_blocked', task_id: taskId, ...blockedFields(blocked) }, options);
      throw blockedError(blocked, file);
    }
    if (privacy === 'remote_allowed' && options.audit !== false) {
      await auditAppend({ event: 'remote_route_requested', task_id: taskId, packet_hash: packetHash, approved: Boolean(options.approveRemote) }, options);
    }
    await spool.commit();
    return { applied };
  } finally {
    spool.discard();
  }
}

/** The end of a packet file given to the core with it (its `provenance` is there, and fits many times over). */
const TAIL_BYTES = 64 * 1024;

/** The core's result for the packet in `file` streamed into `spool`, or null when it must be read whole. */
function streamFile(file, spool, policy, coreOptions) {
  const fd = fs.openSync(file, 'r');
  try {
    // The file's end first, without moving its position: the core learns from it whether the packet holds a
    // hash before it reaches the items.
    const size = fs.fstatSync(fd).size;
    const tail = Buffer.allocUnsafe(Math.min(size, TAIL_BYTES));
    fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    const buffer = Buffer.allocUnsafe(1 << 20);
    const read = () => {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      return n === 0 ? null : buffer.subarray(0, n);
    };
    return contextRedactStream(read, (bytes) => spool.write(bytes), policy, { ...coreOptions, tail });
  } catch (error) {
    if (isCtxpackError(error) && error.code === 'CTX_LIMIT_EXCEEDED') {
      error.hint = `\`ctxpack context redact --max-document-bytes <n>\` raises the limit of ${coreOptions.maxBytes} bytes (an item, and the packet without its items, are held in memory whole)`;
    }
    throw error;
  } finally {
    fs.closeSync(fd);
  }
}

/** What an audit line records about a block: codes and places, never the text. */
export function blockedFields(blocked) {
  return { codes: blocked.map((v) => v.code), paths: blocked.map((v) => v.path) };
}

/** Counts per action and rule: what an audit line may say about redactions (never the text). */
export function tally(applied) {
  const rules = {};
  for (const record of applied) rules[record.rule] = (rules[record.rule] ?? 0) + (record.count ?? 1);
  return { actions: applied.length, rules };
}

/**
 * Hold a packet to its token and item budget (constraints.max_tokens / max_items, or the overrides given).
 * @param {{maxTokens?: number, maxItems?: number, tokenizer?: (text: string) => number}} options
 * @returns {{packet: object, dropped: object[], tokensTotal: number}}
 */
export async function budgetPacket(source, options = {}) {
  const packet = structuredClone(documentFrom(source));
  if (options.maxTokens !== undefined || options.maxItems !== undefined) {
    packet.constraints = { ...packet.constraints };
    if (options.maxTokens !== undefined) packet.constraints.max_tokens = options.maxTokens;
    if (options.maxItems !== undefined) packet.constraints.max_items = options.maxItems;
  }
  const result = contextBudget(packet, { tokenizer: options.tokenizer });
  if (result.dropped.length > 0 && options.audit !== false) {
    await auditAppend(
      { event: 'budget_trimmed', task_id: packet.header?.task_id ?? null, dropped: result.dropped.length, tokens_total: result.tokensTotal },
      options,
    );
  }
  return result;
}

/** The packet hash (`sha256:…`) of a packet's content; packet_id and created_at do not count. */
export function hashPacket(source) {
  return contextHash(documentFrom(source));
}
