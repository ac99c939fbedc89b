// The wasm core on its own (`ctxpack/core`), as a browser or edge runtime uses it: identity from digests
// the host supplies, and a pack verified from bytes with the core doing all the hashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { PACKAGE_DIR, api, exportedPack, makeProject, rejectsWithCode, tempDir } from './helpers.mjs';

const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));

/** A tree's digest computed with the core only (the way a host without node:crypto would). */
function coreTreeDigest(dir) {
  const entries = [];
  const visit = (absolute, relative) => {
    for (const name of fs.readdirSync(absolute).sort()) {
      const child = path.join(absolute, name);
      const childRelative = relative ? `${relative}/${name}` : name;
      const stat = fs.lstatSync(child);
      if (stat.isDirectory()) visit(child, childRelative);
      else if (stat.isSymbolicLink()) entries.push({ path: childRelative, type: 'symlink', target: fs.readlinkSync(child) });
      else {
        const content = fs.readFileSync(child);
        entries.push({ path: childRelative, type: 'file', size: content.length, digest: core.sha256(content), executable: (stat.mode & 0o111) !== 0 });
      }
    }
  };
  visit(dir, '');
  return core.treeDigest(entries).digest;
}

test('the core alone derives the same URI from host-supplied digests', async (t) => {
  const project = makeProject(tempDir(t));
  const text = fs.readFileSync(project.contractPath, 'utf8');
  const plan = core.contractPlan(text);
  const inputs = {};
  const code = {};
  for (const need of plan.needs) {
    const absolute = path.join(project.dir, need.path);
    if (need.kind === 'input') inputs[need.name] = { type: 'tree', digest: coreTreeDigest(absolute) };
    else code[String(need.transform)] = core.sha256(fs.readFileSync(absolute));
  }
  const resolved = core.resolveContract(text, { inputs, code });
  const viaHost = await api.computeIdentity({ contractPath: project.contractPath });
  assert.equal(resolved.uri, viaHost.uri);
  assert.equal(core.contractUri(resolved.contract), viaHost.uri);
  assert.deepEqual(plan.outputs, [{ path: 'out' }]);
});

test('the core alone verifies a pack from bytes, hashing content itself', async (t) => {
  const { uri, bytes, outDir } = await exportedPack(t);

  const reader = new core.PackReader({ expectUri: uri });
  assert.equal(reader.manifestBytes(), undefined, 'no manifest before its event');
  const files = new Map();
  let current;
  for (let offset = 0; ; ) {
    const event = reader.next();
    if (event) {
      if (event.kind === 'manifest') {
        // The event names the verified manifest; its bytes are copied out only on request.
        assert.deepEqual(Object.keys(event).sort(), ['kind', 'uri']);
        assert.equal(event.uri, uri);
        assert.equal(JSON.parse(Buffer.from(reader.manifestBytes()).toString('utf8')).uri, uri);
      }
      if (event.kind === 'entry' && event.type === 'file') files.set((current = event.path), []);
      if (event.kind === 'data') files.get(current).push(Buffer.from(event.bytes));
      continue;
    }
    if (offset >= bytes.length) break;
    reader.push(bytes.subarray(offset, offset + 4096));
    offset += 4096;
  }
  const summary = reader.finish();
  reader.free();
  assert.deepEqual(Object.keys(summary).sort(), ['bytes', 'compressedBytes', 'files', 'uri']);
  assert.equal(summary.uri, uri);
  assert.equal(summary.files, 3);
  assert.equal(summary.compressedBytes, bytes.length);
  assert.deepEqual(Buffer.concat(files.get('chunks.jsonl')), fs.readFileSync(path.join(outDir, 'chunks.jsonl')));
});

test('a host CRC-32 (crc32 option) is compared with the gzip trailer by the core: a disagreeing one is refused', async (t) => {
  const { uri, bytes } = await exportedPack(t);
  const read = (crc32) => {
    const reader = new core.PackReader({ expectUri: uri, crc32 });
    try {
      for (let offset = 0; offset < bytes.length; offset += 4096) {
        reader.push(bytes.subarray(offset, offset + 4096));
        while (reader.next());
      }
      while (reader.next());
      return reader.finish();
    } finally {
      reader.free();
    }
  };
  let calls = 0;
  const counted = (data, value) => {
    calls += 1;
    return zlib.crc32(data, value);
  };
  assert.equal(read(counted).files, 3);
  assert.ok(calls > 0, 'the host computed the CRC');
  await rejectsWithCode(() => read((data, value) => (zlib.crc32(data, value) ^ 1) >>> 0), 'CTX_GZIP_CORRUPT');
  await rejectsWithCode(() => read(() => 'not a CRC'), 'CTX_INVALID_STATE');
  await rejectsWithCode(() => read(() => {
    throw new Error('no CRC here');
  }), 'CTX_INVALID_STATE');
});

test('the browser entry point initialises from wasm bytes with initSync', () => {
  // A fresh process: in this one the Node loader has already initialised the module.
  const script = `
    import { readFileSync } from 'node:fs';
    import { initSync, canonicalJson, parseUri } from ${JSON.stringify(pathToFileURL(path.join(PACKAGE_DIR, 'core', 'ctxpack_core.js')).href)};
    initSync({ module: readFileSync(${JSON.stringify(path.join(PACKAGE_DIR, 'core', 'ctxpack_core_bg.wasm'))}) });
    let code;
    try { parseUri('ctx://sha256:nothex'); } catch (error) { code = error.name + ' ' + error.code; }
    console.log(canonicalJson('{"b":1,"a":[true,null]}') + ' ' + code);
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), '{"a":[true,null],"b":1} CtxpackError CTX_URI_INVALID');
});
