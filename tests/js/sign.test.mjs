// Signed packs without a registry (issue 15): keys from openssl and keygen, signatures kept in the pantry as OCI
// referrers, checked by the JS API and by ctxpack/core's verifySignatures alone, carried by export --oci and
// import, kept by gc; tampering, another pack's signature and untrusted keys refused with their codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_DIR, api, cli, makeProject, rejectsWithCode, tempDir, writeOutputs } from './helpers.mjs';

const core = await import(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs')).href);
const { fetchSignatures } = await import(pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'sign', 'store.mjs')).href);

async function seedPack(root, home, size) {
  const project = makeProject(path.join(root, `project-${size}`), { params: { size } });
  writeOutputs(project.outDir);
  return (await api.seed(project.outDir, { contractPath: project.contractPath, home })).uri;
}

function opensslKey(dir, name) {
  const pem = path.join(dir, `${name}.pem`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', pem]);
  execFileSync('openssl', ['pkey', '-in', pem, '-pubout', '-out', path.join(dir, `${name}.pub`)]);
  return { pem, pub: path.join(dir, `${name}.pub`) };
}

test('sign in the pantry, verify with the API, the CLI and ctxpack/core; refusals carry their codes', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const uri = await seedPack(root, home, 1);
  const other = await seedPack(root, home, 2);
  const alice = opensslKey(root, 'alice');
  const bob = api.keygen(path.join(root, 'bob'));
  assert.equal(fs.statSync(bob.privateKey).mode & 0o777, 0o600);

  await rejectsWithCode(api.verifySignatures(uri, { home, trustKeys: [alice.pub] }), 'CTX_SIGNATURE_REQUIRED');
  const signed = await api.sign(uri, { home, key: alice.pem, signedAt: '2026-12-06T21:00:00Z' });
  assert.match(signed.keyid, /^sha256:[0-9a-f]{64}$/);
  const verified = await api.verifySignatures(uri, { home, trustKeys: [bob.publicKey, alice.pub] });
  assert.deepEqual(verified.signers, [{ keyid: signed.keyid, signedAt: '2026-12-06T21:00:00Z' }]);
  await rejectsWithCode(api.verifySignatures(uri, { home, trustKeys: [bob.publicKey] }), 'CTX_KEY_UNTRUSTED');

  // ctxpack/core alone: the envelope, the manifest digest, the URI and a PEM.
  const manifest = api.openPantry({ home }).manifestFor(uri);
  const [stored] = await fetchSignatures(api.openPantry({ home }), manifest.digest);
  const pem = fs.readFileSync(alice.pub, 'utf8');
  assert.equal(core.verifySignatures([stored.envelope], manifest.digest, uri, [pem]).length, 1);
  const flipped = Uint8Array.from(stored.envelope);
  flipped[flipped.length - 10] ^= 0x01;
  assert.throws(() => core.verifySignatures([flipped], manifest.digest, uri, [pem]), (e) => e.code === 'CTX_SIGNATURE_INVALID');
  const otherDigest = api.openPantry({ home }).manifestFor(other).digest;
  assert.throws(() => core.verifySignatures([stored.envelope], otherDigest, other, [pem]), (e) => e.code === 'CTX_SIGNATURE_INVALID');
  assert.throws(() => core.verifySignatures([stored.envelope], manifest.digest, uri, ['not a key']), (e) => e.code === 'CTX_KEY_INVALID');

  // The CLI: verify --trust-key passes with the signer, fails with another key.
  const ok = cli(['verify', uri, '--trust-key', alice.pub, '--json'], { home });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout).signers.map((s) => s.keyid), [signed.keyid]);
  const refused = cli(['verify', uri, '--trust-key', bob.publicKey, '--json'], { home });
  assert.equal(refused.code, 1);
  assert.equal(JSON.parse(refused.stdout).error.code, 'CTX_KEY_UNTRUSTED');
});

test('export --oci and import carry signatures; gc keeps them; a second signer keeps the first', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const uri = await seedPack(root, home, 3);
  const alice = opensslKey(root, 'alice');
  const bob = api.keygen(path.join(root, 'bob'));
  await api.sign(uri, { home, key: alice.pem });
  await api.sign(uri, { home, key: bob.privateKey });
  assert.equal((await api.verifySignatures(uri, { home, trustKeys: [alice.pub] })).signatures, 2);

  const layout = path.join(root, 'layout');
  const exported = await api.exportLayout([uri], layout, { home });
  assert.equal(exported.packs[0].signatures, 2);
  const target = path.join(root, 'target');
  const imported = await api.importLayout(layout, { home: target });
  assert.equal(imported.packs[0].signatures, 2);
  await api.gc({ home: target });
  for (const pub of [alice.pub, bob.publicKey]) {
    assert.equal((await api.verifySignatures(uri, { home: target, trustKeys: [pub] })).signers.length, 1);
  }
  // rm takes the signatures' entry with the pack; gc then removes every blob, signatures included.
  await api.remove(uri, { home: target });
  await api.gc({ home: target });
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(target, 'index.json'), 'utf8')).manifests, []);
  assert.deepEqual(fs.readdirSync(path.join(target, 'blobs', 'sha256')), []);
});

