// The identity wasm core (core/id, the crate without features: what `ctxpack id` compiles): identity's calls and
// nothing of packs, agreeing with the full core on plans, resolved contracts, tree digests and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_DIR, api, cli, makeProject, tempDir, writeTree } from './helpers.mjs';

const full = await import(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs')).href);
const id = await import(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'core-id-node.mjs')).href);

/** What identity (identity.mjs, tree-digest.mjs) calls, the pure helpers beside them, and the glue's initSync. */
const ID_EXPORTS = [
  'CtxpackError', 'Sha256', 'canonicalJson', 'contractPlan', 'contractUri', 'errorCodes', 'initSync', 'parseUri',
  'resolveContract', 'sha256', 'treeDigest', 'treeDigestCompact', 'treeDocumentCompact', 'uriTag', 'version',
];

const CONTRACTS = [
  { name: 'one file', inputs: [{ name: 'data', path: 'data.txt' }], transforms: [] },
  {
    name: 'tree and code',
    inputs: [{ name: 'docs', path: 'docs' }, { name: 'data', path: 'data.txt' }],
    transforms: [{ tool: 'chunker', tool_version: '1.2', code_path: 'code.py', params: { size: 512, ratio: 0.1, big: 1e21, tiny: -5e-7, label: 'é ☃ \u2028' } }],
    outputs: [{ path: 'out' }],
  },
  { name: 'no code', inputs: [], transforms: [{ tool: 'shell', tool_version: '5', params: { cmd: 'sort -u' } }], outputs: { path: 'out' } },
];

/** Answers to a plan from the full core's hashing (a file's bytes; a tree's entries as the file system has them). */
function answers(plan, dir) {
  const digestOf = (relative) => {
    const absolute = path.join(dir, relative);
    if (!fs.statSync(absolute).isDirectory()) return { type: 'file', digest: full.sha256(fs.readFileSync(absolute)) };
    const entries = fs.readdirSync(absolute, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      const bytes = fs.readFileSync(file);
      return { path: path.relative(absolute, file).split(path.sep).join('/'), type: 'file', size: bytes.length, digest: full.sha256(bytes) };
    });
    return { type: 'tree', digest: full.treeDigest(entries).digest };
  };
  const inputs = {};
  const code = {};
  for (const need of plan.needs) {
    if (need.kind === 'input') inputs[need.name] = digestOf(need.path);
    else code[need.transform] = digestOf(need.path).digest;
  }
  return { inputs, code };
}

test('the identity core exports identity\'s calls only', () => {
  assert.deepEqual(Object.keys(id).sort(), [...ID_EXPORTS].sort());
  assert.equal(id.version(), full.version());
});

test('the identity core plans and resolves contracts as the full core does', (t) => {
  const dir = tempDir(t);
  writeTree(dir, { 'data.txt': 'one file\n', 'docs/a.txt': 'a\n', 'docs/nested/b.txt': 'b\n', 'code.py': 'print(1)\n' });
  for (const contract of CONTRACTS) {
    const text = JSON.stringify(contract);
    const plan = id.contractPlan(text);
    assert.deepEqual(plan, full.contractPlan(text), contract.name);
    const answered = answers(plan, dir);
    assert.deepEqual(id.resolveContract(text, answered), full.resolveContract(text, answered), contract.name);
  }
  assert.deepEqual(id.contractPlan(JSON.stringify(CONTRACTS[2])).warnings, full.contractPlan(JSON.stringify(CONTRACTS[2])).warnings);
  const canonical = JSON.stringify({ b: [1e21, 0.1, -0], a: '\u00e9\u2028', c: { z: null, y: true } });
  assert.equal(id.canonicalJson(canonical), full.canonicalJson(canonical));
});

test('the identity core digests trees as the full core does, object and compact forms', () => {
  const digest = full.sha256(new TextEncoder().encode('x'));
  const entries = [
    { path: 'z/last.txt', type: 'file', size: 1, digest, executable: true },
    { path: 'cafe\u0301.txt', type: 'file', size: 1, digest },
    { path: 'link', type: 'symlink', target: 'z/last.txt' },
  ];
  assert.deepEqual(id.treeDigest(entries), full.treeDigest(entries));
  const compact = [
    'z/last.txt\0cafe\u0301.txt\0link',
    Uint8Array.of(1, 0, 2),
    Float64Array.of(1, 1, 0),
    new Uint8Array(96).fill(7),
    'z/last.txt',
  ];
  const document = (core) => {
    const pieces = [];
    core.treeDocumentCompact(...compact, (piece) => pieces.push(Buffer.from(piece)));
    return Buffer.concat(pieces).toString('utf8');
  };
  assert.equal(document(id), document(full));
  assert.equal(id.treeDigestCompact(...compact), full.treeDigestCompact(...compact));
  assert.equal(id.treeDigestCompact(...compact), full.sha256(Buffer.from(document(id))));
});

test('the identity core throws the one CtxpackError class, with the same codes and table', () => {
  assert.equal(id.CtxpackError, full.CtxpackError);
  assert.deepEqual(id.errorCodes(), full.errorCodes());
  for (const text of ['{', '{"inputs": 1}', JSON.stringify({ inputs: [{ name: 'a', path: '../up' }], transforms: [] })]) {
    const codeOf = (core) => {
      try {
        core.contractPlan(text);
      } catch (error) {
        assert.ok(error instanceof api.CtxpackError);
        return [error.code, error.message, error.hint];
      }
      return undefined;
    };
    assert.deepEqual(codeOf(id), codeOf(full), text);
  }
});

test('ctxpack id of a tree with code (the identity core) prints the API\'s URI (the full core)', async (t) => {
  const project = makeProject(tempDir(t));
  const result = cli(['id', '--contract', project.contractPath]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), (await api.computeIdentity({ contractPath: project.contractPath })).uri);
});

test('the package ships the identity core, smaller than the lean one', () => {
  const size = (dir) => fs.statSync(path.join(PACKAGE_DIR, dir, 'ctxpack_core_bg.wasm')).size;
  assert.ok(size('core/id') < size('core/lean') * 0.6, `identity ${size('core/id')} bytes, lean ${size('core/lean')} bytes`);
  const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8'));
  assert.ok(manifest.files.includes('core/id/'), 'package.json files has core/id/');
});
