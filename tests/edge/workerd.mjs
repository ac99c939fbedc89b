// The edge example in the real workerd (npm package `workerd`): write its config with the example's own
// make-config.mjs, start workerd on a free loopback port, and wait until it answers.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../registry/harness.mjs';
import { PACKAGE_DIR, REPO_ROOT } from '../registry/fixtures.mjs';

export const WORKERD = process.env.CTXPACK_TEST_WORKERD ?? path.join(REPO_ROOT, 'node_modules', '@cloudflare', 'workerd-linux-64', 'bin', 'workerd');

export function assertWorkerdInstalled() {
  assert.ok(fs.existsSync(WORKERD), `${WORKERD} is missing: run \`bash scripts/setup.sh test\` (npm package workerd)`);
}

/**
 * The example worker in `dir`, configured with make-config.mjs's `options` (e.g. `--user`, `--trusted-keys`).
 * @returns {Promise<{base: string, process: import('node:child_process').ChildProcess}>}
 */
export async function startEdgeWorker(dir, options = []) {
  const port = await freePort();
  const config = spawnSync(process.execPath, [path.join(REPO_ROOT, 'examples', 'edge-verify', 'make-config.mjs'), dir,
    '--core', path.join(PACKAGE_DIR, 'core'), '--port', String(port), ...options], { encoding: 'utf8' });
  assert.equal(config.status, 0, config.stderr?.toString());
  const workerd = spawn(WORKERD, ['serve', path.join(dir, 'config.capnp')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  workerd.stderr.on('data', (chunk) => (log += chunk));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    try {
      await fetch(`${base}/`);
      return { base, process: workerd };
    } catch {
      if (i > 100 || workerd.exitCode !== null) throw new Error(`workerd did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
