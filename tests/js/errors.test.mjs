// One CtxpackError class (issue 10 §5): errors thrown by the wasm core, by its registry client and by the Node
// host are all instances of the class `ctxpack` and `ctxpack/core` export, with name, code, hint and subject;
// and so are the core's errors where the browser entry point is initialised by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_DIR, api, tempDir } from './helpers.mjs';

const core = await import(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs')).href);

function caught(action) {
  try {
    action();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error');
}

async function rejected(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

function assertCtxpackError(error, code) {
  assert.ok(error instanceof api.CtxpackError, `${error?.name} ${error?.code}: not an instance of CtxpackError`);
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'CtxpackError');
  assert.equal(error.code, code);
  assert.equal(typeof error.hint, 'string');
  assert.ok(api.isCtxpackError(error));
}

test('ctxpack and ctxpack/core export the same class', () => {
  assert.equal(api.CtxpackError, core.CtxpackError);
  const own = new api.CtxpackError('CTX_IO', 'cannot read x', { subject: 'x' });
  assertCtxpackError(own, 'CTX_IO');
  assert.equal(own.subject, 'x');
  assert.match(own.hint, /check that the path exists/, 'a host code without a hint gets its default one');
});

test('core, registry client and host errors are instances of it', async (t) => {
  const uriError = caught(() => core.parseUri('ctx://sha256:nothex'));
  assertCtxpackError(uriError, 'CTX_URI_INVALID');
  assert.match(uriError.stack, /CtxpackError: /);

  const manifestError = caught(() => core.parseManifest(new TextEncoder().encode('{"ctxpack":"pack/v1"}')));
  assertCtxpackError(manifestError, 'CTX_MANIFEST_INVALID');

  const contextError = caught(() => core.contextParseDocument('a: 1\na: 2\n'));
  assertCtxpackError(contextError, 'CTX_YAML_INVALID');

  // Nothing listens on this port: the client's own error, after its retries.
  const client = new core.RegistryClient({ registry: '127.0.0.1:9/packs', retry: { maxAttempts: 1 } });
  assertCtxpackError(await rejected(client.headManifest('latest')), 'CTX_REGISTRY_UNREACHABLE');
  assertCtxpackError(caught(() => new core.RegistryClient({ registry: 'http://example.com/x' })), 'CTX_REGISTRY_INSECURE');

  const home = tempDir(t);
  assertCtxpackError(await rejected(api.computeIdentity({ contractPath: path.join(home, 'missing.json') })), 'CTX_IO');
  assertCtxpackError(caught(() => api.verify(`ctx://sha256:${'a'.repeat(64)}`, { home })), 'CTX_NOT_FOUND');
  fs.writeFileSync(path.join(home, 'broken.tar.gz'), 'not gzip'); // too short to hold a gzip header
  assertCtxpackError(caught(() => api.inspect(path.join(home, 'broken.tar.gz'))), 'CTX_TRUNCATED');
});

test('the browser entry point (ctxpack_core.js + initSync) throws instances of its exported class', () => {
  // A fresh process: here the Node loader has initialised the module already.
  const script = `
    import { readFileSync } from 'node:fs';
    import { initSync, parseUri, CtxpackError } from ${JSON.stringify(pathToFileURL(path.join(PACKAGE_DIR, 'core', 'ctxpack_core.js')).href)};
    initSync({ module: readFileSync(${JSON.stringify(path.join(PACKAGE_DIR, 'core', 'ctxpack_core_bg.wasm'))}) });
    try { parseUri('nope'); } catch (error) {
      console.log(JSON.stringify([error instanceof CtxpackError, error instanceof Error, error.name, error.code, typeof error.hint]));
    }
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), [true, true, 'CtxpackError', 'CTX_URI_INVALID', 'string']);
});
