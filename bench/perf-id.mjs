// Identity and start-up against their peers (issue 14), in the same run, alternating ctxpack and peer, medians
// of BENCH_RUNS (default 5) runs, peak RSS of each from /usr/bin/time, the load average beside the figures:
//
//   id, 1.15 GB in 10,001 files (10,000 × 53 KB + one 512 MiB)  vs  a plain Node script hashing with node:crypto on 2 workers
//   id, 100,000 files of 50–500 B                                vs  find … | xargs -0 sha256sum
//   id again, nothing changed, 10,000 files / 10 GB (sparse)     (stat cache; absolute seconds)
//   start-up: --version, id of one file                          vs  node -e 0
//   start-up: id's core alone computing that URI (no CLI)        vs  node -e 0   (no goal: id's wasm work by itself,
//                                                                   as an ES module with node:crypto: the CommonJS
//                                                                   CLI, hashing in the core, can go below it)
//
// Both id rows run `ctxpack id` with CTXPACK_NO_STAT_CACHE=1 (every byte hashed); the data is generated once under .bench/.
// BENCH_ROWS=large,small,again,startup (comma-separated) runs only those rows (and makes only their data).
// Reproduce: npm run bench   (or: node scripts/build.mjs && node bench/perf-id.mjs)
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOf } from './cli-bin.mjs';
import { meets, recordRow } from './summary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, '.bench', 'perf-id');
// CTXPACK_BENCH_PACKAGE: another build of the package to measure; CTXPACK_BENCH_BASELINE: a second build
// (e.g. main's) measured in the same alternation, for a before/after table from one run.
const cli = cliOf(process.env.CTXPACK_BENCH_PACKAGE ?? path.join(root, 'build/package'));
const baselineCli = process.env.CTXPACK_BENCH_BASELINE ? cliOf(process.env.CTXPACK_BENCH_BASELINE) : undefined;
const runs = Math.max(3, Number(process.env.BENCH_RUNS ?? 5));
const only = process.env.BENCH_ROWS?.split(',');
const wanted = (name) => only === undefined || only.includes(name);
const MiB = 1024 * 1024;

/** The peer of `id`: walk, sizes, biggest first to two workers that read and hash with node:crypto. */
const PEER_SCRIPT = `import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
if (isMainThread) {
  const files = [];
  for (const entry of fs.readdirSync(process.argv[2], { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files.push([file, fs.statSync(file).size]);
    }
  }
  files.sort((a, b) => b[1] - a[1]);
  let next = 0;
  const digests = new Map();
  await Promise.all([0, 1].map(() => new Promise((resolve) => {
    const worker = new Worker(new URL(import.meta.url));
    const feed = () => {
      const batch = files.slice(next, next + 256).map(([file]) => file);
      next += batch.length;
      if (batch.length === 0) { worker.terminate(); resolve(); } else worker.postMessage(batch);
    };
    worker.on('message', (results) => { for (const [file, digest] of results) digests.set(file, digest); feed(); });
    feed();
  })));
  const tree = crypto.createHash('sha256');
  for (const file of [...digests.keys()].sort()) tree.update(file + digests.get(file));
  console.log(tree.digest('hex'));
} else {
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  parentPort.on('message', (batch) => parentPort.postMessage(batch.map((file) => {
    const hash = crypto.createHash('sha256');
    const fd = fs.openSync(file, 'r');
    for (let read; (read = fs.readSync(fd, buffer)) > 0; ) hash.update(buffer.subarray(0, read));
    fs.closeSync(fd);
    return [file, hash.digest('hex')];
  })));
}
`;

/**
 * The work of `id` of one file without the CLI: compile and instantiate the core `id` runs on (the identity core;
 * the lean core in a build that has none), hash the file with node:crypto, resolve the contract, print the URI.
 * argv: package dir, contract, file.
 */
const ID_CORE_ALONE_SCRIPT = `import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [packageDir, contractPath, file] = process.argv.slice(2);
const coreDir = packageDir + (existsSync(packageDir + '/core/id') ? '/core/id' : '/core/lean');
const compile = WebAssembly.compile(readFileSync(coreDir + '/ctxpack_core_bg.wasm'));
const core = await import(pathToFileURL(coreDir + '/ctxpack_core.js').href);
core.initSync({ module: await compile });
const text = readFileSync(contractPath, 'utf8');
const [need] = core.contractPlan(text).needs;
const digest = 'sha256:' + createHash('sha256').update(readFileSync(file)).digest('hex');
process.stdout.write(core.resolveContract(text, { inputs: { [need.name]: { type: 'file', digest } }, code: {} }).uri + '\\n');
`;

