// ctxpack context bench (issue 5): the text half of context packets through the wasm core (ctxpack/core).
//   (a) redaction throughput: redactText and detectSecrets MB/s on a ~100 MB mixed corpus (code, configs, logs,
//       JSON, prose, CJK, base64 blobs, with a sprinkle of planted secrets), scanned in 1 MiB files;
//   (b) detector recall and precision, per rule and overall, on the labelled set in
//       tests/fixtures/context/labelled/ (a detection is true when it overlaps a labelled secret of the same rule;
//       the "any" columns accept a labelled secret of any rule);
//   (e) `ctxpack context redact` on a 50 MB packet through the CLI (bench/context-cli.mjs), beside the detection
//       core redacting the same texts in-process;
//   (c) estimateTokens' mean and worst error per content class against exact o200k_base and cl100k_base counts
//       (js-tiktoken), with chars/4 beside it: 0 against o200k_base, which it counts exactly; cl100k_base models need
//       their own tokenizer. Positive error = over-count (the safe side for a budget).
//
// The corpus is generated deterministically by bench/context-corpus.mjs under .bench/context/ and kept between
// runs; the labelled set is committed (regenerate it with `node bench/context-corpus.mjs`).
//
// Reproduce: npm run bench:context   (or: node scripts/build.mjs && node bench/context.mjs)
// BENCH_CONTEXT_MB changes the corpus size (default 100); --quick skips (a) and (e); --cli runs (e) alone
// (node scripts/build.mjs && node bench/context.mjs --cli).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getEncoding } from 'js-tiktoken';
import { CORPUS_DIR, LABELLED_DIR, writeCorpus } from './context-corpus.mjs';
import { prng } from './prng.mjs';
import { table } from './table.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const core = await import(path.join(root, 'build/package/lib/core-node.mjs'));
const quick = process.argv.includes('--quick');
const cliOnly = process.argv.includes('--cli');
const MB = 1e6;

