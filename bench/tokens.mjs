// Token counts against exact o200k_base counts (issue 13), per set and class of real samples (bench/tokens-samples.mjs
// says how each set is made), for ctxpack's estimateTokens (the wasm core) and chars/4 beside it. estimateTokens is
// o200k_base's exact count (src/context/o200k/), so its columns read 0.0 %: any other figure there is a bug. Columns:
// samples, share under-counted by more than 10 %, mean absolute error, worst under-count, mean error (positive =
// over-count). Then the throughput of estimateTokens beside js-tiktoken's (o200k_base, the same texts, alternating
// passes, medians) and the one-time cost of reading the vocabulary (the first count in a fresh Node process).
//
// Reproduce: npm run bench:tokens   (or: node scripts/build.mjs && node bench/tokens.mjs [--refresh])
// The samples are cached in .bench/tokens/samples.v2.jsonl; --refresh remakes them from this machine's files.
// CTXPACK_CORE=<dir of another build's package> measures that build instead; --against <package dir> adds that
// build's estimateTokens to the throughput (A/B, alternating passes); --throughput prints the throughput and load
// cost only; --sets holdout,holdout5 prints only those sets.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSamples } from './tokens-samples.mjs';
import { table } from './table.mjs';
import { getEncoding } from 'js-tiktoken';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const coreDir = process.env.CTXPACK_CORE ?? path.join(root, 'build/package');
const core = await import(path.join(coreDir, 'lib/core-node.mjs'));
const againstArg = process.argv.indexOf('--against');
const against = againstArg > 0 ? path.resolve(process.argv[againstArg + 1]) : undefined;
const samples = loadSamples({ refresh: process.argv.includes('--refresh') });

const estimators = [
  ['ctxpack', (text) => core.estimateTokens(text)],
  ['chars/4', (text) => Math.ceil([...text].length / 4)],
];

const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
function summary(errors) {
  const n = errors.length;
  return {
    under: `${((errors.filter((e) => e < -0.1).length / n) * 100).toFixed(1)}%`,
    mae: `${((errors.reduce((a, e) => a + Math.abs(e), 0) / n) * 100).toFixed(1)}%`,
    worst: pct(Math.min(...errors)),
    mean: pct(errors.reduce((a, e) => a + e, 0) / n),
  };
}


