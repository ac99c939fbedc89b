// ctxpack bench of the pack rows of issue 14, each against its peer in the same run: seed vs `tar -I pigz -cf`,
// unpack of a pantry pack vs `tar -I pigz -xf`, verify of a pantry pack (and of the exported file) vs
// `pigz -dc | sha256sum`, pull into an empty pantry vs `skopeo copy docker:// oci:`, push vs
// `skopeo copy oci: docker://` (Debian's docker-registry on 127.0.0.1). Runs alternate (peer, ctxpack, ctxpack,
// peer, …); each figure is the median of BENCH_RUNS (default 3) runs; ratio = ctxpack / peer (below 1: ctxpack is
// faster); peak RSS of ctxpack per row from /usr/bin/time -v; the load average is printed beside each row. Each run
// starts after an untimed `sync`: tar, pigz and skopeo leave what they wrote to the page cache, ctxpack fsyncs its
// blobs, so without it a ctxpack run that follows a peer's waits behind the writeback of the peer's output.
//
// Reproduce: npm run bench:perf   (or: node scripts/build.mjs && node bench/perf.mjs [package dir] [--baseline dir])
// Data is generated once under .bench/perf/ (about 4 GiB): the tree bench/run.mjs measures, 10,000 JSON-lines
// files (512 MiB) and one 512 MiB file of random bytes. An optional package directory (default build/package)
// measures another build of the same package; `--baseline <package dir>` (e.g. a build of main) runs a third side
// in the same rotation, for a before/after table measured under the same load.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOf } from './cli-bin.mjs';
import { startRegistry } from '../tests/registry/harness.mjs';
import { MiB, ensureTree } from './data.mjs';
import { meets, recordRow } from './summary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, '.bench', 'perf');
const args = process.argv.slice(2);
const baselineAt = args.indexOf('--baseline');
const baselineDir = baselineAt < 0 ? undefined : path.resolve(args.splice(baselineAt, 2)[1]);
const packageDir = path.resolve(args[0] ?? path.join(root, 'build/package'));
const cli = cliOf(packageDir);
const baselineCli = baselineDir && cliOf(baselineDir);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const only = process.env.BENCH_ROWS?.split(',');

function env() {
  const e = { ...process.env };
  for (const name of ['CTXPACK_USER', 'CTXPACK_TOKEN', 'CTXPACK_REGISTRY', 'CTXPACK_CONFIG', 'CTXPACK_HOME', 'DOCKER_CONFIG', 'SOURCE_DATE_EPOCH']) delete e[name];
  return e;
}

