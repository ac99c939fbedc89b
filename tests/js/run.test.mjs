// run: miss (run + seed), hit (restore, skip the command), failures that must store nothing, the command's own
// exit status, the command recorded in provenance (not identity), and the URI on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { main } from '../../build/package/lib/cli/main.mjs';
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
  assert.equal(hit.stdout, `${missResult.uri}\n`, 'stdout holds the URI alone, so uri=$(ctxpack run …) works');
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
  assert.equal(result.code, 3, "ctxpack exits with the command's own status");
  const { error } = result.json();
  assert.equal(error.code, 'CTX_COMMAND_FAILED');
  assert.equal(error.exitCode, 3);
  assert.match(error.message, /3/);
  assert.deepEqual(api.list({ home }), []);

  // What the failed command left is not packed into the next run either: it must be removed first.
  const leftover = await rejectsWithCode(api.run({ contractPath: project.contractPath, command: failing, home, stdio: 'ignore' }), 'CTX_TARGET_EXISTS');
  assert.match(leftover.message, /not empty/);
  fs.rmSync(project.outDir, { recursive: true });
  const viaApi = await rejectsWithCode(api.run({ contractPath: project.contractPath, command: failing, home, stdio: 'ignore' }), 'CTX_COMMAND_FAILED');
  assert.equal(viaApi.exitCode, 3);
  fs.rmSync(project.outDir, { recursive: true });
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

test('run: exits with the command status: 127 not found, 128+n on a signal, with CTX_COMMAND_FAILED on stderr', (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));

  const missing = cli(['run', '--contract', project.contractPath, '--', path.join(root, 'no-such-program'), 'arg'], { home });
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /^error\[CTX_COMMAND_FAILED\]: could not start .*no-such-program: command not found$/m);
  assert.equal(missing.stdout, '');

  const notExecutable = path.join(root, 'data.txt');
  fs.writeFileSync(notExecutable, 'not a program\n', { mode: 0o644 });
  assert.equal(cli(['run', '--contract', project.contractPath, '--', notExecutable], { home }).code, 126);

  const killed = cli(['run', '--contract', project.contractPath, '--', process.execPath, '-e', "process.kill(process.pid, 'SIGTERM')"], { home });
  assert.equal(killed.code, 128 + 15);
  assert.match(killed.stderr, /^error\[CTX_COMMAND_FAILED\]: .* was killed by SIGTERM; nothing was stored$/m);

  const status = cli(['run', '--contract', project.contractPath, '--json', '--', process.execPath, '-e', 'process.exit(42)'], { home });
  assert.equal(status.code, 42);
  assert.deepEqual([status.json().error.code, status.json().error.exitCode], ['CTX_COMMAND_FAILED', 42]);
  assert.deepEqual(api.list({ home }), []);
});

test('run: a miss refuses a non-empty outputs folder before running anything, as a hit does', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  const command = producer(project);
  writeTree(project.outDir, { 'stale.txt': 'from last week\n' });
  const before = snapshot(project.dir);

  const refused = cli(['run', '--contract', project.contractPath, '--json', '--', ...command], { home });
  assert.equal(refused.code, 1);
  const { error } = refused.json();
  assert.equal(error.code, 'CTX_TARGET_EXISTS');
  assert.match(error.message, /not empty/);
  assert.equal(runCount(project), 0, 'the command did not run');
  assert.deepEqual(snapshot(project.dir), before, 'the folder is left as it was');
  assert.deepEqual(api.list({ home }), []);

  // An empty folder is fine: the command fills it.
  fs.rmSync(path.join(project.outDir, 'stale.txt'));
  const miss = cli(['run', '--contract', project.contractPath, '--', ...command], { home });
  assert.equal(miss.code, 0, miss.stderr);
  assert.match(miss.stdout, /^ctx:\/\/sha256:[0-9a-f]{64}\n$/);
  assert.match(miss.stderr, /produced/, "the command's stdout goes to stderr");
  assert.equal(runCount(project), 1);
});

