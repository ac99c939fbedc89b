// trace replay: the deterministic steps of a packed log re-run through tool runners in a real working
// directory, compared by digest with what the log recorded; fidelity exact / degraded / failed, through the
// JS API and the CLI's exit codes (0 / 2 / 1). Also on the fixture logs, rebuilt into a workspace from their
// own contents, to check that the built-in runners reproduce the fixtures' conventions byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, REPO_ROOT, api, cli, tempDir, writeTree } from './helpers.mjs';

// From the module itself (the same instance the package's index re-exports): builtinRunners holds runners that
// are not registered by default (read_file_numbered). The public exports are checked in their own test.
const replay = await import(path.join(PACKAGE_DIR, 'lib', 'trace', 'replay.mjs'));
const { builtinRunners } = replay;

const CREATED = '2026-01-02T03:04:05Z';
const FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures', 'execution');
const sha256Line = (text, file) => `${createHash('sha256').update(text).digest('hex')}  ${file}\n`;

const README = '# demo\n\nA tiny project.\n';
const MAIN = 'export const answer = 42;\n';

/** A small agent run in `cwd`: two file reads and a hash (deterministic), an LLM call (not), plus `extra` steps. */
function smallLog(extra = []) {
  const steps = [
    { type: 'tool_call', tool: 'read_file', parameters: { path: 'README.md' }, output: README, deterministic: true },
    { type: 'tool_call', tool: 'read_file', parameters: { path: 'src/main.js' }, output: MAIN, deterministic: true },
    { type: 'tool_call', tool: 'sha256', parameters: { path: 'src/main.js' }, output: sha256Line(MAIN, 'src/main.js'), deterministic: true },
    { type: 'llm_call', tool: 'gpt-4o', parameters: { purpose: 'answer' }, output: 'The answer is 42.', deterministic: false },
    ...extra,
  ];
  return {
    model: { identifier: 'gpt-4o', parameters: { temperature: 0 } },
    system_prompt: 'You are a careful coding agent.',
    prompts: [{ role: 'user', content: 'What is the answer?' }],
    steps: steps.map((step, index) => ({ index, ...step })),
    outputs: [{ name: 'answer', content: 'The answer is 42.' }],
    environment: { os: 'linux', runtime: 'node 22' },
  };
}

/** A pantry, a working directory with the files the log read, and the packed log's URI. */
async function packed(t, extraSteps) {
  const home = tempDir(t);
  const cwd = tempDir(t);
  writeTree(cwd, { 'README.md': README, 'src/main.js': MAIN });
  const { uri } = await api.tracePack(smallLog(extraSteps), { home, created: CREATED });
  return { home, cwd, uri };
}

function replayCli(ref, { home, cwd }) {
  const result = cli(['trace', 'replay', ref, '--json'], { home, cwd });
  return { code: result.code, report: result.stdout ? result.json() : undefined, stderr: result.stderr };
}

test('replay: an unchanged workspace is exact; the LLM step is not replayed', async (t) => {
  const { home, cwd, uri } = await packed(t);
  const report = await api.traceReplay(uri, { home, cwd });
  assert.deepEqual(report, {
    uri,
    fidelity: 'exact',
    skipped: 1,
    steps: [
      { index: 0, tool: 'read_file', fidelity: 'exact' },
      { index: 1, tool: 'read_file', fidelity: 'exact' },
      { index: 2, tool: 'sha256', fidelity: 'exact' },
    ],
  });

  // The CLI, by a unique prefix of the URI, in the same directory: exit 0 and the same report.
  const prefix = uri.slice('ctx://sha256:'.length, 'ctx://sha256:'.length + 12);
  const result = replayCli(prefix, { home, cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.report, report);
});

test('replay: a changed file fails the steps that read it (exit 1), naming both digests', async (t) => {
  const { home, cwd, uri } = await packed(t);
  fs.writeFileSync(path.join(cwd, 'src/main.js'), 'export const answer = 43;\n');
  const report = await api.traceReplay(uri, { home, cwd });
  assert.equal(report.fidelity, 'failed');
  assert.deepEqual(report.steps.map((step) => step.fidelity), ['exact', 'failed', 'failed']);
  const recorded = `sha256:${createHash('sha256').update(MAIN).digest('hex')}`;
  assert.match(report.steps[1].reason, new RegExp(`recorded ${recorded} \\(26 bytes\\), replayed sha256:[0-9a-f]{64} \\(26 bytes\\)`));

  const result = replayCli(uri, { home, cwd });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.report.fidelity, 'failed');
  assert.deepEqual(result.report.steps, report.steps);
});

