// `npm run bench`: every row of the performance table (issue 14), each against its peer in the same run
// (alternating, medians of at least 3), then one table of all of them with the load average beside each row.
// The benches it runs print their own detailed reports first:
//   bench/perf-id.mjs   id (large, 100,000 small files, again), start-up         vs a node:crypto script, sha256sum, node -e 0
//   bench/perf.mjs      seed, unpack, verify, pull, push                           vs tar/pigz, pigz | sha256sum, skopeo
//   bench/trace.mjs     trace pack through the API and the batch CLI               (packs/s)
//   bench/context.mjs   context redact through the CLI (--cli: section (e))        vs the detection core in-process
//
// Reproduce: npm run bench   (or: node scripts/build.mjs && node bench/all.mjs [perf-id perf trace context])
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from './table.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCHES = {
  'perf-id': ['bench/perf-id.mjs'],
  perf: ['bench/perf.mjs'],
  trace: ['bench/trace.mjs'],
  context: ['bench/context.mjs', '--cli'],
};
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(BENCHES);
const unknown = chosen.filter((name) => !BENCHES[name]);
if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);

const summary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-bench-')), 'rows.jsonl');
fs.writeFileSync(summary, '');
const started = os.loadavg().map((load) => load.toFixed(2)).join(' ');
for (const name of chosen) {
  console.log(`\n=== ${name}: node ${BENCHES[name].join(' ')}\n`);
  const run = spawnSync(process.execPath, BENCHES[name], { cwd: root, stdio: 'inherit', env: { ...process.env, BENCH_SUMMARY: summary } });
  if (run.status !== 0) throw new Error(`${BENCHES[name][0]} failed (exit ${run.status})`);
}

const rows = fs.readFileSync(summary, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
console.log(`\n=== the performance table: ${os.cpus().length} cores, node ${process.versions.node}; ratio = ctxpack / peer`);
console.log(`    load average (1 min) at start ${started}, beside each row at its end\n`);
table(['row (peer)', 'ratio or figure', 'peak RSS', 'goal', 'met', 'load'], rows.map((row) => [
  row.name,
  row.ratio === undefined ? row.value : row.ratio.toFixed(2),
  row.rss === undefined ? '' : `${row.rss.toFixed(0)} MiB`,
  row.goal,
  !/[<>]/.test(row.goal) ? '—' : row.met ? 'yes' : 'NO',
  row.load,
]));
const goals = rows.filter((row) => /[<>]/.test(row.goal));
const missed = goals.filter((row) => !row.met);
console.log(`\n${goals.length - missed.length} of ${goals.length} rows with a goal meet it${missed.length ? `; not met: ${missed.map((row) => row.name).join('; ')}` : ''}`);
console.log('reproduce: npm run bench   (or: node scripts/build.mjs && node bench/all.mjs)');
