import { redactPacket } from '../../context/operations.mjs';
import { plural } from '../../format.mjs';
import { OUTPUT_HELP_LINES, OUTPUT_OPTIONS, POLICY_HELP_LINES, POLICY_OPTIONS, emitDocument, loadPolicy } from './shared.mjs';

export default {
  name: 'context redact',
  synopsis: 'context redact <packet> [-o <file>]',
  summary: 'mask secrets and PII, drop forbidden paths, flag forbidden calls',
  details: `Secrets become [REDACTED:<rule-id>]; each action is recorded in policy.redactions_applied
(item, field, action, rule, reason, count) and in the audit log. Redacting twice changes nothing.
A remote_allowed packet that still breaks a routing rule afterwards is not written: exit 3.`,
  options: { ...POLICY_OPTIONS, ...OUTPUT_OPTIONS },
  optionLines: [...POLICY_HELP_LINES, ...OUTPUT_HELP_LINES],
  positionals: [1, 1],
  async run({ values, positionals, home, json }) {
    const { packet, applied } = await redactPacket(positionals[0], { policy: loadPolicy(values), home, approveRemote: values['approve-remote'] });
    const count = applied.reduce((sum, record) => sum + record.count, 0);
    const note = `redacted: ${plural(applied.length, 'action')} (${plural(count, 'match', 'matches')})${values.output ? ` → ${values.output}` : ''}`;
    return { text: emitDocument(packet, values, json), json: { packet, applied }, note };
  },
};