test('replay: a missing file or a path outside the workspace fails the step with the reason', async (t) => {
  const { home, cwd, uri } = await packed(t, [
    { type: 'tool_call', tool: 'read_file', parameters: { path: '../outside.txt' }, output: 'x', deterministic: true },
    { type: 'tool_call', tool: 'sha256', parameters: { path: 'escape.txt' }, output: 'x', deterministic: true },
  ]);
  fs.rmSync(path.join(cwd, 'README.md'));
  writeTree(cwd, { 'escape.txt': { symlink: path.join(FIXTURES, 'README.md') } });
  const report = await api.traceReplay(uri, { home, cwd });
  assert.equal(report.fidelity, 'failed');
  assert.equal(report.steps[0].fidelity, 'failed');
  assert.match(report.steps[0].reason, /ENOENT.*README\.md/);
  assert.equal(report.steps[3].fidelity, 'failed');
  assert.match(report.steps[3].reason, /not inside the replay directory/);
  assert.equal(report.steps[4].fidelity, 'failed');
  assert.match(report.steps[4].reason, /escape\.txt is not inside the replay directory/);
  await assert.rejects(api.traceReplay(uri, { home, cwd: path.join(cwd, 'nope') }), { code: 'CTX_NOT_FOUND' });
});

test('replay: a tool without a runner is degraded (exit 2); a runner registered through the JS API makes it exact', async (t) => {
  // A tool name of this test only: registerReplayRunner is process-wide.
  const tool = 'word_count_registered';
  const { home, cwd, uri } = await packed(t, [
    { type: 'tool_call', tool, parameters: { path: 'README.md' }, output: '5\n', deterministic: true },
  ]);
  const degraded = await api.traceReplay(uri, { home, cwd });
  assert.equal(degraded.fidelity, 'degraded');
  assert.deepEqual(degraded.steps.at(-1), { index: 4, tool, fidelity: 'degraded', reason: `no runner for ${tool}` });
  const result = replayCli(uri, { home, cwd });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.report.fidelity, 'degraded');

  const wordCount = async ({ parameters, cwd: dir }) =>
    `${fs.readFileSync(path.join(dir, parameters.path), 'utf8').split(/\s+/).filter(Boolean).length}\n`;
  // For one call only, then for the process.
  assert.equal((await api.traceReplay(uri, { home, cwd, runners: { [tool]: wordCount } })).fidelity, 'exact');
  assert.equal((await api.traceReplay(uri, { home, cwd })).fidelity, 'degraded');
  api.registerReplayRunner(tool, wordCount);
  const exact = await api.traceReplay(uri, { home, cwd });
  assert.equal(exact.fidelity, 'exact');
  assert.deepEqual(exact.steps.at(-1), { index: 4, tool, fidelity: 'exact' });
});

test('replay: a runner that throws or returns something else fails its step; bad runners are refused', async (t) => {
  const { home, cwd, uri } = await packed(t, [
    { type: 'tool_call', tool: 'flaky', parameters: {}, output: 'ok', deterministic: true },
  ]);
  const thrown = await api.traceReplay(uri, { home, cwd, runners: { flaky: async () => { throw new Error('tool crashed'); } } });
  assert.deepEqual(thrown.steps.at(-1), { index: 4, tool: 'flaky', fidelity: 'failed', reason: 'tool crashed' });
  const wrongType = await api.traceReplay(uri, { home, cwd, runners: { flaky: async () => 42 } });
  assert.equal(wrongType.steps.at(-1).fidelity, 'failed');
  assert.match(wrongType.steps.at(-1).reason, /returned number/);
  // Bytes and text with the same content are the same output.
  const bytes = await api.traceReplay(uri, { home, cwd, runners: { flaky: async () => new TextEncoder().encode('ok') } });
  assert.equal(bytes.fidelity, 'exact');

  assert.throws(() => api.registerReplayRunner('', async () => ''), { code: 'CTX_USAGE' });
  assert.throws(() => api.registerReplayRunner('x', 'not a function'), { code: 'CTX_USAGE' });
  await assert.rejects(api.traceReplay(uri, { home, cwd, runners: { flaky: null } }), { code: 'CTX_USAGE' });
});

