// The edge example with TRUSTED_KEYS (issue 15) in the real workerd: a registry file is served only when its pack
// carries a valid signature from a trusted key, checked by the core in the worker; an unsigned pack and a
// pack signed by another key get 422 with the code, and no byte of the file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { assertWorkerdInstalled, startEdgeWorker } from './workerd.mjs';
import { startRegistry } from '../registry/harness.mjs';
import { cleanEnv, ctx, ok, removeAll, seedPack } from '../registry/fixtures.mjs';

let work, registry, workerd, base;
const packs = {};

before(async () => {
  assertWorkerdInstalled();
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

  ({ base, process: workerd } = await startEdgeWorker(path.join(work, 'worker'), ['--trusted-keys', trusted.publicKey]));
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
