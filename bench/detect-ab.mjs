// Redaction throughput of two builds of the core on the same bench corpus, interleaved so that both see the same
// machine load (on a shared machine absolute MB/s mean little; the ratio holds). The corpus is bench/context.mjs's
// (.bench/context/corpus, written on its first run).
//
// Reproduce: node bench/detect-ab.mjs <other checkout>/build/package [files=20]
//   e.g. node bench/detect-ab.mjs /work/main/build/package 20
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORPUS_DIR, writeCorpus } from './context-corpus.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [other, count = '20'] = process.argv.slice(2);
if (!other) throw new Error('usage: node bench/detect-ab.mjs <other build/package> [files]');
if (!fs.existsSync(CORPUS_DIR)) writeCorpus();
const files = fs.readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.txt')).sort().slice(0, Number(count));
const texts = files.map((f) => fs.readFileSync(path.join(CORPUS_DIR, f), 'utf8'));
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
const cores = {
  [path.resolve(other)]: await import(path.resolve(other, 'lib/core-node.mjs')),
  'this checkout': await import(path.join(root, 'build/package/lib/core-node.mjs')),
};
for (const core of Object.values(cores)) core.detectSecrets(texts[0]);
const rates = {};
for (let round = 0; round < 2; round++)
  for (const [name, core] of Object.entries(cores))
    for (const op of ['detectSecrets', 'redactText']) {
      const start = process.hrtime.bigint();
      for (const text of texts) core[op](text);
      (rates[`${op} ${name}`] ??= []).push(bytes / 1e6 / (Number(process.hrtime.bigint() - start) / 1e9));
    }
console.log(`${(bytes / 1e6).toFixed(1)} MB in ${files.length} files; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const [key, list] of Object.entries(rates)) console.log(`${key}: ${list.map((x) => x.toFixed(1)).join(' / ')} MB/s`);
