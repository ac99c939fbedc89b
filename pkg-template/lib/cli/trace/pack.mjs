import { formatBytes, plural } from '../../format.mjs';
import { tracePack } from '../../trace/pack.mjs';

export default {
  name: 'trace pack',
  synopsis: 'trace pack <log.json>',
  summary: 'pack an agent execution log; prints its ctx:// URI',
  details: `Every content (prompts, inputs, step outputs, outputs) becomes a blob, stored once per digest.
The URI is the sha256 of the execution manifest: packing the same log again gives the same URI
and stores nothing. The creation time is recorded beside the manifest, not in it.`,
  options: { created: { type: 'string' }, 'allow-unknown': { type: 'boolean' } },
  optionLines: [
    '  --created <time>  RFC 3339 creation time to record (default: now)',
    '  --allow-unknown   keep fields execution/v1 does not know (they become part of the identity)',
  ],
  positionals: [1, 1],
  async run({ values, positionals, home }) {
    const result = await tracePack(positionals[0], { home, created: values.created, allowUnknown: values['allow-unknown'] });
    const note = result.alreadyPresent
      ? 'already in the pantry; nothing stored'
      : `packed ${plural(result.steps, 'step')}: stored ${result.blobs.stored} of ${plural(result.blobs.total, 'blob')} (${formatBytes(result.bytes.stored)} of ${formatBytes(result.bytes.total)})`;
    return { text: result.uri, note, json: result };
  },
};
