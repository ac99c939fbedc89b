// ctxpack trace bench (issue 4): pack 1,000 agent execution logs of 200 steps each into one fresh pantry,
// sequentially in one process with the JS API (tracePack), and report the store size against the sum of the
// logs' sizes (the deduplication ratio) and the packs per second.
//
// The logs are generated deterministically (seeded PRNG, so every run packs the same bytes) under
// .bench/trace/logs/ and kept between runs. They duplicate heavily, the way a fleet of agents on one
// codebase does: one shared system prompt, and steps sampled (Zipf-like, popular ones often) from a pool of
// realistic outputs (source files read, test runs, JSON API bodies, 1–20 KB); each log also has unique bits
// (a task id, its own LLM answers, a test run with its own timings).
//
// Then the batch forms: tracePackAll (BENCH_TRACE_BATCH logs a call, default 100) and `ctxpack trace pack
// <folder>` (one process for all the logs), each into a fresh pantry.
//
// Reproduce: npm run bench:trace   (or: node scripts/build.mjs && node bench/trace.mjs)
// BENCH_TRACE_LOGS / BENCH_TRACE_STEPS change the counts (default 1000 / 200).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOf } from './cli-bin.mjs';
import { prng } from './prng.mjs';
import { meets, recordRow } from './summary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, '.bench', 'trace');
// CTXPACK_BENCH_PACKAGE: another build of the package to measure (one without tracePackAll gets the sequential row only).
const packageDir = path.resolve(process.env.CTXPACK_BENCH_PACKAGE ?? path.join(root, 'build/package'));
const api = await import(path.join(packageDir, 'lib/index.mjs'));

const LOGS = Number(process.env.BENCH_TRACE_LOGS ?? 1000);
const STEPS = Number(process.env.BENCH_TRACE_STEPS ?? 200);
const POOL_SIZE = 400;
const UNIQUE_OUTPUTS_PER_LOG = 4;
const SEED = 4;
const BATCH = Number(process.env.BENCH_TRACE_BATCH ?? 100);
const MiB = 1024 * 1024;


const WORDS = ('account amount balance batch buffer cache client config cursor customer invoice ledger limit '
  + 'metric order parser payload queue record refund region report request retry schema session shard '
  + 'snapshot stream tenant token total user vendor window worker').split(' ');

/** A source file of about `bytes`: functions with docstrings and bodies, like a module an agent reads. */
function sourceFile(rand, bytes) {
  const lines = ['"""Helpers for the ' + rand.pick(WORDS) + ' service."""', 'from __future__ import annotations', ''];
  let size = 0;
  while (size < bytes) {
    const name = `${rand.pick(WORDS)}_${rand.pick(WORDS)}`;
    const args = [rand.pick(WORDS), rand.pick(WORDS)];
    const block = [
      '', `def ${name}(${args.join(', ')}: int) -> int:`,
      `    """Return the ${rand.pick(WORDS)} of ${args[0]} for the ${rand.pick(WORDS)}."""`,
      `    if ${args[0]} <= ${rand.int(100)}:`, `        raise ValueError("${args[0]} must be positive")`,
      `    ${rand.pick(WORDS)} = ${args[0]} * ${rand.int(1000)} // max(${args[1]}, 1)`,
      `    return ${rand.pick(WORDS)} + ${rand.int(50)}`,
    ];
    lines.push(...block);
    size += block.join('\n').length;
  }
  return lines.join('\n') + '\n';
}

/** A pytest run of about `bytes`, with a summary line and timings. */
function testOutput(rand, bytes) {
  const lines = ['============================= test session starts ==============================',
    'platform linux -- Python 3.12.4, pytest-8.3.2, pluggy-1.5.0', 'rootdir: /workspace/app', ''];
  let size = 0;
  let passed = 0;
  while (size < bytes) {
    const line = `tests/test_${rand.pick(WORDS)}.py::test_${rand.pick(WORDS)}_${rand.pick(WORDS)} PASSED [${String(rand.int(100)).padStart(3)}%]`;
    lines.push(line);
    size += line.length + 1;
    passed += 1;
  }
  lines.push(`============================== ${passed} passed in ${(rand.next() * 9 + 0.5).toFixed(2)}s ==============================`);
  return lines.join('\n') + '\n';
}

/** An HTTP JSON body of about `bytes`: a page of records. */
function apiBody(rand, bytes) {
  const data = [];
  let size = 0;
  while (size < bytes) {
    const record = {
      id: `${rand.pick(WORDS)}_${rand.hex(12)}`, status: rand.pick(['active', 'pending', 'closed']),
      amount_cents: rand.int(10_000_000), currency: rand.pick(['EUR', 'USD', 'GBP']),
      region: rand.pick(['eu-west', 'eu-central', 'us-east']), updated: `2024-11-${String(1 + rand.int(28)).padStart(2, '0')}T${String(rand.int(24)).padStart(2, '0')}:00:00Z`,
      tags: [rand.pick(WORDS), rand.pick(WORDS)],
    };
    data.push(record);
    size += JSON.stringify(record, null, 2).length;
  }
  return `HTTP/1.1 200 OK\ncontent-type: application/json\n\n${JSON.stringify({ data, next_cursor: rand.hex(16) }, null, 2)}\n`;
}

