// The team workflow: machine A runs a job and pushes (`run --push`); machine B, with an empty pantry and
// the same recipe, gets the outputs from the registry and never runs the command. A registry that cannot be
// reached is a cache miss with a warning, never a failure of the job.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeProject, snapshot } from '../js/helpers.mjs';
import { freePort, startRegistry } from './harness.mjs';
import { cleanEnv, ctx, ok, tempDir } from './fixtures.mjs';

let registry;
before(async () => {
  registry = await startRegistry();
});
after(() => registry?.close());

/** A project whose command writes out/ and appends to runs.log (outside out/), so tests see whether it ran. */
function project(root) {
  const made = makeProject(root);
  const script = path.join(root, 'produce.mjs');
  fs.writeFileSync(
    script,
    `import fs from 'node:fs';
fs.appendFileSync('runs.log', 'run\\n');
fs.mkdirSync('out/deep', { recursive: true });
fs.writeFileSync('out/result.txt', 'computed\\n');
fs.writeFileSync('out/deep/more.bin', Buffer.alloc(300000, 7));
`,
  );
  const runs = () => (fs.existsSync(path.join(root, 'runs.log')) ? fs.readFileSync(path.join(root, 'runs.log'), 'utf8').split('\n').filter(Boolean).length : 0);
  return { ...made, command: [process.execPath, script], runs };
}

/** `ctx` appends --json last, which after `--` would reach the command: so pass --home and --json before it. */
const runJob = (job, args, { home }) =>
  ctx(['run', '--contract', job.contractPath, ...args, '--home', home, '--json', '--', ...job.command], { cwd: job.dir, env: cleanEnv() });

test('run --push on one machine; run on another pulls from the registry and skips the command', async (t) => {
  const machineA = project(path.join(tempDir(t), 'project'));
  const first = ok(await runJob(machineA, ['--registry', registry.ref('jobs'), '--push'], { home: tempDir(t) }));
  assert.equal(first.source, 'command');
  assert.equal(machineA.runs(), 1);
  assert.ok(first.pushed, 'run --push did not push');

  // Machine B: the same recipe in another place, an empty pantry.
  const machineB = project(path.join(tempDir(t), 'elsewhere'));
  const homeB = tempDir(t);
  const second = ok(await runJob(machineB, ['--registry', registry.ref('jobs')], { home: homeB }));
  assert.equal(second.uri, first.uri, 'the same recipe has the same URI on both machines');
  assert.equal(second.source, 'registry');
  assert.equal(machineB.runs(), 0, 'the command ran although the registry had the pack');
  assert.deepEqual(snapshot(machineB.outDir), snapshot(machineA.outDir));

  // Now the pack is in B's pantry: the next run is a pantry hit, even without a registry.
  fs.rmSync(machineB.outDir, { recursive: true });
  const third = ok(await runJob(machineB, [], { home: homeB }));
  assert.equal(third.source, 'pantry');
  assert.equal(machineB.runs(), 0);
});

test('an unreachable registry is a miss with a warning: the command runs and its pack is seeded', async (t) => {
  const job = project(path.join(tempDir(t), 'project'));
  const home = tempDir(t);
  const nobody = `127.0.0.1:${await freePort()}/jobs`;
  const result = await runJob(job, ['--registry', nobody], { home });
  const outcome = ok(result);
  assert.equal(outcome.source, 'command');
  assert.equal(job.runs(), 1);
  assert.match(result.stderr, /warning/i);
  assert.match(result.stderr, /cannot reach .*running the command instead/);
  const listed = ok(await ctx(['ls'], { home }));
  assert.ok(JSON.stringify(listed).includes(outcome.uri), 'the pack was not seeded');
});
