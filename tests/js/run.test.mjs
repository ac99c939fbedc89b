// run: miss (run + seed), hit (restore, skip the command), failures that must store nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { api, cli, makeProject, rejectsWithCode, snapshot, tempDir, writeTree } from './helpers.mjs';

/** A command that writes out/ and counts its own runs in runs.log (outside out/). */
function producer(project) {
  const script = path.join(project.dir, 'produce.mjs');
  fs.writeFileSync(
    script,
    `import fs from 'node:fs';
fs.appendFileSync(${JSON.stringify(path.join(project.dir, 'runs.log'))}, 'run\\n');
fs.mkdirSync(${JSON.stringify(project.outDir)}, { recursive: true });
fs.writeFileSync(${JSON.stringify(path.join(project.outDir, 'result.txt'))}, 'computed\\n');
fs.mkdirSync(${JSON.stringify(path.join(project.outDir, 'deep'))}, { recursive: true });
fs.writeFileSync(${JSON.stringify(path.join(project.outDir, 'deep', 'more.txt'))}, 'more\\n');
console.log('produced');
`,
  );
  return [process.execPath, script];
}

function runCount(project) {
  const log = path.join(project.dir, 'runs.log');
  return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
}

test('run: a miss runs the command and seeds; a hit restores the outputs and skips it', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  const command = producer(project);

  const miss = cli(['run', '--contract', project.contractPath, '--json', '--', ...command], { home });
  assert.equal(miss.code, 0, miss.stderr);
  const missResult = miss.json();
  assert.equal(missResult.hit, false);
  assert.equal(missResult.exitCode, 0);
  assert.equal(typeof missResult.durationMs, 'number');
  assert.match(miss.stderr, /produced/, "with --json the command's stdout goes to stderr");
  assert.equal(runCount(project), 1);
  const produced = snapshot(project.outDir);

  fs.rmSync(project.outDir, { recursive: true });
  const hit = cli(['run', '--contract', project.contractPath, '--', ...command], { home });
  assert.equal(hit.code, 0, hit.stderr);
  assert.match(hit.stderr, /hit/);
  assert.match(hit.stderr, /\d+(\.\d+)? (ms|s)/, 'prints the time taken');
  assert.equal(runCount(project), 1, 'the command did not run again');
  assert.deepEqual(snapshot(project.outDir), produced);

  // Outputs already holding exactly the pack's tree: fine, nothing to do.
  const again = await api.run({ contractPath: project.contractPath, command, home, stdio: 'ignore' });
  assert.deepEqual([again.hit, again.exitCode, again.uri], [true, null, missResult.uri]);
  assert.equal(runCount(project), 1);

  // Changing an input is a miss again.
  fs.appendFileSync(path.join(project.dir, 'inputs', 'doc1.txt'), 'new line\n');
  fs.rmSync(project.outDir, { recursive: true });
  const changed = await api.run({ contractPath: project.contractPath, command, home, stdio: 'ignore' });
  assert.equal(changed.hit, false);
  assert.notEqual(changed.uri, missResult.uri);
  assert.equal(runCount(project), 2);
});

test('run: a hit refuses an outputs folder holding other files, and leaves it alone', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  const command = producer(project);
  await api.run({ contractPath: project.contractPath, command, home, stdio: 'ignore' });

  fs.rmSync(project.outDir, { recursive: true });
  writeTree(project.outDir, { 'result.txt': 'hand-edited\n', 'notes.md': 'mine' });
  const before = snapshot(project.dir);
  const refused = cli(['run', '--contract', project.contractPath, '--json', '--', ...command], { home });
  assert.equal(refused.code, 1);
  assert.equal(refused.json().error.code, 'CTX_TARGET_EXISTS');
  assert.deepEqual(snapshot(project.dir), before);
});

test('run: a failing command seeds nothing and reports CTX_COMMAND_FAILED', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  const failing = [process.execPath, '-e', `require('fs').mkdirSync(${JSON.stringify(project.outDir)}, { recursive: true }); require('fs').writeFileSync(${JSON.stringify(path.join(project.outDir, 'half.txt'))}, 'x'); process.exit(3)`];

  const result = cli(['run', '--contract', project.contractPath, '--json', '--', ...failing], { home });
  assert.equal(result.code, 1);
  const { error } = result.json();
  assert.equal(error.code, 'CTX_COMMAND_FAILED');
  assert.match(error.message, /3/);
  assert.deepEqual(api.list({ home }), []);

  const viaApi = await rejectsWithCode(api.run({ contractPath: project.contractPath, command: failing, home, stdio: 'ignore' }), 'CTX_COMMAND_FAILED');
  assert.equal(viaApi.exitCode, 3);
  await rejectsWithCode(api.run({ contractPath: project.contractPath, command: [path.join(root, 'no-such-program')], home, stdio: 'ignore' }), 'CTX_COMMAND_FAILED');
  assert.deepEqual(api.list({ home }), []);
});

test('run: usage errors exit 2', async (t) => {
  const project = makeProject(tempDir(t));
  const noCommand = cli(['run', '--contract', project.contractPath, '--json']);
  assert.equal(noCommand.code, 2);
  assert.equal(noCommand.json().error.code, 'CTX_USAGE');
  const noContract = cli(['run', '--', 'true']);
  assert.equal(noContract.code, 2);
  assert.match(noContract.stderr, /^error\[CTX_USAGE\]/m);
});
