// `ctxpack trace` (issue 4, execution packs) through the CLI on the three fixture logs: pack (same URI twice,
// nothing stored again, contents deduplicated), show, log, refs, diff, verify (tampering, artifacts), export round
// trip, fork lineage, and gc keeping execution blobs. Real pantries in temporary directories; nothing mocked.
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { PACKAGE_DIR, REPO_ROOT, api, cli, makeProject, tempDir, writeOutputs } from './helpers.mjs';

const { main } = await import(path.join(PACKAGE_DIR, 'lib', 'cli', 'main.mjs'));

const FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures', 'execution');
const NAMES = ['coding-agent.json', 'rag-agent.json', 'tool-heavy-agent.json'];
const fixture = (name) => path.join(FIXTURES, name);
const readFixture = (name) => JSON.parse(fs.readFileSync(fixture(name), 'utf8'));
const hexOf = (uri) => uri.slice('ctx://sha256:'.length);

/** Run a trace command with --json; returns {code, json}. */
function trace(home, args, options = {}) {
  const result = cli(['trace', ...args, '--json'], { home, ...options });
  return { code: result.code, json: result.stdout ? result.json() : undefined, stderr: result.stderr };
}

function pack(home, file, created) {
  const result = trace(home, ['pack', file, ...(created ? ['--created', created] : [])]);
  assert.equal(result.code, 0, result.stderr);
  return result.json;
}

function blobCount(home) {
  return fs.readdirSync(path.join(home, 'blobs', 'sha256')).length;
}

/** A copy of a fixture log, changed by `edit`, written to `dir`. */
function editedLog(dir, name, edit) {
  const log = readFixture(name);
  edit(log);
  const file = path.join(dir, `edited-${name}`);
  fs.writeFileSync(file, JSON.stringify(log, null, 2));
  return file;
}

test('trace --help and every trace command --help (exit 0, usage on stdout)', () => {
  const group = cli(['trace', '--help']);
  assert.equal(group.code, 0);
  for (const name of ['pack', 'show', 'log', 'diff', 'verify', 'export', 'fork', 'replay']) {
    assert.match(group.stdout, new RegExp(`\\n  trace ${name}\\b`));
    const result = cli(['trace', name, '--help']);
    assert.equal(result.code, 0, `${name}: ${result.stderr}`);
    assert.match(result.stdout, new RegExp(`^Usage: ctxpack trace ${name}`), name);
    assert.match(result.stdout, /--json/, name);
  }
  assert.equal(cli(['trace']).code, 2);
  const unknown = cli(['trace', 'frobnicate', '--json']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.json().error.code, 'CTX_USAGE');
  assert.match(cli(['--help']).stdout, /\n {2}trace\b/);
});

test('pack: a URI; the same log twice gives the same URI and stores nothing the second time', (t) => {
  const home = tempDir(t);
  for (const name of NAMES) {
    const first = pack(home, fixture(name));
    assert.match(first.uri, /^ctx:\/\/sha256:[0-9a-f]{64}$/);
    assert.equal(first.alreadyPresent, false);
    assert.equal(first.steps, readFixture(name).steps.length);
    assert.equal(first.blobs.stored, first.blobs.total);
    const blobsBefore = blobCount(home);

    // Reformatted and packed at another time: still the same pack.
    const reformatted = path.join(tempDir(t), name);
    fs.writeFileSync(reformatted, JSON.stringify(readFixture(name)));
    const again = pack(home, reformatted, '2030-01-01T00:00:00Z');
    assert.equal(again.uri, first.uri);
    assert.equal(again.alreadyPresent, true);
    assert.deepEqual(again.blobs, { total: first.blobs.total, stored: 0 });
    assert.equal(again.bytes.stored, 0);
    assert.equal(blobCount(home), blobsBefore, 'the second pack wrote blobs');
  }
  const text = cli(['trace', 'pack', fixture('rag-agent.json')], { home });
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^ctx:\/\/sha256:[0-9a-f]{64}\n$/);
  assert.match(text.stderr, /already in the pantry/);
});

