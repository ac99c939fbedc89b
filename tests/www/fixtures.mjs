// The browser tests' tools: Debian's Chromium driven by playwright-core (never a downloaded browser), `ctxpack
// serve` as a child process, and a small static server with CORS (a pack at some other origin's URL, and the
// inspector hosted without `ctxpack serve`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { BIN, PACKAGE_DIR, REPO_ROOT } from '../js/helpers.mjs';

export const CHROMIUM = process.env.CTXPACK_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots');

/**
 * Chromium through playwright-core with the flags above and none of playwright's own defaults; only what
 * driving it needs is added (the DevTools pipe, a fresh profile folder, removed by close()).
 */
export async function launchChromium() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup.sh test\` (apt package chromium)`);
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-chromium-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    ignoreDefaultArgs: true,
    args: [...CHROMIUM_FLAGS, '--remote-debugging-pipe', `--user-data-dir=${profile}`],
  });
  // Chromium's helper processes may still write to the profile just after the browser disconnects: remove it
  // inside close(), with retries, so no removal races the end of a test.
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    await fs.promises.rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  return browser;
}

/**
 * `ctxpack serve --port 0` of the package under test; resolves once it printed its URL.
 * @returns {Promise<{url: string, close: () => Promise<number>, stderr: () => string}>}
 */
export function startServe({ home, env = {}, args = [] }) {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--home', home, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ctxpack serve printed no URL in 15 s:\n${stderr}`)), 15_000);
    child.once('exit', () => reject(new Error(`ctxpack serve exited:\n${stderr}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      const line = /^(http:\/\/\S+)\n/m.exec(stdout);
      if (!line) return;
      clearTimeout(timer);
      resolve({
        url: line[1],
        stderr: () => stderr,
        close: async () => {
          if (child.exitCode === null) child.kill('SIGINT');
          return exited;
        },
      });
    });
  });
}

/**
 * A static server on 127.0.0.1 that answers every request with `Access-Control-Allow-Origin: *`: `/package/…`
 * is the package under test (its www/ and core/), and `files` maps further paths to bytes.
 */
export async function startStatic(files = {}) {
  const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
  const server = http.createServer((request, response) => {
    const { pathname } = new URL(request.url, 'http://x');
    response.setHeader('access-control-allow-origin', '*');
    if (files[pathname]) {
      response.writeHead(200, { 'content-type': 'application/gzip', 'content-length': files[pathname].length });
      return response.end(files[pathname]);
    }
    const file = path.join(PACKAGE_DIR, decodeURIComponent(pathname.replace(/^\/package\//, '/')));
    if (!pathname.startsWith('/package/') || !file.startsWith(PACKAGE_DIR) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      response.writeHead(404);
      return response.end();
    }
    response.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    return fs.createReadStream(file).pipe(response);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, close: () => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }) };
}

/** Waits for the view's badge to leave "verifying…" and returns its state. */
export async function finalBadge(page, timeout = 30_000) {
  const badge = page.locator('h1 [data-badge]:not([data-badge="verifying"])').first();
  await badge.waitFor({ timeout });
  return badge.getAttribute('data-badge');
}

/** The states of the checks list, by check id. */
export function checkStates(page) {
  return page.$$eval('[data-check]', (items) => Object.fromEntries(items.map((item) => [item.dataset.check, item.dataset.state])));
}

export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: true });
}

/**
 * Open an OCI layout folder in the inspector as a user would pick it: its files copied into the page's
 * origin-private file system (a real directory handle, without a picker dialog) under `name`, then listed.
 */
export async function openLayout(page, serveUrl, layout, name) {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push([path.relative(layout, full), [...fs.readFileSync(full)]]);
    }
  };
  walk(layout);
  await page.goto(`${serveUrl}#/`);
  await page.evaluate(async ([folder, entries]) => {
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(folder, { create: true });
    for (const [relative, bytes] of entries) {
      let dir = root;
      const parts = relative.split('/');
      for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create: true });
      const writable = await (await dir.getFileHandle(parts.at(-1), { create: true })).createWritable();
      await writable.write(new Uint8Array(bytes));
      await writable.close();
    }
    const { addLayout } = await import('/js/sources.mjs');
    location.hash = `#/layout/${addLayout(root)}`;
  }, [name, files]);
}

/** A new page of `context` (a browser or a browser context); the test fails if a script error happened on it. */
export async function pageWithoutErrors(t, context, options) {
  const page = await context.newPage(options);
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  t.after(async () => {
    await page.close();
    assert.deepEqual(errors, [], 'no script error on the page');
  });
  return page;
}
