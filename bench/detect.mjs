// Secret detection, ctxpack against Yelp's detect-secrets (issue 13), on every labelled set:
//   labelled    tests/fixtures/context/labelled (bench/context-corpus.mjs; the rules were written beside it)
//   holdout     tests/fixtures/context/holdout (bench/context-holdout.mjs; tuned on since, so no longer unseen)
//   tuning, holdout-a, holdout-b   real files of this machine with planted secrets (bench/context-holdout-real.mjs):
//               only `tuning` was looked at while tuning the detectors;
//   clean-tuning, clean-holdout    real files with nothing planted: every detection is a false positive.
// Credentials only: PII labels (e-mail, cards, IBANs) and ctxpack's PII findings are left out, since detect-secrets
// has no PII detectors. ctxpack: a finding is true when its span overlaps a labelled secret's; a label is found
// when a finding overlaps it. detect-secrets reports lines, so for it a finding is true when its line holds a
// labelled secret, and a label is found when a finding is on one of its lines. MB/s: ctxpack's detectSecrets in
// this process (wasm, warm); detect-secrets' `scan --all-files` wall time, Python's start-up included.
// detect-secrets 1.5.0 is installed from PyPI into .bench/venv on first use.
//
// Reproduce: node scripts/build.mjs && node bench/detect.mjs [--sets a,b] [--misses]   (--misses lists every
// miss and false positive of the tuning sets by file and line; hold-out misses are only counted by kind)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REAL_DIR, REAL_SETS, writeRealSet } from './context-holdout-real.mjs';
import { table } from './table.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const core = await import(path.join(root, 'build/package/lib/core-node.mjs'));
const argAt = process.argv.indexOf('--sets');
const only = argAt > 0 ? process.argv[argAt + 1].split(',') : null;
const listMisses = process.argv.includes('--misses');
const MB = 1e6;
const PII = new Set(['email', 'card', 'iban', 'email-address', 'payment-card-number', 'ipv4-address']);

const sets = [
  { name: 'labelled', dir: path.join(root, 'tests/fixtures/context/labelled'), kindOf: (l) => l.ruleId },
  { name: 'holdout', dir: path.join(root, 'tests/fixtures/context/holdout'), kindOf: (l) => l.kind },
  ...REAL_SETS.map((s) => ({ name: s.name, dir: path.join(REAL_DIR, s.name), kindOf: (l) => l.kind, real: true })),
].filter((s) => !only || only.includes(s.name));

function venv() {
  const bin = path.join(root, '.bench/venv/bin/detect-secrets');
  if (!fs.existsSync(bin)) {
    execFileSync('python3', ['-m', 'venv', path.join(root, '.bench/venv')], { stdio: 'inherit' });
    execFileSync(path.join(root, '.bench/venv/bin/pip'), ['install', '-q', 'detect-secrets==1.5.0'], { stdio: 'inherit' });
  }
  return bin;
}

const fixed = (x) => (Number.isFinite(x) ? x.toFixed(3) : '—');

const lineOf = (text, offset) => text.slice(0, offset).split('\n').length;

