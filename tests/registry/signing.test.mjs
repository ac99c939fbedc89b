// Signed packs (issue 15) through a real registry: CNCF Distribution 2.8.2 with htpasswd, which has no
// referrers API, so signatures travel through the `sha256-<hex>` referrers tag. Keys come from
// `openssl genpkey -algorithm ed25519` and `ctxpack keygen`. Every refusal leaves the pulling pantry empty.
// Tampered and misplaced signatures are pushed with plain HTTP requests here, not through ctxpack, and an
// independent verifier (Python securesystemslib: DSSE + Ed25519) checks an envelope fetched through the tag;
// skopeo copies a pack and its referrers index to another registry, where ctxpack still verifies it.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run, runOk, startRegistry } from './harness.mjs';
import { cleanEnv, ctx, failsWith, indexEntry, ok, readIndex, removeAll, seedPack, smallFiles, tempDir } from './fixtures.mjs';

const USER = 'signer';
const PASSWORD = 'pw-Signer-81c2a0d4';
const env = cleanEnv({ CTXPACK_USER: USER, CTXPACK_TOKEN: PASSWORD });
const AUTH = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const DSSE = 'application/vnd.dsse.envelope.v1+json';
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${sha256('{}')}`, size: 2 };

let work;
let registry;
let keys; // alice: openssl; bob and mallory: ctxpack keygen
let signed; // pushed, signed by alice (and later bob too)

function sha256(bytes) {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** The pantry holds nothing: no index entry and no blob. */
function assertEmptyPantry(home) {
  assert.deepEqual(readIndex(home).manifests, [], 'index.json has entries after a refusal');
  const blobs = path.join(home, 'blobs', 'sha256');
  const left = fs.existsSync(blobs) ? fs.readdirSync(blobs) : [];
  assert.deepEqual(left, [], 'blobs were written before the signature was checked');
}

async function pushPack(name, input) {
  const pack = await seedPack(work, { name, home: path.join(work, `${name}-home`), files: smallFiles(name, 64 * 1024), input });
  ok(await ctx(['push', pack.uri, '--registry', registry.ref('packs')], { home: pack.home, env }));
  return pack;
}

const pullSigned = (uri, home, ...trust) =>
  ctx(['pull', uri, '--registry', registry.ref('packs'), '--require-signature', ...trust.flatMap((key) => ['--trust-key', key])], { home, env });

/** A blob pushed with a monolithic upload (POST, then PUT), as any OCI client may. */
async function putBlob(base, bytes) {
  const started = await fetch(`${base}/blobs/uploads/`, { method: 'POST', headers: AUTH });
  assert.equal(started.status, 202);
  const location = new URL(started.headers.get('location'), base);
  location.searchParams.set('digest', `sha256:${sha256(bytes)}`);
  const put = await fetch(location, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/octet-stream' }, body: bytes });
  assert.equal(put.status, 201, await put.text());
}

async function getManifest(base, reference, accept = MANIFEST) {
  const response = await fetch(`${base}/manifests/${reference}`, { headers: { ...AUTH, accept } });
  return response.ok ? Buffer.from(await response.arrayBuffer()) : null;
}

async function putManifest(base, reference, bytes, mediaType) {
  const response = await fetch(`${base}/manifests/${reference}`, { method: 'PUT', headers: { ...AUTH, 'content-type': mediaType }, body: bytes });
  assert.equal(response.status, 201, await response.text());
}

/** Attach `envelope` as a signature of the manifest `subject`, by hand: blobs, manifest, referrers tag. */
async function attachRawSignature(subject, envelope) {
  const base = `${registry.url}/v2/packs`;
  await putBlob(base, Buffer.from('{}'));
  await putBlob(base, envelope);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    artifactType: DSSE,
    config: EMPTY,
    layers: [{ mediaType: DSSE, digest: `sha256:${sha256(envelope)}`, size: envelope.length }],
    subject,
  }));
  const digest = `sha256:${sha256(manifest)}`;
  await putManifest(base, digest, manifest, MANIFEST);
  const tag = subject.digest.replace(':', '-');
  const existing = await getManifest(base, tag, INDEX);
  const index = existing ? JSON.parse(existing) : { schemaVersion: 2, mediaType: INDEX, manifests: [] };
  index.manifests.push({ mediaType: MANIFEST, digest, size: manifest.length, artifactType: DSSE });
  await putManifest(base, tag, Buffer.from(JSON.stringify(index)), INDEX);
}

/** The signature envelopes listed under a manifest's referrers tag, fetched without ctxpack. */
async function envelopesViaTag(registryUrl, repository, manifestDigest, headers = AUTH) {
  const base = `${registryUrl}/v2/${repository}`;
  const index = await fetch(`${base}/manifests/${manifestDigest.replace(':', '-')}`, { headers: { ...headers, accept: INDEX } });
  assert.equal(index.status, 200, 'no referrers tag sha256-<hex>');
  const out = [];
  for (const entry of (await index.json()).manifests.filter((m) => m.artifactType === DSSE)) {
    const manifest = await (await fetch(`${base}/manifests/${entry.digest}`, { headers: { ...headers, accept: MANIFEST } })).json();
    assert.equal(manifest.subject.digest, manifestDigest);
    const blob = Buffer.from(await (await fetch(`${base}/blobs/${manifest.layers[0].digest}`, { headers })).arrayBuffer());
    out.push(blob);
  }
  return out;
}

function stored(home, uri) {
  return indexEntry(home, uri).digest;
}

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'ctxpack-signing-')));
  registry = await startRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
  const alice = path.join(work, 'alice');
  await runOk('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', `${alice}.pem`]);
  await runOk('openssl', ['pkey', '-in', `${alice}.pem`, '-pubout', '-out', `${alice}.pub`]);
  const made = {};
  for (const name of ['bob', 'mallory']) made[name] = ok(await ctx(['keygen', '-o', path.join(work, name)]));
  keys = {
    alice: { pem: `${alice}.pem`, pub: `${alice}.pub` },
    bob: { pem: made.bob.privateKey, pub: made.bob.publicKey, keyid: made.bob.keyid },
    mallory: { pem: made.mallory.privateKey, pub: made.mallory.publicKey },
  };
  signed = await pushPack('signed', 'signed input');
  const result = ok(await ctx(['sign', signed.uri, '--key', keys.alice.pem, '--registry', registry.ref('packs')], { home: signed.home, env }));
  keys.alice.keyid = result.keyid;
});
after(async () => {
  await registry?.close();
  if (work) removeAll(work);
});

describe('keys', () => {
  test('keygen writes a 0600 PKCS#8 key and its SPKI public key, never over an existing file', async () => {
    assert.equal(fs.statSync(keys.bob.pem).mode & 0o777, 0o600);
    const text = await runOk('openssl', ['pkey', '-in', keys.bob.pem, '-pubout']);
    assert.equal(text, fs.readFileSync(keys.bob.pub, 'utf8'), 'openssl derives the same public key');
    const before = fs.readFileSync(keys.bob.pem);
    failsWith(await ctx(['keygen', '-o', path.join(work, 'bob')]), 'CTX_TARGET_EXISTS');
    assert.deepEqual(fs.readFileSync(keys.bob.pem), before);
    // The key id is the SHA-256 of the SPKI DER, as openssl writes it.
    const digest = (await runOk('sh', ['-c', `openssl pkey -pubin -in '${keys.alice.pub}' -outform DER | sha256sum`])).split(' ')[0];
    assert.equal(keys.alice.keyid, `sha256:${digest}`);
  });
});

describe('pull --require-signature into an empty pantry', () => {
  test('a pack signed by a trusted key (openssl-made) is accepted, with its signature', async (t) => {
    const home = tempDir(t);
    const pulled = ok(await pullSigned(signed.uri, home, keys.alice.pub));
    assert.deepEqual(pulled.signers.map((s) => s.keyid), [keys.alice.keyid]);
    assert.equal(stored(home, signed.uri), stored(signed.home, signed.uri));
    // The signature came along: verified offline in the new pantry.
    const verified = ok(await ctx(['verify', signed.uri, '--trust-key', keys.alice.pub], { home }));
    assert.deepEqual(verified.signers.map((s) => s.keyid), [keys.alice.keyid]);
  });

  test('signed only by a key that is not trusted: CTX_KEY_UNTRUSTED, nothing stored', async (t) => {
    const home = tempDir(t);
    const error = failsWith(await pullSigned(signed.uri, home, keys.mallory.pub), 'CTX_KEY_UNTRUSTED');
    assert.match(error.message, new RegExp(keys.alice.keyid));
    assertEmptyPantry(home);
  });

  test('an unsigned pack: CTX_SIGNATURE_REQUIRED, nothing stored', async (t) => {
    const unsigned = await pushPack('unsigned', 'unsigned input');
    const home = tempDir(t);
    failsWith(await pullSigned(unsigned.uri, home, keys.alice.pub), 'CTX_SIGNATURE_REQUIRED');
    assertEmptyPantry(home);
    // Without --require-signature the same pull works: signing is opt-in for the puller.
    ok(await ctx(['pull', unsigned.uri, '--registry', registry.ref('packs')], { home: tempDir(t), env }));
  });

  test('an envelope with one flipped byte: CTX_SIGNATURE_INVALID, nothing stored', async (t) => {
    const pack = await pushPack('flipped', 'flipped input');
    ok(await ctx(['sign', pack.uri, '--key', keys.alice.pem], { home: pack.home })); // the pantry only
    const [envelope] = await envelopesFromPantry(pack.home, stored(pack.home, pack.uri));
    const text = envelope.toString('utf8');
    // Flip one bit of one character inside the signature's base64 (still valid base64, another signature).
    const at = text.indexOf('"sig":"') + 7 + 10;
    const flipped = Buffer.from(text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ 0x01) + text.slice(at + 1));
    assert.equal(flipped.length, envelope.length);
    await attachRawSignature({ mediaType: MANIFEST, digest: stored(pack.home, pack.uri), size: manifestSize(pack.home, pack.uri) }, flipped);
    const home = tempDir(t);
    failsWith(await pullSigned(pack.uri, home, keys.alice.pub), 'CTX_SIGNATURE_INVALID');
    assertEmptyPantry(home);
  });

  test("a valid signature of another pack, attached to this one: CTX_SIGNATURE_INVALID, nothing stored", async (t) => {
    const victim = await pushPack('victim', 'victim input');
    const [envelope] = await envelopesViaTag(registry.url, 'packs', stored(signed.home, signed.uri));
    await attachRawSignature({ mediaType: MANIFEST, digest: stored(victim.home, victim.uri), size: manifestSize(victim.home, victim.uri) }, envelope);
    const home = tempDir(t);
    const error = failsWith(await pullSigned(victim.uri, home, keys.alice.pub), 'CTX_SIGNATURE_INVALID');
    assert.match(error.message, /not ctx:\/\//);
    assertEmptyPantry(home);
  });

  test('a trust policy requires signatures for its scope without any flag', async (t) => {
    const unsigned = await pushPack('policy', 'policy input');
    const policy = path.join(work, 'trust.json');
    fs.writeFileSync(policy, JSON.stringify({
      version: 1,
      policies: [{ name: 'team', scopes: [`${registry.host}/pack*`], signatureRequired: true, trustedKeys: ['alice.pub'] }],
    }));
    const home = tempDir(t);
    const refused = await ctx(['pull', unsigned.uri, '--registry', registry.ref('packs'), '--trust-policy', policy], { home, env });
    failsWith(refused, 'CTX_SIGNATURE_REQUIRED');
    assertEmptyPantry(home);
    const accepted = ok(await ctx(['pull', signed.uri, '--registry', registry.ref('packs')], { home, env: { ...env, CTXPACK_TRUST_POLICY: policy } }));
    assert.deepEqual(accepted.signers.map((s) => s.keyid), [keys.alice.keyid]);
  });
});

describe('two signers', () => {
  test('the second signature does not drop the first from the referrers index', async (t) => {
    ok(await ctx(['sign', signed.uri, '--key', keys.bob.pem, '--registry', registry.ref('packs')], { home: signed.home, env }));
    const envelopes = await envelopesViaTag(registry.url, 'packs', stored(signed.home, signed.uri));
    const keyids = envelopes.map((e) => JSON.parse(e).signatures[0].keyid).sort();
    assert.deepEqual(keyids, [keys.alice.keyid, keys.bob.keyid].sort());
    for (const key of [keys.alice, keys.bob]) {
      const pulled = ok(await pullSigned(signed.uri, tempDir(t), key.pub));
      assert.deepEqual(pulled.signers.map((s) => s.keyid), [key.keyid]);
    }
  });
});

describe('run', () => {
  test('run --push --sign-key publishes a signed pack; run --require-signature treats an untrusted one as a miss', async (t) => {
    const project = path.join(work, 'run-project');
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(path.join(project, 'input.txt'), 'run input');
    fs.writeFileSync(path.join(project, 'contract.json'), JSON.stringify({
      inputs: [{ name: 'input', path: 'input.txt' }],
      transforms: [{ tool: 'sh', tool_version: '1' }],
      outputs: 'out',
    }));
    const command = ['--', 'sh', '-c', 'mkdir -p out && echo made > out/a.txt'];
    // --home and --json before `--`: ctx() appends its own after the command, where sh takes them as $0.
    const runIn = (home, ...extra) =>
      ctx(['run', '--contract', 'contract.json', '--registry', registry.ref('packs'), '--home', home, '--json', ...extra, ...command], { cwd: project, env });
    const published = ok(await runIn(tempDir(t), '--push', '--sign-key', keys.bob.pem));
    assert.equal(published.source, 'command');
    const pulled = ok(await pullSigned(published.uri, tempDir(t), keys.bob.pub));
    assert.deepEqual(pulled.signers.map((s) => s.keyid), [keys.bob.keyid]);

    fs.rmSync(path.join(project, 'out'), { recursive: true });
    const trusted = ok(await runIn(tempDir(t), '--require-signature', '--trust-key', keys.bob.pub));
    assert.equal(trusted.source, 'registry');
    fs.rmSync(path.join(project, 'out'), { recursive: true });
    const untrusted = await runIn(tempDir(t), '--trust-key', keys.mallory.pub);
    assert.equal(ok(untrusted).source, 'command');
    assert.match(untrusted.stderr, /CTX_KEY_UNTRUSTED|none of them a trusted key/);
  });
});

describe('interoperability', () => {
  test('securesystemslib verifies an envelope fetched through the sha256-<hex> tag', async () => {
    const envelopes = await envelopesViaTag(registry.url, 'packs', stored(signed.home, signed.uri));
    const envelope = envelopes.find((e) => JSON.parse(e).signatures[0].keyid === keys.alice.keyid);
    const file = path.join(work, 'envelope.json');
    fs.writeFileSync(file, envelope);
    const verified = await run(python(), ['-c', SSLIB_VERIFY, file, keys.alice.pub, keys.alice.keyid]);
    assert.equal(verified.code, 0, verified.stderr);
    const statement = JSON.parse(verified.stdout);
    assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
    assert.deepEqual(statement.subject, [{ name: signed.uri, digest: { sha256: stored(signed.home, signed.uri).slice(7) } }]);
    // The independent verifier refuses the same envelope with another key.
    const wrong = await run(python(), ['-c', SSLIB_VERIFY, file, keys.mallory.pub, keys.alice.keyid]);
    assert.notEqual(wrong.code, 0);
  });

  test('skopeo copies the pack and its referrers index to another registry; ctxpack still verifies there', async (t) => {
    const other = await startRegistry({ auth: 'none' });
    t.after(() => other.close());
    const digest = stored(signed.home, signed.uri);
    // The pack byte for byte; the referrers index with every signature manifest it lists (skopeo 1.9 rewrites
    // the index itself: it cannot write an OCI index to a registry unchanged).
    for (const [tag, preserve] of [[signed.tag, ['--preserve-digests']], [digest.replace(':', '-'), []]]) {
      await runOk('skopeo', [
        'copy', '--all', ...preserve, '--quiet',
        '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', `${USER}:${PASSWORD}`,
        `docker://${registry.host}/packs:${tag}`, `docker://${other.host}/packs:${tag}`,
      ]);
    }
    assert.equal((await getManifestAt(other.url, signed.tag)).digest, digest);
    const listed = (text) => JSON.parse(text).manifests.map((entry) => entry.digest);
    const source = await getManifest(`${registry.url}/v2/packs`, digest.replace(':', '-'), INDEX);
    assert.deepEqual(listed((await getManifestAt(other.url, digest.replace(':', '-'), INDEX)).text), listed(source));
    const home = tempDir(t);
    const pulled = ok(await ctx(['pull', signed.uri, '--registry', other.ref('packs'), '--require-signature', '--trust-key', keys.alice.pub], { home, env: cleanEnv() }));
    assert.deepEqual(pulled.signers.map((s) => s.keyid), [keys.alice.keyid]);
  });

  test('ctxpack copy, export --oci and import carry the signatures', async (t) => {
    const other = await startRegistry({ auth: 'none' });
    t.after(() => other.close());
    const digest = stored(signed.home, signed.uri);
    const count = (await envelopesViaTag(registry.url, 'packs', digest)).length;
    const copied = ok(await ctx(['copy', signed.uri, '--from', registry.ref('packs'), '--to', other.ref('packs'), '--require-signature', '--trust-key', keys.alice.pub], { env: cleanEnv({ CTXPACK_REGISTRY: registry.ref('packs'), CTXPACK_USER: USER, CTXPACK_TOKEN: PASSWORD }) }));
    assert.equal(copied.signatures, count);
    assert.deepEqual(copied.signers.map((s) => s.keyid), [keys.alice.keyid]);
    assert.equal((await envelopesViaTag(other.url, 'packs', digest, {})).length, count);

    const layout = path.join(tempDir(t), 'layout');
    const exported = ok(await ctx(['export', '--oci', layout, signed.uri], { home: signed.home }));
    assert.ok(exported.packs[0].signatures >= 1);
    const home = tempDir(t);
    ok(await ctx(['import', layout], { home }));
    // gc keeps signatures: they are reachable from index.json's sha256-<hex> entry.
    ok(await ctx(['gc'], { home }));
    const verified = ok(await ctx(['verify', signed.uri, '--trust-key', keys.alice.pub], { home }));
    assert.deepEqual(verified.signers.map((s) => s.keyid), [keys.alice.keyid]);
  });
});

