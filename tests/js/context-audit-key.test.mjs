// The keyed audit log (issue 13): a rewrite that recomputes the chain without the audit key is refused; with the
// key it verifies; deleted and truncated entries are refused; logs from before keying are reported as unkeyed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, api, cli, tempDir } from './helpers.mjs';

const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));

/** A pantry with `n` audited events and its own key file. */
async function auditedHome(t, n = 4) {
  const home = tempDir(t);
  const keyFile = path.join(tempDir(t), 'ctxpack', 'audit.key');
  const env = { CTXPACK_AUDIT_KEY_FILE: keyFile };
  const previous = process.env.CTXPACK_AUDIT_KEY_FILE;
  process.env.CTXPACK_AUDIT_KEY_FILE = keyFile;
  t.after(() => {
    if (previous === undefined) delete process.env.CTXPACK_AUDIT_KEY_FILE;
    else process.env.CTXPACK_AUDIT_KEY_FILE = previous;
  });
  for (let i = 1; i <= n; i++) await api.appendContextAudit({ event: 'packet_built', task_id: `T-${i}` }, { home, now: new Date(Date.UTC(2026, 0, 2, 3, 4, i)) });
  const log = path.join(home, 'context', 'audit.jsonl');
  const head = path.join(home, 'context', 'audit.head');
  const verify = () => cli(['context', 'audit', '--verify', '--json'], { home, env });
  return { home, keyFile, env, log, head, verify };
}

const entries = (file) => fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));

/** JCS of the flat entries the log holds (strings and integers): keys sorted, no whitespace. */
const canonical = (entry) => JSON.stringify(Object.fromEntries(Object.entries(entry).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));

/** Edit entry `at` and recompute every hash after it: plain SHA-256 (`key` null) or through the core under `key`. */
function rewrite(list, at, key) {
  let head = null;
  const lines = [];
  for (const [i, original] of list.entries()) {
    const { seq, prev, hash, ...event } = original;
    if (i < at) {
      lines.push(canonical(original));
      head = { seq, hash };
      continue;
    }
    if (i === at) event.task_id = 'T-forged';
    if (key) {
      // The head a host passes is sealed with the key it writes with (the forger's own, here).
      const sealed = head && { ...head, mac: `hmac-sha256:${crypto.createHmac('sha256', key).update(`ctxpack audit head\n${head.seq}\n${head.hash}`).digest('hex')}` };
      const next = core.contextAuditNext(sealed, event, key);
      lines.push(next.line);
      head = next.head;
    } else {
      const entry = { ...event, seq, prev: head?.hash ?? `sha256:${'0'.repeat(64)}` };
      const digest = `sha256:${crypto.createHash('sha256').update(canonical(entry)).digest('hex')}`;
      lines.push(canonical({ ...entry, hash: digest }));
      head = { seq, hash: digest };
    }
  }
  return { text: `${lines.join('\n')}\n`, head };
}

test('audit key: created on first use outside the pantry, mode 0600; entries are HMAC-keyed', async (t) => {
  const { home, keyFile, log, verify } = await auditedHome(t);
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  assert.match(fs.readFileSync(keyFile, 'utf8'), /^[0-9a-f]{64}\n$/);
  assert.ok(!keyFile.startsWith(home));
  assert.ok(entries(log).every((entry) => entry.hash.startsWith('hmac-sha256:')));
  const ok = verify();
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual([ok.json().entries, ok.json().unkeyed], [4, 0]);
});

test('audit key: a rewrite recomputed without the key is refused, the same rewrite with the key verifies', async (t) => {
  const { keyFile, log, head, verify } = await auditedHome(t);
  const pristine = entries(log);
  const refused = (text, headValue, what, code = 'CTX_AUDIT_BROKEN') => {
    fs.writeFileSync(log, text);
    fs.writeFileSync(head, JSON.stringify(headValue));
    const result = verify();
    assert.equal(result.code, 1, `${what}: ${result.stdout}`);
    assert.match(`${result.stdout}${result.stderr}`, new RegExp(code), what);
  };
  const plain = rewrite(pristine, 1, null);
  refused(plain.text, plain.head, 'plain chain recomputed');
  const forger = rewrite(pristine, 1, crypto.randomBytes(32));
  refused(forger.text, forger.head, 'chain recomputed under another key');

  const key = Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'hex');
  const honest = rewrite(pristine, 1, key);
  fs.writeFileSync(log, honest.text);
  fs.writeFileSync(head, JSON.stringify(honest.head));
  const ok = verify();
  assert.equal(ok.code, 0, ok.stderr);

  // Deleted and truncated entries, with the head left as it is or rewritten (unsealed) to match.
  const lines = honest.text.trimEnd().split('\n');
  refused(`${lines.filter((_, i) => i !== 1).join('\n')}\n`, honest.head, 'deleted');
  refused(`${lines.slice(0, -1).join('\n')}\n`, honest.head, 'truncated');
  const cut = JSON.parse(lines[2]);
  refused(`${lines.slice(0, 3).join('\n')}\n`, { seq: 3, hash: cut.hash }, 'truncated, head rewritten without the key');

  // Without its key a keyed log cannot be checked.
  fs.writeFileSync(log, honest.text);
  fs.writeFileSync(head, JSON.stringify(honest.head));
  fs.rmSync(keyFile);
  refused(honest.text, honest.head, 'key file removed', 'CTX_AUDIT_KEY_MISSING');
});

test('audit key: a log from before keying is reported as unkeyed, and later appends are keyed', async (t) => {
  const { home, keyFile, log, head, env, verify } = await auditedHome(t, 0);
  const old = rewrite(
    [1, 2, 3].map((seq) => ({ event: 'packet_built', time: `2026-01-02T03:04:0${seq}Z`, task_id: `T-${seq}`, seq, prev: '', hash: '' })),
    0,
    null,
  );
  fs.mkdirSync(path.dirname(log), { recursive: true });
  fs.writeFileSync(log, old.text);
  fs.writeFileSync(head, JSON.stringify(old.head));
  assert.ok(!fs.existsSync(keyFile));
  const before = verify();
  assert.equal(before.code, 0, before.stderr);
  assert.equal(before.json().unkeyed, 3);
  const text = cli(['context', 'audit', '--verify'], { home, env });
  assert.match(text.stdout, /lines 1-3 are unkeyed, written before ctxpack keyed its audit log/);

  await api.appendContextAudit({ event: 'cache_hit', task_id: 'T-4' }, { home });
  assert.ok(fs.existsSync(keyFile));
  const after = verify();
  assert.equal(after.code, 0, after.stderr);
  assert.deepEqual([after.json().entries, after.json().unkeyed], [4, 3]);

  // Rewritten back to a plain chain throughout: refused, since the key exists and nothing is keyed.
  const downgraded = rewrite(entries(log), 3, null);
  fs.writeFileSync(log, downgraded.text);
  fs.writeFileSync(head, JSON.stringify(downgraded.head));
  assert.equal(verify().code, 1);
  const plainAll = rewrite(entries(log).slice(0, 3), 0, null);
  fs.writeFileSync(log, plainAll.text);
  fs.writeFileSync(head, JSON.stringify(plainAll.head));
  const all = verify();
  assert.equal(all.code, 1);
  assert.match(`${all.stdout}${all.stderr}`, /none of the 3 audit entries is keyed/);
});
