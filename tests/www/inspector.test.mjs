// The inspector end to end in Debian's Chromium: packs from an htpasswd registry through `ctxpack serve`, from a
// CORS registry straight (the page hosted elsewhere), from a URL, a dropped file and the file picker; a layer
// altered in the registry's storage; execution packs (timeline and aligned diff); a context packet; one file of
// a multi-layer pack; two packs compared; keyboard and a narrow screen; the page's transfer size.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../js/helpers.mjs';
import { runOk, startFaultProxy, startRegistry } from '../registry/harness.mjs';
import { cleanEnv, ctx, ok, packBlobs, pseudoRandom, removeAll } from '../registry/fixtures.mjs';
import { checkStates, finalBadge, launchChromium, openLayout, pageWithoutErrors, screenshot, startServe, startStatic } from './fixtures.mjs';

const MiB = 1024 * 1024;
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAJUlEQVR42mNkYPj/n4EIwMRAJGBkZBg1YNSAUQNGDRg1YNQAOgAAgVYH/Y8DL5sAAAAASUVORK5CYII=', 'base64');
// Made up at run time, so that no credential-shaped text sits in the repository.
const STRIPE_KEY = `sk_live_${pseudoRandom(24, 'stripe').toString('base64').replace(/[^A-Za-z0-9]/g, 'x')}`;
const EMAIL = 'alice.smith@northwind-traders.com';
const hexOf = (uri) => uri.slice('ctx://sha256:'.length);
let work, home, serve, staticServer, browser, auth, cors, plain, proxy;
let pack, changed, tampered, big, runA, runB, packFile, packetFile;

async function seed(name, files, { params = { top: 5 }, input = name } = {}) {
  const project = path.join(work, name);
  for (const [relative, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(project, 'out', relative)), { recursive: true });
    fs.writeFileSync(path.join(project, 'out', relative), content);
  }
  fs.writeFileSync(path.join(project, 'input.txt'), input);
  fs.writeFileSync(path.join(project, 'contract.json'), JSON.stringify({
    name: `${name} pack`,
    inputs: [{ name: 'corpus', path: 'input.txt' }],
    transforms: [{ tool: 'www-test', tool_version: '1', code_hash: `sha256:${'ab'.repeat(32)}`, params }],
    outputs: { path: 'out' },
  }));
  return ok(await ctx(['seed', 'out', '--contract', 'contract.json'], { home, cwd: project, timeoutMs: 300_000 })).uri;
}

const push = async (uri, registry, env = {}) => ok(await ctx(['push', uri, '--registry', registry], { home, env: cleanEnv(env), timeoutMs: 300_000 }));