test('replay: a ref the pantry does not hold is CTX_NOT_FOUND', async (t) => {
  const home = tempDir(t);
  await assert.rejects(api.traceReplay(`ctx://sha256:${'ab'.repeat(32)}`, { home }), { code: 'CTX_NOT_FOUND' });
});

/** Write each {path, content} into dir. Content: a string, or bytes from a base64 content. */
function writeWorkspace(dir, files) {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), typeof content === 'string' ? content : Buffer.from(content.base64, 'base64'));
  }
}

test('replay of tool-heavy-agent.json: its reads and sha256 lines are reproduced exactly, its shell steps degraded', async (t) => {
  const log = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tool-heavy-agent.json'), 'utf8'));
  const home = tempDir(t);
  const cwd = tempDir(t);
  // The workspace as the agent saw it, rebuilt from the log itself: what it read, and the CSV it wrote.
  const files = {};
  for (const step of log.steps) if (step.tool === 'read_file') files[step.parameters.path] = step.output;
  files['reports/2024-W47/orders_by_region.csv'] = log.steps[22].parameters.content;
  writeWorkspace(cwd, files);

  const { uri } = await api.tracePack(log, { home, created: CREATED });
  const report = await api.traceReplay(uri, { home, cwd });
  const deterministic = log.steps.filter((step) => step.deterministic);
  assert.equal(report.steps.length, deterministic.length);
  assert.equal(report.skipped, log.steps.length - deterministic.length);
  for (const step of report.steps) {
    const expected = step.tool === 'read_file' || step.tool === 'sha256' ? 'exact' : 'degraded';
    assert.equal(step.fidelity, expected, `step ${step.index} (${step.tool}): ${step.reason}`);
  }
  assert.ok(report.steps.some((step) => step.tool === 'sha256'));
  assert.equal(report.fidelity, 'degraded');
});

test('replay of coding-agent.json: its numbered reads match the read_file_numbered runner', async (t) => {
  const log = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'coding-agent.json'), 'utf8'));
  const home = tempDir(t);
  const cwd = tempDir(t);
  // Undo the numbering; the log shows invoice.py only from line 25, so lines 1-24 are filler.
  const unnumber = (text) => text.replace(/^ *\d+\t/gm, '');
  writeWorkspace(cwd, {
    'tests/test_money.py': unnumber(log.steps[2].output),
    'tinyledger/money.py': unnumber(log.steps[3].output),
    'tinyledger/invoice.py': '#\n'.repeat(24) + unnumber(log.steps[5].output),
  });
  const { uri } = await api.tracePack(log, { home, created: CREATED });
  const raw = await api.traceReplay(uri, { home, cwd });
  assert.ok(raw.steps.filter((step) => step.tool === 'read_file').every((step) => step.fidelity === 'failed'));
  const numbered = await api.traceReplay(uri, { home, cwd, runners: { read_file: builtinRunners.read_file_numbered } });
  const reads = numbered.steps.filter((step) => step.tool === 'read_file');
  assert.deepEqual(reads.map((step) => [step.index, step.fidelity]), [[2, 'exact'], [3, 'exact'], [5, 'exact']]);
  assert.equal(numbered.fidelity, 'degraded', 'list_files, grep and git_diff have no runner');
});

test('the ctxpack JS API exports traceReplay and registerReplayRunner', () => {
  assert.equal(api.traceReplay, replay.traceReplay);
  assert.equal(api.registerReplayRunner, replay.registerReplayRunner);
});