const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const fixed = (x, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

// ---------------------------------------------------------------- (a) throughput
if (!quick && !cliOnly) {
  console.log(`## (a) Redaction throughput (wasm, ${process.version}, one thread)\n`);
  writeCorpus();
  const files = fs.readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.txt')).sort();
  const texts = files.map((f) => fs.readFileSync(path.join(CORPUS_DIR, f), 'utf8'));
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  core.redactText('warm-up ghp_x'); // compiles the built-in rules once
  const measure = (fn) => {
    const start = process.hrtime.bigint();
    let found = 0;
    for (const text of texts) found += fn(text);
    return { seconds: Number(process.hrtime.bigint() - start) / 1e9, found };
  };
  const detect = measure((t) => core.detectSecrets(t).length);
  const redact = measure((t) => Object.values(core.redactText(t).counts).reduce((a, b) => a + b, 0));
  table(
    ['operation', 'corpus', 'time', 'throughput', 'secrets found'],
    [
      ['detectSecrets', `${(bytes / MB).toFixed(1)} MB in ${files.length} files`, `${detect.seconds.toFixed(2)} s`, `${(bytes / MB / detect.seconds).toFixed(1)} MB/s`, detect.found],
      ['redactText', `${(bytes / MB).toFixed(1)} MB in ${files.length} files`, `${redact.seconds.toFixed(2)} s`, `${(bytes / MB / redact.seconds).toFixed(1)} MB/s`, redact.found],
    ],
  );
  console.log();
}

// ---------------------------------------------------------------- (e) `ctxpack context redact` through the CLI
if (!quick) {
  const { cliRedactRows } = await import('./context-cli.mjs');
  console.log(`## (e) \`ctxpack context redact\` through the CLI (issue 14), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  await cliRedactRows(core);
  console.log(`\nload average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (2 cores shared with other work: wall-clock figures are noisy)\n`);
  if (cliOnly) process.exit(0);
}

// ---------------------------------------------------------------- (b) recall / precision
console.log('## (b) Detectors on the labelled set\n');
const labelled = JSON.parse(fs.readFileSync(path.join(LABELLED_DIR, 'labels.json'), 'utf8')).files;
const perRule = new Map();
const stats = (rule) => {
  if (!perRule.has(rule)) perRule.set(rule, { labels: 0, foundSame: 0, foundAny: 0, detections: 0, trueSame: 0, trueAny: 0 });
  return perRule.get(rule);
};
const misses = [];
const falsePositives = [];
let fileBytes = 0;
for (const [name, labels] of Object.entries(labelled)) {
  const text = fs.readFileSync(path.join(LABELLED_DIR, 'files', name), 'utf8');
  fileBytes += Buffer.byteLength(text);
  const found = core.detectSecrets(text);
  const overlaps = (a, b) => a.start < b.end && b.start < a.end;
  for (const label of labels) {
    const s = stats(label.ruleId);
    s.labels++;
    const same = found.some((f) => f.ruleId === label.ruleId && overlaps(f, label));
    const any = found.some((f) => overlaps(f, label));
    if (same) s.foundSame++;
    if (any) s.foundAny++;
    if (!same) misses.push(`${name}:${label.line} ${label.ruleId}${any ? ` (found as ${found.filter((f) => overlaps(f, label)).map((f) => f.ruleId).join(', ')})` : ''}`);
  }
  for (const f of found) {
    const s = stats(f.ruleId);
    s.detections++;
    const same = labels.some((l) => l.ruleId === f.ruleId && f.start < l.end && l.start < f.end);
    const any = labels.some((l) => f.start < l.end && l.start < f.end);
    if (same) s.trueSame++;
    if (any) s.trueAny++;
    if (!any) {
      const line = text.slice(0, f.start).split('\n').length;
      falsePositives.push(`${name}:${line} ${f.ruleId} ${JSON.stringify(text.slice(f.start, Math.min(f.end, f.start + 60)))}`);
    }
  }
}
const rows = [...perRule.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([rule, s]) => [
  rule,
  s.labels,
  s.detections,
  fixed(s.foundSame / s.labels),
  fixed(s.trueSame / s.detections),
  fixed(s.foundAny / s.labels),
  fixed(s.trueAny / s.detections),
]);
const total = [...perRule.values()].reduce((t, s) => {
  for (const k of Object.keys(s)) t[k] = (t[k] ?? 0) + s[k];
  return t;
}, {});
rows.push(['**overall**', total.labels, total.detections, fixed(total.foundSame / total.labels), fixed(total.trueSame / total.detections), fixed(total.foundAny / total.labels), fixed(total.trueAny / total.detections)]);
console.log(`${Object.keys(labelled).length} files, ${(fileBytes / 1024).toFixed(0)} KiB, ${total.labels} labelled secrets of ${perRule.size} rules; the built-in detector (ipv4-address is off by default)\n`);
table(['rule', 'labelled', 'detected', 'recall', 'precision', 'recall (any rule)', 'precision (any rule)'], rows);
const rulesWithoutLabel = [...perRule.entries()].filter(([, s]) => s.labels === 0).map(([r]) => r);
if (rulesWithoutLabel.length) console.log(`\nrules that fired without a labelled secret of theirs: ${rulesWithoutLabel.join(', ')}`);
console.log(`\nmisses (same rule): ${misses.length ? '\n  ' + misses.join('\n  ') : 'none'}`);
console.log(`false positives (no labelled secret of any rule): ${falsePositives.length ? '\n  ' + falsePositives.join('\n  ') : 'none'}\n`);

// ---------------------------------------------------------------- (c) token estimates
console.log('## (c) estimateTokens against exact counts\n');
const o200k = getEncoding('o200k_base');
const cl100k = getEncoding('cl100k_base');
const samples = tokenSamples();
const classRows = [];
for (const [cls, texts] of samples) {
  const errors = { est: [], estCl: [], c4: [], c4Cl: [] };
  const classified = new Map();
  let chars = 0;
  for (const text of texts) {
    const exact = o200k.encode(text, [], []).length;
    const exactCl = cl100k.encode(text, [], []).length;
    const est = core.estimateTokens(text);
    const c4 = Math.ceil([...text].length / 4);
    chars += [...text].length;
    errors.est.push((est - exact) / exact);
    errors.estCl.push((est - exactCl) / exactCl);
    errors.c4.push((c4 - exact) / exact);
    errors.c4Cl.push((c4 - exactCl) / exactCl);
    const c = core.classifyContent(text);
    classified.set(c, (classified.get(c) ?? 0) + 1);
  }
  const mean = (xs) => xs.reduce((a, b) => a + Math.abs(b), 0) / xs.length;
  const bias = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const worst = (xs) => xs.reduce((w, x) => (Math.abs(x) > Math.abs(w) ? x : w), 0);
  classRows.push([
    cls,
    texts.length,
    Math.round(chars / texts.length),
    [...classified.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}${n === texts.length ? '' : `×${n}`}`).join(' '),
    `${(mean(errors.est) * 100).toFixed(1)}% (${pct(bias(errors.est))})`,
    pct(worst(errors.est)),
    `${(mean(errors.estCl) * 100).toFixed(1)}%`,
    pct(worst(errors.estCl)),
    `${(mean(errors.c4) * 100).toFixed(1)}%`,
    pct(worst(errors.c4)),
    `${(mean(errors.c4Cl) * 100).toFixed(1)}%`,
  ]);
}
table(
  ['class', 'samples', 'chars/sample', 'classified as', 'est o200k mean |err| (bias)', 'est o200k worst', 'est cl100k mean', 'est cl100k worst', 'chars/4 o200k mean', 'chars/4 o200k worst', 'chars/4 cl100k mean'],
  classRows,
);

