// A measurement, not a test (minutes, 3 GiB of disk): a 1 GiB pack opened from a file in the inspector, in
// Debian's Chromium. Prints the time to the badge, how much the browser's memory grew meanwhile (the summed RSS
// of its processes: it must not grow with the pack) and the worst delay of a main-thread timer (the page must
// stay responsive while the worker verifies).
//
//   node scripts/build.mjs && node tests/www/large-pack.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN } from '../js/helpers.mjs';
import { pseudoRandom } from '../registry/fixtures.mjs';
import { finalBadge, launchChromium, startServe } from './fixtures.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-large-'));
fs.mkdirSync(`${work}/out`, { recursive: true });
for (let i = 0; i < 8; i++) fs.writeFileSync(`${work}/out/part-${i}.bin`, pseudoRandom(128 * 1024 * 1024, `p${i}`));
fs.writeFileSync(`${work}/in.txt`, 'big'); fs.writeFileSync(`${work}/contract.json`, JSON.stringify({ inputs: [{ name: 'in', path: 'in.txt' }], transforms: [{ tool: 't', tool_version: '1', code_hash: `sha256:${'ef'.repeat(32)}` }], outputs: 'out' }));
let t = Date.now();
const uri = execFileSync('node', [BIN, 'seed', 'out', '--contract', 'contract.json', '--home', `${work}/home`], { cwd: work, encoding: 'utf8' }).trim();
execFileSync('node', [BIN, 'export', uri, '-o', `${work}/big.tar.gz`, '--home', `${work}/home`]);
fs.rmSync(`${work}/out`, { recursive: true, force: true });
console.log('pack', fs.statSync(`${work}/big.tar.gz`).size, 'bytes, made in', Date.now() - t, 'ms');
const serve = await startServe({ home: `${work}/home`, env: { ...process.env } });
const browser = await launchChromium();
const page = await browser.newPage();
await page.goto(serve.url);
const profiles = `--user-data-dir=${path.join(os.tmpdir(), 'ctxpack-chromium-')}`;
const rss = () => {
  const lines = execFileSync('ps', ['-eo', 'rss=,args='], { encoding: 'utf8' }).split('\n');
  return lines.filter((line) => line.includes(profiles)).reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[0]) * 1024, 0);
};
let peak = 0; const base = rss();
const timer = setInterval(() => { peak = Math.max(peak, rss()); }, 250);
// The page must stay responsive: time a main-thread task every 100 ms while the worker verifies.
await page.evaluate(() => { window.__lags = []; let last = performance.now(); window.__probe = setInterval(() => { const now = performance.now(); window.__lags.push(now - last - 100); last = now; }, 100); });
t = Date.now();
await page.setInputFiles('#open-file', `${work}/big.tar.gz`);
const state = await finalBadge(page, 600_000);
const ms = Date.now() - t;
clearInterval(timer);
const lag = await page.evaluate(() => Math.max(...window.__lags));
console.log(`badge ${state} after ${ms} ms (${(fs.statSync(`${work}/big.tar.gz`).size / 1048576 / (ms / 1000)).toFixed(0)} MiB/s); Chromium RSS ${(base / 1048576).toFixed(0)} MiB before, ${(peak / 1048576).toFixed(0)} MiB at most (+${((peak - base) / 1048576).toFixed(0)} MiB); worst main-thread timer delay ${lag.toFixed(0)} ms`);
await browser.close(); await serve.close();
fs.rmSync(work, { recursive: true, force: true });
