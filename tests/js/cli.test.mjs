// The command line itself: help, --version, usage errors in ctxpack's own words with "did you mean", JSON
// documents, exit codes, --home, the progress bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cli, makeProject, PACKAGE_DIR, tempDir, writeOutputs } from './helpers.mjs';

const core = await import(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs')).href);
const idCore = await import(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'core-id-node.mjs')).href);

const COMMANDS = ['id', 'seed', 'inspect', 'verify', 'export', 'unpack', 'ls', 'rm', 'gc', 'run', 'push', 'pull', 'resolve', 'copy', 'import', 'keygen', 'sign', 'login', 'trace', 'version'];

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
  // Printed without loading the core: the version it reports itself, in every build.
  assert.equal(json.core, core.version());
  assert.equal(json.core, idCore.version());
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

test('--version, -V and `help <command>` work as in git and docker', () => {
  const version = cli(['version']).stdout;
  for (const args of [['--version'], ['-V'], ['--home', '/nowhere', '--version']]) {
    const result = cli(args);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, version, args.join(' '));
  }
  assert.deepEqual(Object.keys(cli(['-V', '--json']).json()).sort(), ['core', 'node', 'version']);

  assert.equal(cli(['help']).stdout, cli(['--help']).stdout);
  assert.match(cli(['--help']).stdout, /-V, --version/);
  for (const [args, usage] of [
    [['help', 'run'], 'run --contract'],
    [['help', 'trace'], 'trace <command>'],
    [['help', 'trace', 'diff'], 'trace diff'],
    [['help', 'context', 'validate'], 'context validate'],
  ]) {
    const result = cli(args);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.startsWith(`Usage: ctxpack ${usage}`), `${args.join(' ')}: ${result.stdout}`);
    assert.equal(result.stdout, cli([...args.slice(1), '--help']).stdout);
  }
});

test('a misspelled command, subcommand or option gets "did you mean"', () => {
  const cases = [
    [['pul'], /^error\[CTX_USAGE\]: unknown command "pul"; did you mean `pull`\?$/m],
    [['verfy', 'x'], /did you mean `verify`\?/],
    [['help', 'ispect'], /unknown command "ispect"; did you mean `inspect`\?/],
    [['trace', 'dif'], /^error\[CTX_USAGE\]: unknown trace command "dif"; did you mean `trace diff`\?$/m],
    [['context', 'valdate', 'p.yaml'], /did you mean `context validate`\?/],
    [['seed', '--contrat', 'x'], /^error\[CTX_USAGE\]: unknown option --contrat; did you mean --contract\?$/m],
    [['ls', '--jsn'], /unknown option --jsn; did you mean --json\?/],
    [['push', '--regsitry', 'r', 'ctx://sha256:x'], /did you mean --registry\?/],
  ];
  for (const [args, expected] of cases) {
    const result = cli(args);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, expected, args.join(' '));
  }
  const nothingClose = cli(['frobnicate']);
  assert.match(nothingClose.stderr, /^error\[CTX_USAGE\]: unknown command "frobnicate"$/m);
});

test("Node's parseArgs wording never reaches the user: every command-line mistake is ctxpack's own CTX_USAGE", () => {
  const cases = [
    [['seed', 'out', '--contract'], /^error\[CTX_USAGE\]: --contract needs a value$/m],
    [['export', 'ctx://sha256:x', '-o'], /^error\[CTX_USAGE\]: -o needs a value$/m],
    [['seed', 'out', '--contract', '--follow-links'], /--contract needs a value, but the option --follow-links follows it/],
    [['ls', '--json=yes'], /--json takes no value/],
    [['ls', '-x'], /^error\[CTX_USAGE\]: unknown option -x$/m],
    [['gc', 'extra'], /^error\[CTX_USAGE\]: unexpected argument "extra": gc takes no arguments/m],
    [['verify'], /^error\[CTX_USAGE\]: verify needs 1 argument/m],
    [['id'], /^error\[CTX_USAGE\]: id needs --contract/m],
  ];
  const nodeWording = /Unknown option '|argument missing|argument is ambiguous|does not take an argument|Unexpected argument '|ERR_PARSE_ARGS|To specify a positional/;
  for (const [args, expected] of cases) {
    const result = cli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected, args.join(' '));
    assert.doesNotMatch(result.stderr, nodeWording, args.join(' '));
    assert.match(result.stderr, /hint: .*run `ctxpack (help \S+|--help)`/, args.join(' '));
    const json = cli([...args, '--json']);
    assert.equal(json.json().error.code, 'CTX_USAGE', args.join(' '));
    assert.doesNotMatch(json.stdout, nodeWording);
  }
});

test('an option value may start with a dash when attached with =', (t) => {
  const cwd = tempDir(t);
  const attached = cli(['ls', '--home=-odd-name', '--json'], { cwd });
  assert.equal(attached.code, 0, attached.stderr);
  assert.deepEqual(attached.json(), { packs: [] });
});

test('the progress bar fits the terminal, and clear() takes it off the line', async () => {
  const { createProgressBar } = await import(path.join(PACKAGE_DIR, 'lib', 'progress.mjs'));
  for (const columns of [20, 45, 200]) {
    const written = [];
    const stream = { isTTY: true, columns, write: (text) => written.push(text) };
    const bar = createProgressBar({ stream });
    bar.onProgress({ phase: 'push', bytes: 0, totalBytes: 5 * 1024 ** 3 });
    bar.onProgress({ phase: 'push', bytes: 5 * 1024 ** 3, totalBytes: 5 * 1024 ** 3 });
    const drawn = written.filter((text) => text.startsWith('\r\x1b[2K') && text.length > 5).map((text) => text.slice(5));
    assert.ok(drawn.length > 0);
    for (const line of drawn) assert.ok(line.length < columns && !line.includes('\n'), `${columns} columns: ${JSON.stringify(line)}`);
    bar.clear();
    assert.equal(written.at(-1), '\r\x1b[2K');
    bar.print('warning: x');
    assert.deepEqual(written.slice(-1), ['warning: x\n'], 'a cleared bar is not drawn again under a warning');
  }
});