/** 10,000 text files of 53 KB in 100 folders, plus one 512 MiB file of random bytes (as bench/run.mjs). */
function ensureLargeTree(dir) {
  const stamp = `${dir}.complete`;
  if (fs.existsSync(stamp)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  const pool = crypto.randomBytes(16 * MiB).toString('base64').slice(0, 16 * MiB);
  const fileBytes = Math.floor((512 * MiB) / 10_000);
  for (let i = 0; i < 10_000; i++) {
    const sub = path.join(dir, 'chunks', `d${String(i % 100).padStart(2, '0')}`);
    if (i < 100) fs.mkdirSync(sub, { recursive: true });
    const offset = (i * 7919 * 13) % (pool.length - fileBytes);
    fs.writeFileSync(path.join(sub, `chunk-${i}.jsonl`), pool.slice(offset, offset + fileBytes));
  }
  const fd = fs.openSync(path.join(dir, 'index.bin'), 'w');
  for (let done = 0; done < 512 * MiB; done += 16 * MiB) fs.writeSync(fd, crypto.randomBytes(16 * MiB));
  fs.closeSync(fd);
  fs.writeFileSync(stamp, '');
}

/** 100,000 files of 50–500 bytes in 1,000 folders. */
function ensureSmallTree(dir) {
  const stamp = `${dir}.complete`;
  if (fs.existsSync(stamp)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  const text = crypto.randomBytes(4096).toString('base64');
  for (let i = 0; i < 100_000; i++) {
    const sub = path.join(dir, `d${String(i % 1000).padStart(3, '0')}`);
    if (i < 1000) fs.mkdirSync(sub, { recursive: true });
    const size = 50 + ((i * 7919) % 451);
    fs.writeFileSync(path.join(sub, `f${i}.txt`), `${i} ${text}`.slice(0, size));
  }
  fs.writeFileSync(stamp, '');
}

/** 10,000 sparse files of 1 MiB (10 GiB that take no disk): what `id` must not read a second time. */
function ensureSparseTree(dir) {
  const stamp = `${dir}.complete`;
  if (fs.existsSync(stamp)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < 10_000; i++) {
    const sub = path.join(dir, `d${String(i % 100).padStart(2, '0')}`);
    if (i < 100) fs.mkdirSync(sub, { recursive: true });
    const fd = fs.openSync(path.join(sub, `part-${i}.bin`), 'w');
    fs.writeSync(fd, `${i}`);
    fs.ftruncateSync(fd, MiB);
    fs.closeSync(fd);
  }
  fs.writeFileSync(stamp, '');
}

function contractFor(dir, name) {
  const file = path.join(work, `${name}.contract.json`);
  fs.writeFileSync(file, JSON.stringify({ name, inputs: [{ name: 'data', path: dir }], transforms: [] }));
  return file;
}

/** Wall seconds, CPU seconds (user + system: what load from other work does not inflate) and peak RSS (MiB). */
function measure(command, args, env = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M %U %S', command, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    env: { ...process.env, ...env },
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  const [rssKiB, user, system] = result.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { seconds, cpu: user + system, rss: rssKiB / 1024, stdout: result.stdout };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Alternate ctxpack, the baseline build (if any) and the peer `runs` times (after one warm-up of each); medians
 * and peak RSS. `ours` takes the CLI to run.
 */
function pair(ours, peer) {
  const contenders = [() => ours(cli), baselineCli && (() => ours(baselineCli)), peer];
  for (const run of contenders) run?.();
  const results = contenders.map(() => []);
  for (let i = 0; i < runs; i++) contenders.forEach((run, at) => run && results[at].push(run()));
  const summary = (list) =>
    list.length ? { seconds: median(list.map((r) => r.seconds)), cpu: median(list.map((r) => r.cpu)), rss: Math.max(...list.map((r) => r.rss)) } : undefined;
  const [mine, baseline, other] = results.map(summary);
  return { ours: mine, baseline, peer: other };
}

function row(label, { ours, baseline, peer }, goal) {
  const ratio = (result) => (peer ? `  ratio ${(result.seconds / peer.seconds).toFixed(2)}` : '');
  const text = (name, result) => `${name} ${result.seconds.toFixed(3)} s (cpu ${result.cpu.toFixed(2)}) ${result.rss.toFixed(0).padStart(3)} MiB${ratio(result)}`;
  const columns = [text('ctxpack', ours), baseline && text('baseline', baseline), peer && `peer ${peer.seconds.toFixed(3)} s (cpu ${peer.cpu.toFixed(2)}) ${peer.rss.toFixed(0)} MiB`];
  console.log(`${label.padEnd(46)} ${columns.filter(Boolean).join('  |  ')}  (goal ${goal})`);
  const figures = { ratio: peer && ours.seconds / peer.seconds, seconds: ours.seconds, rss: ours.rss };
  recordRow({ name: peer ? label : `${label} (s)`, ...(peer ? { ratio: figures.ratio } : { value: ours.seconds.toFixed(3) }), rss: ours.rss, goal, met: meets(goal, figures) });
}

fs.mkdirSync(work, { recursive: true });
const large = path.join(work, 'large');
const small = path.join(work, 'small');
const sparse = path.join(work, 'sparse');
if (wanted('large')) ensureLargeTree(large);
if (wanted('small')) ensureSmallTree(small);
if (wanted('again')) ensureSparseTree(sparse);
const peerScript = path.join(work, 'peer-hash.mjs');
fs.writeFileSync(peerScript, PEER_SCRIPT);
const home = path.join(work, 'home');
fs.rmSync(home, { recursive: true, force: true });
fs.rmSync(`${home}-baseline`, { recursive: true, force: true });
const env = { CTXPACK_HOME: home };
const noCache = { ...env, CTXPACK_NO_STAT_CACHE: '1' };
const node = process.execPath;

console.log(`ctxpack perf-id (${cli}${baselineCli ? `, baseline ${baselineCli}` : ''}): ${runs} runs per row, alternating, medians; ${os.cpus().length} cores, node ${process.versions.node}`);
console.log(`load average at start ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}\n`);

if (wanted('large')) {
  const largeContract = contractFor(large, 'large');
  row('id, 1.15 GB in 10,001 files', pair(
    (bin) => measure(node, [bin, 'id', '--contract', largeContract], noCache),
    () => measure(node, [peerScript, large]),
  ), '<= 1.1');
}

if (wanted('small')) {
  const smallContract = contractFor(small, 'small');
  row('id, 100,000 files of 50-500 B', pair(
    (bin) => measure(node, [bin, 'id', '--contract', smallContract], noCache),
    () => measure('bash', ['-c', `cd "${small}" && find . -type f -print0 | xargs -0 sha256sum > /dev/null`]),
  ), '<= 1.0, < 128 MiB');
}

if (wanted('again')) {
  const sparseContract = contractFor(sparse, 'sparse');
  const first = measure(node, [cli, 'id', '--contract', sparseContract], env);
  if (baselineCli) measure(node, [baselineCli, 'id', '--contract', sparseContract], { CTXPACK_HOME: `${home}-baseline` });
  const again = pair((bin) => measure(node, [bin, 'id', '--contract', sparseContract], bin === cli ? env : { CTXPACK_HOME: `${home}-baseline` }));
  const uncached = measure(node, [cli, 'id', '--contract', sparseContract], noCache);
  if (first.stdout !== uncached.stdout) throw new Error('the stat cache changed the URI');
  row('id again, nothing changed, 10,000 files/10 GB', again, '< 0.3 s');
  console.log(`${''.padEnd(44)} (first run ${first.seconds.toFixed(2)} s; CTXPACK_NO_STAT_CACHE=1 ${uncached.seconds.toFixed(2)} s, same URI)`);
}

if (wanted('startup')) {
  const oneFile = path.join(work, 'one.txt');
  fs.writeFileSync(oneFile, 'one file\n');
  const oneContract = path.join(work, 'one.contract.json');
  fs.writeFileSync(oneContract, JSON.stringify({ name: 'one', inputs: [{ name: 'one', path: oneFile }], transforms: [] }));
  row('start-up: --version', pair((bin) => measure(node, [bin, '--version'], env), () => measure(node, ['-e', '0'])), '<= 1.3');
  row('start-up: id of one file', pair((bin) => measure(node, [bin, 'id', '--contract', oneContract], env), () => measure(node, ['-e', '0'])), '<= 1.3');
  const coreAlone = path.join(work, 'id-core-alone.mjs');
  fs.writeFileSync(coreAlone, ID_CORE_ALONE_SCRIPT);
  const packageOf = (bin) => path.dirname(path.dirname(bin));
  const alone = measure(node, [coreAlone, packageOf(cli), oneContract, oneFile]).stdout;
  if (alone !== measure(node, [cli, 'id', '--contract', oneContract], env).stdout) throw new Error(`id's core alone printed ${alone}, not the URI of ctxpack id`);
  row("start-up: id's core alone, no CLI", pair((bin) => measure(node, [coreAlone, packageOf(bin), oneContract, oneFile]), () => measure(node, ['-e', '0'])), '—');
}

console.log(`\nload average at end ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`);
console.log(`reproduce: node scripts/build.mjs && node bench/perf-id.mjs   (BENCH_RUNS=${runs}${only ? ` BENCH_ROWS=${only.join(',')}` : ''}; CTXPACK_BENCH_BASELINE=<package dir> adds a build to compare)`);
