import { readContextDocument } from '../../context/documents.mjs';
import { plural } from '../../format.mjs';
import { masked } from './shared.mjs';

export default {
  name: 'context show',
  synopsis: 'context show <packet>',
  summary: 'summarise a packet: header, budget, items, redactions, what was dropped',
  details: 'Whatever the built-in detectors flag in the summary is masked as [REDACTED:<rule-id>]; --json prints\nthe document as it is.',
  options: {},
  positionals: [1, 1],
  async run({ positionals }) {
    const packet = readContextDocument(positionals[0]);
    // A summary for people: what a detector flags is masked (--json gives the document as it is).
    return { text: masked(describe(packet).join('\n')), json: packet };
  },
};

function describe(packet) {
  const header = packet.header ?? {};
  const constraints = packet.constraints ?? {};
  const items = Array.isArray(packet.context) ? packet.context : [];
  const tokens = items.reduce((sum, item) => sum + (item.tokens_est ?? 0), 0);
  const lines = [
    `packet     ${header.packet_id ?? '?'}`,
    `task       ${header.task_id ?? '?'} (${header.task_type ?? '?'})`,
    `privacy    ${header.privacy ?? 'local_only'}`,
    `created    ${header.created_at ?? '?'} by ${header.builder_version ?? '?'}`,
    `problem    ${packet.problem?.summary ?? ''}`,
    `budget     ${tokens} / ${constraints.max_tokens ?? '?'} tokens, ${items.length} / ${constraints.max_items ?? 50} items`,
    `hash       ${packet.provenance?.packet_hash || '(none)'}`,
  ];
  if (packet.provenance?.cache_key) lines.push(`cache key  ${packet.provenance.cache_key}`);
  lines.push('', plural(items.length, 'item'));
  const width = Math.max(0, ...items.map((item) => item.item_type?.length ?? 0));
  for (const item of items) {
    const where = item.path ? `${item.path}${item.span ? `:${item.span.start}-${item.span.end}` : ''}` : '';
    const mark = item.target ? ' (target)' : '';
    lines.push(`  ${String(item.item_type).padEnd(width)}  ${String(item.tokens_est ?? '?').padStart(6)}  ${item.name}${mark}  ${where}`);
  }
  const redactions = packet.policy?.redactions_applied ?? [];
  if (redactions.length > 0) {
    lines.push('', plural(redactions.length, 'redaction'));
    for (const record of redactions) {
      const field = record.field ? `.${record.field}` : '';
      lines.push(`  ${record.action ?? 'dropped'}  ${record.item_name}${field}  ${record.rule ?? ''} ×${record.count ?? 1}  (${record.reason})`);
    }
  }
  const dropped = packet.provenance?.build_stats?.dropped ?? [];
  if (dropped.length > 0) {
    lines.push('', `${plural(dropped.length, 'item')} dropped by the budget`);
    for (const item of dropped) lines.push(`  ${item.item_name}  ${item.reason}  ${item.tokens_est} tokens`);
  }
  return lines;
}