/** Sizes spread log-uniformly over 1–20 KB: many small outputs, some large ones. */
const outputBytes = (rand) => Math.round(1024 * Math.exp(rand.next() * Math.log(20)));

/** The shared pool: each entry one tool call with its parameters and the output it always gives. */
function makePool(rand) {
  return Array.from({ length: POOL_SIZE }, (_, i) => {
    const kind = i % 3;
    if (kind === 0) {
      const file = `app/${rand.pick(WORDS)}/${rand.pick(WORDS)}_${i}.py`;
      return { type: 'tool_call', tool: 'read_file', parameters: { path: file }, output: sourceFile(rand, outputBytes(rand)), deterministic: true };
    }
    if (kind === 1) {
      const target = `tests/test_${rand.pick(WORDS)}_${i}.py`;
      return { type: 'tool_call', tool: 'run_tests', parameters: { command: `pytest -q ${target}` }, output: testOutput(rand, outputBytes(rand)), deterministic: false };
    }
    const url = `https://api.internal.example/v2/${rand.pick(WORDS)}s?page=${i}`;
    return { type: 'tool_call', tool: 'http_get', parameters: { url, timeout_s: 10 }, output: apiBody(rand, outputBytes(rand)), deterministic: false };
  });
}

/** Zipf-like pick: index ~ pool * u^3 makes the first entries by far the most used. */
const popular = (rand, pool) => pool[Math.floor(pool.length * rand.next() ** 3)];

function makeLog(rand, pool, systemPrompt, n) {
  const taskId = `task-${String(n).padStart(4, '0')}-${rand.hex(8)}`;
  const model = rand.pick(['claude-sonnet-4-5', 'gpt-4o-2024-08-06']);
  const start = Date.UTC(2024, 10, 1) + n * 3_600_000;
  const uniqueAt = new Set(Array.from({ length: UNIQUE_OUTPUTS_PER_LOG }, () => rand.int(STEPS)));
  const steps = Array.from({ length: STEPS }, (_, index) => {
    const step = uniqueAt.has(index)
      ? { type: 'llm_call', tool: model, parameters: { purpose: 'reason', task: taskId },
          output: `[${taskId}] step ${index}: ${testOutput(rand, 512 + rand.int(2048))}`, deterministic: false }
      : popular(rand, pool);
    return { index, ...step, timestamp: new Date(start + index * 1500 + rand.int(1000)).toISOString() };
  });
  return {
    model: { identifier: model, parameters: { temperature: 0 } },
    system_prompt: systemPrompt,
    prompts: [{ role: 'user', content: `${taskId}: make the failing tests in app/ pass without changing the tests.` }],
    inputs: [{ name: 'task', content: taskId }],
    steps,
    outputs: [{ name: 'summary', content: `Finished ${taskId} in ${STEPS} steps.` }],
    environment: { os: 'linux', runtime: 'python 3.12.4', tool_versions: { pytest: '8.3.2' } },
  };
}