before(async () => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-www-')));
  home = path.join(work, 'home');
  const files = {
    'readme.md': '# Word counts\n\nThe **top five** words of the corpus.\n\n- alpha\n- beta\n',
    'data/table.csv': 'word,count\nalpha,12\n"beta, gamma",7\n',
    'data/rows.jsonl': '{"word":"alpha","count":12}\n{"word":"beta","count":7}\n',
    'chart.png': PNG,
    'notes.txt': 'plain text notes\n',
  };
  pack = await seed('corpus', files);
  changed = await seed('corpus-v2', { ...files, 'data/table.csv': 'word,count\nalpha,13\n', 'extra.txt': 'new\n', 'notes.txt': undefined }, { params: { top: 10 } }).catch(() => undefined);
  tampered = await seed('tampered', { 'a.txt': pseudoRandom(256 * 1024, 'tampered').toString('hex') });
  const bigFiles = Object.fromEntries(Array.from({ length: 18 }, (_, i) => [`part-${String(i).padStart(2, '0')}.bin`, pseudoRandom(4 * MiB, `part-${i}`)]));
  big = await seed('big', { ...bigFiles, 'notes/readme.txt': 'the one small file\n' });
  const log = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tests/fixtures/execution/coding-agent.json'), 'utf8'));
  const variant = structuredClone(log);
  variant.steps.splice(3, 0, { ...variant.steps[2], index: 3, output: 'an inserted step\n' });
  variant.steps.forEach((step, index) => (step.index = index));
  variant.steps[8].output = 'a different output\n';
  fs.writeFileSync(path.join(work, 'run-a.json'), JSON.stringify(log));
  fs.writeFileSync(path.join(work, 'run-b.json'), JSON.stringify(variant));
  runA = ok(await ctx(['trace', 'pack', path.join(work, 'run-a.json')], { home })).uri;
  runB = ok(await ctx(['trace', 'pack', path.join(work, 'run-b.json')], { home })).uri;

  [auth, cors, plain] = await Promise.all([startRegistry({ auth: 'htpasswd' }), startRegistry({ cors: true }), startRegistry()]);
  proxy = await startFaultProxy(plain.url);
  const credentials = { CTXPACK_REGISTRY: auth.ref('packs'), CTXPACK_USER: 'ctxpack', CTXPACK_TOKEN: 'ctxpack-secret' };
  await push(pack, auth.ref('packs'), credentials);
  await push(pack, cors.ref('packs'));
  await push(tampered, cors.ref('packs'));
  await push(big, plain.ref('packs'));
  // Alter one byte of the tampered pack's layer where the registry keeps it.
  const layer = packBlobs(home, tampered).manifest.layers[0].digest.slice('sha256:'.length);
  const data = path.join(cors.storage, 'docker/registry/v2/blobs/sha256', layer.slice(0, 2), layer, 'data');
  const bytes = fs.readFileSync(data);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  fs.writeFileSync(data, bytes);

  packFile = path.join(work, 'corpus.tar.gz');
  ok(await ctx(['export', pack, '-o', packFile], { home }));
  packetFile = await buildPacket(path.join(work, 'context'));
  staticServer = await startStatic({ '/corpus.tar.gz': fs.readFileSync(packFile) });
  serve = await startServe({ home, env: cleanEnv(credentials) });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await serve?.close();
  await staticServer?.close();
  await proxy?.close();
  await Promise.all([auth, cors, plain].map((registry) => registry?.close()));
  if (work) removeAll(work);
});

/** A context packet built by the CLI from a project holding a credential (masked) and an e-mail address. */
async function buildPacket(root) {
  fs.mkdirSync(path.join(root, 'src'), { recursive: true });
  fs.writeFileSync(path.join(root, 'src/charge.py'), `def charge(amount):\n    """Charge a card."""\n    # contact: ${EMAIL}\n    return amount\n\n\ndef refund(amount):\n    return -amount\n`);
  fs.writeFileSync(path.join(root, 'src/settings.py'), `STRIPE_KEY = "${STRIPE_KEY}"\nREGION = "eu-west-1"\n`);
  fs.writeFileSync(path.join(root, 'task.json'), JSON.stringify({ task_id: 'TASK-7', task_type: 'code.generate', summary: 'Add refunds', scope: { include: ['src/**'] }, constraints: { max_tokens: 2000 }, target_file: 'src/charge.py' }));
  const out = path.join(root, 'packet.yaml');
  await runOk(process.execPath, [path.join(REPO_ROOT, 'build/package/bin/ctxpack.cjs'), 'context', 'build', '--task', path.join(root, 'task.json'), '--project', root, '-o', out, '--home', home], { env: cleanEnv() });
  return out;
}

const newPage = (t, options) => pageWithoutErrors(t, browser, options);

async function previewOf(page, filePath) {
  await page.click(`tr[data-path="${filePath}"] button:has-text("Preview")`);
  const preview = page.locator(`[data-preview="${filePath}"]`);
  await preview.waitFor();
  return preview;
}

