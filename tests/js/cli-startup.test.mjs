// The bundled CLI (scripts/bundle-cli.mjs): what each command loads, counted by a module hook in the CLI's process.
// Start-up is one module (bin/ctxpack.mjs) plus the CtxpackError class; `id` adds the lean core's chunk and nothing
// else; no command loads a module of lib/, so no module's state exists twice in a process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { api, cli, PACKAGE_DIR, tempDir, writeTree } from './helpers.mjs';

/** Runs the CLI with a hook that records every file module it loads; returns the result and those modules. */
function cliModules(t, args, options) {
  const dir = tempDir(t, 'ctxpack-modules-');
  const log = path.join(dir, 'modules.log');
  fs.writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return nextLoad(url, context);
}
`,
  );
  fs.writeFileSync(path.join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
  const result = cli(args, { ...options, env: { NODE_OPTIONS: `--import ${pathToFileURL(path.join(dir, 'register.mjs')).href}` } });
  const packageUrl = `${pathToFileURL(PACKAGE_DIR).href}/`;
  const modules = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((url) => (url.startsWith(packageUrl) ? url.slice(packageUrl.length) : url)) : [];
  return { result, modules };
}

test('--version loads one module of the CLI and the CtxpackError class', (t) => {
  const { result, modules } = cliModules(t, ['--version']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^ctxpack \d+\.\d+\.\d+ /);
  assert.deepEqual(modules.sort(), ['bin/ctxpack.mjs', 'core/ctxpack_error.js']);
});

test('id of one file loads the CLI module, the CtxpackError class and the lean core chunk only', async (t) => {
  const dir = tempDir(t);
  writeTree(dir, { 'data.txt': 'one file\n', 'contract.json': JSON.stringify({ name: 'one', inputs: [{ name: 'data', path: 'data.txt' }], transforms: [] }) });
  const { result, modules } = cliModules(t, ['id', '--contract', path.join(dir, 'contract.json')], { home: path.join(dir, 'home') });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), (await api.computeIdentity({ contractPath: path.join(dir, 'contract.json') })).uri);
  const [chunk, ...others] = modules.filter((module) => module.startsWith('bin/chunks/'));
  assert.match(chunk ?? '', /^bin\/chunks\/core-lean-node-[\w-]+\.mjs$/);
  assert.deepEqual(others, []);
  assert.deepEqual(modules.filter((module) => module !== chunk).sort(), ['bin/ctxpack.mjs', 'core/ctxpack_error.js']);
});

test('seed and verify of a tree run from the bundle alone: no module of lib/ in the CLI process', (t) => {
  const dir = tempDir(t);
  const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`tree/d${i % 4}/f${i}.txt`, `file ${i}\n`.repeat(200)]));
  writeTree(dir, { ...files, 'contract.json': JSON.stringify({ name: 'tree', inputs: [{ name: 'tree', path: 'tree' }], transforms: [], outputs: { path: 'tree' } }) });
  const home = path.join(dir, 'home');
  const seeded = cliModules(t, ['seed', path.join(dir, 'tree'), '--contract', path.join(dir, 'contract.json'), '--json'], { home });
  assert.equal(seeded.result.code, 0, seeded.result.stderr);
  const uri = seeded.result.json().uri;
  const verified = cliModules(t, ['verify', uri], { home });
  assert.equal(verified.result.code, 0, verified.result.stderr);
  for (const { modules } of [seeded, verified]) {
    assert.ok(modules.some((module) => /^bin\/chunks\/core-node-[\w-]+\.mjs$/.test(module)), 'the full core comes from its chunk');
    assert.deepEqual(modules.filter((module) => !module.startsWith('bin/') && module !== 'core/ctxpack_error.js'), []);
  }
});
