// Files that are not packs: an execution log (what `ctxpack trace pack` takes) and a context packet (YAML or
// JSON). Which one a file is comes from its first bytes and its top-level keys.
import { Checks } from './checks.mjs';

const decoder = new TextDecoder();

/** 'pack' for gzip, else 'text'. */
export function sniff(head) {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b ? 'pack' : 'text';
}

/** 'execution' | 'context' for a JSON or YAML document's text (YAML is parsed by the full core). */
export function documentKind(value) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('steps' in value || 'system_prompt' in value) return 'execution';
    if ('header' in value || 'context' in value) return 'context';
  }
  return undefined;
}

export function decode(bytes) {
  return decoder.decode(bytes);
}

/**
 * An execution log, planned by the core (validated, its identity computed, contents moved to blobs).
 * @returns {{result: object, blobs: Map<string, Uint8Array>, manifestBytes: Uint8Array}}
 */
export function openExecutionLog(core, text) {
  const checks = new Checks([{ id: 'log', label: 'execution log', detail: 'execution/v1: every field checked, every problem listed' }]);
  let plan;
  try {
    plan = core.executionPlan(text);
  } catch (error) {
    checks.fail('log', error);
    return { result: { kind: 'execution', ok: false, log: true, checks: checks.list() } };
  }
  checks.pass('log');
  checks.add({ id: 'identity', label: 'URI', detail: `computed from the log's canonical execution manifest: ${plan.uri}` });
  checks.pass('identity');
  const blobs = new Map(plan.blobs.map((blob) => [blob.digest, blob.bytes]));
  return {
    result: { kind: 'execution', ok: true, log: true, uri: plan.uri, manifest: plan.manifest, checks: checks.list() },
    blobs,
    manifestBytes: plan.manifestBytes,
  };
}

/**
 * A context packet, checked by the full core under the built-in policy: every violation, the o200k_base token
 * count of each item's texts, the redaction markers by rule, and any credential a detector still finds (its text is
 * never sent to the page: only the rule and where).
 */
export function openContextPacket(full, text) {
  const packet = full.contextParseDocument(text);
  const policy = new full.ContextPolicy();
  try {
    const validation = full.contextValidate(packet, policy);
    const items = (Array.isArray(packet.context) ? packet.context : []).map((item, index) => {
      const fields = ['signature', 'summary', 'snippet'].filter((field) => typeof item?.[field] === 'string');
      const texts = Object.fromEntries(fields.map((field) => [field, maskFindings(full, item[field])]));
      const estimate = fields.reduce((sum, field) => sum + full.estimateTokens(item[field]), 0);
      return {
        index,
        name: item?.name,
        type: item?.item_type,
        path: item?.path,
        target: item?.target === true,
        priority: item?.priority,
        tokensEst: typeof item?.tokens_est === 'number' ? item.tokens_est : undefined,
        estimate,
        texts,
      };
    });
    let hash;
    try {
      hash = full.contextHash(packet);
    } catch {
      hash = undefined;
    }
    return {
      kind: 'context',
      ok: validation.valid,
      header: packet.header,
      problem: packet.problem,
      constraints: packet.constraints,
      policy: packet.policy,
      hash,
      items,
      violations: validation.violations,
      blocked: validation.blocked,
    };
  } finally {
    policy.free?.();
  }
}

/**
 * A text as pieces: plain text, `[REDACTED:<rule>]` markers (already masked), and what a built-in detector still
 * flags, replaced by its rule id.
 * @returns {Array<{text: string} | {redacted: string} | {finding: string}>}
 */
function maskFindings(full, text) {
  const findings = full.detectSecrets(text).sort((a, b) => a.start - b.start);
  const pieces = [];
  let at = 0;
  for (const finding of findings) {
    if (finding.start < at) continue;
    pushMarkers(pieces, text.slice(at, finding.start));
    pieces.push({ finding: finding.ruleId });
    at = finding.end;
  }
  pushMarkers(pieces, text.slice(at));
  return pieces;
}

function pushMarkers(pieces, text) {
  const marker = /\[REDACTED:([^\]\s]+)\]/g;
  let at = 0;
  for (const match of text.matchAll(marker)) {
    if (match.index > at) pieces.push({ text: text.slice(at, match.index) });
    pieces.push({ redacted: match[1] });
    at = match.index + match[0].length;
  }
  if (at < text.length) pieces.push({ text: text.slice(at) });
}
