// One table of error codes (issue 11): src/error.rs lists every code the core and the Node host raise, with its
// default hint; the core exports it (errorCodes()) and CtxpackError takes its default hints from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_DIR, REPO_ROOT, api } from './helpers.mjs';

const core = await import(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs')).href);

function moduleFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return moduleFiles(file);
    return entry.name.endsWith('.mjs') ? [file] : [];
  });
}

test('the core lists each code once, with a hint', () => {
  const table = core.errorCodes();
  assert.ok(table.length >= 50, `only ${table.length} codes`);
  const codes = table.map((entry) => entry.code);
  assert.equal(new Set(codes).size, codes.length, 'a code is listed twice');
  for (const { code, hint } of table) {
    assert.match(code, /^CTX_[A-Z0-9_]+$/);
    assert.ok(typeof hint === 'string' && hint.length > 0, `${code} has no hint`);
  }
});

test('every code the Node host raises is in the core table', () => {
  const known = new Set(core.errorCodes().map((entry) => entry.code));
  const unknown = [];
  for (const file of moduleFiles(path.join(REPO_ROOT, 'pkg-template', 'lib'))) {
    for (const [code] of fs.readFileSync(file, 'utf8').matchAll(/CTX_[A-Z0-9_]+/g)) {
      if (!known.has(code)) unknown.push(`${path.relative(REPO_ROOT, file)}: ${code}`);
    }
  }
  assert.deepEqual(unknown, [], 'codes missing from src/error.rs');
});

test('a host error without a hint gets the core table hint for its code', () => {
  const hints = new Map(core.errorCodes().map((entry) => [entry.code, entry.hint]));
  for (const code of ['CTX_USAGE', 'CTX_IO', 'CTX_LOCK_TIMEOUT', 'CTX_TARGET_EXISTS', 'CTX_AMBIGUOUS', 'CTX_NOT_FOUND']) {
    const error = new api.CtxpackError(code, 'something happened');
    assert.equal(error.hint, hints.get(code), code);
  }
  assert.equal(new api.CtxpackError('CTX_IO', 'x', { hint: 'mine' }).hint, 'mine', 'a hint given wins');
  assert.equal(new api.CtxpackError('CTX_NOT_A_CODE', 'x').hint, undefined);
});

test('the lean core has the same table', async () => {
  const lean = await import(pathToFileURL(path.join(PACKAGE_DIR, 'core', 'lean', 'ctxpack_core.js')).href);
  lean.initSync({ module: fs.readFileSync(path.join(PACKAGE_DIR, 'core', 'lean', 'ctxpack_core_bg.wasm')) });
  assert.deepEqual(lean.errorCodes(), core.errorCodes());
});