test('pack: repeated contents of the tool-heavy log are stored once', (t) => {
  const home = tempDir(t);
  const log = readFixture('tool-heavy-agent.json');
  const contents = 1 + log.prompts.length + log.inputs.length + log.steps.length + log.outputs.length;
  const packed = pack(home, fixture('tool-heavy-agent.json'));
  assert.ok(packed.blobs.stored < contents, `${packed.blobs.stored} blobs stored for ${contents} contents`);
  // Content blobs + the execution manifest + the OCI manifest, nothing else.
  assert.equal(blobCount(home), packed.blobs.stored + 2);
});

test('pack: an invalid log (CTX_EXECUTION_INVALID) or creation time (CTX_USAGE) stores nothing', (t) => {
  const home = tempDir(t);
  const file = editedLog(tempDir(t), 'coding-agent.json', (log) => delete log.model.identifier);
  const result = trace(home, ['pack', file]);
  assert.equal(result.code, 1);
  assert.equal(result.json.error.code, 'CTX_EXECUTION_INVALID');
  const badTime = trace(home, ['pack', fixture('rag-agent.json'), '--created', 'last tuesday']);
  assert.equal(badTime.code, 2);
  assert.equal(badTime.json.error.code, 'CTX_USAGE');
  assert.deepEqual(fs.readdirSync(home), [], 'something was stored');
});

test('show: model, prompts, numbered steps with tool, params, output size and deterministic flag', (t) => {
  const home = tempDir(t);
  const { uri } = pack(home, fixture('coding-agent.json'));
  const log = readFixture('coding-agent.json');
  const shown = trace(home, ['show', uri]).json;
  assert.equal(shown.uri, uri);
  assert.equal(shown.model.identifier, log.model.identifier);
  assert.equal(shown.systemPrompt.size, Buffer.byteLength(log.system_prompt));
  assert.equal(shown.prompts.length, log.prompts.length);
  assert.equal(shown.steps.length, log.steps.length);
  shown.steps.forEach((step, i) => {
    assert.equal(step.index, i);
    assert.equal(step.tool, log.steps[i].tool);
    assert.equal(step.deterministic, log.steps[i].deterministic);
    assert.equal(typeof step.params, 'string');
  });
  assert.equal(shown.steps[0].outputSize, Buffer.byteLength(log.steps[0].output));
  assert.deepEqual(shown.outputs.map((output) => output.name), log.outputs.map((output) => output.name));

  const text = cli(['trace', 'show', uri], { home });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`model +${log.model.identifier}`));
  assert.match(text.stdout, new RegExp(`\\n +13 +${log.steps[13].tool} `));
});

test('log: newest first with model and step counts; ls and rm see packs only', (t) => {
  const home = tempDir(t);
  const old = pack(home, fixture('rag-agent.json'), '2024-01-01T00:00:00Z');
  const newest = pack(home, fixture('coding-agent.json'), '2024-03-01T00:00:00Z');
  const middle = pack(home, fixture('tool-heavy-agent.json'), '2024-02-01T00:00:00Z');
  const { executions } = trace(home, ['log']).json;
  assert.deepEqual(executions.map((entry) => entry.uri), [newest.uri, middle.uri, old.uri]);
  assert.deepEqual(executions.map((entry) => entry.steps), [14, 40, 10]);
  assert.equal(executions[0].model, 'claude-sonnet-4-5');
  assert.equal(executions[0].created, '2024-03-01T00:00:00Z');

  const text = cli(['trace', 'log'], { home }).stdout.trim().split('\n');
  assert.equal(text.length, 3);
  assert.match(text[0], new RegExp(`^${newest.uri}  2024-03-01T00:00:00Z  claude-sonnet-4-5  14 steps$`));

  assert.deepEqual(cli(['ls', '--json'], { home }).json().packs, []);
  const rm = cli(['rm', newest.uri, '--json'], { home });
  assert.equal(rm.code, 1);
  assert.equal(rm.json().error.code, 'CTX_NOT_FOUND');
});

