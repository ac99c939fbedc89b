// ctxpack seekable-pack bench: one 1 MiB file out of a 2 GiB pack in a local CNCF Distribution 2.8.2 (Debian's
// docker-registry, filesystem storage, 127.0.0.1, behind the test harness's proxy, which counts the bytes),
// `ctxpack cat` (HTTP ranges through the layers' block index) against a full `ctxpack pull`, alternating runs,
// median of BENCH_RUNS (default 3); then `cat` with the block index removed and with a wrong one (both fall
// back to streaming the layer up to the file, and still verify it). Every run starts from an empty pantry.
//
// Reproduce: npm run bench:seekable   (or: node scripts/build.mjs && node bench/seekable.mjs)
// Data is generated once under .bench/seekable/ (about 4.1 GiB: the tree and its pantry); the registry's
// storage and the pulled pantries live there too while the bench runs and are removed after it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, '.bench', 'seekable');
const scratch = path.join(work, 'tmp');
// The harness puts the registry's storage in the temporary directory: keep those GiB under .bench/.
fs.rmSync(scratch, { recursive: true, force: true });
fs.mkdirSync(scratch, { recursive: true });
process.env.TMPDIR = scratch;
const { run, startFaultProxy, startRegistry } = await import('../tests/registry/harness.mjs');
const core = await import('../build/package/lib/core-node.mjs');

const cli = path.join(root, 'build/package/bin/ctxpack.cjs');
const MiB = 1024 * 1024;
const runs = Number(process.env.BENCH_RUNS ?? 3);
const BLOCKS = 'dev.ctxpack.blocks';

function env() {
  const e = { ...process.env };
  for (const name of ['CTXPACK_USER', 'CTXPACK_TOKEN', 'CTXPACK_REGISTRY', 'CTXPACK_CONFIG', 'CTXPACK_HOME', 'DOCKER_CONFIG']) delete e[name];
  return e;
}

