import { validatePacket } from '../../context/operations.mjs';
import { POLICY_HELP_LINES, POLICY_OPTIONS, loadPolicy, violationLines } from './shared.mjs';

export default {
  name: 'context validate',
  synopsis: 'context validate <packet>',
  summary: 'check a packet against the schema, its budgets, forbidden paths and routing',
  details: `Every violation is listed as "path: code message" (codes are stable; see docs/spec.md). A packet
marked remote_allowed is also checked as if it were about to be sent: a secret left in it, a forbidden
path or an always_local task type blocks it, and so does a task type or sensitive directory the policy
reserves for approval, unless --approve-remote.
Exit 0 valid, 1 invalid, 3 blocked.`,
  options: POLICY_OPTIONS,
  optionLines: POLICY_HELP_LINES,
  positionals: [1, 1],
  async run({ values, positionals, home }) {
    const result = await validatePacket(positionals[0], { policy: loadPolicy(values), home, approveRemote: values['approve-remote'] });
    const lines = [];
    if (result.valid && result.blocked.length === 0) lines.push(`ok: ${positionals[0]} is a valid context packet`);
    if (!result.valid) lines.push(`invalid: ${positionals[0]}`, ...violationLines(result.violations));
    if (result.blocked.length > 0) lines.push('blocked: may not be sent to a remote model', ...violationLines(result.blocked));
    const exitCode = !result.valid ? 1 : result.blocked.length > 0 ? 3 : 0;
    return { text: lines.join('\n'), json: result, exitCode };
  },
};