/** Run a command to completion; its wall time in seconds and, under /usr/bin/time -v, its peak RSS in MiB. */
function timeCommand(argv, { rss = false } = {}) {
  const full = rss ? ['/usr/bin/time', '-v', ...argv] : argv;
  const start = process.hrtime.bigint();
  const result = spawnSync(full[0], full.slice(1), { env: env(), encoding: 'utf8', maxBuffer: 64 * MiB, stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (${result.status}): ${result.stderr}`);
  const peak = rss ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)[1]) / 1024 : undefined;
  return { seconds, rss: peak, stdout: result.stdout };
}

const sh = (script) => ['bash', '-o', 'pipefail', '-c', script];
const ctxpack = (...args) => [process.execPath, cli, ...args];

const fresh = (dir) => {
  fs.rmSync(dir, { recursive: true, force: true });
  return dir;
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * One row: `runs` pairs, alternating which side goes first; before each run `prepare`, after it `cleanup`.
 * @returns {{ctx: number, peer: number, rss: number, load: string}}
 */
async function row(name, { ctx, peer, goal, prepare = async () => {}, cleanup = async () => {} }) {
  const sides = baselineCli ? ['peer', 'ctx', 'base'] : ['peer', 'ctx'];
  const times = { ctx: [], peer: [], base: [] };
  const rss = { ctx: 0, base: 0 };
  for (let i = 0; i < runs; i++) {
    // Each run rotates the order, so every side meets the same changes of load.
    for (const side of [...sides.slice(i % sides.length), ...sides.slice(0, i % sides.length)]) {
      const state = await prepare(side);
      spawnSync('sync');
      const argv = side === 'peer' ? peer(state) : ctx(state);
      if (side === 'base') argv[1] = baselineCli;
      const measured = timeCommand(argv, { rss: side !== 'peer' });
      times[side].push(measured.seconds);
      if (side !== 'peer') rss[side] = Math.max(rss[side], measured.rss);
      await cleanup(side, state);
    }
  }
  const result = { name, ctx: median(times.ctx), peer: median(times.peer), rss: rss.ctx, load: os.loadavg().map((l) => l.toFixed(2)).join(' ') };
  const ratio = result.ctx / result.peer;
  recordRow({ name, ratio, rss: result.rss, goal, met: meets(goal, { ratio, rss: result.rss }) });
  const runsOf = (side) => times[side].map((t) => t.toFixed(2)).join(', ');
  const baseline = baselineCli
    ? `   baseline ${median(times.base).toFixed(2)} s ${(median(times.base) / result.peer).toFixed(2)} ${rss.base.toFixed(0)} MiB`
    : '';
  console.log(`  ${name.padEnd(38)} ${result.ctx.toFixed(2).padStart(6)} s ${result.peer.toFixed(2).padStart(6)} s ${(result.ctx / result.peer).toFixed(2).padStart(6)} ${result.rss.toFixed(0).padStart(6)} MiB${baseline}   load ${result.load}   (ctxpack ${runsOf('ctx')}; peer ${runsOf('peer')}${baselineCli ? `; baseline ${runsOf('base')}` : ''})`);
  return result;
}

const wanted = (name) => only === undefined || only.includes(name);

async function main() {
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`node scripts/build.mjs\` first`);
  fs.mkdirSync(work, { recursive: true });
  const tree = path.join(work, 'tree');
  ensureTree(tree, path.join(tree, '..', 'tree.complete'));
  spawnSync('bash', ['-c', `find "${tree}" -type f -print0 | xargs -0 cat > /dev/null`]);
  const contract = path.join(work, 'contract.json');
  fs.writeFileSync(contract, JSON.stringify({ transforms: [{ tool: 'bench-perf', params: { n: 1 } }] }));
  const version = (argv) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' }).stdout.split('\n')[0].trim();
  console.log(`# ctxpack pack bench — ${os.cpus()[0].model}, ${os.availableParallelism()} cores, node ${process.version}, ${version(['pigz', '--version']) || 'pigz'}, ${version(['skopeo', '--version'])}`);
  console.log(`# package ${path.relative(root, packageDir) || '.'}${baselineDir ? `, baseline ${path.relative(root, baselineDir)}` : ''}; ${runs} runs per side, alternating, median; tree 1.00 GiB (10,000 JSON-lines files + one 512 MiB random file)`);
  console.log(`# reproduce: node bench/perf.mjs ${process.argv.slice(2).join(' ')}   (BENCH_RUNS=${runs}${only ? ` BENCH_ROWS=${only.join(',')}` : ''})\n`);
  console.log(`  ${'row (peer)'.padEnd(38)} ${'ctxpack'.padStart(8)} ${'peer'.padStart(8)} ${'ratio'.padStart(6)} ${'peak RSS'.padStart(10)}${baselineDir ? '   baseline: s, ratio, peak RSS' : ''}`);

  // A pantry holding the pack (seeded once), its exported file and the peer's tarball.
  const home = path.join(work, 'home');
  const tarball = path.join(work, 'tree.tar.gz');
  const exported = path.join(work, 'pack.tar.gz');
  const seedOut = JSON.parse(timeCommand(ctxpack('seed', tree, '--contract', contract, '--home', home, '--json')).stdout);
  const { uri } = seedOut;
  if (!fs.existsSync(exported)) timeCommand(ctxpack('export', uri, '-o', exported, '--home', home));
  if (!fs.existsSync(tarball)) timeCommand(sh(`tar -I pigz -cf "${tarball}" -C "${tree}" .`));

  const results = [];
  if (wanted('seed')) {
    const seedHome = path.join(work, 'seed-home');
    results.push(await row('seed (tar -I pigz -cf)', {
      goal: '<= 0.9',
      prepare: async () => fresh(seedHome),
      ctx: () => ctxpack('seed', tree, '--contract', contract, '--home', seedHome, '--json'),
      peer: () => sh(`tar -I pigz -cf "${path.join(work, 'seed.tar.gz')}" -C "${tree}" .`),
      cleanup: async () => {
        fresh(seedHome);
        fs.rmSync(path.join(work, 'seed.tar.gz'), { force: true });
      },
    }));
  }
  if (wanted('unpack')) {
    const out = path.join(work, 'out');
    results.push(await row('unpack (tar -I pigz -xf)', {
      goal: '<= 1.0',
      prepare: async () => fresh(out),
      ctx: () => ctxpack('unpack', uri, '-o', out, '--home', home, '--json'),
      peer: () => sh(`mkdir -p "${out}" && tar -I pigz -xf "${tarball}" -C "${out}"`),
      cleanup: async () => fresh(out),
    }));
  }
  if (wanted('verify')) {
    results.push(await row('verify pantry (pigz -dc | sha256sum)', {
      goal: '<= 0.8',
      ctx: () => ctxpack('verify', uri, '--home', home, '--json'),
      peer: () => sh(`pigz -dc "${exported}" | sha256sum`),
    }));
    results.push(await row('verify file (pigz -dc | sha256sum)', {
      goal: '— (no goal of its own; beside the pantry row)',
      ctx: () => ctxpack('verify', exported, '--json'),
      peer: () => sh(`pigz -dc "${exported}" | sha256sum`),
    }));
  }
  if (wanted('pull') || wanted('push')) {
    const tag = `ctx-${uri.slice('ctx://sha256:'.length)}`;
    const skopeo = (from, to) => ['skopeo', 'copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests', from, to];
    if (wanted('pull')) {
      const registry = await startRegistry({ auth: 'none' });
      try {
        timeCommand(ctxpack('push', uri, '--registry', registry.ref('bench'), '--home', home));
        const pullHome = path.join(work, 'pull-home');
        const layout = path.join(work, 'pull-layout');
        results.push(await row('pull (skopeo copy docker:// oci:)', {
          goal: '<= 1.0',
          prepare: async () => fresh(pullHome) && fresh(layout),
          ctx: () => ctxpack('pull', uri, '--registry', registry.ref('bench'), '--home', pullHome, '--json'),
          peer: () => skopeo(`docker://${registry.host}/bench:${tag}`, `oci:${layout}:${tag}`),
          cleanup: async () => fresh(pullHome) && fresh(layout),
        }));
      } finally {
        await registry.close();
      }
    }
    if (wanted('push')) {
      results.push(await row('push (skopeo copy oci: docker://)', {
        goal: '<= 0.9 (keep: 0.84 when filed)',
        prepare: async () => startRegistry({ auth: 'none' }),
        ctx: (registry) => ctxpack('push', uri, '--registry', registry.ref('bench'), '--home', home, '--json'),
        peer: (registry) => skopeo(`oci:${home}:${tag}`, `docker://${registry.host}/bench:${tag}`),
        cleanup: async (side, registry) => registry.close(),
      }));
    }
  }
  const over = results.filter((r) => r.rss >= 256);
  console.log(`\n  peak RSS under 256 MiB on every row: ${over.length === 0 ? 'yes' : `NO (${over.map((r) => r.name).join(', ')})`}`);
}

await main();
