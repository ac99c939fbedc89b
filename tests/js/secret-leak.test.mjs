// No secret in any message (issue 10 §4): packets that plant an AWS key, a GitHub token, a password assignment
// and a PEM private key in every place a message could quote (enum values, paths, keys, over-long texts,
// forbidden globs, task ids, YAML duplicate keys, task specs) fail validation in many ways, and `context
// validate/redact/hash/build`, with and without --json (and `show`, `budget -o`), must not print any of them on
// stdout or stderr, nor write one into the audit log. The secrets are generated at run time (this file holds none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cli, tempDir, writeTree } from './helpers.mjs';

/** Deterministic pseudo-random characters: real entropy, no real value. */
function fake(alphabet, length, seed) {
  let state = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i += 1) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out += alphabet[(state >>> 16) % alphabet.length];
  }
  return out;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64 = `${ALNUM}+/`;
const AWS = `AKIA${fake('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, 11)}`;
const GITHUB = `gh${'p'}_${fake(ALNUM, 36, 12)}`;
const PASSWORD = `Zq8${fake(ALNUM, 17, 13)}`;
const PEM_LINES = Array.from({ length: 6 }, (_, i) => fake(BASE64, 64, 20 + i));
const PEM = `-----BEGIN RSA ${'PRIVATE'} KEY-----\n${PEM_LINES.join('\n')}\n-----END RSA ${'PRIVATE'} KEY-----`;
/** What must never be printed: each secret, and each line of the key's body. */
const NEEDLES = { aws: AWS, github: GITHUB, password: PASSWORD, ...Object.fromEntries(PEM_LINES.map((line, i) => [`pem line ${i}`, line])) };

function assertClean(text, where) {
  for (const [name, needle] of Object.entries(NEEDLES)) assert.ok(!text.includes(needle), `the ${name} leaked into ${where}:\n${text}`);
}

/** A packet that breaks the schema in many ways, each time with a secret where the value is. */
function brokenPacket() {
  return {
    header: {
      packet_id: 'p-1',
      task_id: GITHUB,
      task_type: AWS,
      created_at: `db_password = "${PASSWORD}"`,
      builder_version: 'test',
      privacy: GITHUB,
      [GITHUB]: 'unknown field named like a token',
      [`db_password=${PASSWORD}`]: 1,
    },
    problem: { summary: `${'x'.repeat(500)} db_password = "${PASSWORD}" ${AWS}`, acceptance: [PEM] },
    scope: { roots: [`/srv/${AWS}`], traversal_depth: `password: "${PASSWORD}"` },
    constraints: { max_tokens: 500, forbidden_paths: [`**/${AWS}/**`, `[${GITHUB}`], forbidden_calls: [PEM] },
    context: [
      { name: GITHUB, path: `/home/me/${AWS}/a.py`, item_type: `db_password=${PASSWORD}`, source: GITHUB, snippet: PEM, span: { start: 9, end: 2 } },
      { name: 'b', path: `x/${AWS}/b.py`, item_type: 'code', source: 'filesystem', hash: AWS, tokens_est: GITHUB },
      { name: 'c', path: `../${GITHUB}`, item_type: 'code', source: 'filesystem', summary: `${PEM}${'y'.repeat(1000)}` },
    ],
    policy: { remote_allowed: GITHUB, redactions_applied: [{ item_name: AWS, reason: PASSWORD, action: GITHUB }] },
    provenance: { inputs: { files: [{ path: `/${AWS}`, digest: GITHUB, size: -1 }] }, packet_hash: AWS },
    attachments: [{ name: 'key', content: PEM, [AWS]: true }],
  };
}

/** A well-formed remote_allowed packet whose texts still hold every secret: blocked until redacted. */
function unredactedPacket() {
  return {
    header: { packet_id: 'p-2', task_id: 'TASK-7', task_type: 'code.generate', created_at: '2026-01-02T03:04:05Z', builder_version: 'test', privacy: 'remote_allowed' },
    problem: { summary: `rotate ${AWS}`, acceptance: [`db_password = "${PASSWORD}" is gone`] },
    scope: { roots: ['src'] },
    constraints: { max_tokens: 20000 },
    context: [
      { name: 'config', path: 'src/config.py', item_type: 'code', source: 'filesystem', signature: `TOKEN = "${GITHUB}"`, snippet: `KEY = """${PEM}"""\ndb_password = "${PASSWORD}"\n` },
    ],
    policy: { remote_allowed: true },
    provenance: { inputs: {}, packet_hash: '' },
    attachments: [{ name: 'notes', content: `aws_access_key_id = ${AWS}` }],
  };
}

