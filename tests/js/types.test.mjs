// The published TypeScript declarations (issue 11): the wasm cores' (ctxpack/core and ctxpack/core/lean,
// generated from src/interop/) and the JS API's (lib/index.d.ts, core/web.d.ts) hold no `any`, and a strict tsc
// accepts a program that uses them as documented and rejects a wrong type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, REPO_ROOT, tempDir } from './helpers.mjs';

const DECLARATIONS = [
  'core/ctxpack_core.d.ts',
  'core/web.d.ts',
  'core/lean/ctxpack_core.d.ts',
  'core/lean/web.d.ts',
  'lib/index.d.ts',
  'lib/trace/types.d.ts',
  'lib/context/types.d.ts',
];

/** The declarations without their comments, whose prose may say "any". */
function code(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

test('no published declaration uses the type any', () => {
  for (const file of DECLARATIONS) {
    const lines = code(fs.readFileSync(path.join(PACKAGE_DIR, file), 'utf8')).split('\n');
    const offending = lines.filter((line) => /\bany\b/.test(line));
    assert.deepEqual(offending, [], `${file} uses any`);
  }
});

test('the core declares the shapes the API takes and returns', () => {
  const core = fs.readFileSync(path.join(PACKAGE_DIR, 'core', 'ctxpack_core.d.ts'), 'utf8');
  for (const shape of ['TreeEntry', 'Descriptor', 'Limits', 'ReaderEvent', 'Credentials', 'RegistryClientOptions', 'ContextPacket', 'ErrorCode']) {
    assert.match(core, new RegExp(`export (interface|type) ${shape}\\b`), `${shape} is not declared`);
  }
  const lean = fs.readFileSync(path.join(PACKAGE_DIR, 'core', 'lean', 'ctxpack_core.d.ts'), 'utf8');
  assert.doesNotMatch(lean, /ContextPacket|contextHash/, 'the lean core declares context packets');
  assert.match(lean, /export function verifyPack\(/);
});

// Type-checked, never run: what a TypeScript user of the package writes.
const PROGRAM = `
import init, { initSync, parseUri, treeDigest, PackReader, RegistryClient, CtxpackError, errorCodes, verifyPack,
  ContextPolicy, contextValidate, contextBuild, ociIndexList, executionPlan } from 'ctxpack/core';
import type { Credentials, Descriptor, ErrorCode, PackReaderSummary, PackSummary, ReaderEvent, TreeEntry } from 'ctxpack/core';
import * as lean from 'ctxpack/core/lean';
import { computeIdentity, isCtxpackError, type Identity, type TracePackResult, type ContextPacket } from 'ctxpack';

await init();
initSync({ module: new Uint8Array() });

const tree = treeDigest([
  { path: 'a.txt', type: 'file', size: 3, digest: 'sha256:ab', executable: false },
  { path: 'link', type: 'symlink', target: 'a.txt' },
]);
const first: TreeEntry | undefined = tree.entries[0];
const treeSize: number = first?.type === 'file' ? first.size : 0;

const reader = new PackReader({ limits: { maxEntries: 10 }, expectUri: parseUri('ctx://sha256:ab') });
let event: ReaderEvent | undefined;
while ((event = reader.next()) !== undefined) {
  if (event.kind === 'entry' && event.type === 'symlink') console.log(event.target.length);
  if (event.kind === 'data') console.log(event.bytes.byteLength);
}
const summary: PackReaderSummary = reader.finish();
const manifestBytes: Uint8Array | undefined = reader.manifestBytes();
const recipe: string = summary.uri + String(manifestBytes?.byteLength);

const credentials = async (host: string): Promise<Credentials | null> => (host ? { username: 'u', password: 'p' } : null);
const client = new RegistryClient({ registry: 'localhost:5000/packs', credentials, onEvent: (e) => console.log(e.kind, e.message) });
const manifest = await client.fetchManifest('latest', { accept: ['application/vnd.oci.image.manifest.v1+json'] });
const head = await client.headManifest(manifest.digest);
const descriptor: Descriptor = { mediaType: manifest.mediaType, digest: head?.digest ?? manifest.digest, size: manifest.size };
await client.fetchBlob(descriptor, { write: (chunk) => void chunk.byteLength, reset: () => undefined }, { onBytes: (n) => n.toFixed() });
const pushed: boolean = (await client.pushBlob(descriptor, new Uint8Array())).uploaded;
const repository: string = client.registry.repository;

const code: ErrorCode = errorCodes()[0].code;
const traced: string | undefined = (undefined as TracePackResult | undefined)?.uri;
const packetId: string | undefined = (undefined as ContextPacket | undefined)?.header.packet_id;
console.log(traced, packetId);
try {
  parseUri('nope');
} catch (error) {
  if (error instanceof CtxpackError && error.code === 'CTX_URI_INVALID') console.log(error.hint ?? code);
}
const verified: PackSummary = await verifyPack(new Response(new Uint8Array()), { onProgress: ({ bytes }) => bytes.toFixed() });
const contractVersion: 'contract/v1' = verified.manifest.contract.ctxpack;
const pulled = await client.pullPack(verified.uri, { path: 'a.txt' });
const fileBody: ReadableStream<Uint8Array> | undefined = 'body' in pulled ? pulled.body : undefined;
const leanVerified: lean.PackSummary = await lean.verifyPack(new Uint8Array());
const tags: string[] = ociIndexList(new Uint8Array()).map((entry) => entry.tag);
const blobs: number = executionPlan('{}').blobs.length;

const policy = new ContextPolicy(null, { gitleaks: [] });
const report = contextValidate({}, policy, { approveRemote: false });
const built = contextBuild({ task_id: 't', task_type: 'bugfix' }, [{ path: 'a.py', text: '', digest: 'sha256:ab', size: 0 }], policy, {
  packetId: 'p',
  createdAt: '2026-01-01T00:00:00Z',
});
const firstItem: string | undefined = built.packet.context[0]?.name;

const identity: Identity = await computeIdentity({ contractPath: 'contract.json' });
console.log(treeSize, recipe, contractVersion, fileBody, pushed, repository, verified.uri, leanVerified.files, tags, blobs, report.valid, firstItem, identity.uri, isCtxpackError(null));

// @ts-expect-error a tree entry's size is a number
treeDigest([{ path: 'a', type: 'file', size: '3', digest: 'sha256:ab' }]);
// @ts-expect-error the lean core has no context packets
lean.contextHash({});
`;

test('tsc --strict accepts the documented use of ctxpack, ctxpack/core and ctxpack/core/lean and catches a wrong type', (t) => {
  const dir = tempDir(t, 'ctxpack-types-');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(PACKAGE_DIR, path.join(dir, 'node_modules', 'ctxpack'));
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  fs.writeFileSync(path.join(dir, 'use.ts'), PROGRAM);
  const compilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: 'es2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['es2022', 'dom', 'dom.iterable', 'esnext.disposable'],
    types: ['node'],
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['use.ts'] }));
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const checked = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
  assert.equal(checked.status, 0, `tsc found errors:\n${checked.stdout}${checked.stderr}`);

  // Without the directive the wrong type is an error, so the check above did prove it is caught.
  fs.writeFileSync(path.join(dir, 'use.ts'), PROGRAM.replace('// @ts-expect-error a tree entry', '// a tree entry'));
  const wrong = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
  assert.equal(wrong.status, 2, wrong.stdout);
  assert.match(wrong.stdout, /use\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
});
