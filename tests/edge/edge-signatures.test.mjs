// The edge example with TRUSTED_KEYS (issue 15) in the real workerd: a registry file is served only when its pack
// carries a valid signature from a trusted key, checked by the core in the worker; an unsigned pack and a
// pack signed by another key get 422 with the code, and no byte of the file.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, startRegistry } from '../registry/harness.mjs';
import { PACKAGE_DIR, REPO_ROOT, cleanEnv, ctx, ok, removeAll, seedPack } from '../registry/fixtures.mjs';

const WORKERD = process.env.CTXPACK_TEST_WORKERD ?? path.join(REPO_ROOT, 'node_modules', '@cloudflare', 'workerd-linux-64', 'bin', 'workerd');
let work, registry, workerd, base;
const packs = {};

before(async () => {
  assert.ok(fs.existsSync(WORKERD), `${WORKERD} is missing: run \`bash scripts/setup.sh test\` (npm package workerd)`);
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-edge-sign-')));
  registry = await startRegistry({ auth: 'none' });
  const home = path.join(work, 'home');
  const env = cleanEnv();
  const trusted = ok(await ctx(['keygen', '-o', path.join(work, 'trusted')]));
  const stranger = ok(await ctx(['keygen', '-o', path.join(work, 'stranger')]));
  for (const [name, key] of [['signed', trusted], ['unsigned', null], ['foreign', stranger]]) {
    packs[name] = await seedPack(work, { name, home, files: { 'notes.md': `# ${name}\n` }, input: name });
    ok(await ctx(['push', packs[name].uri, '--registry', registry.ref('packs')], { home, env }));
    if (key) ok(await ctx(['sign', packs[name].uri, '--key', key.privateKey, '--registry', registry.ref('packs')], { home, env }));
  }

  const port = await freePort();
  const dir = path.join(work, 'worker');
  const config = spawnSync(process.execPath, [path.join(REPO_ROOT, 'examples', 'edge-verify', 'make-config.mjs'), dir,
    '--core', path.join(PACKAGE_DIR, 'core'), '--port', String(port), '--trusted-keys', trusted.publicKey], { encoding: 'utf8' });
  assert.equal(config.status, 0, config.stderr?.toString());
  workerd = spawn(WORKERD, ['serve', path.join(dir, 'config.capnp')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  workerd.stderr.on('data', (chunk) => (log += chunk));
  base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    try {
      await fetch(`${base}/`);
      break;
    } catch {
      if (i > 100 || workerd.exitCode !== null) throw new Error(`workerd did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
});
after(async () => {
  workerd?.kill();
  await registry?.close();
  if (work) removeAll(work);
});

const file = (name) => fetch(`${base}/file?${new URLSearchParams({ registry: registry.ref('packs'), uri: packs[name].uri, path: 'notes.md' })}`);

test('a pack signed by a trusted key is served; unsigned and untrusted ones get 422 with their code', async () => {
  const served = await file('signed');
  assert.equal(served.status, 200, await served.clone().text());
  assert.equal(await served.text(), '# signed\n');
  for (const [name, code] of [['unsigned', 'CTX_SIGNATURE_REQUIRED'], ['foreign', 'CTX_KEY_UNTRUSTED']]) {
    const refused = await file(name);
    assert.equal(refused.status, 422, name);
    const body = await refused.json();
    assert.equal(body.error.code, code, name);
  }
});
