import fs from 'node:fs';
import { formatForPath } from '../../context/documents.mjs';
import { redactPacket, redactPacketFile } from '../../context/operations.mjs';
import { CtxpackError } from '../../errors.mjs';
import { plural } from '../../format.mjs';
import { usageError } from '../shared.mjs';
import { OUTPUT_HELP_LINES, OUTPUT_OPTIONS, POLICY_HELP_LINES, POLICY_OPTIONS, emitDocument, loadPolicy, positiveInteger } from './shared.mjs';

export default {
  name: 'context redact',
  synopsis: 'context redact <packet> [-o <file>]',
  summary: 'mask secrets and PII, drop forbidden paths, flag forbidden calls',
  details: `Secrets become [REDACTED:<rule-id>]; each action is recorded in policy.redactions_applied
(item, field, action, rule, reason, count) and in the audit log. Redacting twice changes nothing.
A remote_allowed packet that still breaks a routing rule afterwards is not written: exit 3.
A YAML packet streams item by item, whatever its size; an item (or the packet without its items) over
16 MiB is refused unless --max-document-bytes allows it. JSON packets, and --json, read the packet whole
(up to 16 MiB, or --max-document-bytes; memory: about 6 bytes per byte).`,
  options: { ...POLICY_OPTIONS, ...OUTPUT_OPTIONS, 'max-document-bytes': { type: 'string' } },
  optionLines: [
    ...POLICY_HELP_LINES,
    ...OUTPUT_HELP_LINES,
    '  --max-document-bytes <n>  read items (and whole JSON packets) up to <n> bytes (default 16777216, 16 MiB)',
  ],
  positionals: [1, 1],
  async run({ values, positionals, home, json }) {
    const options = { policy: loadPolicy(values), home, approveRemote: values['approve-remote'], maxBytes: positiveInteger(values, 'max-document-bytes') };
    const summary = (applied) => {
      const count = applied.reduce((sum, record) => sum + record.count, 0);
      return `redacted: ${plural(applied.length, 'action')} (${plural(count, 'match', 'matches')})${values.output ? ` → ${values.output}` : ''}`;
    };
    if (json) {
      const { packet, applied } = await redactPacket(positionals[0], options);
      return { text: emitDocument(packet, values, json), json: { packet, applied }, note: summary(applied) };
    }
    const format = values.output !== undefined ? formatForPath(values.output) : values.format ?? 'yaml';
    if (format !== 'yaml' && format !== 'json') throw usageError(`--format must be yaml or json, got ${JSON.stringify(format)}`);
    if (values.output !== undefined && !values.force && fs.existsSync(values.output)) throw exists(values.output);
    // The core reads, redacts and writes the packet item by item: it reaches JavaScript only as bytes.
    const { applied } = await redactPacketFile(positionals[0], values.output, { ...options, format });
    return { note: summary(applied) };
  },
};

function exists(file) {
  return new CtxpackError('CTX_TARGET_EXISTS', `${file} already exists`, { subject: file, hint: 'choose another output file, or pass --force to replace it' });
}
