// The inspector's signature panel end to end in Debian's Chromium: packs in CNCF Distribution (no referrers API,
// so signatures travel through the `sha256-<hex>` tag) signed with a key from `openssl genpkey -algorithm
// ed25519`, read through `ctxpack serve`'s proxy; the key added by pasting and by choosing the .pub file, and
// removed; an unsigned pack; an envelope with one altered byte; the pantry's signatures through serve's referrers
// API with `serve --trust-key`; a bare .tar.gz, which carries none.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runOk, startRegistry } from '../registry/harness.mjs';
import { cleanEnv, ctx, ok, removeAll, seedPack, smallFiles } from '../registry/fixtures.mjs';
import { launchChromium, openLayout, pageWithoutErrors, screenshot, startServe, startStatic } from './fixtures.mjs';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const hexOf = (uri) => uri.slice('ctx://sha256:'.length);
const sha256 = (bytes) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
let work, home, registry, serve, trustingServe, staticServer, browser, key, signed, unsigned, forged;

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-www-sign-')));
  home = path.join(work, 'home');
  key = { pem: path.join(work, 'alice.pem'), pub: path.join(work, 'alice.pub') };
  await runOk('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key.pem]);
  await runOk('openssl', ['pkey', '-in', key.pem, '-pubout', '-out', key.pub]);
  registry = await startRegistry();
  const env = cleanEnv();
  const packs = {};
  for (const name of ['signed', 'unsigned', 'forged']) {
    packs[name] = await seedPack(work, { name, home, files: smallFiles(name, 16 * 1024), input: `${name} input` });
    ok(await ctx(['push', packs[name].uri, '--registry', registry.ref('packs')], { home, env }));
  }
  [signed, unsigned, forged] = [packs.signed.uri, packs.unsigned.uri, packs.forged.uri];
  for (const uri of [signed, forged]) {
    const result = ok(await ctx(['sign', uri, '--key', key.pem, '--registry', registry.ref('packs')], { home, env }));
    key.keyid = result.keyid;
    if (uri === packs.signed.uri) key.signedAt = result.signedAt;
  }
  await alterSignature(forged);
  const exported = path.join(work, 'signed.tar.gz');
  ok(await ctx(['export', signed, '-o', exported], { home }));
  staticServer = await startStatic({ '/signed.tar.gz': fs.readFileSync(exported) });
  serve = await startServe({ home, env });
  trustingServe = await startServe({ home, env, args: ['--trust-key', key.pub] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all([serve?.close(), trustingServe?.close(), staticServer?.close()]);
  await registry?.close();
  if (work) removeAll(work);
});

/**
 * Replace the pack's signature in the registry by the same envelope with one byte of its signature changed
 * (still canonical base64): a new envelope blob, a new signature manifest, the referrers tag naming only it.
 */
async function alterSignature(uri) {
  const base = `${registry.url}/v2/packs`;
  const subject = (await fetch(`${base}/manifests/ctx-${hexOf(uri)}`, { method: 'HEAD', headers: { accept: MANIFEST } })).headers.get('docker-content-digest');
  const tag = subject.replace(':', '-');
  const index = await (await fetch(`${base}/manifests/${tag}`, { headers: { accept: INDEX } })).json();
  const manifest = await (await fetch(`${base}/manifests/${index.manifests[0].digest}`, { headers: { accept: MANIFEST } })).json();
  const envelope = JSON.parse(Buffer.from(await (await fetch(`${base}/blobs/${manifest.layers[0].digest}`)).arrayBuffer()).toString('utf8'));
  const sig = envelope.signatures[0].sig;
  envelope.signatures[0].sig = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
  // JCS: the envelope's keys are already in order and hold no number, so JSON.stringify writes it canonically.
  const altered = Buffer.from(JSON.stringify(envelope));
  const started = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(started.headers.get('location'), base);
  location.searchParams.set('digest', sha256(altered));
  assert.equal((await fetch(location, { method: 'PUT', body: altered, headers: { 'content-type': 'application/octet-stream' } })).status, 201);
  manifest.layers[0] = { ...manifest.layers[0], digest: sha256(altered), size: altered.length };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const put = (reference, bytes, type) => fetch(`${base}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'content-type': type } });
  assert.equal((await put(sha256(manifestBytes), manifestBytes, MANIFEST)).status, 201);
  index.manifests = [{ ...index.manifests[0], digest: sha256(manifestBytes), size: manifestBytes.length }];
  assert.equal((await put(tag, Buffer.from(JSON.stringify(index)), INDEX)).status, 201);
}

const newPage = (t, context = browser) => pageWithoutErrors(t, context);

/** Waits for the signature panel to settle; returns its state and its rows. */
async function signatures(page, state) {
  await page.locator(`section[data-signatures="${state}"]`).waitFor({ timeout: 30_000 });
  return page.$$eval('section[data-signatures] tbody tr', (rows) =>
    rows.map((row) => ({ ...row.dataset, cells: [...row.cells].map((cell) => cell.textContent.trim()) })),
  );
}

/** Waits until the signature row of `keyid` has the status given. */
const rowWith = (page, status) => page.locator(`section[data-signatures] tr[data-keyid="${key.keyid}"][data-status="${status}"]`).waitFor({ timeout: 30_000 });

test('a signed pack from a registry: unchecked and untrusted, then valid and trusted once its .pub is added', async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await newPage(t, context);
  await page.goto(`${serve.url}#/${registry.host}/packs/ctx-${hexOf(signed)}`);
  const [row] = await signatures(page, 'listed');
  assert.deepEqual({ keyid: row.keyid, status: row.status, trusted: row.trusted }, { keyid: key.keyid, status: 'unchecked', trusted: 'false' });
  assert.equal(row.cells[1], 'Ed25519');
  assert.equal(row.cells[2], key.signedAt);
  assert.match(row.cells[4], /^untrusted$/);
  // The key id is shown short; its whole value is on hover (title) and in the text that is copied.
  const shown = page.locator(`tr[data-keyid="${key.keyid}"] td code`).first();
  assert.equal(await shown.getAttribute('title'), key.keyid);
  assert.equal(await shown.textContent(), key.keyid);

  // Pasted into the labelled field.
  await page.getByLabel('Public key (PEM, as in a .pub file)').fill(fs.readFileSync(key.pub, 'utf8'));
  await page.getByRole('button', { name: 'Trust this key' }).click();
  await rowWith(page, 'valid');
  const [trusted] = await signatures(page, 'listed');
  assert.equal(trusted.trusted, 'true');
  assert.match(trusted.cells[3], /^valid/);
  assert.equal(await page.locator(`[data-trusted-key="${key.keyid}"]`).count(), 1);
  await screenshot(page, 'pack-signatures.png');

  // Kept in this browser: a new page of the same browser context still trusts it; then it is removed.
  const again = await newPage(t, context);
  await again.goto(`${serve.url}#/${registry.host}/packs/ctx-${hexOf(signed)}`);
  await rowWith(again, 'valid');
  await again.getByRole('button', { name: 'Remove trusted key pasted key' }).click();
  await rowWith(again, 'unchecked');
  assert.equal(await again.locator('[data-trusted-key]').count(), 0);

  // Chosen as a file.
  await again.setInputFiles('#trust-key-file', key.pub);
  await rowWith(again, 'valid');
  assert.match(await again.textContent(`[data-trusted-key="${key.keyid}"]`), /alice\.pub/);

  // A private key is refused, and not kept.
  await again.getByLabel('Public key (PEM, as in a .pub file)').fill(fs.readFileSync(key.pem, 'utf8'));
  await again.getByRole('button', { name: 'Trust this key' }).click();
  await again.locator('section[data-signatures] .error code').filter({ hasText: 'CTX_KEY_INVALID' }).waitFor();
  assert.equal(await again.evaluate(() => JSON.parse(localStorage.getItem('ctxpack.trustedKeys')).length), 1);
});

test('an unsigned pack says it has no signatures', async (t) => {
  const page = await newPage(t);
  await page.goto(`${serve.url}#/${registry.host}/packs/ctx-${hexOf(unsigned)}`);
  await signatures(page, 'none');
  assert.match(await page.textContent('section[data-signatures]'), /This pack has no signatures\./);
});

test('an envelope with one altered byte is invalid, with the core\'s reason', async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await newPage(t, context);
  await page.goto(`${serve.url}#/${registry.host}/packs/ctx-${hexOf(forged)}`);
  await rowWith(page, 'unchecked');
  await page.setInputFiles('#trust-key-file', key.pub);
  await rowWith(page, 'invalid');
  const [row] = await signatures(page, 'listed');
  assert.equal(row.trusted, 'true');
  assert.match(row.cells[3], /^invalid\s*CTX_SIGNATURE_INVALID .*does not verify/);
});

