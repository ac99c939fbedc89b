// The command line itself: help, usage errors, JSON documents, exit codes, --home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cli, makeProject, tempDir, writeOutputs } from './helpers.mjs';

const COMMANDS = ['id', 'seed', 'inspect', 'verify', 'export', 'unpack', 'ls', 'rm', 'gc', 'run', 'push', 'pull', 'resolve', 'copy', 'import', 'login', 'trace', 'version'];

test('every command has --help (exit 0, usage on stdout)', () => {
  for (const command of COMMANDS) {
    const result = cli([command, '--help']);
    assert.equal(result.code, 0, `${command}: ${result.stderr}`);
    assert.match(result.stdout, new RegExp(`^Usage: ctxpack ${command}`), command);
    assert.match(result.stdout, /--json/, command);
  }
  const global = cli(['--help']);
  assert.equal(global.code, 0);
  for (const command of COMMANDS) assert.match(global.stdout, new RegExp(`\\n  ${command}\\b`));
});

test('no command, an unknown command or a bad option is a usage error (exit 2)', () => {
  const none = cli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: ctxpack <command>/);

  const unknown = cli(['frobnicate', '--json']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.json().error.code, 'CTX_USAGE');

  const badOption = cli(['ls', '--no-such-option']);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /^error\[CTX_USAGE\]: .*no-such-option/m);
  assert.match(badOption.stderr, /hint: /);

  const missingArgument = cli(['verify', '--json']);
  assert.equal(missingArgument.code, 2);
  assert.equal(missingArgument.json().error.code, 'CTX_USAGE');

  const missingOption = cli(['export', 'ctx://sha256:' + '0'.repeat(64)]);
  assert.equal(missingOption.code, 2);
  assert.match(missingOption.stderr, /--output/);

  const badLimit = cli(['verify', 'x.tar.gz', '--max-entry-bytes', 'lots', '--json']);
  assert.equal(badLimit.code, 2);
  assert.equal(badLimit.json().error.code, 'CTX_USAGE');
});

test('version prints the package, core and node versions', () => {
  const text = cli(['version']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^ctxpack \d+\.\d+\.\d+ \(core \S+, node \S+\)\n$/);
  const json = cli(['version', '--json']).json();
  assert.deepEqual(Object.keys(json).sort(), ['core', 'node', 'version']);
});

test('an invalid URI is CTX_URI_INVALID; an unknown one is CTX_NOT_FOUND', (t) => {
  const home = tempDir(t);
  const invalid = cli(['inspect', 'ctx://sha256:XYZ', '--json'], { home });
  assert.equal(invalid.code, 1);
  assert.equal(invalid.json().error.code, 'CTX_URI_INVALID');
  const unknown = cli(['verify', `ctx://sha256:${'a'.repeat(64)}`, '--json'], { home });
  assert.equal(unknown.code, 1);
  assert.equal(unknown.json().error.code, 'CTX_NOT_FOUND');
  const noFile = cli(['verify', path.join(home, 'missing.tar.gz')]);
  assert.equal(noFile.code, 1);
  assert.match(noFile.stderr, /^error\[CTX_NOT_FOUND\]/m);
});

test('--home overrides $CTXPACK_HOME, before or after the command', (t) => {
  const root = tempDir(t);
  const project = makeProject(path.join(root, 'project'));
  writeOutputs(project.outDir);
  const envHome = path.join(root, 'env-home');
  const flagHome = path.join(root, 'flag-home');
  const seeded = cli(['--home', flagHome, 'seed', project.outDir, '--contract', project.contractPath], { home: envHome });
  assert.equal(seeded.code, 0, seeded.stderr);
  const uri = seeded.stdout.trim();
  assert.match(uri, /^ctx:\/\/sha256:[0-9a-f]{64}$/);
  assert.equal(fs.existsSync(envHome), false);
  assert.deepEqual(cli(['ls', '--json', '--home', flagHome]).json().packs.map((pack) => pack.uri), [uri]);
  assert.deepEqual(cli(['ls', '--json'], { home: envHome }).json(), { packs: [] });
});

test('without a TTY there is no progress output, and stdout holds only the result', (t) => {
  const root = tempDir(t);
  const project = makeProject(path.join(root, 'project'));
  writeOutputs(project.outDir);
  fs.writeFileSync(path.join(project.outDir, 'big.bin'), Buffer.alloc(20 * 1024 * 1024, 7));
  const result = cli(['seed', project.outDir, '--contract', project.contractPath], { home: path.join(root, 'home') });
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /\r|\x1b\[/);
  assert.equal(result.stdout.split('\n').filter(Boolean).length, 1);
});
