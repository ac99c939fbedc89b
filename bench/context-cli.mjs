// Section (e) of bench/context.mjs: `ctxpack context redact` through the CLI on a 50 MB packet (YAML, items of
// 256 KiB snippets cut from the bench corpus), written to a file, against its peer: the detection core redacting
// the same snippet texts in this process (`redactText`, warm), which has no parsing, writing or start-up to pay.
// Beside it the same command with `--json`, which still takes the packet through JS objects, and, with
// `--base <package dir>`, the same command of another build (A/B). Runs alternate (peer, base, cli, cli --json,
// then reversed), BENCH_RUNS (default 3) each; medians; peak RSS from /usr/bin/time -v; the load average beside.
// Reproduce: node scripts/build.mjs && node bench/context.mjs --cli [--base /tmp/base-pkg]
// (BENCH_PACKET_MB changes the size)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOf } from './cli-bin.mjs';
import { CORPUS_DIR, writeCorpus } from './context-corpus.mjs';
import { meets, recordRow } from './summary.mjs';
import { table } from './table.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, '.bench', 'context', 'cli');
const MB = 1e6;
/** Snippets hold at most 5,000 characters (the schema); slices of about 4,000 cut at a line end. */
const SNIPPET = 4000;

/** The packet's snippets: consecutive slices of the corpus. */
function snippets(megabytes) {
  writeCorpus();
  const out = [];
  let bytes = 0;
  for (const file of fs.readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.txt')).sort()) {
    const text = fs.readFileSync(path.join(CORPUS_DIR, file), 'utf8');
    for (let at = 0; at < text.length && bytes < megabytes * MB; ) {
      const end = text.indexOf('\n', at + SNIPPET);
      const piece = text.slice(at, end < 0 || end >= at + 4900 ? at + 4900 : end + 1);
      out.push(piece);
      bytes += Buffer.byteLength(piece);
      at += piece.length;
    }
    if (bytes >= megabytes * MB) break;
  }
  return out;
}

function writePacket(file, core, texts) {
  const packet = {
    header: { packet_id: '7f9c2a1e-0000-4000-8000-000000000050', task_id: 'BENCH-50MB', task_type: 'code.generate', created_at: '2026-11-23T12:00:00Z', builder_version: 'bench', privacy: 'local_only' },
    problem: { summary: 'Redact a large packet' },
    scope: { roots: ['.'] },
    constraints: { max_tokens: 200000, max_items: texts.length },
    context: texts.map((snippet, i) => ({ name: `part-${i}`, item_type: 'snippet', source: 'filesystem', path: `corpus/part-${i}.txt`, snippet })),
    policy: { remote_allowed: false, redactions_applied: [] },
    provenance: { inputs: {}, packet_hash: '' },
  };
  fs.writeFileSync(file, core.contextToYaml(packet));
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const baseAt = process.argv.indexOf('--base');
const basePackage = baseAt < 0 ? undefined : path.resolve(process.argv[baseAt + 1]);

function timeCli(args, cwd, packageDir = path.join(root, 'build/package')) {
  const start = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-v', process.execPath, cliOf(packageDir), ...args], { cwd, encoding: 'utf8', maxBuffer: 256 * MB });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`ctxpack ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return { seconds, rss: Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)[1]) / 1024 };
}

export async function cliRedactRows(core) {
  const megabytes = Number(process.env.BENCH_PACKET_MB ?? 50);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  fs.mkdirSync(work, { recursive: true });
  const texts = snippets(megabytes);
  const packet = path.join(work, `packet-${megabytes}mb.yaml`);
  if (!fs.existsSync(packet)) writePacket(packet, core, texts);
  const bytes = fs.statSync(packet).size;
  const home = path.join(work, 'home');
  const common = ['context', 'redact', packet, '--home', home, '--force', '--max-document-bytes', String(bytes)];
  const sides = {
    peer: () => {
      core.redactText('warm-up ghp_x');
      const start = process.hrtime.bigint();
      for (const text of texts) core.redactText(text);
      return { seconds: Number(process.hrtime.bigint() - start) / 1e9 };
    },
    cli: () => timeCli([...common, '-o', path.join(work, 'out.yaml')], work),
    json: () => timeCli([...common, '--json'], work),
    base: () => timeCli([...common, '-o', path.join(work, 'out-base.yaml')], work, basePackage),
  };
  const results = { peer: [], base: [], cli: [], json: [] };
  const load = [];
  const forward = basePackage ? ['peer', 'base', 'cli', 'json'] : ['peer', 'cli', 'json'];
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? forward : [...forward].reverse();
    for (const side of order) {
      results[side].push(sides[side]());
      load.push(os.loadavg()[0]);
    }
  }
  if (basePackage && fs.readFileSync(path.join(work, 'out.yaml'), 'utf8') !== fs.readFileSync(path.join(work, 'out-base.yaml'), 'utf8')) {
    throw new Error('the two builds wrote different packets');
  }
  const snippetBytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const row = (name, what, list, size) => {
    const seconds = median(list.map((r) => r.seconds));
    const rss = list[0].rss === undefined ? '— (in this process)' : `${Math.max(...list.map((r) => r.rss)).toFixed(0)} MiB`;
    return [name, what, `${seconds.toFixed(2)} s`, `${(size / MB / seconds).toFixed(1)} MB/s`, rss];
  };
  const cliSeconds = median(results.cli.map((r) => r.seconds));
  const cliRss = Math.max(...results.cli.map((r) => r.rss));
  const rate = bytes / MB / cliSeconds;
  const goal = '>= 40 MB/s';
  recordRow({ name: `context redact, ${(bytes / MB).toFixed(0)} MB packet via the CLI (redactText in-process)`, value: `${rate.toFixed(1)} MB/s`, rss: cliRss, goal, met: meets(goal, { rate, rss: cliRss }) });
  table(
    ['side', 'input', `median of ${runs}`, 'throughput', 'peak RSS'],
    [
      row('`ctxpack context redact <packet> -o out.yaml`', `${(bytes / MB).toFixed(1)} MB YAML packet, ${texts.length} items`, results.cli, bytes),
      row('`ctxpack context redact <packet> --json` (packet as JS objects)', `same packet`, results.json, bytes),
      ...(basePackage ? [row(`base: \`context redact <packet> -o out.yaml\` of ${basePackage}`, 'same packet', results.base, bytes)] : []),
      row('peer: the detection core in-process (`redactText` on each snippet)', `${(snippetBytes / MB).toFixed(1)} MB of the same snippets`, results.peer, snippetBytes),
    ],
  );
  console.log(`load average (1 min) during the runs: ${Math.min(...load).toFixed(2)}–${Math.max(...load).toFixed(2)}`);
}