test('refs: full URI, bare hex, 8-hex prefix; ambiguous and unknown prefixes are errors', (t) => {
  const home = tempDir(t);
  const { uri } = pack(home, fixture('coding-agent.json'));
  const hex = hexOf(uri);
  for (const ref of [uri, hex, hex.slice(0, 8), hex.slice(0, 20).toUpperCase()]) {
    assert.equal(trace(home, ['show', ref]).json.uri, uri, ref);
  }
  const short = trace(home, ['show', hex.slice(0, 7)]);
  assert.equal(short.code, 2);
  assert.equal(short.json.error.code, 'CTX_USAGE');
  const unknown = trace(home, ['show', hex.startsWith('0') ? '11111111' : '00000000']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.json.error.code, 'CTX_NOT_FOUND');
  assert.equal(trace(home, ['show', `ctx://sha256:${'ab'.repeat(32)}`]).json.error.code, 'CTX_NOT_FOUND');

  // Two URIs sharing 8 hex digits cannot be made by packing; an index entry for a twin stands in for one.
  const twin = `ctx://sha256:${hex.slice(0, 8)}${hex.slice(8).split('').reverse().join('')}`;
  const indexPath = path.join(home, 'index.json');
  const index = JSON.parse(fs.readFileSync(indexPath, 'utf8'));
  const entry = structuredClone(index.manifests[0]);
  entry.annotations['org.opencontainers.image.ref.name'] = `ctx-${hexOf(twin)}`;
  entry.annotations['dev.ctxpack.uri'] = twin;
  index.manifests.push(entry);
  fs.writeFileSync(indexPath, JSON.stringify(index));
  const ambiguous = trace(home, ['show', hex.slice(0, 8)]);
  assert.equal(ambiguous.code, 1);
  assert.equal(ambiguous.json.error.code, 'CTX_AMBIGUOUS');
  assert.ok(ambiguous.json.error.message.includes(uri) && ambiguous.json.error.message.includes(twin), ambiguous.json.error.message);
  assert.equal(trace(home, ['show', hex.slice(0, 12)]).json.uri, uri);
});

test('diff: identical packs exit 0; one inserted step is one "added", the later steps stay aligned', (t) => {
  const home = tempDir(t);
  const { uri: a } = pack(home, fixture('coding-agent.json'));
  const same = cli(['trace', 'diff', a, a], { home });
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /\nsame\n$/);
  const identical = trace(home, ['diff', a, hexOf(a).slice(0, 8)]);
  assert.equal(identical.code, 0);
  assert.equal(identical.json.differs, false);

  const inserted = editedLog(tempDir(t), 'coding-agent.json', (log) => {
    log.steps.splice(2, 0, { index: 2, type: 'tool_call', tool: 'list_dir', parameters: { path: '.' }, output: 'src\ntests\n', deterministic: true });
    log.steps.forEach((step, index) => { step.index = index; });
  });
  const { uri: b } = pack(home, inserted);
  const compared = trace(home, ['diff', a, b]);
  assert.equal(compared.code, 1);
  const { json } = compared;
  assert.deepEqual(Object.keys(json).sort(), ['a', 'b', 'differs', 'fields', 'steps']);
  assert.equal(json.a, a);
  assert.equal(json.b, b);
  assert.equal(json.differs, true);
  assert.deepEqual(json.fields, []);
  assert.deepEqual(json.steps.filter((step) => step.op !== 'same'), [{ op: 'added', b: 2, tool: 'list_dir' }]);
  // Every later step is matched with its shifted twin.
  for (const step of json.steps.filter((candidate) => candidate.op === 'same')) assert.equal(step.b, step.a < 2 ? step.a : step.a + 1);

  const text = cli(['trace', 'diff', a, b], { home });
  assert.equal(text.code, 1);
  assert.equal(text.stdout.match(/^\+ /gm).length, 1);
  assert.match(text.stdout, /^\+ step b\[2\] list_dir$/m);
  assert.doesNotMatch(text.stdout, /\u001b\[/, 'colour on a pipe');
});