test('a pack from an htpasswd registry, through ctxpack serve with the user\'s credentials', async (t) => {
  const page = await newPage(t);
  await page.goto(`${serve.url}#/${auth.host}/packs/ctx-${hexOf(pack)}`);
  assert.equal(await finalBadge(page), 'verified');
  assert.equal(await page.textContent('[data-uri]'), pack);
  const states = await checkStates(page);
  assert.deepEqual(Object.values(states).filter((state) => state !== 'passed'), [], JSON.stringify(states));
  assert.deepEqual(Object.keys(states), ['image', 'manifest', 'uri', 'tree', 'layer-0', 'files']);
  assert.match(await page.textContent('#s-contract ~ *, section[aria-labelledby="s-contract"]'), /www-test/);
  assert.deepEqual(await page.$$eval('tr[data-path]', (rows) => rows.map((row) => row.dataset.path)), ['chart.png', 'data/rows.jsonl', 'data/table.csv', 'notes.txt', 'readme.md']);
  const preview = await previewOf(page, 'readme.md');
  assert.equal(await preview.locator('h3').textContent(), 'Word counts');
  assert.equal(await preview.locator('strong').textContent(), 'top five');
  assert.ok(!(await page.content()).includes('ctxpack-secret'), 'the password never reaches the page');
  await screenshot(page, 'pack-verified.png');
});

test('a pack straight from a registry that sends CORS headers, the inspector hosted without ctxpack serve', async (t) => {
  const page = await newPage(t);
  await page.goto(`${staticServer.origin}/package/www/index.html#/${cors.host}/packs/ctx-${hexOf(pack)}`);
  assert.equal(await finalBadge(page), 'verified');
  assert.equal(await page.textContent('[data-uri]'), pack);
  const preview = await previewOf(page, 'data/table.csv');
  assert.deepEqual(await preview.locator('tbody tr').first().locator('td').allTextContents(), ['alpha', '12']);
  assert.deepEqual(await preview.locator('tbody tr').nth(1).locator('td').allTextContents(), ['beta, gamma', '7']);
});

test('a pack from a URL, from the file picker and dropped on the page', async (t) => {
  const page = await newPage(t);
  await page.goto(`${serve.url}#/url/${encodeURIComponent(`${staticServer.origin}/corpus.tar.gz`)}`);
  assert.equal(await finalBadge(page), 'verified');
  assert.equal(await page.textContent('[data-uri]'), pack);
  const rows = await previewOf(page, 'data/rows.jsonl');
  assert.equal(await rows.locator('li').count(), 2);

  await page.goto(`${serve.url}#/`);
  await page.setInputFiles('#open-file', packFile);
  assert.equal(await finalBadge(page), 'verified');
  assert.equal(await page.textContent('[data-uri]'), pack);
  const image = await previewOf(page, 'chart.png');
  assert.ok(await image.locator('img').evaluate((img) => img.decode().then(() => img.naturalWidth)), 'the PNG decodes');

  await page.goto(`${serve.url}#/`);
  await page.evaluate((bytes) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], 'dropped.tar.gz', { type: 'application/gzip' }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, [...fs.readFileSync(packFile)]);
  assert.equal(await finalBadge(page), 'verified');
  assert.match(await page.url(), /#\/file\/\d+$/);
  assert.equal(await page.textContent('[data-uri]'), pack);
});

test('an OCI layout folder: its packs listed, one opened and verified', async (t) => {
  const layout = path.join(work, 'layout');
  ok(await ctx(['export', '--oci', layout, pack, runA], { home }));
  const page = await newPage(t);
  await openLayout(page, serve.url, layout, 'layout');
  await page.locator(`a[href$="ctx-${hexOf(pack)}"]`).click();
  assert.equal(await finalBadge(page), 'verified');
  assert.equal(await page.textContent('[data-uri]'), pack);
  await page.goBack();
  await page.locator(`a[href$="ctx-${hexOf(runA)}"]`).click();
  assert.equal(await finalBadge(page), 'verified');
  assert.ok((await page.locator('.timeline > li').count()) > 0);
});

test('a layer altered in the registry storage: failed, with the failing check named', async (t) => {
  const page = await newPage(t);
  await page.goto(`${serve.url}#/${cors.host}/packs/ctx-${hexOf(tampered)}`);
  assert.equal(await finalBadge(page), 'failed');
  const states = await checkStates(page);
  const failedChecks = Object.entries(states).filter(([, state]) => state === 'failed').map(([id]) => id);
  assert.equal(failedChecks.length, 1, JSON.stringify(states));
  assert.ok(['layer-0', 'files'].includes(failedChecks[0]), JSON.stringify(states));
  for (const id of ['image', 'manifest', 'uri', 'tree']) assert.equal(states[id], 'passed', id);
  const failure = await page.textContent(`[data-check="${failedChecks[0]}"] .check-error`);
  assert.match(failure, /CTX_(GZIP_CORRUPT|DIGEST_MISMATCH|TAR_CORRUPT)/);
  assert.equal(await page.locator('[data-badge="verified"]').count(), 0);
  await screenshot(page, 'pack-failed.png');
});

