// `ctxpack context` (issue 5) end to end through the CLI and the JS API on a real project in a temporary
// directory: build (collect, redact, budget, hash, cache, audit), validate, redact (idempotent), budget order,
// hash, blocking of remote packets, the original policy.yaml and a gitleaks rule file, output safety, and audit
// tampering. The planted secrets are generated at run time and must never appear in any output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, api, cli, rejectsWithCode, tempDir, writeTree } from './helpers.mjs';

/** Deterministic pseudo-random characters, so the planted secrets have real entropy but no real value. */
function fakeSecret(alphabet, length, seed) {
  let state = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i += 1) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out += alphabet[(state >>> 16) % alphabet.length];
  }
  return out;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SECRETS = {
  stripe: `sk_live_${fakeSecret(ALNUM, 32, 1)}`,
  github: `ghp_${fakeSecret(ALNUM, 36, 2)}`,
  aws: `AKIA${fakeSecret('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, 3)}`,
  email: 'alice.smith@northwind-traders.com',
};

function assertNoSecret(text, where) {
  for (const [name, secret] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(secret), `the ${name} secret leaked into ${where}`);
  }
}

const CHARGE_PY = `"""Payment helpers."""
import os

def charge(amount: int, currency: str = "usd") -> dict:
    """Charge a card through Stripe and return the receipt."""
    api_key = "${SECRETS.stripe}"
    if amount <= 0:
        raise ValueError("amount must be positive")
    return {"amount": amount, "currency": currency}


class Ledger:
    """Keeps balances per account."""

    def post(self, entry):
        """Post an entry and sync the disk."""
        os.system("sync")
        return entry
`;

function makeProject(root, { task = {} } = {}) {
  writeProjectFiles(root);
  return writeTask(root, task);
}

function writeProjectFiles(root) {
  writeTree(root, {
    'src/payments/charge.py': CHARGE_PY,
    'src/web/server.js': `export function handle(request, response) {\n  // Questions: ${SECRETS.email}\n  response.end('ok');\n}\n`,
    'src/lib.rs': '/// Parses the configuration.\npub fn parse_config(text: &str) -> usize {\n    text.len()\n}\n',
    'config/settings.yaml': `region: eu-west-1\naws_access_key_id: ${SECRETS.aws}\n`,
    '.env': `GITHUB_TOKEN=${SECRETS.github}\n`,
    'docs/guide.md': '# Guide\n\nRefunds are issued within 30 days.\n',
    'node_modules/dep/index.js': 'module.exports = 1;\n',
  });
}

/** A task spec file (task-<id>.json) for the project in `root`. */
function writeTask(root, task = {}) {
  const spec = {
    task_id: 'TASK-42',
    task_type: 'code.generate',
    summary: 'Add refunds to the payment helpers',
    scope: { roots: ['.'], include: ['src/**', 'config/**', '.env', 'docs/**'] },
    constraints: { max_tokens: 20000 },
    target_file: 'src/payments/charge.py',
    target_symbol: 'charge',
    ...task,
  };
  const taskFile = path.join(root, `task-${spec.task_id}.json`);
  fs.writeFileSync(taskFile, JSON.stringify(spec, null, 2));
  return taskFile;
}

function context(home, args, options = {}) {
  const result = cli(['context', ...args], { home, ...options });
  assertNoSecret(result.stdout + result.stderr, `ctxpack context ${args[0]}`);
  return result;
}

