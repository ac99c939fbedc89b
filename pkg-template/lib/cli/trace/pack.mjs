import fs from 'node:fs';
import path from 'node:path';
import { toCtxpackError } from '../../errors.mjs';
import { formatBytes, plural } from '../../format.mjs';
import { tracePack, tracePackAll } from '../../trace/pack.mjs';
import { usageError } from '../shared.mjs';

export default {
  name: 'trace pack',
  synopsis: 'trace pack <log.json | folder>...',
  summary: 'pack agent execution logs; prints their ctx:// URIs',
  details: `Every content (prompts, inputs, step outputs, outputs) becomes a blob, stored once per digest.
The URI is the sha256 of the execution manifest: packing the same log again gives the same URI
and stores nothing. The creation time is recorded beside the manifest, not in it.
Several logs, or a folder (its *.json files), are packed in one go, on one worker thread per core:
the packs are recorded once every log has passed its checks (one invalid log: none is recorded),
and one URI per log is printed, in order.`,
  options: { created: { type: 'string' }, 'allow-unknown': { type: 'boolean' } },
  optionLines: [
    '  --created <time>  RFC 3339 creation time to record (default: now)',
    '  --allow-unknown   keep fields execution/v1 does not know (they become part of the identity)',
  ],
  positionals: [1, Infinity],
  async run({ values, positionals, home }) {
    const options = { home, created: values.created, allowUnknown: values['allow-unknown'] };
    const logs = positionals.flatMap(logsAt);
    if (logs.length === 0) throw usageError(`no *.json logs in ${positionals.join(', ')}`, 'give log files, or a folder holding them');
    if (positionals.length === 1 && logs.length === 1 && logs[0] === positionals[0]) {
      const result = await tracePack(logs[0], options);
      const note = result.alreadyPresent
        ? 'already in the pantry; nothing stored'
        : `packed ${plural(result.steps, 'step')}: stored ${result.blobs.stored} of ${plural(result.blobs.total, 'blob')} (${formatBytes(result.bytes.stored)} of ${formatBytes(result.bytes.total)})`;
      return { text: result.uri, note, json: result };
    }
    const results = await tracePackAll(logs, options);
    const fresh = results.filter((result) => !result.alreadyPresent);
    const stored = fresh.reduce((sum, result) => sum + result.bytes.stored, 0);
    const note = `packed ${plural(fresh.length, 'log')} (${formatBytes(stored)} stored); ${results.length - fresh.length} already in the pantry`;
    return {
      text: results.map((result) => result.uri).join('\n'),
      note,
      json: { packs: results.map((result, position) => ({ log: logs[position], ...result })) },
    };
  },
};

/** A log file as given, or a folder's *.json files in name order. */
function logsAt(given) {
  let stat;
  try {
    stat = fs.statSync(given);
  } catch (error) {
    throw toCtxpackError(error, given);
  }
  if (!stat.isDirectory()) return [given];
  return fs
    .readdirSync(given)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => path.join(given, name));
}