const detectSecrets = venv();
core.detectSecrets('warm-up ghp_x password=x');
const summary = [];
const missesByKind = [];
for (const set of sets) {
  if (set.real && !fs.existsSync(path.join(set.dir, 'labels.json'))) writeRealSet(set.name);
  const labelled = JSON.parse(fs.readFileSync(path.join(set.dir, 'labels.json'), 'utf8')).files;
  const files = Object.keys(labelled).sort();
  const texts = new Map(files.map((f) => [f, fs.readFileSync(path.join(set.dir, 'files', f), 'utf8')]));
  const bytes = [...texts.values()].reduce((n, t) => n + Buffer.byteLength(t), 0);
  const labels = new Map(
    files.map((f) => {
      const text = texts.get(f);
      const list = labelled[f]
        .filter((l) => !PII.has(set.kindOf(l)))
        .map((l) => ({ kind: set.kindOf(l), start: l.start, end: l.end, line: lineOf(text, l.start), endLine: lineOf(text, l.end) }));
      return [f, list];
    }),
  );
  const total = [...labels.values()].reduce((n, l) => n + l.length, 0);

  // ctxpack
  let start = process.hrtime.bigint();
  const found = new Map(files.map((f) => [f, core.detectSecrets(texts.get(f)).filter((x) => x.kind === 'credential')]));
  const ctxSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  // detect-secrets
  start = process.hrtime.bigint();
  const report = JSON.parse(execFileSync(detectSecrets, ['scan', '--all-files', '.'], { cwd: path.join(set.dir, 'files'), encoding: 'utf8', maxBuffer: 1 << 28 }));
  const dsSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  const dsFound = new Map(files.map((f) => [f, (report.results[f] ?? []).map((r) => r.line_number)]));

  const tally = { ctx: { found: 0, detections: 0, true: 0 }, ds: { found: 0, detections: 0, true: 0 } };
  const kinds = new Map();
  const missed = [];
  for (const f of files) {
    const ls = labels.get(f);
    const overlaps = (a, b) => a.start < b.end && b.start < a.end;
    for (const l of ls) {
      if (!kinds.has(l.kind)) kinds.set(l.kind, { labels: 0, ctx: 0, ds: 0 });
      const k = kinds.get(l.kind);
      k.labels++;
      const byCtx = found.get(f).some((x) => overlaps(x, l));
      const byDs = dsFound.get(f).some((line) => line >= l.line && line <= l.endLine);
      if (byCtx) (tally.ctx.found++, k.ctx++);
      else missed.push(`${f}:${l.line} ${l.kind}`);
      if (byDs) (tally.ds.found++, k.ds++);
    }
    for (const x of found.get(f)) {
      tally.ctx.detections++;
      if (ls.some((l) => overlaps(x, l))) tally.ctx.true++;
      else if (listMisses && set.name === 'tuning') missed.push(`${f}:${lineOf(texts.get(f), x.start)} FALSE POSITIVE ${x.ruleId}`);
    }
    for (const line of dsFound.get(f)) {
      tally.ds.detections++;
      if (ls.some((l) => line >= l.line && line <= l.endLine)) tally.ds.true++;
    }
  }
  for (const [tool, t, seconds] of [['ctxpack', tally.ctx, ctxSeconds], ['detect-secrets', tally.ds, dsSeconds]]) {
    summary.push([set.name, `${files.length} files, ${(bytes / 1024).toFixed(0)} KiB, ${total} secrets`, tool, fixed(t.found / total), fixed(t.true / t.detections), `${t.true}/${t.detections}`, (bytes / MB / seconds).toFixed(2)]);
    if (listMisses && set.name === 'clean-tuning' && tool === 'ctxpack')
      for (const f of files) for (const x of found.get(f)) console.log(`clean-tuning ${f}:${lineOf(texts.get(f), x.start)} FALSE POSITIVE ${x.ruleId} ${JSON.stringify(texts.get(f).slice(Math.max(0, x.start - 40), x.end + 10))}`);
  }
  missesByKind.push({ set: set.name, kinds });
  if (listMisses && set.name === 'tuning') console.log(`tuning misses and false positives:\n  ${missed.join('\n  ')}\n`);
}

console.log(`## Secret detection: ctxpack vs detect-secrets 1.5.0 (credentials only; node ${process.version}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})\n`);
table(['set', 'size', 'tool', 'recall', 'precision', 'true/detections', 'MB/s'], summary);
for (const { set, kinds } of missesByKind) {
  const rows = [...kinds.entries()]
    .filter(([, k]) => k.ctx < k.labels || k.ds < k.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, k]) => [kind, k.labels, k.labels - k.ctx, k.labels - k.ds]);
  console.log(`\n### ${set}: misses by kind\n`);
  if (rows.length) table(['kind', 'labelled', 'ctxpack missed', 'detect-secrets missed'], rows);
  else console.log('none');
}
console.log('\nReproduce: node scripts/build.mjs && node bench/detect.mjs');
