// ctxpack registry bench: push and pull of a 1 GiB pack against a local CNCF Distribution 2.8.2
// (Debian's docker-registry, filesystem storage, 127.0.0.1), ctxpack versus `skopeo copy` of the same OCI
// layout (the pantry is one), in the same run, median of BENCH_RUNS (default 3) runs, a fresh registry for
// every push run and a fresh destination for every pull run; then the re-push of the pack after one file
// changed: bytes uploaded (counted by the harness's proxy) as a share of the pack.
//
// Reproduce: npm run bench:registry   (or: node scripts/build.mjs && node bench/registry.mjs)
// Data is generated once under .bench/registry/ (about 3 GiB with both pantries).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, startFaultProxy, startRegistry } from '../tests/registry/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, '.bench', 'registry');
const cli = path.join(root, 'build/package/bin/ctxpack.cjs');
const MiB = 1024 * 1024;
const runs = Number(process.env.BENCH_RUNS ?? 3);

function env() {
  const e = { ...process.env };
  for (const name of ['CTXPACK_USER', 'CTXPACK_TOKEN', 'CTXPACK_REGISTRY', 'CTXPACK_CONFIG', 'CTXPACK_HOME', 'DOCKER_CONFIG']) delete e[name];
  return e;
}

async function sh(command, args, options = {}) {
  const result = await run(command, args, { env: env(), timeoutMs: 3_600_000, ...options });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

const ctxpack = (args) => sh(process.execPath, [cli, ...args, '--json']).then((out) => JSON.parse(out));

function randomFile(file, bytes, seed) {
  const cipher = crypto.createCipheriv('aes-256-ctr', crypto.createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  const fd = fs.openSync(file, 'w');
  const zero = Buffer.alloc(16 * MiB);
  for (let done = 0; done < bytes; done += zero.length) fs.writeSync(fd, cipher.update(zero.subarray(0, Math.min(zero.length, bytes - done))));
  fs.closeSync(fd);
}

/** Text-like content that compresses about as well as JSON lines. */
function textPool(bytes) {
  const words = Array.from({ length: 4096 }, (_, i) => crypto.createHash('md5').update(`w${i}`).digest('base64url').slice(0, 2 + (i % 9)));
  const parts = [];
  let size = 0;
  for (let n = 0; size < bytes; n++) {
    const line = `{"id":${n},"text":"${Array.from({ length: 12 }, (_, k) => words[(n * 31 + k * 977) % words.length]).join(' ')}","score":${((n * 7919) % 100000) / 100000}}\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

/** 1 GiB: 8 pseudo-random files of 64 MiB and 2,048 JSON-lines files of 256 KiB. */
function ensureTree(dir) {
  const stamp = path.join(dir, '.complete');
  if (fs.existsSync(stamp)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'out', 'index'), { recursive: true });
  for (let i = 0; i < 8; i++) randomFile(path.join(dir, 'out', 'index', `vectors-${i}.bin`), 64 * MiB, `bench-${i}`);
  const pool = textPool(32 * MiB);
  for (let i = 0; i < 2048; i++) {
    const sub = path.join(dir, 'out', 'chunks', `d${String(i % 32).padStart(2, '0')}`);
    if (i < 32) fs.mkdirSync(sub, { recursive: true });
    const offset = (i * 104729) % (pool.length - 256 * 1024);
    fs.writeFileSync(path.join(sub, `chunk-${String(i).padStart(4, '0')}.jsonl`), pool.subarray(offset, offset + 256 * 1024));
  }
  fs.writeFileSync(path.join(dir, 'input.txt'), 'v1');
  fs.writeFileSync(path.join(dir, 'contract.json'), JSON.stringify({
    inputs: [{ name: 'input', path: 'input.txt' }], transforms: [{ tool: 'bench-registry', tool_version: '1' }], outputs: 'out',
  }));
  fs.writeFileSync(stamp, '');
}

/** The tree with one text file changed (hard links for the rest) and another input, so another URI. */
function ensureChangedTree(tree, dir) {
  const stamp = path.join(dir, '.complete');
  if (fs.existsSync(stamp)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const result = spawnCp(tree, dir);
  if (result) throw new Error(result);
  const changed = path.join(dir, 'out', 'chunks', 'd16', 'chunk-1040.jsonl');
  fs.rmSync(changed);
  fs.writeFileSync(changed, textPool(256 * 1024 + 17).subarray(17));
  fs.rmSync(path.join(dir, 'input.txt'));
  fs.writeFileSync(path.join(dir, 'input.txt'), 'v2');
  fs.writeFileSync(stamp, '');
}

function spawnCp(from, to) {
  const r = spawnSync('cp', ['-al', from, to], { encoding: 'utf8' });
  return r.status === 0 ? null : r.stderr;
}

async function seeded(tree, home) {
  const stamp = path.join(home, '.bench-uri');
  if (fs.existsSync(stamp)) return fs.readFileSync(stamp, 'utf8');
  fs.rmSync(home, { recursive: true, force: true });
  const { uri } = await sh(process.execPath, [cli, 'seed', 'out', '--contract', 'contract.json', '--home', home, '--json'], { cwd: tree })
    .then((out) => JSON.parse(out));
  fs.writeFileSync(stamp, uri);
  return uri;
}

async function timed(fn, prepare = async () => {}, cleanup = async () => {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const state = await prepare();
    const start = process.hrtime.bigint();
    await fn(state);
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
    await cleanup(state);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], all: times };
}

const fresh = (dir) => {
  fs.rmSync(dir, { recursive: true, force: true });
  return dir;
};
const gib = (bytes) => (bytes / 1024 ** 3).toFixed(2);
const rate = (bytes, seconds) => `${(bytes / seconds / MiB).toFixed(0)} MiB/s`;
const fmt = (t) => `${t.median.toFixed(2)} s  (runs: ${t.all.map((x) => x.toFixed(2)).join(', ')})`;

function packInfo(home, uri) {
  const index = JSON.parse(fs.readFileSync(path.join(home, 'index.json'), 'utf8'));
  const tag = `ctx-${uri.slice('ctx://sha256:'.length)}`;
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  const manifest = JSON.parse(fs.readFileSync(path.join(home, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8'));
  const bytes = manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0) + entry.size;
  return { tag, manifest, bytes };
}

async function main() {
  if (!fs.existsSync(cli)) throw new Error('build/package is missing: run `node scripts/build.mjs` first');
  fs.mkdirSync(work, { recursive: true });
  const skopeoVersion = (await sh('skopeo', ['--version'])).trim();
  console.log(`# ctxpack registry bench — ${os.cpus()[0].model}, ${os.availableParallelism()} cores, node ${process.version}, ${skopeoVersion}, docker-registry 2.8.2`);
  console.log(`# reproduce: npm run bench:registry   (BENCH_RUNS=${runs} runs per figure, median; data in .bench/registry/)\n`);

  const tree = path.join(work, 'tree');
  ensureTree(tree);
  const home = path.join(work, 'home');
  const uri = await seeded(tree, home);
  const { tag, manifest, bytes } = packInfo(home, uri);
  console.log(`pack ${uri}\n  ${gib(bytes)} GiB in ${manifest.layers.length} layers (files: 1.00 GiB, half pseudo-random, half JSON lines)\n`);

  // Push: a fresh registry per run.
  const freshRegistry = async () => ({ registry: await startRegistry({ auth: 'none' }) });
  const stop = async ({ registry }) => registry.close();
  const ctxPush = await timed(({ registry }) => ctxpack(['push', uri, '--registry', registry.ref('bench'), '--home', home]), freshRegistry, stop);
  const skopeoPush = await timed(({ registry }) => sh('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests',
    `oci:${home}:${tag}`, `docker://${registry.host}/bench:${tag}`]), freshRegistry, stop);

  // Pull: one registry holding the pack; a fresh pantry / layout per run.
  const registry = await startRegistry({ auth: 'none' });
  try {
    await ctxpack(['push', uri, '--registry', registry.ref('bench'), '--home', home]);
    const pullHome = path.join(work, 'pull-home');
    const layout = path.join(work, 'pull-layout');
    const ctxPull = await timed(() => ctxpack(['pull', uri, '--registry', registry.ref('bench'), '--home', pullHome]), async () => fresh(pullHome));
    const skopeoPull = await timed(() => sh('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--preserve-digests',
      `docker://${registry.host}/bench:${tag}`, `oci:${layout}:${tag}`]), async () => fresh(layout));
    fresh(pullHome);
    fresh(layout);

    console.log(`push of the ${gib(bytes)} GiB pack to an empty registry`);
    console.log(`  skopeo copy oci: → docker://   ${fmt(skopeoPush)}  ${rate(bytes, skopeoPush.median)}`);
    console.log(`  ctxpack push                   ${fmt(ctxPush)}  ${rate(bytes, ctxPush.median)}  ${(skopeoPush.median / ctxPush.median).toFixed(2)}x skopeo`);
    console.log(`pull of the pack into an empty pantry / OCI layout`);
    console.log(`  skopeo copy docker:// → oci:   ${fmt(skopeoPull)}  ${rate(bytes, skopeoPull.median)}`);
    console.log(`  ctxpack pull                   ${fmt(ctxPull)}  ${rate(bytes, ctxPull.median)}  ${(skopeoPull.median / ctxPull.median).toFixed(2)}x skopeo (ctxpack also re-derives the URI and verifies every file)\n`);
  } finally {
    await registry.close();
  }

  // Re-push after one file changed: uploads counted by the proxy in front of a registry that has v1.
  const changedTree = path.join(work, 'tree-v2');
  ensureChangedTree(tree, changedTree);
  const home2 = path.join(work, 'home-v2');
  const uri2 = await seeded(changedTree, home2);
  const v2 = packInfo(home2, uri2);
  const repush = async (push) => {
    const target = await startRegistry({ auth: 'none' });
    const proxy = await startFaultProxy(target.url);
    try {
      await push(1, proxy);
      proxy.reset();
      const start = process.hrtime.bigint();
      await push(2, proxy);
      return { uploaded: proxy.stats().uploadedBytes, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
    } finally {
      await proxy.close();
      await target.close();
    }
  };
  const ctxRepush = await repush((v, proxy) => ctxpack(['push', v === 1 ? uri : uri2, '--registry', proxy.ref('bench'), '--home', v === 1 ? home : home2]));
  const skopeoRepush = await repush((v, proxy) => sh('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests',
    `oci:${v === 1 ? home : home2}:${v === 1 ? tag : v2.tag}`, `docker://${proxy.host}/bench:${v === 1 ? tag : v2.tag}`]));
  const newLayers = v2.manifest.layers.filter((l) => !manifest.layers.some((o) => o.digest === l.digest)).length;
  console.log(`re-push after changing one 256 KiB file (${newLayers} of ${v2.manifest.layers.length} layers new)`);
  for (const [name, r] of [['ctxpack push', ctxRepush], ['skopeo copy', skopeoRepush]]) {
    console.log(`  ${name.padEnd(29)}  ${(r.uploaded / MiB).toFixed(1)} MiB uploaded = ${((r.uploaded / v2.bytes) * 100).toFixed(1)} % of the pack, ${r.seconds.toFixed(2)} s`);
  }
}

await main();