test('diff: a changed model parameter and step output are named', (t) => {
  const home = tempDir(t);
  const { uri: a } = pack(home, fixture('rag-agent.json'));
  const changed = editedLog(tempDir(t), 'rag-agent.json', (log) => {
    log.model.parameters.temperature = 0.7;
    log.steps[4].output = 'different';
  });
  const { uri: b } = pack(home, changed);
  const { json } = trace(home, ['diff', a, b]);
  assert.ok(json.fields.some((field) => field.path.startsWith('model') && field.after !== field.before), JSON.stringify(json.fields));
  assert.deepEqual(json.steps.filter((step) => step.op !== 'same').map(({ op, a: at, fields }) => ({ op, at, fields })), [
    { op: 'changed', at: 4, fields: ['output'] },
  ]);
  const text = cli(['trace', 'diff', a, b], { home }).stdout;
  assert.match(text, /^~ step a\[4\] b\[4\] \S+: output$/m);
});

test('diff: colour on a terminal only: removed red, changed yellow', async (t) => {
  const home = tempDir(t);
  const { uri: a } = pack(home, fixture('coding-agent.json'));
  const edited = editedLog(tempDir(t), 'coding-agent.json', (log) => {
    log.steps.splice(1, 1);
    log.steps.forEach((step, index) => { step.index = index; });
    log.steps[5].output = 'changed';
  });
  const { uri: b } = pack(home, edited);
  const terminal = Object.assign(new PassThrough(), { isTTY: true });
  let text = '';
  terminal.on('data', (chunk) => (text += chunk));
  const code = await main(['trace', 'diff', a, b, '--home', home], { stdout: terminal, stderr: new PassThrough() });
  assert.equal(code, 1);
  assert.match(text, /\u001b\[31m- step a\[1\] /);
  assert.match(text, /\u001b\[33m~ step a\[6\] b\[5\] \S+: output\u001b\[0m/);
});

test('verify: ok; a tampered or missing blob fails with its code', (t) => {
  const home = tempDir(t);
  const { uri } = pack(home, fixture('tool-heavy-agent.json'));
  const ok = trace(home, ['verify', uri]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.json.ok, true);
  assert.deepEqual(ok.json.problems, []);
  assert.equal(ok.json.blobs.ok, ok.json.blobs.total);

  const shown = trace(home, ['show', uri]).json;
  const { digest } = shown.outputs[0];
  const blobPath = path.join(home, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const original = fs.readFileSync(blobPath);
  const tampered = Buffer.from(original);
  tampered[0] ^= 1;
  fs.writeFileSync(blobPath, tampered);
  const bad = trace(home, ['verify', uri]);
  assert.equal(bad.code, 1);
  assert.equal(bad.json.ok, false);
  assert.deepEqual(bad.json.problems.map((problem) => [problem.code, problem.subject]), [['CTX_DIGEST_MISMATCH', digest]]);
  const text = cli(['trace', 'verify', uri], { home });
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^error\[CTX_DIGEST_MISMATCH\]: /m);

  fs.rmSync(blobPath);
  const missing = trace(home, ['verify', uri]);
  assert.equal(missing.code, 1);
  assert.deepEqual(missing.json.problems.map((problem) => problem.code), ['CTX_NOT_FOUND']);
  assert.equal(trace(home, ['export', uri, '-o', path.join(tempDir(t), 'log.json')]).json.error.code, 'CTX_NOT_FOUND');
});

test('verify --artifact --output: a file matches its output or not', (t) => {
  const home = tempDir(t);
  const dir = tempDir(t);
  const { uri } = pack(home, fixture('coding-agent.json'));
  const [output] = readFixture('coding-agent.json').outputs;
  const artifact = path.join(dir, 'artifact');
  fs.writeFileSync(artifact, output.content);
  const match = trace(home, ['verify', uri, '--artifact', artifact, '--output', output.name]);
  assert.equal(match.code, 0, match.stderr);
  assert.equal(match.json.artifact.match, true);

  fs.appendFileSync(artifact, '\n');
  const mismatch = trace(home, ['verify', uri, '--artifact', artifact, '--output', output.name]);
  assert.equal(mismatch.code, 1);
  assert.equal(mismatch.json.artifact.match, false);
  assert.deepEqual(mismatch.json.problems.map((problem) => problem.code), ['CTX_DIGEST_MISMATCH']);

  assert.equal(trace(home, ['verify', uri, '--artifact', artifact, '--output', 'no such output']).json.error.code, 'CTX_NOT_FOUND');
  const alone = trace(home, ['verify', uri, '--artifact', artifact]);
  assert.equal(alone.code, 2);
  assert.equal(alone.json.error.code, 'CTX_USAGE');
});

test('export: the exported log deep-equals the packed fixture; an existing file is kept', (t) => {
  const home = tempDir(t);
  const dir = tempDir(t);
  for (const name of NAMES) {
    const { uri } = pack(home, fixture(name));
    const out = path.join(dir, name);
    const exported = trace(home, ['export', hexOf(uri).slice(0, 10), '-o', out]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), readFixture(name));
    const again = trace(home, ['export', uri, '-o', out]);
    assert.equal(again.json.error.code, 'CTX_TARGET_EXISTS');
    assert.equal(trace(home, ['export', uri, '-o', out, '--force']).code, 0);
  }
});

test('fork → edit → pack records the lineage; log --graph draws it', (t) => {
  const home = tempDir(t);
  const dir = tempDir(t);
  const parent = pack(home, fixture('coding-agent.json'), '2024-01-01T00:00:00Z');
  pack(home, fixture('rag-agent.json'), '2024-01-02T00:00:00Z');
  const draft = path.join(dir, 'draft.json');
  const forked = trace(home, ['fork', parent.uri, '-o', draft]);
  assert.equal(forked.code, 0, forked.stderr);
  const log = JSON.parse(fs.readFileSync(draft, 'utf8'));
  assert.equal(log.parent, parent.uri);
  log.model.parameters.temperature = 0.3;
  fs.writeFileSync(draft, JSON.stringify(log, null, 2));
  const child = pack(home, draft, '2024-01-03T00:00:00Z');
  assert.equal(child.parent, parent.uri);
  assert.notEqual(child.uri, parent.uri);
  assert.equal(trace(home, ['show', child.uri]).json.parent, parent.uri);

  const roots = trace(home, ['log', '--graph']).json.executions;
  const root = roots.find((entry) => entry.uri === parent.uri);
  assert.deepEqual(root.children.map((entry) => entry.uri), [child.uri]);
  assert.equal(roots.some((entry) => entry.uri === child.uri), false);

  const lines = cli(['trace', 'log', '--graph'], { home }).stdout.trim().split('\n');
  const at = lines.findIndex((line) => line.startsWith(`* ${parent.uri}`));
  assert.ok(at >= 0, lines.join('\n'));
  assert.ok(lines[at + 1].startsWith(`\`-- * ${child.uri}`), lines.join('\n'));
});

test('gc keeps every blob of an execution pack, and still removes unreachable ones', async (t) => {
  const home = tempDir(t);
  const project = makeProject(tempDir(t));
  writeOutputs(project.outDir);
  assert.equal(cli(['seed', project.outDir, '--contract', project.contractPath], { home }).code, 0);
  const { uri } = pack(home, fixture('tool-heavy-agent.json'));
  const orphan = await api.openPantry({ home }).pushBytes(Buffer.from('nobody refers to me'), 'application/octet-stream');
  const before = blobCount(home);

  const gc = cli(['gc', '--json'], { home });
  assert.equal(gc.code, 0, gc.stderr);
  assert.equal(gc.json().blobsRemoved, 1);
  assert.equal(blobCount(home), before - 1);
  assert.equal(fs.existsSync(path.join(home, 'blobs', 'sha256', orphan.digest.slice('sha256:'.length))), false);
  assert.equal(trace(home, ['verify', uri]).json.ok, true);
  const out = path.join(tempDir(t), 'log.json');
  assert.equal(trace(home, ['export', uri, '-o', out]).code, 0);
  assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), readFixture('tool-heavy-agent.json'));
  assert.equal(cli(['ls', '--json'], { home }).json().packs.length, 1);
});