/** Samples per content class: the repository's own code and docs, the labelled set, and generated text. */
function tokenSamples() {
  const r = prng(77);
  const out = new Map();
  const add = (cls, text) => {
    if (!text || text.trim().length < 200) return;
    if (!out.has(cls)) out.set(cls, []);
    out.get(cls).push(text);
  };
  const chunks = (text, size = 4000) => {
    const parts = [];
    let current = '';
    for (const line of text.split(/(?<=\n)/)) {
      current += line;
      if (current.length >= size) {
        parts.push(current);
        current = '';
      }
    }
    if (current.trim()) parts.push(current);
    return parts;
  };
  const walk = (dir, ext) => {
    const found = [];
    const visit = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) visit(p);
        else if (e.name.endsWith(ext)) found.push(p);
      }
    };
    if (fs.existsSync(dir)) visit(dir);
    return found;
  };
  const read = (p) => fs.readFileSync(p, 'utf8');
  const take = (list, n) => list.filter((_, i) => i % Math.max(1, Math.floor(list.length / n)) === 0).slice(0, n);

  // Prose: paragraphs of the repository's Markdown without code, tables, headings or lists.
  const md = [...walk(path.join(root, 'docs'), '.md'), path.join(root, 'README.md'), path.join(root, 'pkg-template/README.md')].filter(fs.existsSync);
  const paragraphs = md.flatMap((p) => read(p).split(/\n\s*\n/)).filter((p) => p.length > 300 && !/^\s*([|#>`-]|\d+\.|\*)/m.test(p) && !p.includes('```'));
  for (const group of chunks(paragraphs.join('\n\n'), 3000).slice(0, 30)) add('prose (docs)', group);
  for (const p of take(md, 8)) add('mixed (Markdown docs)', read(p).slice(0, 8000));

  for (const p of take(walk(path.join(root, 'src'), '.rs'), 30)) add('code: Rust', chunks(read(p))[0]);
  for (const p of take([...walk(path.join(root, 'pkg-template/lib'), '.mjs'), ...walk(path.join(root, 'bench'), '.mjs')], 25)) add('code: JavaScript', chunks(read(p))[0]);
  const stdlib = ['/usr/lib/python3.11', '/usr/lib/python3.12', '/usr/lib/python3.13'].find(fs.existsSync);
  if (stdlib) for (const p of take(fs.readdirSync(stdlib).filter((f) => f.endsWith('.py')).sort().map((f) => path.join(stdlib, f)), 25)) add('code: Python (stdlib)', chunks(read(p))[1] ?? chunks(read(p))[0]);
  const labelledFiles = walk(path.join(LABELLED_DIR, 'files'), '');
  const byExt = (re) => labelledFiles.filter((p) => re.test(p)).map(read);
  for (const t of byExt(/\.py$/)) add('code: Python (labelled)', t);
  for (const t of byExt(/\.(ts|js)$/)) add('code: TS/JS (labelled)', t);
  for (const t of byExt(/\.go$/)) add('code: Go (labelled)', t);
  for (const t of byExt(/\.(sh|tf)$|Dockerfile$/)) add('code: shell/HCL/Dockerfile', t);
  for (const t of byExt(/\.(ya?ml|toml)$|\.env|\.npmrc|\.pypirc/)) add('config: YAML/TOML/.env', t);

  for (const p of [...walk(path.join(root, 'tests/fixtures/execution'), '.json'), path.join(root, 'docs/spec-vectors.json'), path.join(root, 'package-lock.json')].filter(fs.existsSync))
    for (const c of chunks(read(p)).slice(0, 4)) add('json', c);
  for (const t of byExt(/\.json$/)) add('json', t);
  for (let i = 0; i < 6; i++) add('json (compact JSONL)', Array.from({ length: 20 }, (_, k) => JSON.stringify({ role: r.pick(['user', 'assistant', 'tool']), step: k, content: r.pick(['run the failing test', 'cargo test --lib context::', 'All 37 tests passed.', 'read src/context/tokens.rs']), ts: 1732370000 + r.int(1e5), id: r.from('0123456789abcdef', 16) })).join('\n'));

  const level = () => r.pick(['INFO', 'INFO', 'WARN', 'DEBUG', 'ERROR']);
  const uuid = () => `${r.from('0123456789abcdef', 8)}-${r.from('0123456789abcdef', 4)}-4${r.from('0123456789abcdef', 3)}-a${r.from('0123456789abcdef', 3)}-${r.from('0123456789abcdef', 12)}`;
  const ts = () => `2026-11-23T${String(r.int(24)).padStart(2, '0')}:${String(r.int(60)).padStart(2, '0')}:${String(r.int(60)).padStart(2, '0')}.${r.from('0123456789', 3)}Z`;
  const formats = [
    () => `${ts()} ${level()} [api] request_id=${uuid()} method=GET path=/v2/packs/${r.int(1e6)} status=200 duration_ms=${r.int(900)}`,
    () => `time="${ts()}" level=${level().toLowerCase()} msg="response completed" go.version=go1.22.5 http.request.method=GET http.response.status=${r.pick([200, 404, 500])} http.response.duration=${r.int(900)}ms`,
    () => `Nov 23 ${String(r.int(24)).padStart(2, '0')}:${String(r.int(60)).padStart(2, '0')}:${String(r.int(60)).padStart(2, '0')} build-${r.int(9)} dockerd[${r.int(9999)}]: level=${level().toLowerCase()} msg="pulling layer sha256:${r.from('0123456789abcdef', 12)}"`,
    () => `{"ts":"${ts()}","level":"${level().toLowerCase()}","logger":"registry.client","msg":"pulled layer","bytes":${r.int(1e8)},"elapsed_ms":${r.int(5000)}}`,
    () => `[${ts()}] ${level()} upload failed: status 416 Requested Range Not Satisfiable after ${r.int(5)} attempts (peer ${r.int(256)}.${r.int(256)}.${r.int(256)}.${r.int(256)})`,
  ];
  for (let i = 0; i < 10; i++) add('log', Array.from({ length: 30 }, () => r.pick(formats)()).join('\n') + '\n');
  for (const t of byExt(/\.log$/)) add('log (labelled)', t);

  for (let i = 0; i < 8; i++) add('hex (digest lists)', Array.from({ length: 30 }, () => `sha256:${r.from('0123456789abcdef', 64)}`).join('\n') + '\n');
  for (let i = 0; i < 4; i++) add('hex (raw dump)', r.from('0123456789abcdef', 3000));
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 8; i++) add('base64', (r.from(B64, 3000 + r.int(2000)).match(/.{1,76}/g) ?? []).join('\n') + '\n');
  for (let i = 0; i < 6; i++) add('base64 (keys/tokens)', Array.from({ length: 30 }, () => `${r.pick(['ghp_', 'sk-proj-', 'xoxb-', 'AKIA', 'glpat-'])}${r.from(B64.slice(0, 62), 36)}`).join('\n') + '\n');

  const JA = ['コンテキストパケットは、エージェントが言語モデルに渡す作業の単位です。', 'タスク、関連するファイルとシンボル、そしてモデルが守るべき制限を記述します。', '元のサービスはポリシーを読み込みましたが、一度も参照しませんでした。', '予算は多めに見積もる推定値で確認します。大きすぎるパケットは拒否されるからです。', '削除はすべて規則と件数とともに記録されます。'];
  const ZH = ['上下文数据包是代理交给语言模型的工作单元。', '它列出任务、相关的文件和符号，以及模型必须遵守的限制。', '原来的服务加载了策略，却从未使用过，所以密钥可能被发送到远程模型。', '每一次删除都会记录规则和次数，审阅者可以看到数据包为什么变小了。', '预算按照偏高的估计值检查。'];
  const KO = ['컨텍스트 패킷은 에이전트가 언어 모델에 전달하는 작업 단위입니다.', '작업, 관련 파일과 심볼, 모델이 지켜야 할 제한을 기술합니다.', '모든 삭제는 규칙과 횟수와 함께 기록됩니다.'];
  for (let i = 0; i < 6; i++) add('cjk: Japanese', Array.from({ length: 20 }, () => r.pick(JA)).join(''));
  for (let i = 0; i < 6; i++) add('cjk: Chinese', Array.from({ length: 20 }, () => r.pick(ZH)).join(''));
  for (let i = 0; i < 4; i++) add('cjk: Korean', Array.from({ length: 20 }, () => r.pick(KO)).join(' '));

  if (fs.existsSync(CORPUS_DIR)) {
    const parts = fs.readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.txt')).sort().slice(0, 10);
    for (const f of parts) add('mixed (bench corpus)', read(path.join(CORPUS_DIR, f)).slice(200000, 212000));
  }
  return out;
}

// ---------------------------------------------------------------- (d) hold-out set
// An independent set (bench/context-holdout.mjs, written from vendors' documented formats without reading the
// detector rules): realistic files with planted fake secrets and hard negatives. Labels carry a family `kind`,
// not a rule id, so a detection is true when it overlaps a labelled secret of any kind; a labelled secret with no
// overlapping detection is a miss. Values are never printed: only file:line, the family and the rule that fired.
{
  const { HOLDOUT_DIR, writeHoldout } = await import('./context-holdout.mjs');
  if (!fs.existsSync(path.join(HOLDOUT_DIR, 'labels.json'))) writeHoldout();
  console.log('\n## (d) Detectors on the hold-out set\n');
  const holdout = JSON.parse(fs.readFileSync(path.join(HOLDOUT_DIR, 'labels.json'), 'utf8')).files;
  const overlaps = (a, b) => a.start < b.end && b.start < a.end;
  const perKind = new Map();
  const kindStats = (kind) => {
    if (!perKind.has(kind)) perKind.set(kind, { labels: 0, found: 0, full: 0, rules: new Set() });
    return perKind.get(kind);
  };
  const holdoutMisses = [];
  const holdoutFalse = [];
  const holdoutPartial = [];
  let detections = 0;
  let trueDetections = 0;
  let bytes = 0;
  for (const [name, labels] of Object.entries(holdout)) {
    const text = fs.readFileSync(path.join(HOLDOUT_DIR, 'files', name), 'utf8');
    bytes += Buffer.byteLength(text);
    const found = core.detectSecrets(text);
    for (const label of labels) {
      const s = kindStats(label.kind);
      s.labels++;
      const hits = found.filter((f) => overlaps(f, label));
      if (hits.length) {
        s.found++;
        for (const h of hits) s.rules.add(h.ruleId);
        // Overlap is generous: a detection covering part of a value leaves the rest in the redacted text.
        let covered = 0;
        for (let i = label.start; i < label.end; i++) if (hits.some((h) => h.start <= i && i < h.end)) covered++;
        if (covered === label.end - label.start) s.full++;
        else holdoutPartial.push(`${name}:${label.line} ${label.kind} by ${[...new Set(hits.map((h) => h.ruleId))].join(', ')}: ${covered}/${label.end - label.start} chars masked`);
      } else holdoutMisses.push(`${name}:${label.line} ${label.kind}`);
    }
    for (const f of found) {
      detections++;
      if (labels.some((l) => overlaps(f, l))) trueDetections++;
      else holdoutFalse.push(`${name}:${text.slice(0, f.start).split('\n').length} rule=${f.ruleId} (${f.kind}, ${f.end - f.start} chars)`);
    }
  }
  const labelsTotal = [...perKind.values()].reduce((n, s) => n + s.labels, 0);
  const foundTotal = [...perKind.values()].reduce((n, s) => n + s.found, 0);
  const fullTotal = [...perKind.values()].reduce((n, s) => n + s.full, 0);
  console.log(`${Object.keys(holdout).length} files, ${(bytes / 1024).toFixed(0)} KiB, ${labelsTotal} labelled secrets of ${perKind.size} families; ${detections} detections by the built-in rules\n`);
  table(
    ['family', 'labelled', 'found', 'recall', 'fully masked', 'rules that fired'],
    [
      ...[...perKind.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, s]) => [kind, s.labels, s.found, fixed(s.found / s.labels), fixed(s.full / s.labels), [...s.rules].sort().join(', ') || '—']),
      ['**overall**', labelsTotal, foundTotal, fixed(foundTotal / labelsTotal), fixed(fullTotal / labelsTotal), `precision ${fixed(trueDetections / detections)} (${trueDetections}/${detections} detections overlap a label)`],
    ],
  );
  console.log(`\nmisses: ${holdoutMisses.length ? '\n  ' + holdoutMisses.join('\n  ') : 'none'}`);
  console.log(`partly masked (counted as found): ${holdoutPartial.length ? '\n  ' + holdoutPartial.join('\n  ') : 'none'}`);
  console.log(`false positives: ${holdoutFalse.length ? '\n  ' + holdoutFalse.join('\n  ') : 'none'}\n`);
}
