import fs from 'node:fs';
import path from 'node:path';
import { formatForPath } from '../../context/documents.mjs';
import { redactPacket, redactPacketFile } from '../../context/operations.mjs';
import { CtxpackError } from '../../errors.mjs';
import { plural } from '../../format.mjs';
import { writeFileAtomic } from '../../pantry.mjs';
import { usageError } from '../shared.mjs';
import { OUTPUT_HELP_LINES, OUTPUT_OPTIONS, POLICY_HELP_LINES, POLICY_OPTIONS, emitDocument, loadPolicy, positiveInteger } from './shared.mjs';

export default {
  name: 'context redact',
  synopsis: 'context redact <packet> [-o <file>]',
  summary: 'mask secrets and PII, drop forbidden paths, flag forbidden calls',
  details: `Secrets become [REDACTED:<rule-id>]; each action is recorded in policy.redactions_applied
(item, field, action, rule, reason, count) and in the audit log. Redacting twice changes nothing.
A remote_allowed packet that still breaks a routing rule afterwards is not written: exit 3.
Packets over 16 MiB are refused unless --max-document-bytes allows them (memory: about 6 bytes per byte).`,
  options: { ...POLICY_OPTIONS, ...OUTPUT_OPTIONS, 'max-document-bytes': { type: 'string' } },
  optionLines: [
    ...POLICY_HELP_LINES,
    ...OUTPUT_HELP_LINES,
    '  --max-document-bytes <n>  read packets up to <n> bytes (default 16777216, 16 MiB)',
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
    // The core parses, redacts and writes the packet: it reaches JavaScript only as the bytes to write.
    const { bytes, applied } = await redactPacketFile(positionals[0], { ...options, format });
    if (values.output !== undefined) writeOutput(values.output, bytes, values.force);
    else await writeStdout(bytes);
    return { note: summary(applied) };
  },
};

function exists(file) {
  return new CtxpackError('CTX_TARGET_EXISTS', `${file} already exists`, { subject: file, hint: 'choose another output file, or pass --force to replace it' });
}

function writeOutput(file, bytes, force) {
  if (!force && fs.existsSync(file)) throw exists(file);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(file, bytes);
}

/** The packet on stdout, waiting for a pipe to take it (a 50 MB packet is far more than a pipe buffers). */
function writeStdout(bytes) {
  return new Promise((resolve, reject) => process.stdout.write(bytes, (error) => (error ? reject(error) : resolve())));
}