/** Generate the logs once; the stamp names the parameters, so other counts regenerate. */
function ensureLogs(dir) {
  const stamp = path.join(dir, `.complete-${SEED}-${LOGS}x${STEPS}-${POOL_SIZE}`);
  if (fs.existsSync(stamp)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const rand = prng(SEED);
  const systemPrompt = `You are a coding agent working in /workspace/app. ${sourceFile(rand, 4096)}`;
  const pool = makePool(rand);
  for (let n = 0; n < LOGS; n++) {
    fs.writeFileSync(path.join(dir, `log-${String(n).padStart(4, '0')}.json`), JSON.stringify(makeLog(rand, pool, systemPrompt, n)));
  }
  fs.writeFileSync(stamp, '');
}

function bytesUnder(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** Bytes of the execution manifests (the OCI configs) of every pack in the pantry. */
function executionManifestBytes(home) {
  const index = JSON.parse(fs.readFileSync(path.join(home, 'index.json'), 'utf8'));
  return index.manifests.reduce((sum, entry) => {
    const blob = path.join(home, 'blobs', ...entry.digest.split(':'));
    return sum + JSON.parse(fs.readFileSync(blob, 'utf8')).config.size;
  }, 0);
}

async function main() {
  const logsDir = path.join(work, 'logs');
  const home = path.join(work, 'home');
  const generateStart = performance.now();
  ensureLogs(logsDir);
  const logs = fs.readdirSync(logsDir).filter((name) => name.endsWith('.json')).sort().map((name) => path.join(logsDir, name));
  const logBytes = logs.reduce((sum, file) => sum + fs.statSync(file).size, 0);
  console.log(`logs ready in ${((performance.now() - generateStart) / 1000).toFixed(1)} s (${logsDir})`);

  fs.rmSync(home, { recursive: true, force: true });
  let steps = 0;
  let newBlobs = 0;
  let contentBytes = 0;
  const start = performance.now();
  for (const log of logs) {
    const result = await api.tracePack(log, { home, created: '2024-12-01T00:00:00Z' });
    steps += typeof result.steps === 'number' ? result.steps : result.steps.length;
    newBlobs += result.blobs.stored;
    contentBytes += result.bytes.stored;
  }
  const seconds = (performance.now() - start) / 1000;
  // The whole store: content blobs, execution manifests (OCI configs), OCI manifests and index.json.
  const storeBytes = bytesUnder(path.join(home, 'blobs')) + fs.statSync(path.join(home, 'index.json')).size;
  const manifestBytes = executionManifestBytes(home);

  console.log(`\ntrace pack: ${logs.length} logs, ${steps} steps, sequential tracePack into one fresh pantry`);
  console.log(`  sum of log sizes      ${(logBytes / MiB).toFixed(1)} MiB`);
  console.log(`  store size            ${(storeBytes / MiB).toFixed(1)} MiB`);
  console.log(`    content blobs       ${(contentBytes / MiB).toFixed(1)} MiB  (${newBlobs} distinct)`);
  console.log(`    execution manifests ${(manifestBytes / MiB).toFixed(1)} MiB  (${(manifestBytes / logs.length / 1024).toFixed(1)} KiB a log: one entry per step)`);
  console.log(`    OCI manifests, index ${((storeBytes - contentBytes - manifestBytes) / MiB).toFixed(1)} MiB`);
  console.log(`  deduplication ratio   ${(logBytes / storeBytes).toFixed(1)}x  (sum of log sizes / store size)`);
  console.log(`  packs per second      ${(logs.length / seconds).toFixed(1)}  (${seconds.toFixed(2)} s, ${(logBytes / MiB / seconds).toFixed(0)} MiB/s of logs)`);

  // The batch forms: tracePackAll (BATCH logs a call) and the CLI given the folder, each into a fresh pantry.
  if (!api.tracePackAll) return;
  const batchHome = path.join(work, 'home-batch');
  fs.rmSync(batchHome, { recursive: true, force: true });
  const batchStart = performance.now();
  for (let first = 0; first < logs.length; first += BATCH) {
    await api.tracePackAll(logs.slice(first, first + BATCH), { home: batchHome, created: '2024-12-01T00:00:00Z' });
  }
  const batchSeconds = (performance.now() - batchStart) / 1000;
  const cliHome = path.join(work, 'home-cli');
  fs.rmSync(cliHome, { recursive: true, force: true });
  const cliStart = performance.now();
  const cli = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cliOf(packageDir), 'trace', 'pack', logsDir, '--home', cliHome, '--created', '2024-12-01T00:00:00Z'], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const cliSeconds = (performance.now() - cliStart) / 1000;
  if (cli.status !== 0) throw new Error(`ctxpack trace pack ${logsDir} failed: ${cli.stderr}`);
  const cliRss = Number(cli.stderr.trim().split('\n').at(-1)) / 1024;
  const same = fs.readFileSync(path.join(batchHome, 'index.json'), 'utf8') === fs.readFileSync(path.join(home, 'index.json'), 'utf8');
  console.log(`  batch API             ${(logs.length / batchSeconds).toFixed(1)} packs/s  (tracePackAll, ${BATCH} logs a call, ${batchSeconds.toFixed(2)} s; index.json ${same ? 'identical' : 'DIFFERS'})`);
  console.log(`  batch CLI             ${(logs.length / cliSeconds).toFixed(1)} packs/s  (ctxpack trace pack <folder>, one process, ${cliSeconds.toFixed(2)} s, peak RSS ${cliRss.toFixed(0)} MiB)`);
  const goal = '>= 100 packs/s';
  for (const [name, rate, rss] of [[`trace pack, tracePackAll (${BATCH} logs a call)`, logs.length / batchSeconds], ['trace pack <folder> (one CLI process)', logs.length / cliSeconds, cliRss]]) {
    recordRow({ name: `${name}, ${logs.length} logs of ${STEPS} steps`, value: `${rate.toFixed(1)} packs/s`, rss, goal, met: meets(goal, { rate, rss }) });
  }
  console.log(`  load average          ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  console.log(`\nreproduce: npm run bench:trace   (or: node scripts/build.mjs && node bench/trace.mjs)`);
}

await main();