test('a verified pack never shows the word "failed"; two packs compared', async (t) => {
  const page = await newPage(t);
  await page.goto(`${serve.url}#/pantry/ctx-${hexOf(pack)}`);
  assert.equal(await finalBadge(page), 'verified');
  assert.ok(!/\bfailed\b/i.test(await page.textContent('main')));
  if (changed) {
    await page.fill('#compare-with', `pantry/ctx-${hexOf(changed)}`);
    await page.click('button:has-text("Compare")');
    await page.locator('h1:has-text("Two packs")').waitFor();
    const contractRows = await page.$$eval('section[aria-labelledby="s-contract"] tbody tr td:first-child', (cells) => cells.map((cell) => cell.textContent));
    assert.ok(contractRows.includes('transforms[0].params.top'), contractRows.join(', '));
    assert.ok(contractRows.includes('name'));
    assert.deepEqual(await page.$$eval('tr.change-added[data-path]', (rows) => rows.map((row) => row.dataset.path)), ['extra.txt']);
    assert.deepEqual(await page.$$eval('tr.change-removed[data-path]', (rows) => rows.map((row) => row.dataset.path)), ['notes.txt']);
    assert.deepEqual(await page.$$eval('tr.change-changed[data-path]', (rows) => rows.map((row) => row.dataset.path)), ['data/table.csv']);
  }
});

test('an execution pack: its timeline, and the aligned diff of two runs', async (t) => {
  const page = await newPage(t, { viewport: { width: 1280, height: 900 } });
  await page.goto(`${serve.url}#/pantry/ctx-${hexOf(runA)}`);
  assert.equal(await finalBadge(page), 'verified');
  const log = JSON.parse(fs.readFileSync(path.join(work, 'run-a.json'), 'utf8'));
  assert.equal(await page.locator('.timeline > li').count(), log.steps.length);
  const first = page.locator('.timeline > li').first();
  await first.locator('summary:has-text("Output")').click();
  await first.locator('.blob-preview pre').waitFor();
  assert.equal((await first.locator('.blob-preview pre').textContent()).trim(), String(log.steps[0].output).trim());
  await screenshot(page, 'execution-timeline.png');

  await page.goto(`${serve.url}#/diff?a=pantry/ctx-${hexOf(runA)}&b=pantry/ctx-${hexOf(runB)}`);
  await page.locator('table.aligned').waitFor({ timeout: 20_000 });
  const ops = await page.$$eval('table.aligned tbody tr', (rows) => rows.map((row) => row.dataset.op));
  assert.equal(ops.filter((op) => op === 'added').length, 1, ops.join(' '));
  assert.equal(ops.filter((op) => op === 'changed').length, 1, ops.join(' '));
  assert.equal(ops.filter((op) => op === 'same').length, log.steps.length - 1);
  await screenshot(page, 'execution-diff.png');
});

test('a context packet: items with token estimates, the budget, redactions by rule, violations', async (t) => {
  const page = await newPage(t);
  await page.goto(`${serve.url}#/`);
  await page.setInputFiles('#open-file', packetFile);
  await page.locator('h1:has-text("Context packet")').waitFor({ timeout: 20_000 });
  assert.ok(['valid', 'invalid'].includes(await page.getAttribute('h1 [data-badge]', 'data-badge')));
  assert.ok((await page.locator('tr[data-item]').count()) >= 2);
  const meter = page.locator('meter#budget-tokens');
  assert.equal(await meter.getAttribute('max'), '2000');
  assert.ok(Number(await meter.getAttribute('value')) > 0);
  assert.ok((await page.locator('mark.redacted').count()) > 0, 'redactions highlighted');
  assert.ok(!(await page.content()).includes(STRIPE_KEY), 'the credential is never shown');
  assert.ok(!(await page.content()).includes(EMAIL), 'the e-mail address is never shown');
  await page.locator('section[aria-labelledby="s-violations"]').waitFor();
  await screenshot(page, 'context-packet.png');
});