test('run: the command is recorded in provenance (secrets masked), not in the identity; a hit by another command warns', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  const command = producer(project);
  // Built at run time so that this file holds nothing that looks like a live token.
  const token = `gh${'p'}_${'aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY2zA4'}`;
  const miss = cli(['run', '--contract', project.contractPath, '--json', '--', ...command, `--token=${token}`], { home });
  assert.equal(miss.code, 0, miss.stderr);
  const { uri } = miss.json();
  assert.equal(uri, (await api.computeIdentity({ contractPath: project.contractPath })).uri, 'the command is not part of the URI');

  const { provenance } = api.inspect(uri, { home });
  assert.equal(provenance.tool, 'ctxpack run');
  assert.deepEqual(provenance.command.slice(0, 2), command);
  assert.match(provenance.command[2], /^--token=\[REDACTED:[a-z0-9-]+\]$/);
  const grep = spawnSync('grep', ['-rlF', token, home], { encoding: 'utf8' });
  assert.equal(grep.status, 1, `the token is in ${grep.stdout}`);

  // The same command (the secret masked the same way) is no surprise; another one is worth a warning.
  fs.rmSync(project.outDir, { recursive: true });
  const same = cli(['run', '--contract', project.contractPath, '--', ...command, `--token=${token}`], { home });
  assert.equal(same.code, 0, same.stderr);
  assert.doesNotMatch(same.stderr, /warning/);
  fs.rmSync(project.outDir, { recursive: true });
  const other = cli(['run', '--contract', project.contractPath, '--', process.execPath, 'other.mjs'], { home });
  assert.equal(other.code, 0, other.stderr);
  assert.equal(other.stdout, `${uri}\n`);
  assert.match(other.stderr, /^warning: the pack was made by `.*produce\.mjs '--token=\[REDACTED:[^\]]+\]'`, not `.*other\.mjs`/m);
  assert.doesNotMatch(other.stderr, new RegExp(token));
  assert.equal(fs.readFileSync(path.join(project.outDir, 'result.txt'), 'utf8'), 'computed\n', 'the outputs were restored');
  assert.equal(runCount(project), 1);
});

test('run: the progress bar is off the terminal before the command starts', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const project = makeProject(path.join(root, 'project'));
  // Enough input bytes for the inputs phase to draw a bar.
  fs.writeFileSync(path.join(project.dir, 'inputs', 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 1));
  const started = path.join(root, 'started');
  const command = [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(started)}, ''); setTimeout(() => { require('fs').mkdirSync(${JSON.stringify(project.outDir)}); require('fs').writeFileSync(${JSON.stringify(path.join(project.outDir, 'r.txt'))}, 'r'); }, 200)`];

  const terminal = fakeTerminal(40);
  let barOnScreenWhenCommandStarted;
  const watcher = setInterval(() => {
    if (barOnScreenWhenCommandStarted === undefined && fs.existsSync(started)) barOnScreenWhenCommandStarted = terminal.barShown();
  }, 5);
  const code = await main(['--home', home, 'run', '--contract', project.contractPath, '--', ...command], {
    stdout: new PassThrough(),
    stderr: terminal,
  });
  clearInterval(watcher);
  assert.equal(code, 0, terminal.text());
  assert.ok(terminal.bars().length > 0, 'a bar was drawn while the inputs were hashed');
  assert.equal(barOnScreenWhenCommandStarted, false);
  for (const bar of terminal.bars()) assert.ok(bar.length <= 39, `${JSON.stringify(bar)} is wider than the 40-column terminal`);
});

/** A stderr that says it is a TTY of `columns` columns and tracks whether a bar is on its last line. */
function fakeTerminal(columns) {
  const stream = new PassThrough();
  const writes = [];
  let shown = false;
  const bars = [];
  stream.isTTY = true;
  stream.columns = columns;
  stream.write = (chunk) => {
    const text = String(chunk);
    writes.push(text);
    if (text.includes('\r\x1b[2K')) {
      const drawn = text.split('\r\x1b[2K').at(-1);
      shown = drawn.length > 0 && !drawn.includes('\n');
      if (shown) bars.push(drawn);
    }
    return true;
  };
  stream.barShown = () => shown;
  stream.bars = () => bars;
  stream.text = () => writes.join('');
  return stream;
}