function auditText(home) {
  const file = path.join(home, 'context', 'audit.jsonl');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

test('build: collects symbols, drops forbidden paths, masks secrets, flags forbidden calls, keeps the target', (t) => {
  const root = tempDir(t);
  const home = tempDir(t);
  const taskFile = makeProject(root);
  const out = path.join(root, 'packet.yaml');
  const built = context(home, ['build', '--task', taskFile, '--project', root, '-o', out]);
  assert.equal(built.code, 0, built.stderr);
  const packet = api.readContextDocument(out);
  assertNoSecret(fs.readFileSync(out, 'utf8'), 'the packet');

  assert.equal(packet.header.task_id, 'TASK-42');
  assert.equal(packet.header.privacy, 'local_only');
  assert.equal(packet.policy.remote_allowed, false);
  const names = packet.context.map((item) => item.name);
  assert.ok(names.includes('charge'), names.join(', '));
  assert.ok(names.some((name) => name.includes('Ledger')), names.join(', '));
  assert.ok(names.includes('parse_config'), names.join(', '));
  assert.ok(!packet.context.some((item) => item.path === '.env'), 'the .env item was dropped');
  assert.ok(!packet.context.some((item) => item.path?.startsWith('node_modules/')), 'outside the scope');
  const target = packet.context.find((item) => item.target);
  assert.equal(target?.name, 'charge');
  assert.equal(target.path, 'src/payments/charge.py');
  assert.match(target.signature, /def charge\(amount: int, currency: str = "usd"\) -> dict/);

  const records = packet.policy.redactions_applied;
  const dropped = records.find((record) => record.action === 'dropped' && record.path === '.env');
  assert.ok(dropped, JSON.stringify(records));
  assert.ok(records.some((record) => record.action === 'masked' && record.rule === 'aws-access-key-id'), JSON.stringify(records));
  assert.ok(records.some((record) => record.action === 'masked' && record.rule === 'email-address'), JSON.stringify(records));
  const flagged = records.find((record) => record.action === 'flagged');
  assert.match(flagged?.rule ?? '', /os\.system/);
  assert.match(target.snippet, /api_key = "\[REDACTED:stripe-secret-key\]"/);

  assert.equal(packet.provenance.packet_hash, context(home, ['hash', out]).stdout.trim());
  assert.match(packet.provenance.cache_key, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(
    packet.provenance.inputs.files.map((file) => file.path),
    ['config/settings.yaml', 'docs/guide.md', 'src/lib.rs', 'src/payments/charge.py', 'src/web/server.js'],
  );
  assert.equal(packet.provenance.inputs.forbidden_files, 1, 'the .env file is counted, never listed');
  assert.equal(context(home, ['validate', out]).code, 0);
  assertNoSecret(auditText(home), 'the audit log');
});

test('build: the cache hits when nothing changed and misses on a changed file, task id or policy', async (t) => {
  const root = tempDir(t);
  const home = tempDir(t);
  const taskFile = makeProject(root);
  const first = await api.buildContext(taskFile, { project: root, home });
  const again = await api.buildContext(taskFile, { project: root, home });
  assert.equal(first.cacheHit, false);
  assert.equal(again.cacheHit, true);
  assert.deepEqual(again.packet, first.packet);

  const otherTask = writeTask(root, { task_id: 'TASK-43' });
  const other = await api.buildContext(otherTask, { project: root, home });
  assert.equal(other.cacheHit, false, 'another task id is another packet (the original returned the first)');
  assert.notEqual(other.cacheKey, first.cacheKey);

  fs.appendFileSync(path.join(root, 'src', 'lib.rs'), '\npub fn extra() {}\n');
  const changed = await api.buildContext(taskFile, { project: root, home });
  assert.equal(changed.cacheHit, false);
  assert.notEqual(changed.cacheKey, first.cacheKey);

  fs.mkdirSync(path.join(root, '.intent', 'context'), { recursive: true });
  fs.writeFileSync(path.join(root, '.intent', 'context', 'policy.yaml'), 'version: "0.1"\nbudgets:\n  defaults:\n    max_tokens: 50000\n');
  const repolicied = await api.buildContext(taskFile, { project: root, home });
  assert.equal(repolicied.cacheHit, false);

  const expired = await api.buildContext(taskFile, { project: root, home, now: new Date(Date.now() + 25 * 3600 * 1000) });
  assert.equal(expired.cacheHit, false, 'older than the 24 h TTL');

  const events = auditText(home).trim().split('\n').map((line) => JSON.parse(line).event);
  assert.ok(events.includes('cache_hit'));
  assert.ok(events.filter((event) => event === 'packet_built').length >= 4);
});

test('build: a remote packet needs approval each time, cached or not', async (t) => {
  const root = tempDir(t);
  const home = tempDir(t);
  writeProjectFiles(root);
  const taskFile = writeTask(root, { privacy: 'remote_allowed' });
  const approved = await api.buildContext(taskFile, { project: root, home, approveRemote: true });
  assert.equal(approved.packet.header.privacy, 'remote_allowed');
  assert.equal(approved.packet.policy.remote_allowed, true);
  const error = await rejectsWithCode(api.buildContext(taskFile, { project: root, home }), 'CTX_PACKET_BLOCKED');
  assert.deepEqual(error.violations.map((v) => v.code), ['approval_required']);
  const cli = context(home, ['build', '--task', taskFile, '--project', root]);
  assert.equal(cli.code, 3, 'blocked on a cache hit too');
  const again = await api.buildContext(taskFile, { project: root, home, approveRemote: true });
  assert.equal(again.cacheHit, true);
});

test('build: a damaged cache entry is a miss, not an error, and is replaced', async (t) => {
  const root = tempDir(t);
  const home = tempDir(t);
  const taskFile = makeProject(root);
  const first = await api.buildContext(taskFile, { project: root, home });
  const entry = path.join(home, 'context', 'cache', `${first.cacheKey.slice('sha256:'.length)}.json`);
  const stored = JSON.parse(fs.readFileSync(entry, 'utf8'));
  stored.packet.problem.summary = 'tampered';
  fs.writeFileSync(entry, JSON.stringify(stored));
  const again = await api.buildContext(taskFile, { project: root, home });
  assert.equal(again.cacheHit, false);
  assert.equal(again.packet.problem.summary, 'Add refunds to the payment helpers');
});

test('budget: symbols before snippets before summaries, then priority, then order; target kept; drops recorded', async (t) => {
  const home = tempDir(t);
  const body = (n) => 'word '.repeat(n);
  const item = (name, item_type, extra = {}) => ({ name, item_type, source: 'filesystem', snippet: body(400), ...extra });
  const packet = packetWith([
    item('summary-a', 'summary'),
    item('snippet-a', 'snippet'),
    item('snippet-b', 'snippet', { priority: 5 }),
    item('symbol-a', 'symbol'),
    item('target-summary', 'summary', { target: true }),
    item('small-summary', 'summary', { snippet: 'tiny' }),
  ]);
  packet.constraints.max_tokens = 1000;
  // max_tokens bounds the packet as serialised: ~900 tokens for the target and the rest of the packet, ~500 per
  // 400-word item.
  const result = await api.budgetPacket(packet, { home, maxTokens: 1700 });
  const kept = result.packet.context.map((entry) => entry.name);
  assert.ok(kept.includes('target-summary'), 'the target is always kept');
  assert.ok(kept.includes('symbol-a'), 'a symbol goes before snippets');
  assert.ok(kept.includes('small-summary'), 'a later, smaller item still fits');
  assert.ok(!kept.includes('summary-a'));
  assert.deepEqual(kept, packet.context.map((entry) => entry.name).filter((name) => kept.includes(name)), 'document order kept');
  if (kept.includes('snippet-a')) assert.ok(kept.includes('snippet-b'), 'higher priority first among snippets');
  assert.ok(result.dropped.length >= 1);
  for (const dropped of result.dropped) assert.ok(['max_tokens', 'max_items'].includes(dropped.reason));
  assert.ok(result.tokensTotal <= 1700);

  const byItems = await api.budgetPacket(packet, { home, maxItems: 2, maxTokens: 100000 });
  assert.deepEqual(byItems.packet.context.map((entry) => entry.name), ['symbol-a', 'target-summary']);
  assert.ok(byItems.dropped.every((dropped) => dropped.reason === 'max_items'));

  const words = await api.budgetPacket(packet, { home, maxTokens: 1000, tokenizer: (text) => text.split(/\s+/).filter(Boolean).length });
  assert.ok(words.tokensTotal <= 1000);
  assert.notDeepEqual(words.packet.context.map((e) => e.tokens_est), result.packet.context.map((e) => e.tokens_est));
});

/** A minimal valid packet around `items`. */
function packetWith(items) {
  return {
    header: {
      packet_id: '7f9c2a1e-0000-4000-8000-000000000001',
      task_id: 'T-1',
      task_type: 'code.generate',
      created_at: '2026-11-23T12:00:00Z',
      builder_version: 'test',
      privacy: 'local_only',
    },
    problem: { summary: 'A test packet' },
    scope: { roots: ['.'] },
    constraints: { max_tokens: 100000, max_items: 50 },
    context: items,
    policy: { remote_allowed: false, redactions_applied: [] },
    provenance: { inputs: {}, packet_hash: '' },
  };
}

test('redact: idempotent, records every action, and a remote packet with a secret is blocked until redacted', async (t) => {
  const dir = tempDir(t);
  const home = tempDir(t);
  const packet = packetWith([
    { name: 'deploy', item_type: 'snippet', source: 'filesystem', path: 'ci/deploy.sh', snippet: `export GITHUB_TOKEN=${SECRETS.github}\nsubprocess.run(["make"])\n` },
    { name: 'key', item_type: 'code', source: 'filesystem', path: 'certs/server.pem', snippet: 'not shown' },
    { name: 'notes', item_type: 'summary', source: 'filesystem', summary: `Mail ${SECRETS.email} about it` },
  ]);
  packet.header.privacy = 'remote_allowed';
  packet.policy.remote_allowed = true;
  const raw = path.join(dir, 'raw.json');
  fs.writeFileSync(raw, JSON.stringify(packet));

  const blocked = context(home, ['validate', raw]);
  assert.equal(blocked.code, 3, blocked.stdout + blocked.stderr);
  assert.match(blocked.stdout, /secret/);

  // code.generate is a task type the default policy reserves for approval before it goes remote.
  const pending = path.join(dir, 'pending.yaml');
  const unapproved = context(home, ['redact', raw, '-o', pending]);
  assert.equal(unapproved.code, 3);
  assert.match(unapproved.stderr, /header\.task_type: approval_required/);
  assert.ok(!fs.existsSync(pending), 'a blocked packet is not written');
  const once = path.join(dir, 'once.yaml');
  assert.equal(context(home, ['redact', raw, '-o', once, '--approve-remote']).code, 0);
  const twice = path.join(dir, 'twice.yaml');
  assert.equal(context(home, ['redact', once, '-o', twice, '--approve-remote']).code, 0);
  assert.equal(fs.readFileSync(twice, 'utf8'), fs.readFileSync(once, 'utf8'), 'redacting twice changes nothing');

  const redacted = api.readContextDocument(once);
  assert.deepEqual(redacted.context.map((item) => item.name), ['deploy', 'notes']);
  assert.ok(redacted.context[0].snippet.includes('[REDACTED:github-personal-access-token]'));
  const records = redacted.policy.redactions_applied;
  for (const record of records) {
    for (const key of ['item_name', 'action', 'rule', 'reason', 'count']) assert.ok(key in record, `${key} in ${JSON.stringify(record)}`);
  }
  assert.ok(records.some((r) => r.item_name === 'key' && r.action === 'dropped'));
  assert.ok(records.some((r) => r.item_name === 'deploy' && r.action === 'flagged' && /subprocess\.run/.test(r.rule)));
  assert.equal(context(home, ['validate', once, '--approve-remote']).code, 0, 'nothing left to block after redaction');
  const events = auditText(home).trim().split('\n').map((line) => JSON.parse(line));
  assert.ok(events.some((e) => e.event === 'remote_route_requested' && e.approved === true));
  assert.ok(events.some((e) => e.event === 'packet_blocked' && e.codes.includes('approval_required')));

  const local = path.join(dir, 'local-only.json');
  const secretPacket = packetWith([{ name: 'x', item_type: 'snippet', source: 'filesystem', snippet: SECRETS.aws }]);
  fs.writeFileSync(local, JSON.stringify(secretPacket));
  assert.equal(context(home, ['validate', local]).code, 0, 'a local_only packet may hold what the local model may see');

  const alwaysLocal = packetWith([]);
  alwaysLocal.header.task_type = 'secrets.scan';
  alwaysLocal.header.privacy = 'remote_allowed';
  alwaysLocal.policy.remote_allowed = true;
  const alwaysLocalFile = path.join(dir, 'always-local.json');
  fs.writeFileSync(alwaysLocalFile, JSON.stringify(alwaysLocal));
  const refused = context(home, ['validate', alwaysLocalFile, '--json']);
  assert.equal(refused.code, 3);
  assert.ok(refused.json().blocked.some((violation) => violation.code === 'always_local'));

  const dropPolicy = api.loadContextPolicy({
    project: dir,
    policy: writePolicy(dir, 'redaction:\n  strategies:\n    secrets:\n      action: remove_item\n'),
  }).policy;
  const removed = await api.redactPacket(raw, { home, policy: dropPolicy, approveRemote: true });
  assert.ok(!removed.packet.context.some((item) => item.name === 'deploy'), 'remove_item drops the item holding a secret');
  assertNoSecret(auditText(home), 'the audit log');
});

function writePolicy(dir, text) {
  const file = path.join(dir, `policy-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

test('validate: every violation with its path and a stable code', (t) => {
  const dir = tempDir(t);
  const home = tempDir(t);
  const packet = packetWith([
    { name: 'a', item_type: 'widget', source: 'filesystem', path: '/etc/passwd' },
    { item_type: 'symbol', source: 'filesystem', path: '.ssh/id_rsa', tokens_est: 300000 },
  ]);
  packet.constraints.forbidden_paths = ['.ssh/**'];
  packet.header.privacy = 'remote_allowed';
  delete packet.problem;
  const file = path.join(dir, 'bad.json');
  fs.writeFileSync(file, JSON.stringify(packet));
  const result = context(home, ['validate', file, '--json']);
  assert.equal(result.code, 1);
  const found = result.json().violations.map((violation) => `${violation.path} ${violation.code}`);
  for (const expected of [
    'problem required',
    'context[0].item_type enum',
    'context[0].path absolute_path',
    'context[1].name required',
    'context[1].path forbidden_path',
    'policy.remote_allowed privacy_mismatch',
    'context token_budget',
  ]) {
    assert.ok(found.some((line) => line.startsWith(expected.split(' ')[0]) && line.endsWith(expected.split(' ')[1])), `${expected} in ${found.join('; ')}`);
  }
  const events = auditText(home).trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(events.at(-1).event, 'validation_failed');
});

test('the original policy.yaml and schema.yaml are enforced, and gitleaks rules are loaded', async (t) => {
  const root = tempDir(t);
  const home = tempDir(t);
  const taskFile = makeProject(root, { task: { task_type: 'docstring.fix', constraints: undefined } });
  fs.mkdirSync(path.join(root, '.intent', 'context'), { recursive: true });
  const original = fs.readFileSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'context', 'policy.yaml'), 'utf8');
  fs.writeFileSync(path.join(root, '.intent', 'context', 'policy.yaml'), original);
  fs.appendFileSync(path.join(root, 'docs', 'guide.md'), '\nInternal ticket ACME-TICKET-99812 tracks it.\n');
  fs.writeFileSync(
    path.join(root, '.gitleaks.toml'),
    '[[rules]]\nid = "acme-ticket"\ndescription = "ACME ticket ids are confidential"\nregex = \'\'\'ACME-TICKET-\\d{5}\'\'\'\nkeywords = ["acme-ticket"]\n',
  );
  const { packet } = await api.buildContext(taskFile, { project: root, home });
  assert.equal(packet.constraints.max_tokens, 10000, 'docstring.fix budget from policy.yaml');
  assert.equal(packet.constraints.max_items, 10);
  assert.ok(packet.constraints.forbidden_paths.includes('.secrets/**'));
  assert.ok(packet.policy.redactions_applied.some((record) => record.rule === 'acme-ticket'), 'the gitleaks rule ran');
  assert.ok(!JSON.stringify(packet.context).includes('ACME-TICKET-99812'));
  assertNoSecret(JSON.stringify(packet), 'the packet');
  // The original's `secrets.action: remove_item`: the item holding the Stripe key is dropped, and says why (its
  // own "API key pattern" regex matches from `api_key`, before the built-in Stripe rule does).
  assert.ok(!packet.context.some((item) => item.name === 'charge'));
  const drop = packet.policy.redactions_applied.find((r) => r.item_name === 'charge');
  assert.deepEqual([drop?.action, drop?.rule], ['dropped', 'policy.api-key-pattern']);

  // The original schema.yaml narrows task_type to its five values.
  fs.copyFileSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'context', 'schema.yaml'), path.join(root, '.intent', 'context', 'schema.yaml'));
  const scan = packetWith([]);
  scan.header.task_type = 'security.audit';
  const scanFile = path.join(root, 'scan.json');
  fs.writeFileSync(scanFile, JSON.stringify(scan));
  const refused = context(home, ['validate', scanFile, '--project', root, '--json']);
  assert.equal(refused.code, 1);
  assert.deepEqual(refused.json().violations.map((v) => `${v.path} ${v.code}`), ['header.task_type enum']);
  assert.equal(context(home, ['validate', scanFile, '--json']).code, 0, 'the built-in schema knows security.audit');
});

test('outputs never replace a file without --force; bad input writes nothing', (t) => {
  const root = tempDir(t);
  const home = tempDir(t);
  const taskFile = makeProject(root);
  const out = path.join(root, 'existing.yaml');
  fs.writeFileSync(out, 'precious');
  const refused = context(home, ['build', '--task', taskFile, '--project', root, '-o', out]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /CTX_TARGET_EXISTS/);
  assert.equal(fs.readFileSync(out, 'utf8'), 'precious');
  assert.equal(context(home, ['build', '--task', taskFile, '--project', root, '-o', out, '--force']).code, 0);
  assert.match(fs.readFileSync(out, 'utf8'), /^header:/);

  const broken = path.join(root, 'broken.yaml');
  fs.writeFileSync(broken, 'header: [unclosed\n');
  const target = path.join(root, 'never.yaml');
  const bad = context(home, ['redact', broken, '-o', target]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /CTX_YAML_INVALID/);
  assert.ok(!fs.existsSync(target));
});

test('show and hash: YAML and JSON packets, hash independent of packet_id and created_at', (t) => {
  const dir = tempDir(t);
  const home = tempDir(t);
  const packet = packetWith([{ name: 'f', item_type: 'symbol', source: 'filesystem', path: 'a.py', signature: 'def f()' }]);
  const a = path.join(dir, 'a.json');
  fs.writeFileSync(a, JSON.stringify(packet));
  packet.header.packet_id = 'another-id';
  packet.header.created_at = '2027-01-01T00:00:00Z';
  const b = path.join(dir, 'b.yaml');
  fs.writeFileSync(b, api.formatContextDocument(packet));
  const hashA = context(home, ['hash', a]).stdout.trim();
  assert.match(hashA, /^sha256:[0-9a-f]{64}$/);
  assert.equal(context(home, ['hash', b]).stdout.trim(), hashA);
  packet.problem.summary = 'changed';
  assert.notEqual(api.hashPacket(packet), hashA);
  assert.equal(context(home, ['hash', a, '--check']).code, 1, 'provenance.packet_hash is empty');
  const shown = context(home, ['show', b]);
  assert.equal(shown.code, 0);
  assert.match(shown.stdout, /task\s+T-1 \(code\.generate\)/);
  assert.match(shown.stdout, /symbol\s+\?\s+f\s+a\.py/);
});

test('audit: the chain verifies, and an edited, removed or truncated line is detected', async (t) => {
  const root = tempDir(t);
  const home = tempDir(t);
  const taskFile = makeProject(root);
  await api.buildContext(taskFile, { project: root, home });
  await api.buildContext(taskFile, { project: root, home });
  await api.buildContext(writeTask(root, { task_id: 'T-2' }), { project: root, home });
  const ok = context(home, ['audit', '--verify']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /ok: \d+ entries/);
  const listing = context(home, ['audit']);
  assert.match(listing.stdout, /packet_built/);
  assert.match(listing.stdout, /cache_hit/);

  const file = path.join(home, 'context', 'audit.jsonl');
  const pristine = fs.readFileSync(file, 'utf8');
  const lines = pristine.trimEnd().split('\n');
  const check = (text, what) => {
    fs.writeFileSync(file, text);
    const result = context(home, ['audit', '--verify']);
    assert.equal(result.code, 1, `${what}: ${result.stdout}`);
    assert.match(result.stderr, /CTX_AUDIT_BROKEN/, what);
  };
  check(`${lines.map((line, i) => (i === 1 ? line.replace('"packet_built"', '"packet_xbuilt"') : line)).join('\n')}\n`, 'edited');
  check(`${lines.filter((_, i) => i !== 1).join('\n')}\n`, 'removed');
  check(`${lines.slice(0, -1).join('\n')}\n`, 'truncated');
  check(`${[lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n')}\n`, 'reordered');
  fs.writeFileSync(file, pristine);
  assert.equal(context(home, ['audit', '--verify']).code, 0);
  await rejectsWithCode(async () => {
    fs.writeFileSync(file, lines.slice(1).join('\n') + '\n');
    await api.buildContext(taskFile, { project: root, home, cache: false });
  }, 'CTX_AUDIT_BROKEN');
});

test('--tokenizer plugs an exact tokenizer into budget and build; a bad module is a usage error', (t) => {
  const dir = tempDir(t);
  const home = tempDir(t);
  const words = path.join(dir, 'words.mjs');
  fs.writeFileSync(words, 'export default (text) => text.split(/\\s+/).filter(Boolean).length;\n');
  const packet = packetWith([{ name: 'f', item_type: 'snippet', source: 'filesystem', snippet: 'one two three four five' }]);
  const file = path.join(dir, 'p.json');
  fs.writeFileSync(file, JSON.stringify(packet));
  const counted = context(home, ['budget', file, '--tokenizer', words, '--json']);
  assert.equal(counted.code, 0, counted.stderr);
  // The item as serialised (its indented JSON has more words than its YAML), tokens_est at its widest.
  const item = counted.json().packet.context[0];
  const wordsOf = (text) => text.split(/\s+/).filter(Boolean).length;
  const serialised = wordsOf(JSON.stringify([{ ...item, tokens_est: 999999 }], null, 2));
  assert.equal(item.tokens_est, serialised);
  const estimated = context(home, ['budget', file, '--json']).json().packet.context[0].tokens_est;
  assert.notEqual(estimated, serialised);

  const bad = path.join(dir, 'bad.mjs');
  fs.writeFileSync(bad, 'export default 42;\n');
  const refused = context(home, ['budget', file, '--tokenizer', bad]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /CTX_USAGE/);
});