test('JS API: tracePack takes a log object; traceResolve, traceLog, traceExport agree with the CLI', async (t) => {
  const home = tempDir(t);
  const log = readFixture('rag-agent.json');
  const packed = await api.tracePack(log, { home, created: '2024-05-06T07:08:09Z' });
  assert.equal(packed.uri, pack(home, fixture('rag-agent.json')).uri);
  assert.equal(api.traceResolve(hexOf(packed.uri).slice(0, 8), { home }), packed.uri);
  assert.deepEqual(api.traceLog({ home }), [{ uri: packed.uri, created: '2024-05-06T07:08:09Z', model: log.model.identifier, steps: 10 }]);
  const out = path.join(tempDir(t), 'log.json');
  assert.deepEqual(api.traceExport(packed.uri, out, { home }), { uri: packed.uri, path: out });
  assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), log);
  assert.equal(api.traceVerify(packed.uri, { home }).ok, true);
});

test('pack many: a folder or several logs in one call give the URIs and pantry of packing them one by one', (t) => {
  const created = '2026-01-02T03:04:05Z';
  const single = tempDir(t);
  const uris = NAMES.map((name) => pack(single, fixture(name), created).uri);

  const folder = tempDir(t);
  for (const name of NAMES) fs.copyFileSync(fixture(name), path.join(folder, name));
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'not a log');
  const batch = tempDir(t);
  const result = trace(batch, ['pack', folder, '--created', created]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.json.packs.map((packed) => packed.uri), uris);
  assert.deepEqual(result.json.packs.map((packed) => packed.log), NAMES.map((name) => path.join(folder, name)));
  assert.ok(result.json.packs.every((packed) => !packed.alreadyPresent && packed.blobs.stored > 0));
  assert.equal(fs.readFileSync(path.join(batch, 'index.json'), 'utf8'), fs.readFileSync(path.join(single, 'index.json'), 'utf8'));
  assert.deepEqual(fs.readdirSync(path.join(batch, 'blobs', 'sha256')).sort(), fs.readdirSync(path.join(single, 'blobs', 'sha256')).sort());

  const text = cli(['trace', 'pack', fixture(NAMES[0]), fixture(NAMES[1]), fixture(NAMES[0])], { home: batch });
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, `${uris[0]}\n${uris[1]}\n${uris[0]}\n`);
  assert.match(text.stderr, /packed 0 logs .*; 3 already in the pantry/);

  const invalid = editedLog(folder, 'coding-agent.json', (log) => delete log.model.identifier);
  const fresh = tempDir(t);
  const refused = trace(fresh, ['pack', fixture(NAMES[1]), invalid]);
  assert.equal(refused.code, 1);
  assert.equal(refused.json.error.code, 'CTX_EXECUTION_INVALID');
  assert.match(refused.json.error.message, /edited-coding-agent\.json/);
  assert.deepEqual(fs.readdirSync(fresh), [], 'nothing is stored when one log is invalid');
});

