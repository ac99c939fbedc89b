// A context document over the core's 16 MiB limit is refused before it is read, with an error that names the
// limit and the option that keeps packets small (not a YAML syntax hint); `context redact` streams a YAML packet
// item by item instead, whatever its size, and holds the limit to one item.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, api, cli, tempDir } from './helpers.mjs';

test('a packet over 16 MiB is CTX_LIMIT_EXCEEDED naming the limit and --max-file-bytes', (t) => {
  const dir = tempDir(t);
  const big = path.join(dir, 'big.json');
  const fd = fs.openSync(big, 'w');
  fs.writeSync(fd, '{');
  fs.ftruncateSync(fd, 16 * 1024 * 1024 + 1);
  fs.closeSync(fd);
  for (const command of ['redact', 'validate', 'hash']) {
    const result = cli(['context', command, big, '--json'], { home: path.join(dir, 'home') });
    assert.equal(result.code, 1, result.stderr);
    const { error } = result.json();
    assert.equal(error.code, 'CTX_LIMIT_EXCEEDED', command);
    assert.match(error.message, /16,777,217 bytes; context documents are read up to 16,777,216 bytes/);
    assert.match(error.hint, /--max-file-bytes/);
  }
});

/** A valid packet of `count` items, each a 4,000-character snippet; every 50th holds a generated GitHub token. */
function bigPacket(count) {
  const line = 'const total = items.reduce((sum, item) => sum + item.size, 0); // adds the sizes up\n';
  const filler = line.repeat(Math.ceil(4000 / line.length)).slice(0, 4000);
  const token = (i) => `ghp_${String(i).padStart(6, '0')}${'aB3dE5fG7hJ9kL2mN4pQ6rS8tV0wX'.slice(0, 30)}`;
  return {
    header: { packet_id: '7f9c2a1e-0000-4000-8000-000000000017', task_id: 'T-BIG', task_type: 'code.generate', created_at: '2026-11-23T12:00:00Z', builder_version: 'test', privacy: 'local_only' },
    problem: { summary: 'A packet over 16 MiB' },
    scope: { roots: ['.'] },
    constraints: { max_tokens: 200000, max_items: count },
    context: Array.from({ length: count }, (_, i) => ({
      name: `part-${i}`,
      item_type: 'snippet',
      source: 'filesystem',
      path: `src/part-${i}.js`,
      snippet: i % 50 === 0 ? `${filler.slice(0, 3900)}\nexport GITHUB_TOKEN=${token(i)}\n` : filler,
    })),
    policy: { remote_allowed: false, redactions_applied: [] },
    provenance: { inputs: {}, packet_hash: '' },
  };
}

test('context redact streams a packet over 16 MiB, writes what the object path writes, and limits one item', async (t) => {
  const dir = tempDir(t);
  const home = path.join(dir, 'home');
  const big = path.join(dir, 'big.yaml');
  fs.writeFileSync(big, api.formatContextDocument(bigPacket(4300)));
  const size = fs.statSync(big).size;
  assert.ok(size > 16 * 1024 * 1024, `${size}`);

  // The object path (--json) reads the packet whole: the document limit applies.
  const refused = cli(['context', 'redact', big, '--json', '--home', home]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(refused.json().error.code, 'CTX_LIMIT_EXCEEDED');
  assert.match(refused.json().error.hint, new RegExp(`--max-document-bytes ${size}`));

  // Streamed, the limit holds one item: an item over it is refused, naming the item, the limit and the option.
  const small = cli(['context', 'redact', big, '--max-document-bytes', '3000', '--home', home, '-o', path.join(dir, 'never.yaml')]);
  assert.equal(small.code, 1, small.stderr);
  assert.match(small.stderr, /CTX_LIMIT_EXCEEDED/);
  assert.match(small.stderr, /context\[0\] \(one item\) is over the limit of 3000 bytes/);
  assert.match(small.stderr, /--max-document-bytes/);
  assert.equal(fs.existsSync(path.join(dir, 'never.yaml')), false);
  assert.deepEqual(fs.readdirSync(dir).filter((name) => name.includes('.tmp-')), [], 'no temporary file is left');

  const out = path.join(dir, 'out.yaml');
  const done = cli(['context', 'redact', big, '--home', home, '-o', out]);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stderr, /redacted: 86 actions \(86 matches\)/);
  const written = fs.readFileSync(out, 'utf8');
  assert.doesNotMatch(written, /ghp_0/);
  assert.equal((written.match(/\[REDACTED:[a-z0-9.-]+\]/g) ?? []).length, 86);
  const piped = path.join(dir, 'stdout.yaml');
  const fd = fs.openSync(piped, 'w');
  const stdout = spawnSync(process.execPath, [BIN, 'context', 'redact', big], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, CTXPACK_HOME: home } });
  fs.closeSync(fd);
  assert.equal(stdout.status, 0, String(stdout.stderr));
  assert.equal(fs.readFileSync(piped, 'utf8'), written, 'stdout gets the same bytes');

  // The object path (the JS API, and --json) redacts the same packet to the same document.
  const viaObjects = await api.redactPacket(big, { maxBytes: size, home, audit: false });
  assert.equal(written, api.formatContextDocument(viaObjects.packet));
});
