import { auditVerify } from '../../context/audit.mjs';
import { masked, positiveInteger } from './shared.mjs';

export default {
  name: 'context audit',
  synopsis: 'context audit [--verify] [--tail <n>]',
  summary: 'show the audit log of builds, cache hits, redactions, trims and blocks; check its hash chain',
  details: `The log is <home>/context/audit.jsonl: one JSON line per event, each holding the hash of the one
before it, with the head (last seq and hash) in audit.head. Hashes are HMAC-SHA256 under the audit key,
kept outside the pantry ($CTXPACK_AUDIT_KEY_FILE, else audit.key beside the config file,
~/.config/ctxpack/audit.key; created on first use, mode 0600), so a rewrite that recomputes the chain
without the key is refused. Any edited, removed, reordered or truncated line breaks the chain: --verify
exits 1 and names the first bad line (CTX_AUDIT_BROKEN); a keyed log without its key is
CTX_AUDIT_KEY_MISSING. Entries written before logs were keyed are reported as unkeyed: only their plain
chain is checked. Lines never hold secrets: redactions are recorded by rule id and count.`,
  options: { verify: { type: 'boolean' }, tail: { type: 'string' } },
  optionLines: ['  --verify     check the chain only; print the number of entries and the head', '  --tail <n>   show the last n events (default 20)'],
  positionals: [0, 0],
  async run({ values, home }) {
    const report = auditVerify({ home });
    if (values.verify) {
      const head = report.head ? `seq ${report.head.seq}, ${report.head.hash}` : 'empty';
      const lines = [`ok: ${report.entries} entries, chain intact (head ${head})`];
      if (report.unkeyed > 0) {
        const range = report.unkeyed === 1 ? 'line 1 is' : `lines 1-${report.unkeyed} are`;
        lines.push(`note: ${range} unkeyed, written before ctxpack keyed its audit log: only their plain hash chain is checked, so anyone who could write the log could have rewritten them; later lines are keyed with ${report.keyFile}`);
      }
      return { text: lines.join('\n'), json: { ok: true, entries: report.entries, unkeyed: report.unkeyed, keyFile: report.keyFile, head: report.head } };
    }
    const tail = positiveInteger(values, 'tail') ?? 20;
    const shown = report.events.slice(-tail);
    const lines = shown.map((event) => {
      const { seq, time, event: kind, prev: _prev, hash: _hash, ...rest } = event;
      const details = Object.entries(rest)
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      // Logs written before events were masked at append time may still quote a task id that is a token.
      return masked(`${String(seq).padStart(5)}  ${time}  ${kind.padEnd(17)} ${details}`);
    });
    return { text: lines.join('\n') || '(no events)', json: shown };
  },
};