test('pack many on worker threads (40 logs, several write batches), twice in one process: the same URIs, results, blobs and index as one by one; an invalid last log records no pack', async (t) => {
  const created = '2026-01-02T03:04:05Z';
  const folder = tempDir(t);
  const logs = Array.from({ length: 40 }, (_, n) => {
    const log = readFixture(NAMES[n % NAMES.length]);
    log.environment.os = `linux-variant-${n}`;
    const file = path.join(folder, `log-${String(n).padStart(2, '0')}.json`);
    fs.writeFileSync(file, JSON.stringify(log));
    return file;
  });
  const single = tempDir(t);
  const singles = [];
  for (const log of logs) singles.push(await api.tracePack(log, { home: single, created }));
  const uris = singles.map((result) => result.uri);
  const batch = tempDir(t);
  const results = await api.tracePackAll([...logs, logs[3]], { home: batch, created });
  assert.deepEqual(results.map((result) => result.uri), [...uris, uris[3]]);
  // Each content is stored by the first log that has it, in either form.
  assert.deepEqual(results.slice(0, 40), singles);
  assert.ok(results[40].alreadyPresent);
  assert.equal(fs.readFileSync(path.join(batch, 'index.json'), 'utf8'), fs.readFileSync(path.join(single, 'index.json'), 'utf8'));
  assert.deepEqual(fs.readdirSync(path.join(batch, 'blobs', 'sha256')).sort(), fs.readdirSync(path.join(single, 'blobs', 'sha256')).sort());
  // Packed by an earlier call: found in index.json (read once a call), nothing written again.
  const repeated = await api.tracePackAll(logs, { home: batch, created });
  assert.ok(repeated.every((result) => result.alreadyPresent && result.blobs.stored === 0));
  assert.deepEqual(repeated.map((result) => result.uri), uris);
  // A second batch in the same process runs on the threads the first one left idle.
  const again = tempDir(t);
  assert.deepEqual((await api.tracePackAll(logs, { home: again, created })).map((result) => result.uri), uris);
  assert.equal(fs.readFileSync(path.join(again, 'index.json'), 'utf8'), fs.readFileSync(path.join(single, 'index.json'), 'utf8'));

  const broken = path.join(folder, 'log-99.json');
  fs.writeFileSync(broken, '{"model": {}}');
  const fresh = tempDir(t);
  await assert.rejects(api.tracePackAll([...logs, broken], { home: fresh, created }), (error) => {
    assert.equal(error.code, 'CTX_EXECUTION_INVALID');
    assert.equal(error.subject, broken);
    assert.ok(error instanceof api.CtxpackError);
    return true;
  });
  const index = path.join(fresh, 'index.json');
  const recorded = fs.existsSync(index) ? JSON.parse(fs.readFileSync(index, 'utf8')).manifests : [];
  assert.deepEqual(recorded, [], 'no pack is recorded when one log is invalid');
});

