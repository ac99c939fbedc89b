// execution/v1 through the wasm core, on the three fixture logs: plan → blobs deduplicated → export gives the
// log back exactly; the URI does not depend on when or how the log was written; diff aligns steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, REPO_ROOT } from './helpers.mjs';

const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));
const FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures', 'execution');
const read = (name) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

function plan(logText) {
  const planned = core.executionPlan(logText);
  const blobs = new Map(planned.blobs.map((blob) => [blob.digest, blob.bytes]));
  return { ...planned, lookup: (digest) => blobs.get(digest) };
}

for (const name of ['coding-agent.json', 'rag-agent.json', 'tool-heavy-agent.json']) {
  test(`${name}: plan, then export, gives the log back; the URI ignores formatting`, () => {
    const text = read(name);
    const planned = plan(text);
    assert.match(planned.uri, /^ctx:\/\/sha256:[0-9a-f]{64}$/);
    assert.deepEqual(core.executionExport(planned.manifestBytes, planned.lookup), JSON.parse(text));
    assert.equal(core.executionParseManifest(planned.manifestBytes).uri, planned.uri);
    assert.equal(plan(JSON.stringify(JSON.parse(text))).uri, planned.uri, 'reformatting changed the URI');
  });
}

test('repeated contents are stored once', () => {
  const log = JSON.parse(read('tool-heavy-agent.json'));
  const contents = 1 + (log.prompts?.length ?? 0) + (log.inputs?.length ?? 0) + log.steps.length + log.outputs.length;
  const { blobs } = plan(JSON.stringify(log));
  assert.ok(blobs.length < contents, `${blobs.length} blobs for ${contents} contents`);
  assert.equal(new Set(blobs.map((blob) => blob.digest)).size, blobs.length);
});

test('an invalid log lists every problem with its path', () => {
  const log = JSON.parse(read('coding-agent.json'));
  delete log.model.identifier;
  delete log.steps[3].tool;
  log.steps[5].surprise = true;
  try {
    core.executionPlan(JSON.stringify(log));
    assert.fail('an invalid log was accepted');
  } catch (error) {
    assert.equal(error.code, 'CTX_EXECUTION_INVALID');
    const paths = error.problems.map((problem) => problem.path);
    for (const expected of ['model.identifier', 'steps[3].tool', 'steps[5].surprise']) assert.ok(paths.includes(expected), `${expected} missing from ${paths}`);
  }
});

test('diff: one inserted step is "added" and the later steps stay aligned; a changed output is named', () => {
  const log = JSON.parse(read('coding-agent.json'));
  const a = plan(JSON.stringify(log));
  const inserted = structuredClone(log);
  inserted.steps.splice(2, 0, { index: 2, type: 'tool_call', tool: 'list_dir', parameters: { path: '.' }, output: 'src\ntests\n', deterministic: true });
  inserted.steps.forEach((step, index) => { step.index = index; });
  const last = inserted.steps.length - 1;
  inserted.steps[last].output = `${inserted.steps[last].output ?? ''}\n(changed)`;
  const compared = core.executionDiff(a.manifestBytes, plan(JSON.stringify(inserted)).manifestBytes);
  assert.equal(compared.differs, true);
  const ops = compared.steps.map((step) => step.op);
  assert.deepEqual(ops.filter((op) => op !== 'same'), ['added', 'changed']);
  assert.deepEqual(compared.steps.find((step) => step.op === 'added'), { op: 'added', b: 2 });
  assert.deepEqual(compared.steps.find((step) => step.op === 'changed').fields, ['output']);
  assert.equal(core.executionDiff(a.manifestBytes, a.manifestBytes).differs, false);
});

test('a log as UTF-8 bytes and the host SHA-256 (node:crypto) give the same plan as text and the core\'s own', async () => {
  const crypto = await import('node:crypto');
  const text = read('tool-heavy-agent.json');
  const own = core.executionPlan(text);
  let calls = 0;
  const sha256 = (bytes) => {
    calls += 1;
    return crypto.createHash('sha256').update(bytes).digest();
  };
  const hosted = core.executionPlan(Buffer.from(text), { sha256 });
  assert.ok(calls >= own.blobs.length + 1, 'every content and the manifest hashed by the host');
  assert.equal(hosted.uri, own.uri);
  assert.deepEqual(hosted.manifestBytes, own.manifestBytes);
  assert.deepEqual(hosted.blobs.map((blob) => blob.digest), own.blobs.map((blob) => blob.digest));
  assert.throws(() => core.executionPlan(text, { sha256: () => new Uint8Array(31) }), { code: 'CTX_INVALID_STATE' });
  assert.throws(() => core.executionPlan(42), { code: 'CTX_USAGE' });
});

test('known digests: their blobs come without bytes, the rest of the plan unchanged', () => {
  const text = read('tool-heavy-agent.json');
  const full = core.executionPlan(text);
  const [first, ...rest] = full.blobs;
  const planned = core.executionPlan(text, { known: new Set([first.digest, 'sha256:not-in-this-log']) });
  assert.equal(planned.uri, full.uri);
  assert.deepEqual(planned.manifestBytes, full.manifestBytes);
  assert.deepEqual(planned.blobs[0], { digest: first.digest, size: first.size });
  assert.deepEqual(planned.blobs.slice(1), rest);
});