test('a pantry pack through serve: its signature, trusted through serve --trust-key', async (t) => {
  const page = await newPage(t);
  await page.goto(`${trustingServe.url}#/pantry/ctx-${hexOf(signed)}`);
  await rowWith(page, 'valid');
  const [row] = await signatures(page, 'listed');
  assert.equal(row.trusted, 'true');
  assert.match(await page.textContent(`[data-trusted-key="${key.keyid}"]`), /from ctxpack serve/);
  assert.equal(await page.locator(`[data-trusted-key="${key.keyid}"] button`).count(), 0, 'a key of the server cannot be removed in the page');
  // Without --trust-key, the same signature is listed, unchecked.
  const plain = await newPage(t);
  await plain.goto(`${serve.url}#/pantry/ctx-${hexOf(signed)}`);
  await rowWith(plain, 'unchecked');
});

test('a .tar.gz file says plainly that it carries no signatures', async (t) => {
  const page = await newPage(t);
  await page.goto(`${serve.url}#/url/${encodeURIComponent(`${staticServer.origin}/signed.tar.gz`)}`);
  await signatures(page, 'not-carried');
  assert.match(await page.textContent('section[data-signatures]'), /A pack file \(\.tar\.gz\) carries no signatures/);
});

test('an OCI layout folder: the signature exported with the pack, through its sha256-<hex> ref name', async (t) => {
  const layout = path.join(work, 'layout');
  ok(await ctx(['export', '--oci', layout, signed], { home }));
  const page = await newPage(t);
  await openLayout(page, serve.url, layout, 'signed-layout');
  await page.locator(`a[href$="ctx-${hexOf(signed)}"]`).click();
  await rowWith(page, 'unchecked');
  await page.setInputFiles('#trust-key-file', key.pub);
  await rowWith(page, 'valid');
});