test('keys: keygen never overwrites; other key types and encrypted keys are CTX_KEY_INVALID', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const uri = await seedPack(root, home, 4);
  api.keygen(path.join(root, 'k'));
  assert.throws(() => api.keygen(path.join(root, 'k')), (e) => e.code === 'CTX_TARGET_EXISTS');
  const p256 = path.join(root, 'p256.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p256]);
  await rejectsWithCode(api.sign(uri, { home, key: p256 }), 'CTX_KEY_INVALID');
  const encrypted = path.join(root, 'enc.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-aes-128-cbc', '-pass', 'pass:x', '-out', encrypted]);
  await rejectsWithCode(api.sign(uri, { home, key: encrypted }), 'CTX_KEY_INVALID');
  const policy = path.join(root, 'trust.json');
  fs.writeFileSync(policy, '{"version":1,"policies":[{"scopes":["*"],"signatureRequired":true}]}');
  await rejectsWithCode(api.verifySignatures(uri, { home, trustPolicy: policy }), 'CTX_TRUST_POLICY_INVALID');
});

test('the lean core (the inspector\'s) lists each signature: unchecked without its key, valid with it, invalid altered', async (t) => {
  const lean = await import(pathToFileURL(path.join(PACKAGE_DIR, 'core', 'lean', 'web.js')).href);
  lean.initSync({ module: fs.readFileSync(path.join(PACKAGE_DIR, 'core', 'lean', 'ctxpack_core_bg.wasm')) });
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const uri = await seedPack(root, home, 1);
  const alice = opensslKey(root, 'alice');
  const signed = await api.sign(uri, { home, key: alice.pem, signedAt: '2026-12-07T01:00:00Z' });
  const manifest = api.openPantry({ home }).manifestFor(uri);
  const [stored] = await fetchSignatures(api.openPantry({ home }), manifest.digest);
  const pem = fs.readFileSync(alice.pub, 'utf8');
  assert.deepEqual(lean.publicKeyInfo(pem), { keyid: signed.keyid, algorithm: 'Ed25519' });
  assert.throws(() => lean.publicKeyInfo(fs.readFileSync(alice.pem, 'utf8')), (e) => e.code === 'CTX_KEY_INVALID');

  const [unchecked] = lean.inspectSignatures([stored.envelope], manifest.digest, uri, []);
  assert.deepEqual({ ...unchecked, reason: unchecked.reason.code }, {
    envelope: 0, keyid: signed.keyid, algorithm: 'Ed25519', signedAt: '2026-12-07T01:00:00Z', trusted: false, status: 'unchecked', reason: 'CTX_KEY_UNTRUSTED',
  });
  const [valid] = lean.inspectSignatures([stored.envelope], manifest.digest, uri, [pem]);
  assert.deepEqual([valid.status, valid.trusted, valid.reason], ['valid', true, undefined]);
  const flipped = Uint8Array.from(stored.envelope);
  flipped[flipped.length - 10] ^= 0x01;
  const reports = lean.inspectSignatures([flipped, new TextEncoder().encode('{}'), stored.envelope], manifest.digest, uri, [pem]);
  assert.deepEqual(reports.map((r) => [r.envelope, r.status, r.reason?.code]), [[0, 'invalid', 'CTX_SIGNATURE_INVALID'], [1, 'invalid', 'CTX_SIGNATURE_INVALID'], [2, 'valid', undefined]]);
});

test('fsck checks the signatures beside packs; --repair drops a damaged one and those of a pack that is gone', async (t) => {
  const root = tempDir(t);
  const home = path.join(root, 'home');
  const uri = await seedPack(root, home, 1);
  const other = await seedPack(root, home, 2);
  const alice = opensslKey(root, 'alice');
  await api.sign(uri, { home, key: alice.pem });
  await api.sign(other, { home, key: alice.pem });
  const clean = await api.fsck({ home });
  assert.deepEqual(clean.problems, []);
  assert.equal(clean.dangling.blobs, 0, 'signature blobs are not dangling');

  const pantry = api.openPantry({ home });
  const [stored] = await fetchSignatures(pantry, pantry.manifestFor(uri).digest);
  const envelopePath = pantry.blobPath(core.parseSignatureManifest(stored.manifest).envelope.digest);
  fs.chmodSync(envelopePath, 0o644);
  fs.writeFileSync(envelopePath, Buffer.from(stored.envelope).toString('utf8').replace('"payload":"', '"payload":"A'));
  // The other pack's entry disappears from index.json, its referrers entry stays behind.
  const otherDigest = pantry.manifestFor(other).digest;
  fs.writeFileSync(pantry.indexPath, core.ociIndexRemove(pantry.readIndex(), other));

  const found = await api.fsck({ home });
  assert.equal(found.ok, false);
  assert.deepEqual(found.problems.map((p) => p.code).sort(), ['blob-corrupt', 'signature-orphaned']);
  assert.match(found.problems.find((p) => p.code === 'signature-orphaned').message, new RegExp(otherDigest));
  const repaired = await api.fsck({ home, repair: true });
  assert.ok(repaired.problems.every((p) => p.repaired), JSON.stringify(repaired.problems));
  const after = await api.fsck({ home });
  assert.deepEqual(after.problems, []);
  assert.deepEqual(core.ociIndexReferrers(api.openPantry({ home }).readIndex()), []);
  assert.deepEqual(await fetchSignatures(api.openPantry({ home }), api.openPantry({ home }).manifestFor(uri).digest), []);
});
