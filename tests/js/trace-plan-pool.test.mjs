// The trace planning threads (lib/trace/plan-pool.mjs) and the digests the consumer already has: a plan made on a
// thread leaves out those blobs' bytes (they are not copied out of the core, nor moved between threads), digests
// learned midway reach a thread with its next log, and a later call starts from none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_DIR, REPO_ROOT, tempDir } from './helpers.mjs';

const { planLogs, WORKERS_FROM_LOGS } = await import(path.join(PACKAGE_DIR, 'lib', 'trace', 'plan-pool.mjs'));
const FIXTURE = path.join(REPO_ROOT, 'tests', 'fixtures', 'execution', 'tool-heavy-agent.json');

/** `count` copies of one fixture log, each with its own environment (so its own URI), same contents. */
function logsIn(t, count) {
  const folder = tempDir(t);
  return Array.from({ length: count }, (_, n) => {
    const log = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
    log.environment.os = `linux-${n}`;
    const file = path.join(folder, `log-${n}.json`);
    fs.writeFileSync(file, JSON.stringify(log));
    return file;
  });
}

const withBytes = (plan) => plan.blobs.filter((blob) => blob.bytes !== undefined).map((blob) => blob.digest);

const ONE_CORE = os.availableParallelism() < 2 && 'one core: every plan is made on the main thread';

test('planning threads leave out the bytes of contents the consumer has; a later call starts from none', { skip: ONE_CORE }, async (t) => {
  const logs = logsIn(t, WORKERS_FROM_LOGS + 4);
  const known = [];
  const plans = [];
  for await (const plan of planLogs(logs, false, known)) {
    plans.push(plan);
    // The consumer learns the first plan's contents; later logs are sent to the threads with them.
    if (plans.length === 1) known.push(...plan.blobs.map((blob) => blob.digest));
  }
  const digests = plans[0].blobs.map((blob) => blob.digest);
  assert.ok(digests.length > 1);
  assert.deepEqual(withBytes(plans[0]), digests, 'nothing known yet: every blob has its bytes');
  assert.ok(plans.every((plan) => plan.blobs.every((blob, at) => blob.digest === digests[at] && blob.size === plans[0].blobs[at].size)));
  assert.deepEqual(withBytes(plans.at(-1)), [], 'planned after the consumer learned them: no bytes');
  // The same threads, idle since, start the next call from no known digests.
  const again = [];
  for await (const plan of planLogs(logs, false, [])) again.push(plan);
  assert.ok(again.every((plan) => withBytes(plan).length === digests.length));
});