function project(t) {
  const root = tempDir(t);
  writeTree(root, {
    'broken.json': JSON.stringify(brokenPacket(), null, 2),
    'unredacted.json': JSON.stringify(unredactedPacket(), null, 2),
    // A duplicate key that is itself a token: the parser's report must not quote it.
    'duplicate.yaml': `header:\n  ${GITHUB}: 1\n  ${GITHUB}: 2\n`,
    'duplicate.json': `{"${AWS}": 1, "${AWS}": 2}`,
    'src/config.py': `TOKEN = "${GITHUB}"\nAWS_KEY = "${AWS}"\ndb_password = "${PASSWORD}"\nKEY = """${PEM}"""\n\ndef connect():\n    return TOKEN\n`,
    'src/app.py': `def main():\n    """Start; the admin db_password = "${PASSWORD}"."""\n    return 1\n`,
    'task.json': JSON.stringify({ task_id: 'TASK-9', task_type: 'code.generate', summary: `use ${GITHUB} and ${AWS}`, scope: { roots: ['src'] }, privacy: 'remote_allowed' }),
    'task-local.json': JSON.stringify({ task_id: 'TASK-10', task_type: 'code.generate', summary: `password: "${PASSWORD}"`, scope: { roots: ['src'] } }),
    'bad-task.json': JSON.stringify({ task_id: AWS, task_type: 'code.generate', privacy: GITHUB, summary: PEM, scope: { roots: [`/${AWS}`], [GITHUB]: 1 }, target_file: `../${PASSWORD}` }),
  });
  return root;
}

function run(home, root, args, expectedCodes) {
  const result = cli(['context', ...args], { home, cwd: root });
  const where = `ctxpack context ${args.join(' ')} (exit ${result.code})`;
  assertClean(result.stdout, `stdout of ${where}`);
  assertClean(result.stderr, `stderr of ${where}`);
  assert.ok(expectedCodes.includes(result.code), `${where}: ${result.stderr}`);
  return result;
}

test('validate, redact, hash and build print no planted secret, with or without --json, and audit none', (t) => {
  const root = project(t);
  const home = tempDir(t);
  for (const json of [[], ['--json']]) {
    const invalid = run(home, root, ['validate', 'broken.json', ...json], [1]);
    if (json.length > 0) {
      const codes = new Set(invalid.json().violations.map((violation) => violation.code));
      for (const code of ['enum', 'unknown_field', 'absolute_path', 'format', 'max_length', 'type', 'range']) assert.ok(codes.has(code), `${code} in ${[...codes]}`);
    } else {
      assert.match(invalid.stdout, /header\.\[REDACTED:github-personal-access-token\]: unknown_field/);
    }
    run(home, root, ['validate', 'unredacted.json', ...json], [3]);
    for (const file of ['duplicate.yaml', 'duplicate.json']) run(home, root, ['validate', file, ...json], [1]);

    run(home, root, ['redact', 'broken.json', ...json], [1]);
    const redacted = run(home, root, ['redact', 'unredacted.json', '--approve-remote', '--format', 'json', ...json], [0]);
    assert.match(redacted.stdout, /\[REDACTED:/);

    run(home, root, ['hash', 'broken.json', ...json], [1]);
    run(home, root, ['hash', 'unredacted.json', ...json], [0]);
    run(home, root, ['hash', 'duplicate.yaml', ...json], [1]);

    run(home, root, ['build', '--task', 'task.json', '--project', root, ...json], [3]);
    run(home, root, ['build', '--task', 'task-local.json', '--project', root, '--no-cache', ...json], [0]);
    run(home, root, ['build', '--task', 'bad-task.json', '--project', root, ...json], [1]);
    run(home, root, ['audit', ...json], [0]);
    // Summaries for people quote packet text: masked too.
    if (json.length === 0) {
      run(home, root, ['show', 'unredacted.json'], [0]);
      run(home, root, ['budget', 'unredacted.json', '--max-tokens', '1000', '-o', path.join(root, `budgeted-${json.length}.json`), '--force'], [0]);
    }
  }
  const audit = fs.readFileSync(path.join(home, 'context', 'audit.jsonl'), 'utf8');
  assertClean(audit, 'the audit log');
  const events = audit.trim().split('\n').map((line) => JSON.parse(line));
  for (const event of ['validation_failed', 'packet_blocked', 'redaction_applied', 'packet_built']) {
    assert.ok(events.some((entry) => entry.event === event), `${event} in ${events.map((entry) => entry.event)}`);
  }
  // The invalid packet's task id was a token: the audit names it by the rule that matched.
  assert.ok(events.some((entry) => entry.task_id === '[REDACTED:github-personal-access-token]'), JSON.stringify(events));
  assert.equal(cli(['context', 'audit', '--verify'], { home }).code, 0, 'the chain holds over masked entries');
});