const throughputOnly = process.argv.includes('--throughput');
const start = process.hrtime.bigint();
const errors = new Map(); // set → class → estimator → errors
for (const sample of throughputOnly ? [] : samples) {
  const bySet = errors.get(sample.set) ?? new Map();
  errors.set(sample.set, bySet);
  for (const cls of [sample.cls, '(all)']) {
    const byClass = bySet.get(cls) ?? Object.fromEntries(estimators.map(([name]) => [name, []]));
    bySet.set(cls, byClass);
    for (const [name, estimate] of estimators) byClass[name].push((estimate(sample.text) - sample.o200k) / sample.o200k);
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;

if (!throughputOnly) console.log(`# Token counts against o200k_base (js-tiktoken), ${samples.length} real samples\n`);
// The sets were the tuning material and hold-outs of the calibrated estimator this exact count replaced.
const DESCRIPTION = {
  tuning: 'tuning: family A, 60 % by path hash (man pages in 20+ languages, locale catalogues, Python stdlib, npm code and JSON, /etc, logs, base64/hex of /usr/bin)',
  holdout: 'holdout: the other 40 % of family A',
  holdout2: 'holdout2: family B (i18n locales, encodings, changelogs, Perl, SQL, other catalogues, shared libraries)',
  holdout3:
    'holdout3: family C (C headers, dist-packages, cargo crates, systemd, X11 data, zoneinfo, doc READMEs/NEWS/copyright, MIME and AppStream strings, other binaries)',
  holdout4:
    'holdout4: family D (pyenv test suite and site-packages, Rust HTML docs, Perl core, info pages, global npm, /usr/share/javascript, charmaps, polkit strings, toolchain libraries)',
  holdout5:
    'holdout5: family E (TypeScript diagnostics in 13 languages and lib.*.d.ts, vim runtime, /usr/share/doc and gtk-doc HTML, doc .txt/.md, licenses, bash-completion, Tcl, Maven POMs, JDK libraries)',
};
const setsArg = process.argv.indexOf('--sets');
const shownSets = setsArg > 0 ? process.argv[setsArg + 1].split(',') : ['tuning', 'holdout2', 'holdout3', 'holdout4', 'holdout', 'holdout5'];
for (const set of shownSets) {
  const bySet = errors.get(set);
  if (!bySet) continue;
  console.log(`## ${DESCRIPTION[set]}\n`);
  const classes = [...bySet.keys()].sort((a, b) => (a === '(all)' ? 1 : b === '(all)' ? -1 : a < b ? -1 : 1));
  const rows = classes.map((cls) => {
    const byClass = bySet.get(cls);
    const [mine, quarter] = estimators.map(([name]) => summary(byClass[name]));
    return [cls, byClass.ctxpack.length, mine.under, mine.mae, mine.worst, mine.mean, quarter.under, quarter.mae, quarter.worst];
  });
  table(['class', 'n', 'under >10%', 'MAE', 'worst', 'mean', 'chars/4 under >10%', 'chars/4 MAE', 'chars/4 worst'], rows);
  console.log('');
}
// Throughput: each counter over the first 10 MB of samples (UTF-8), passes alternating between them, the median.
const corpus = [];
let bytes = 0;
for (const sample of samples) {
  if (bytes >= 10 * 1024 * 1024) break;
  corpus.push(sample.text);
  bytes += Buffer.byteLength(sample.text);
}
const o200k = getEncoding('o200k_base');
const counters = [['ctxpack estimateTokens', (text) => core.estimateTokens(text)]];
if (against) {
  const base = await import(path.join(against, 'lib/core-node.mjs'));
  counters.push([`estimateTokens of ${against}`, (text) => base.estimateTokens(text)]);
}
counters.push(['js-tiktoken o200k_base', (text) => o200k.encode(text, [], []).length]);
for (const [, count] of counters) count('warm up');
const PASSES = 3;
const passes = counters.map(() => []);
for (let pass = 0; pass < PASSES; pass++) {
  for (let k = 0; k < counters.length; k++) {
    const i = (pass + k) % counters.length;
    const t0 = process.hrtime.bigint();
    for (const text of corpus) counters[i][1](text);
    passes[i].push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`Throughput over ${(bytes / 1e6).toFixed(1)} MB in ${corpus.length} texts (median of ${PASSES} alternating passes):\n`);
table(
  ['counter', 'MB/s'],
  counters.map(([name], i) => [name, (bytes / 1e6 / median(passes[i])).toFixed(1)]),
);
// The one-time cost: a fresh Node process times its first count (the vocabulary is read then) and a second one.
const probe = `const core = await import(${JSON.stringify(path.join(coreDir, 'lib/core-node.mjs'))});
const t0 = performance.now(); core.estimateTokens('warm'); const t1 = performance.now(); core.estimateTokens('warm');
console.log(JSON.stringify([t1 - t0, performance.now() - t1]));`;
const loads = Array.from({ length: 5 }, () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' })));
console.log(
  `\nFirst count in a fresh process (reads the vocabulary): ${median(loads.map((l) => l[0])).toFixed(1)} ms; the next: ${median(loads.map((l) => l[1])).toFixed(3)} ms (medians of 5 processes).`,
);
const [one, five, fifteen] = os.loadavg();
console.log(
  `Counted ${samples.length} samples twice in ${seconds.toFixed(2)} s (node ${process.version}); load average ${one.toFixed(2)} ${five.toFixed(2)} ${fifteen.toFixed(2)} on ${os.cpus().length} cores.`,
);
console.log('Reproduce: node scripts/build.mjs && node bench/tokens.mjs [--against /tmp/base-pkg]  (npm run bench:tokens)');