test('JS API: tracePackAll packs logs and objects; a log given twice is stored once', async (t) => {
  const home = tempDir(t);
  const log = readFixture('rag-agent.json');
  const results = await api.tracePackAll([log, fixture('coding-agent.json'), fixture('rag-agent.json')], { home });
  assert.equal(results.length, 3);
  assert.equal(results[0].uri, results[2].uri);
  assert.equal(results[0].alreadyPresent, false);
  assert.equal(results[2].alreadyPresent, true);
  assert.equal(results[1].alreadyPresent, false);
  assert.equal(results[0].uri, (await api.tracePack(log, { home })).uri);
  assert.equal(api.traceLog({ home }).length, 2);
  const verified = await api.traceVerify(results[1].uri, { home });
  assert.equal(verified.ok, true);
});

test('JS API: the planning threads a tracePackAll leaves idle never keep the process alive', (t) => {
  const home = tempDir(t);
  const logs = Array.from({ length: 9 }, (_, n) => fixture(NAMES[n % NAMES.length]));
  // The child reports how long its event loop lived on after the call returned.
  const script = `
    const { tracePackAll } = await import(${JSON.stringify(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'index.mjs')).href)});
    const results = await tracePackAll(${JSON.stringify(logs)}, { home: ${JSON.stringify(home)} });
    const returned = performance.now();
    process.on('exit', () => console.log(results.length, Math.round(performance.now() - returned)));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, result.stderr);
  const [packed, lingeredMs] = result.stdout.trim().split(' ').map(Number);
  assert.equal(packed, 9);
  assert.ok(lingeredMs < 500, `the process lived on ${lingeredMs} ms after tracePackAll returned`);
});