test('one file of a multi-layer pack: only a small part of the pack is fetched', async (t) => {
  const page = await newPage(t);
  const layers = packBlobs(home, big).manifest.layers;
  assert.ok(layers.length > 1, `${layers.length} layers`);
  const total = layers.reduce((sum, layer) => sum + layer.size, 0);
  proxy.reset();
  await page.goto(`${serve.url}#/${proxy.host}/packs/ctx-${hexOf(big)}?path=${encodeURIComponent('notes/readme.txt')}`);
  const preview = page.locator('[data-preview="notes/readme.txt"]');
  await preview.waitFor({ timeout: 30_000 });
  assert.equal((await preview.textContent()).trim(), 'the one small file');
  const fetched = proxy.stats().downloadedBlobBytes;
  t.diagnostic(`one-file preview fetched ${fetched} of ${total} layer bytes (${((100 * fetched) / total).toFixed(1)} %)`);
  assert.ok(fetched < total / 4, `fetched ${fetched} of ${total} bytes`);
});

test('keyboard, labels and a narrow screen; the transfer size of a pack view', async (t) => {
  const page = await newPage(t, { viewport: { width: 360, height: 740 } });
  await page.goto(`${serve.url}#/pantry/ctx-${hexOf(pack)}`);
  assert.equal(await finalBadge(page), 'verified');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
  const unlabelled = await page.$$eval('input, select, textarea', (fields) => fields.filter((field) => !field.labels?.length && !field.getAttribute('aria-label')).map((field) => field.id || field.name));
  assert.deepEqual(unlabelled, []);
  const button = page.locator('tr[data-path="notes.txt"] button:has-text("Preview")');
  await button.focus();
  await page.keyboard.press('Enter');
  await page.locator('[data-preview="notes.txt"]').waitFor();
  assert.equal((await page.textContent('[data-preview="notes.txt"]')).trim(), 'plain text notes');
  const unnamedButtons = await page.$$eval('button', (buttons) => buttons.filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim())).length);
  assert.equal(unnamedButtons, 0);
  await page.setViewportSize({ width: 1280, height: 900 });

  // What a browser downloads to show a pack (the page and its worker): HTML, JS, CSS and the wasm core, gzip'd by
  // ctxpack serve; the sizes as they crossed the network.
  const fresh = await browser.newContext();
  t.after(() => fresh.close());
  const view = await fresh.newPage();
  const sizes = {};
  const counted = [];
  view.on('requestfinished', (request) => {
    const name = new URL(request.url()).pathname;
    if (name.startsWith('/api/') || name.startsWith('/v2/')) return;
    const kind = name.endsWith('.wasm') ? 'wasm' : name.endsWith('.css') ? 'css' : /\.m?js$/.test(name) ? 'js' : 'html';
    counted.push(request.sizes().then(({ responseBodySize, responseHeadersSize }) => {
      sizes[kind] = (sizes[kind] ?? 0) + responseBodySize + responseHeadersSize;
    }));
  });
  await view.goto(`${serve.url}#/pantry/ctx-${hexOf(pack)}`);
  assert.equal(await finalBadge(view), 'verified');
  await Promise.all(counted);
  const totalBytes = Object.values(sizes).reduce((sum, n) => sum + n, 0);
  t.diagnostic(`pack view transfer (gzip): ${JSON.stringify(sizes)} = ${(totalBytes / 1024).toFixed(0)} KiB`);
  assert.ok(sizes.wasm > 0 && sizes.js > 0 && sizes.css > 0 && sizes.html > 0, JSON.stringify(sizes));
  // The issue's goal for the page: HTML, JS, CSS and the lean wasm under 500 KiB gzip'd.
  assert.ok(totalBytes < 500 * 1024, `pack view transfers ${(totalBytes / 1024).toFixed(0)} KiB, over 500 KiB`);
});
