// Contract identity from the Node host: what changes the URI, what does not, and missing paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { api, cli, makeProject, mkfifo, rejectsWithCode, tempDir, writeTree } from './helpers.mjs';

const URI_PATTERN = /^ctx:\/\/sha256:[0-9a-f]{64}$/;

test('id prints the URI; the API and the CLI agree', async (t) => {
  const project = makeProject(tempDir(t));
  const { uri, contract } = await api.computeIdentity({ contractPath: project.contractPath });
  assert.match(uri, URI_PATTERN);
  assert.equal(contract.ctxpack, 'contract/v1');
  assert.equal(contract.outputs, undefined, 'outputs are not part of identity');
  assert.equal(contract.inputs[0].type, 'tree');
  assert.match(contract.inputs[0].digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(contract.inputs[0].path, undefined, 'paths are replaced by digests');
  assert.match(contract.transforms[0].code_hash, /^sha256:[0-9a-f]{64}$/);

  const plain = cli(['id', '--contract', project.contractPath]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout.trim(), uri);

  const json = cli(['id', '--contract', project.contractPath, '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(json.json(), { uri, contract, warnings: [] });
});

test('moving the project folder keeps the URI', async (t) => {
  const root = tempDir(t);
  const project = makeProject(path.join(root, 'a'));
  const before = (await api.computeIdentity({ contractPath: project.contractPath })).uri;
  fs.renameSync(path.join(root, 'a'), path.join(root, 'elsewhere'));
  const after = (await api.computeIdentity({ contractPath: path.join(root, 'elsewhere', 'contract.json') })).uri;
  assert.equal(after, before);
});

test('a contract given as an object with baseDir has the same URI as its file', async (t) => {
  const project = makeProject(tempDir(t));
  const fromFile = await api.computeIdentity({ contractPath: project.contractPath });
  const contract = JSON.parse(fs.readFileSync(project.contractPath, 'utf8'));
  const fromObject = await api.computeIdentity({ contract, baseDir: project.dir });
  assert.equal(fromObject.uri, fromFile.uri);
});

test('one byte of input, of code, or a param changes the URI', async (t) => {
  const project = makeProject(tempDir(t));
  const uriOf = async () => (await api.computeIdentity({ contractPath: project.contractPath })).uri;
  const original = await uriOf();

  const docPath = path.join(project.dir, 'inputs', 'nested', 'doc2.txt');
  const doc = fs.readFileSync(docPath);
  fs.writeFileSync(docPath, Buffer.concat([doc.subarray(0, -1), Buffer.from('!')]));
  const inputChanged = await uriOf();
  assert.notEqual(inputChanged, original);
  fs.writeFileSync(docPath, doc);
  assert.equal(await uriOf(), original, 'restoring the input restores the URI');

  const codePath = path.join(project.dir, 'code.py');
  fs.appendFileSync(codePath, '#');
  const codeChanged = await uriOf();
  assert.notEqual(codeChanged, original);

  const paramProject = makeProject(tempDir(t), { params: { size: 256 } });
  const paramChanged = (await api.computeIdentity({ contractPath: paramProject.contractPath })).uri;
  assert.notEqual(paramChanged, original);
  assert.equal(new Set([original, inputChanged, codeChanged, paramChanged]).size, 4);
});

test('renaming a file inside an input, or flipping its executable bit, changes the URI', async (t) => {
  const project = makeProject(tempDir(t));
  const uriOf = async () => (await api.computeIdentity({ contractPath: project.contractPath })).uri;
  const original = await uriOf();
  const docPath = path.join(project.dir, 'inputs', 'doc1.txt');
  fs.chmodSync(docPath, 0o755);
  const executable = await uriOf();
  assert.notEqual(executable, original);
  fs.chmodSync(docPath, 0o644);
  fs.renameSync(docPath, path.join(project.dir, 'inputs', 'doc1-renamed.txt'));
  const renamed = await uriOf();
  assert.notEqual(renamed, original);
  assert.notEqual(renamed, executable);
});

test('an empty directory inside an input does not change the URI', async (t) => {
  const project = makeProject(tempDir(t));
  const before = (await api.computeIdentity({ contractPath: project.contractPath })).uri;
  fs.mkdirSync(path.join(project.dir, 'inputs', 'empty', 'deeper'), { recursive: true });
  const after = (await api.computeIdentity({ contractPath: project.contractPath })).uri;
  assert.equal(after, before);
});

test('a single-file input is hashed as a file and its content counts', async (t) => {
  const dir = tempDir(t);
  writeTree(dir, { 'data.csv': 'a,b\n1,2\n' });
  const contract = { inputs: [{ name: 'table', path: 'data.csv' }], transforms: [] };
  const first = await api.computeIdentity({ contract, baseDir: dir });
  assert.equal(first.contract.inputs[0].type, 'file');
  fs.writeFileSync(path.join(dir, 'data.csv'), 'a,b\n1,3\n');
  const second = await api.computeIdentity({ contract, baseDir: dir });
  assert.notEqual(second.uri, first.uri);
});

test('files are hashed the same by the core (256 KiB in all, the fast path of `id`) and by node:crypto (more)', async (t) => {
  const dir = tempDir(t);
  const bytes = crypto.randomBytes(256 * 1024);
  // 256 KiB - 1 in all: the core hashes both; 256 KiB in all: node:crypto does.
  writeTree(dir, { small: bytes.subarray(0, 100), 'just-under': bytes.subarray(100 + 1), 'just-over': bytes.subarray(100) });
  const sha256 = (file) => `sha256:${crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, file))).digest('hex')}`;
  for (const other of ['just-under', 'just-over']) {
    const contract = { inputs: [{ name: 'small', path: 'small' }, { name: 'other', path: other }], transforms: [] };
    const { contract: resolved, uri } = await api.computeIdentity({ contract, baseDir: dir, cache: false });
    assert.deepEqual(resolved.inputs.map(({ digest }) => digest), [sha256('small'), sha256(other)]);
    fs.writeFileSync(path.join(dir, 'contract.json'), JSON.stringify(contract));
    const run = cli(['id', '--contract', path.join(dir, 'contract.json')], { home: path.join(dir, 'home') });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), uri);
  }
});

test('a missing input path is CTX_INPUT_MISSING naming the input, never the hash of nothing', async (t) => {
  const project = makeProject(tempDir(t));
  fs.rmSync(path.join(project.dir, 'inputs'), { recursive: true });
  const error = await rejectsWithCode(api.computeIdentity({ contractPath: project.contractPath }), 'CTX_INPUT_MISSING');
  assert.match(error.message, /docs/);
  assert.ok(error.hint);

  const plain = cli(['id', '--contract', project.contractPath]);
  assert.equal(plain.code, 1);
  assert.equal(plain.stdout, '');
  assert.match(plain.stderr, /^error\[CTX_INPUT_MISSING\]: .*docs/m);
  assert.match(plain.stderr, /^ {2}hint: /m);
  assert.doesNotMatch(plain.stderr, /\n\s+at /, 'no stack trace for an expected error');

  const json = cli(['id', '--contract', project.contractPath, '--json']);
  assert.equal(json.code, 1);
  const { error: reported } = json.json();
  assert.equal(reported.code, 'CTX_INPUT_MISSING');
  assert.equal(typeof reported.message, 'string');
  assert.equal(typeof reported.hint, 'string');
  assert.equal(reported.subject, 'docs');
});

test('a missing code_path is CTX_INPUT_MISSING too', async (t) => {
  const project = makeProject(tempDir(t));
  fs.rmSync(path.join(project.dir, 'code.py'));
  await rejectsWithCode(api.computeIdentity({ contractPath: project.contractPath }), 'CTX_INPUT_MISSING');
});

test('a code_path naming a directory hashes the directory as a tree', async (t) => {
  const dir = tempDir(t);
  writeTree(dir, { 'src/a.py': 'a = 1\n', 'src/b.py': 'b = 2\n' });
  const contract = { inputs: [], transforms: [{ tool: 't', tool_version: '1', code_path: 'src' }] };
  const first = await api.computeIdentity({ contract, baseDir: dir });
  assert.match(first.contract.transforms[0].code_hash, /^sha256:[0-9a-f]{64}$/);
  fs.writeFileSync(path.join(dir, 'src', 'b.py'), 'b = 3\n');
  const second = await api.computeIdentity({ contract, baseDir: dir });
  assert.notEqual(second.uri, first.uri);
});

test('a missing contract file is a clear error, not a stack trace', async (t) => {
  const dir = tempDir(t);
  const result = cli(['id', '--contract', path.join(dir, 'nope.json'), '--json']);
  assert.equal(result.code, 1);
  assert.equal(result.json().error.code, 'CTX_IO');
});

test('an input tree holding a FIFO is CTX_UNSUPPORTED_ENTRY_TYPE naming it', async (t) => {
  const project = makeProject(tempDir(t));
  if (!mkfifo(path.join(project.dir, 'inputs', 'pipe'))) return t.skip('mkfifo is not available');
  const error = await rejectsWithCode(api.computeIdentity({ contractPath: project.contractPath }), 'CTX_UNSUPPORTED_ENTRY_TYPE');
  assert.match(error.message, /pipe/);
});

test('a misspelled key is CTX_CONTRACT_INVALID naming its path, with the key meant as the hint', (t) => {
  const project = makeProject(tempDir(t));
  const contract = JSON.parse(fs.readFileSync(project.contractPath, 'utf8'));
  contract.transforms[0].codepath = contract.transforms[0].code_path;
  delete contract.transforms[0].code_path;
  fs.writeFileSync(project.contractPath, JSON.stringify(contract));

  const plain = cli(['id', '--contract', project.contractPath]);
  assert.equal(plain.code, 1);
  assert.equal(plain.stdout, '');
  assert.match(plain.stderr, /^error\[CTX_CONTRACT_INVALID\]: transforms\[0\]\.codepath: unknown key "codepath"$/m);
  assert.match(plain.stderr, /^ {2}hint: did you mean "code_path"\?/m);
  const { error } = cli(['id', '--contract', project.contractPath, '--json']).json();
  assert.deepEqual([error.code, error.subject], ['CTX_CONTRACT_INVALID', 'transforms[0].codepath']);

  // A number a double would change is refused, not rounded (2^64 + 1 would be hashed as 2^64).
  fs.writeFileSync(project.contractPath, '{"transforms":[{"tool":"t","code_path":"code.py","params":{"seed":18446744073709551617}}]}');
  const number = cli(['id', '--contract', project.contractPath]);
  assert.equal(number.code, 1);
  assert.match(number.stderr, /^error\[CTX_JSON_NUMBER_UNREPRESENTABLE\]: .*18446744073709551617.*18446744073709552000/m);
});

test('id, seed and run warn about a transform whose code is not part of the identity; extensions count', (t) => {
  const dir = tempDir(t);
  const home = path.join(dir, 'home');
  writeTree(dir, { 'in/a.txt': 'a\n', 'out/result.txt': 'done\n' });
  const contract = {
    meta: { owner: 'search-team' },
    inputs: [{ name: 'in', path: 'in', 'x-lang': 'en' }],
    transforms: [{ tool: 'llm', tool_version: '1', params: { temperature: 0 } }],
    outputs: 'out',
  };
  const contractPath = path.join(dir, 'contract.json');
  fs.writeFileSync(contractPath, JSON.stringify(contract));
  const warning = /^warning: transforms\[0\] \(tool "llm"\) has neither code_path nor code_hash: its code is not part of the identity/m;

  const id = cli(['id', '--contract', contractPath]);
  assert.equal(id.code, 0, id.stderr);
  assert.match(id.stdout.trim(), URI_PATTERN);
  assert.match(id.stderr, warning);
  const json = cli(['id', '--contract', contractPath, '--json']);
  assert.equal(json.json().warnings.length, 1);
  assert.match(json.stderr, warning);

  const seeded = cli(['seed', path.join(dir, 'out'), '--contract', contractPath], { home });
  assert.equal(seeded.code, 0, seeded.stderr);
  assert.equal(seeded.stdout.trim(), id.stdout.trim());
  assert.match(seeded.stderr, warning);
  const ran = cli(['run', '--contract', contractPath, '--', process.execPath, '-e', ''], { home });
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stderr, warning);
  assert.match(ran.stderr, /^hit: /m);

  contract.meta.owner = 'ads-team';
  fs.writeFileSync(contractPath, JSON.stringify(contract));
  const changed = cli(['id', '--contract', contractPath]);
  assert.notEqual(changed.stdout.trim(), id.stdout.trim(), 'meta is part of the identity');
});

test('an input file name that is not UTF-8 is CTX_PATH_NOT_UTF8; a real U+FFFD in a name is fine', async (t) => {
  const project = makeProject(tempDir(t));
  const inputs = path.join(project.dir, 'inputs');
  fs.writeFileSync(path.join(inputs, 'replacement-\uFFFD.txt'), 'x');
  await api.computeIdentity({ contractPath: project.contractPath });
  try {
    fs.writeFileSync(Buffer.concat([Buffer.from(`${inputs}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]), 'x');
  } catch {
    return t.skip('this file system refuses names that are not UTF-8');
  }
  await rejectsWithCode(api.computeIdentity({ contractPath: project.contractPath, cache: false }), 'CTX_PATH_NOT_UTF8');
});
