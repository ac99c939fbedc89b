// The bundled CLI (scripts/bundle-cli.mjs): what each command loads, recorded at exit by a script preloaded into the
// CLI's process: the package's files it required and Node's own modules (process.moduleLoadList). `--version` and
// `id` of one file load the bin (and `id` the identity core's chunk) and hardly any of Node's modules beyond what an
// empty CommonJS script loads: not the ESM loader, node:crypto, node:os, the streams of process.stdout, fs/promises.
// No command loads a module of lib/, so no module's state exists twice in a process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { api, cli, PACKAGE_DIR, tempDir, writeTree } from './helpers.mjs';

/** What start-up may load beyond an empty script: the signal handlers' binding and parseArgs. */
const START_UP_EXTRAS = ['Internal Binding signal_wrap', 'NativeModule internal/util/parse_args/parse_args', 'NativeModule internal/util/parse_args/utils'];

/** A script to preload with --require: at exit it writes the files required and Node's modules loaded. */
function recorder(t) {
  const dir = tempDir(t, 'ctxpack-modules-');
  const log = path.join(dir, 'modules.json');
  const script = path.join(dir, 'record.cjs');
  fs.writeFileSync(
    script,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(log)}, JSON.stringify({ files: Object.keys(require.cache), node: process.moduleLoadList })));\n`,
  );
  const read = () => JSON.parse(fs.readFileSync(log, 'utf8'));
  return { env: { NODE_OPTIONS: `--require ${script}` }, script, read };
}

/** Runs the CLI with the recorder; returns the result, the package's files it loaded and Node's modules beyond an empty script's. */
function cliModules(t, args, options) {
  const { env, script, read } = recorder(t);
  const empty = path.join(path.dirname(script), 'empty.cjs');
  fs.writeFileSync(empty, '');
  const baseline = spawnSync(process.execPath, ['--require', script, empty]);
  assert.equal(baseline.status, 0, String(baseline.stderr));
  const emptyModules = new Set(read().node);
  const result = cli(args, { ...options, env });
  const { files, node } = read();
  const packageFiles = files.filter((file) => file.startsWith(`${PACKAGE_DIR}${path.sep}`)).map((file) => path.relative(PACKAGE_DIR, file).split(path.sep).join('/'));
  return { result, files: packageFiles, extraNodeModules: node.filter((name) => !emptyModules.has(name)) };
}

test('--version loads the bin and, of Node, only the signal handlers and parseArgs beyond an empty script', (t) => {
  const { result, files, extraNodeModules } = cliModules(t, ['--version']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^ctxpack \d+\.\d+\.\d+ /);
  assert.deepEqual(files, ['bin/ctxpack.cjs']);
  assert.deepEqual(extraNodeModules.filter((name) => !START_UP_EXTRAS.includes(name)), []);
});

test('id of one file loads the bin and the identity core chunk only, and no more of Node than --version', async (t) => {
  const dir = tempDir(t);
  writeTree(dir, { 'data.txt': 'one file\n', 'contract.json': JSON.stringify({ name: 'one', inputs: [{ name: 'data', path: 'data.txt' }], transforms: [] }) });
  const { result, files, extraNodeModules } = cliModules(t, ['id', '--contract', path.join(dir, 'contract.json')], { home: path.join(dir, 'home') });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), (await api.computeIdentity({ contractPath: path.join(dir, 'contract.json') })).uri);
  assert.equal(files.length, 2, files.join(', '));
  assert.equal(files[0], 'bin/ctxpack.cjs');
  assert.match(files[1], /^bin\/chunks\/core-id-node-[\w-]+\.cjs$/);
  assert.deepEqual(extraNodeModules.filter((name) => !START_UP_EXTRAS.includes(name)), []);
});

test('a printed warning or error makes no stream either', (t) => {
  const { result, extraNodeModules } = cliModules(t, ['id']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error\[CTX_USAGE\]: id needs --contract/);
  assert.ok(!extraNodeModules.includes('NativeModule stream'), extraNodeModules.join(', '));
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
  for (const { files: loaded } of [seeded, verified]) {
    assert.ok(loaded.some((file) => /^bin\/chunks\/core-node-[\w-]+\.cjs$/.test(file)), 'the full core comes from its chunk');
    assert.deepEqual(loaded.filter((file) => !file.startsWith('bin/')), []);
  }
});

test('help requires every command from its chunk', (t) => {
  const { result, files } = cliModules(t, ['help']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /\bid\b[\s\S]*\bseed\b[\s\S]*\bserve\b/);
  assert.deepEqual(files.filter((file) => !file.startsWith('bin/')), []);
});