async function ctxpack(args, options = {}) {
  const result = await run(process.execPath, [cli, ...args, '--json'], { env: env(), timeoutMs: 3_600_000, ...options });
  if (result.code !== 0) throw new Error(`ctxpack ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout);
}

function randomFile(file, bytes, seed) {
  const cipher = crypto.createCipheriv('aes-256-ctr', crypto.createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  const fd = fs.openSync(file, 'w');
  const zero = Buffer.alloc(16 * MiB);
  for (let done = 0; done < bytes; done += zero.length) fs.writeSync(fd, cipher.update(zero.subarray(0, Math.min(zero.length, bytes - done))));
  fs.closeSync(fd);
}

/** 2 GiB of pseudo-random data: 16 shards of 128 MiB, each followed by a 1 MiB file. */
function ensureTree(dir) {
  const stamp = path.join(dir, '.complete');
  if (fs.existsSync(stamp)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'out', 'shards'), { recursive: true });
  for (let i = 0; i < 16; i++) {
    const name = path.join(dir, 'out', 'shards', `shard-${String(i).padStart(2, '0')}`);
    randomFile(`${name}.bin`, 128 * MiB, `shard-${i}`);
    randomFile(`${name}.meta`, MiB, `meta-${i}`);
  }
  fs.writeFileSync(path.join(dir, 'input.txt'), 'v1');
  fs.writeFileSync(path.join(dir, 'contract.json'), JSON.stringify({
    inputs: [{ name: 'input', path: 'input.txt' }], transforms: [{ tool: 'bench-seekable', tool_version: '1' }], outputs: 'out',
  }));
  fs.writeFileSync(stamp, '');
}

async function seeded(tree, home) {
  const stamp = path.join(home, '.bench-uri');
  if (fs.existsSync(stamp)) return fs.readFileSync(stamp, 'utf8');
  fs.rmSync(home, { recursive: true, force: true });
  const { uri } = await ctxpack(['seed', 'out', '--contract', 'contract.json', '--home', home], { cwd: tree });
  fs.writeFileSync(stamp, uri);
  return uri;
}

function imageManifest(home, uri) {
  const index = JSON.parse(fs.readFileSync(path.join(home, 'index.json'), 'utf8'));
  const tag = `ctx-${uri.slice('ctx://sha256:'.length)}`;
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  return { tag, manifest: JSON.parse(fs.readFileSync(path.join(home, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')) };
}

const fresh = (name) => {
  const dir = path.join(scratch, name);
  fs.rmSync(dir, { recursive: true, force: true });
  return dir;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const size = (bytes) => (bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / MiB).toFixed(2)} MiB`);
const sha256 = (file) => `sha256:${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;

/** Runs `fn` with the proxy's counters reset: { seconds, bytes } (every byte the registry sent). */
async function measured(proxy, fn) {
  proxy.reset();
  const start = process.hrtime.bigint();
  const result = await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const bytes = Object.values(proxy.stats().byKind).reduce((sum, kind) => sum + kind.bytesOut, 0);
  return { seconds, bytes, result };
}

async function main() {
  if (!fs.existsSync(cli)) throw new Error('build/package is missing: run `node scripts/build.mjs` first');
  console.log(`# ctxpack seekable-pack bench — ${os.cpus()[0].model}, ${os.availableParallelism()} cores, node ${process.version}, docker-registry 2.8.2`);
  console.log(`# reproduce: npm run bench:seekable   (BENCH_RUNS=${runs} runs per figure, median; data in .bench/seekable/)\n`);
  const tree = path.join(work, 'tree');
  ensureTree(tree);
  const home = path.join(work, 'home');
  const uri = await seeded(tree, home);
  const { tag, manifest } = imageManifest(home, uri);
  const packBytes = manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
  const { target, offset, layer } = farthestSmallFile(home, manifest);
  const expected = sha256(path.join(tree, 'out', target));
  console.log(`pack ${uri}\n  ${size(packBytes)} in ${manifest.layers.length} layers; the file: ${target} (1 MiB), ${size(offset)} into layer ${layer}\n`);

  const registry = await startRegistry({ auth: 'none' });
  const proxy = await startFaultProxy(registry.url);
  const client = new core.RegistryClient({ registry: registry.ref('bench') });
  const retag = async (edit) => {
    const edited = structuredClone(manifest);
    for (const layer of edited.layers) edit(layer);
    const bytes = Buffer.from(JSON.stringify(edited));
    await client.pushManifest(tag, bytes, 'application/vnd.oci.image.manifest.v1+json');
  };
  try {
    await ctxpack(['push', uri, '--registry', registry.ref('bench'), '--home', home]);
    const ref = proxy.ref('bench');
    const cat = async (label) => {
      const out = path.join(scratch, 'cat.out');
      const result = await measured(proxy, async () => {
        const catHome = fresh('cat-home');
        const printed = await run('sh', ['-c', `"${process.execPath}" "${cli}" cat "${uri}" "${target}" --registry "${ref}" --home "${catHome}" > "${out}"`], { env: env() });
        if (printed.code !== 0) throw new Error(`${label}: cat failed (${printed.code}): ${printed.stderr}`);
        return printed.stderr;
      });
      if (sha256(out) !== expected) throw new Error(`${label}: cat printed bytes that do not hash to ${expected}`);
      fs.rmSync(out);
      return result;
    };
    const pull = () => measured(proxy, () => ctxpack(['pull', uri, '--registry', ref, '--home', fresh('pull-home')]));

    const seek = [];
    const full = [];
    for (let i = 0; i < runs; i++) {
      seek.push(await cat('cat'));
      full.push(await pull());
      fresh('pull-home');
    }
    const noIndex = [];
    await retag((layer) => delete layer.annotations[BLOCKS]);
    for (let i = 0; i < runs; i++) noIndex.push(await cat('cat without an index'));
    const wrongIndex = [];
    await retag((layer) => {
      // The first block one byte longer, the last one shorter: the totals fit, every later boundary is wrong.
      const sizes = decodeIndex(layer.annotations[BLOCKS]);
      sizes[0] += 1;
      sizes[sizes.length - 1] -= 1;
      layer.annotations[BLOCKS] = encodeIndex(sizes);
    });
    for (let i = 0; i < runs; i++) {
      const result = await cat('cat with a wrong index');
      if (!/block index was not used/.test(result.result)) throw new Error('the wrong index was not reported');
      wrongIndex.push(result);
    }

    const rows = [
      ['cat (block index: HTTP ranges)', seek],
      ['pull (the whole pack)', full],
      ['cat, block index removed (streams its layer)', noIndex],
      ['cat, wrong block index (falls back, verified)', wrongIndex],
    ];
    const base = median(seek.map((r) => r.seconds));
    console.log('| what | bytes transferred | share of the pack | time (median) | runs |');
    console.log('|---|---|---|---|---|');
    for (const [label, results] of rows) {
      const bytes = median(results.map((r) => r.bytes));
      const seconds = median(results.map((r) => r.seconds));
      const all = results.map((r) => r.seconds.toFixed(2)).join(', ');
      console.log(`| ${label} | ${size(bytes)} | ${((bytes / packBytes) * 100).toFixed(2)} % | ${seconds.toFixed(2)} s (${(seconds / base).toFixed(1)}x cat) | ${all} |`);
    }
    console.log('\nbytes: every byte the registry sent (manifests and blobs); times include starting node for each command.');
  } finally {
    await proxy.close();
    await registry.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The 1 MiB file that starts farthest into its layer: the worst case for reading a layer from its start. */
function farthestSmallFile(home, manifest) {
  const bytes = fs.readFileSync(path.join(home, 'blobs', 'sha256', manifest.config.digest.slice(7)));
  let best = null;
  for (const entry of core.parseManifest(bytes).outputs.entries.filter((e) => e.path.endsWith('.meta'))) {
    const seek = new core.FileSeek(bytes, manifest.layers, entry.path);
    const found = { target: entry.path, offset: seek.range.start, layer: seek.file.layer };
    seek.free();
    if (best === null || found.offset > best.offset) best = found;
  }
  return best;
}

function decodeIndex(text) {
  const bytes = Buffer.from(text, 'base64');
  const sizes = [];
  for (let i = 0, value = 0, shift = 0; i < bytes.length; i++) {
    value += (bytes[i] & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(bytes[i] & 0x80)) { sizes.push(value); value = 0; shift = 0; }
  }
  return sizes;
}

function encodeIndex(sizes) {
  const bytes = [];
  for (let value of sizes) {
    do { const low = value % 128; value = Math.floor(value / 128); bytes.push(value > 0 ? low | 0x80 : low); } while (value > 0);
  }
  return Buffer.from(bytes).toString('base64');
}

await main();