/** The envelopes a pantry keeps for a manifest (its sha256-<hex> referrers index), read from the files. */
async function envelopesFromPantry(home, manifestDigest) {
  const blob = (digest) => fs.readFileSync(path.join(home, 'blobs', 'sha256', digest.slice(7)));
  const entry = readIndex(home).manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === manifestDigest.replace(':', '-'));
  assert.ok(entry, 'the pantry has no referrers entry for the pack');
  return JSON.parse(blob(entry.digest)).manifests.map((m) => blob(JSON.parse(blob(m.digest)).layers[0].digest));
}

async function getManifestAt(registryUrl, reference, accept = MANIFEST) {
  const response = await fetch(`${registryUrl}/v2/packs/manifests/${reference}`, { headers: { accept } });
  return { digest: response.headers.get('docker-content-digest'), text: await response.text() };
}

function manifestSize(home, uri) {
  return indexEntry(home, uri).size;
}

function python() {
  const venv = path.join(process.cwd(), '.tools', 'venv', 'bin', 'python3');
  return fs.existsSync(venv) ? venv : 'python3';
}

/** securesystemslib: DSSE envelope + Ed25519 key (PEM) with our key id; prints the verified statement. */
const SSLIB_VERIFY = `
import json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
envelope = Envelope.from_dict(json.load(open(sys.argv[1])))
key = SSlibKey.from_crypto(load_pem_public_key(open(sys.argv[2], "rb").read()), keyid=sys.argv[3], scheme="ed25519")
envelope.verify([key], 1)
assert envelope.payload_type == "application/vnd.in-toto+json"
print(envelope.payload.decode())
`;
