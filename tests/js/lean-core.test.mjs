// The lean wasm core (`ctxpack/core/lean`, built with the `packs` feature only) for browsers and edge
// functions: identity, verification, the OCI mapping, the registry client, seekable reads and execution packs,
// agreeing with the full core; the context packet exports, the pack writer and the signing host's calls, and
// only they, left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_DIR, api, exportedPack } from './helpers.mjs';

const full = await import(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs')).href);
const lean = await import(pathToFileURL(path.join(PACKAGE_DIR, 'core', 'lean', 'web.js')).href);
lean.initSync({ module: fs.readFileSync(path.join(PACKAGE_DIR, 'core', 'lean', 'ctxpack_core_bg.wasm')) });

const CONTEXT_EXPORTS = [
  'ContextPolicy', 'ContextScope', 'classifyContent', 'contextAuditNext', 'contextAuditVerify', 'contextBudget',
  'contextBuild', 'contextCacheKey', 'contextHash', 'contextParseDocument', 'contextParseTask', 'contextRedact',
  'contextRedactStream', 'contextRedactText', 'contextScope', 'contextToYaml', 'contextValidate', 'detectSecrets',
  'estimateTokens', 'globMatch', 'redactText',
];

/** Browsers and edge functions read packs; writing one (and recording batches of them) is the Node host's job. */
const WRITE_EXPORTS = ['PackWriter', 'deflateBlock', 'encodeBlockIndex', 'ociIndexAddAll'];
// Signing, signature artifacts, layouts' referrers and the trust policy: host work (the lean core verifies only).
const SIGN_HOST_EXPORTS = [
  'envelopeClaims', 'ociIndexReferrers', 'ociIndexRemoveReferrers', 'ociIndexSetReferrers', 'parseSignatureManifest', 'referrersIndexAdd',
  'referrersList', 'signKeyInfo', 'signPack', 'signatureManifest', 'trustPolicyRule',
];
// Not a core call: core-node.mjs also exports its compiled module, which trace planning threads instantiate.
const NODE_HOST_EXPORTS = ['coreModule'];

test('the lean core exports everything but the context packet functions, the pack writer and the signing host', () => {
  const missing = Object.keys(full).filter((name) => !(name in lean)).sort();
  assert.deepEqual(missing, [...CONTEXT_EXPORTS, ...WRITE_EXPORTS, ...SIGN_HOST_EXPORTS, ...NODE_HOST_EXPORTS].sort());
  for (const name of ['RegistryClient', 'PackReader', 'LegacyReader', 'FileSeek', 'verifyPack', 'executionPlan', 'ociPackManifest', 'ociVerifyPack', 'verifySignatures']) {
    assert.equal(typeof lean[name], 'function', name);
  }
});

test('the lean core throws the one CtxpackError class, with the same hints', () => {
  assert.equal(lean.CtxpackError, full.CtxpackError);
  assert.equal(lean.CtxpackError, api.CtxpackError);
  assert.throws(() => lean.parseUri('ctx://nope'), (error) => {
    assert.ok(error instanceof api.CtxpackError);
    assert.equal(error.code, 'CTX_URI_INVALID');
    assert.equal(error.hint, new api.CtxpackError('CTX_URI_INVALID', 'x').hint);
    return true;
  });
});

test('the lean core is smaller than the full one', () => {
  const size = (dir) => fs.statSync(path.join(PACKAGE_DIR, dir, 'ctxpack_core_bg.wasm')).size;
  assert.ok(size('core/lean') < size('core') * 0.8, `lean ${size('core/lean')} bytes, full ${size('core')} bytes`);
});

test('the lean core derives the same identity and verifies a pack the Node host wrote', async (t) => {
  const { uri, home, packPath, bytes } = await exportedPack(t);

  const summary = await lean.verifyPack(fs.createReadStream(packPath, { highWaterMark: 64 * 1024 }), { expectUri: uri });
  assert.equal(summary.uri, uri);
  assert.equal(summary.compressedBytes, bytes.length);
  const pantry = api.openPantry({ home });
  const manifestBytes = fs.readFileSync(pantry.blobPath(pantry.loadPack(uri).config.digest));
  assert.deepEqual(lean.parseManifest(manifestBytes), full.parseManifest(manifestBytes));
  assert.deepEqual(summary.manifest, full.parseManifest(manifestBytes));

  const contract = summary.manifest.contract;
  assert.equal(lean.contractUri(contract), uri);
  assert.equal(lean.canonicalJson(JSON.stringify(contract)), full.canonicalJson(JSON.stringify(contract)));
  assert.deepEqual(lean.treeDigest(summary.manifest.outputs.entries), full.treeDigest(summary.manifest.outputs.entries));

  bytes[bytes.length - 20] ^= 1;
  await assert.rejects(lean.verifyPack(bytes, { expectUri: uri }), (error) => {
    assert.equal(error.name, 'CtxpackError');
    assert.match(error.code, /^CTX_(GZIP_CORRUPT|TAR_CORRUPT|DIGEST_MISMATCH|SIZE_MISMATCH|TRUNCATED)$/);
    assert.equal(typeof error.hint, 'string');
    return true;
  });
});
