import { buildContext } from '../../context/build.mjs';
import { plural } from '../../format.mjs';
import {
  OUTPUT_HELP_LINES,
  OUTPUT_OPTIONS,
  POLICY_HELP_LINES,
  POLICY_OPTIONS,
  TOKENIZER_HELP_LINES,
  TOKENIZER_OPTIONS,
  emitDocument,
  loadPolicy,
  loadTokenizer,
  positiveInteger,
} from './shared.mjs';

export default {
  name: 'context build',
  synopsis: 'context build --task <spec.yaml> [-o <file>]',
  summary: 'build a packet from a task spec: collect, redact, budget, validate, hash',
  details: `The task spec (YAML or JSON) names task_id, task_type, summary, scope (roots, include, exclude,
globs), constraints (max_tokens, max_items; else the policy's budget for the task type), privacy, and
optionally target_file / target_symbol. Files under the roots that the scope selects become items:
one per function, class or method for Python, JS/TS, Rust and Go (signature, span, docstring, body),
one per file otherwise. Then the policy is applied and the packet is cached in the pantry under its
cache key (the task, the digests of the files, the policy); a rebuild with nothing changed is a hit.
Every build, hit, redaction, trim and block is appended to the audit log.
Exit 0 built, 1 error, 3 blocked (remote_allowed with something the policy forbids).`,
  options: {
    task: { type: 'string', required: true },
    'no-cache': { type: 'boolean' },
    'ttl-hours': { type: 'string' },
    'max-file-bytes': { type: 'string' },
    ...POLICY_OPTIONS,
    ...TOKENIZER_OPTIONS,
    ...OUTPUT_OPTIONS,
  },
  optionLines: [
    '  --task <file>          the task spec',
    '  --no-cache             build even if the cache has this packet (the result is still cached)',
    "  --ttl-hours <n>        how long a cached packet is used (default: the policy's, 24)",
    '  --max-file-bytes <n>   skip larger files (default 1048576)',
    ...POLICY_HELP_LINES,
    ...TOKENIZER_HELP_LINES,
    ...OUTPUT_HELP_LINES,
  ],
  positionals: [0, 0],
  async run({ values, home, json }) {
    const ttlHours = positiveInteger(values, 'ttl-hours');
    const result = await buildContext(values.task, {
      project: values.project,
      home,
      policy: loadPolicy(values),
      cache: !values['no-cache'],
      ttlSeconds: ttlHours === undefined ? undefined : ttlHours * 3600,
      tokenizer: await loadTokenizer(values),
      maxFileBytes: positiveInteger(values, 'max-file-bytes'),
      approveRemote: values['approve-remote'],
    });
    const { packet } = result;
    const stats = packet.provenance.build_stats ?? {};
    const note = [
      `${result.cacheHit ? 'cached' : 'built'}: ${packet.provenance.packet_hash} — ${plural(packet.context.length, 'item')}, ` +
        `${stats.tokens_total ?? 0} / ${packet.constraints.max_tokens} tokens, ` +
        `${plural(packet.policy.redactions_applied.length, 'redaction')}, ${plural(stats.dropped?.length ?? 0, 'item')} dropped`,
      ...result.skipped.map((skip) => `  skipped ${skip.path} (${skip.reason})`),
    ].join('\n');
    return { text: emitDocument(packet, values, json), json: result, note };
  },
};
