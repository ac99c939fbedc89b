// ctxpack benchmark: every figure issue 2 asks for, measured in one run against the standard tools on the
// same files. Reproduce with `npm run bench` (data is generated once under .bench/, about 6 GiB).
//
//   tree digest (1 GiB: 10,000 files + one 512 MiB file)  vs  sha256sum over the same files
//   seed / unpack of that tree                            vs  tar -czf / tar -xzf
//   peak memory of verify and unpack of a pack > 4 GiB
//   peak memory of verify and unpack of packs of 200,000 and 1,000,000 empty files (big manifests);
//   only this row: `node bench/run.mjs empty-files`
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, ensureTree, textPool } from './data.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, '.bench');
const cli = path.join(root, 'build/package/bin/ctxpack.cjs');
const api = path.join(root, 'build/package/lib/index.mjs');
const runs = Number(process.env.BENCH_RUNS ?? 3);

/** More than 4 GiB of text-like data in 17 files, for the memory bound of verify and unpack. */
function ensureLargeTree(dir) {
  const stamp = path.join(dir, '.complete');
  if (fs.existsSync(stamp)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const pool = textPool(64 * MiB);
  for (let i = 0; i < 17; i++) {
    const fd = fs.openSync(path.join(dir, `shard-${String(i).padStart(2, '0')}.jsonl`), 'w');
    for (let j = 0; j < 4; j++) fs.writeSync(fd, pool);
    fs.closeSync(fd);
  }
  fs.writeFileSync(stamp, '');
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * MiB, ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
  return result.stdout;
}

/** Median wall time in seconds of `fn` over `runs` runs, after `prepare` before each. */
function timed(fn, prepare = () => {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    prepare();
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const fresh = (dir) => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
};

/** Page-cache warm: every tool reads the files from memory, as the hashing comparison intends. */
const warm = (dir) => run('bash', ['-c', `find "${dir}" -type f -print0 | xargs -0 cat > /dev/null`]);

/** A module file to run in a child process (not `node -e`: worker threads inherit `--input-type`). */
function scriptFile(name, source) {
  const file = path.join(work, `${name}.mjs`);
  fs.writeFileSync(file, source);
  return file;
}

function treeDigestSeconds(dir, { oneCore }) {
  const script = scriptFile('tree-digest', `import { computeIdentity } from ${JSON.stringify(api)};
    const r = await computeIdentity({ contract: { inputs: [{ name: 'tree', path: ${JSON.stringify(dir)} }] }, baseDir: '/' });
    console.log(r.uri);`);
  const argv = ['node', script];
  const [command, ...args] = oneCore ? ['taskset', '-c', '0', ...argv] : argv;
  return timed(() => run(command, args));
}

function peakRssMiB(fnSource) {
  const script = scriptFile('peak-rss', `import * as ctxpack from ${JSON.stringify(api)};
    await (${fnSource})(ctxpack);
    // VmHWM, not resourceUsage().maxRSS: Linux carries the forking parent's peak across exec into maxRSS.
    console.log(/VmHWM:\\s+(\\d+) kB/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'))[1]);`);
  return Number(run('node', [script]).trim()) / 1024;
}

/**
 * A pack of `count` empty files in 1,000 folders, written once from its manifest through the core (no files on
 * disk), so the manifest is all there is: about 150 bytes per entry.
 */
function ensureEmptyFilesPack(file, count) {
  if (fs.existsSync(file)) return;
  const script = scriptFile('empty-files-pack', `import fs from 'node:fs';
    import * as core from ${JSON.stringify(path.join(root, 'build/package/lib/core-node.mjs'))};
    const [count, out] = [Number(process.argv[2]), process.argv[3]];
    const empty = core.sha256(new Uint8Array());
    const entries = Array.from({ length: count }, (_, i) => ({
      path: \`d\${String(i % 1000).padStart(3, '0')}/f\${String(i).padStart(7, '0')}\`, type: 'file', size: 0, digest: empty, executable: false,
    }));
    const { bytes } = core.buildManifest({ contract: { ctxpack: 'contract/v1', transforms: [{ tool: 'bench', params: { files: count } }] },
      entries, provenance: { created: '2026-01-01T00:00:00Z', tool: 'bench' } });
    const writer = new core.PackWriter(bytes, { hashContent: false });
    const fd = fs.openSync(out + '.partial', 'w');
    for (let entry = writer.nextEntry(), n = 1; entry != null; entry = writer.nextEntry(), n++) {
      writer.endEntry(empty);
      if (n % 4096 === 0) fs.writeSync(fd, writer.takeOutput());
    }
    writer.finish();
    fs.writeSync(fd, writer.takeOutput());
    fs.closeSync(fd);
    fs.renameSync(out + '.partial', out);`);
  run('node', [script, String(count), file]);
}

/** Peak RSS in MiB of one CLI command, as /usr/bin/time -v reports it ("Maximum resident set size"). */
function commandPeakRssMiB(args) {
  const result = spawnSync('/usr/bin/time', ['-v', 'node', cli, ...args], { encoding: 'utf8', maxBuffer: 64 * MiB });
  if (result.status !== 0) throw new Error(`ctxpack ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)[1]) / 1024;
}

/** Peak memory of verify and unpack where the manifest dominates: one row per pack size. */
function emptyFilesRows() {
  console.log('peak memory of verify and unpack of packs of empty files (the manifest is the whole pack)');
  for (const count of [200_000, 1_000_000]) {
    const pack = path.join(work, `empty-${count}.tar.gz`);
    ensureEmptyFilesPack(pack, count);
    // A manifest of 1,000,000 entries (~143 MiB) is above the default maxManifestBytes (64 MiB) and maxEntries.
    const limits = ['--max-manifest-bytes', String(256 * MiB), '--max-entries', String(count)];
    const out = path.join(work, 'empty-out');
    fs.rmSync(out, { recursive: true, force: true });
    const verifyRss = commandPeakRssMiB(['verify', pack, ...limits]);
    const unpackRss = commandPeakRssMiB(['unpack', pack, '-o', out, ...limits]);
    fs.rmSync(out, { recursive: true, force: true });
    const label = `${count.toLocaleString('en-US')} files`.padEnd(16);
    const verdict = (rss) => (count > 200_000 ? '' : `  (limit 256 MiB: ${rss < 256 ? 'ok' : 'OVER'})`);
    console.log(`  ${label} verify ${verifyRss.toFixed(0).padStart(4)} MiB${verdict(verifyRss)}   unpack ${unpackRss.toFixed(0).padStart(4)} MiB${verdict(unpackRss)}`);
  }
  console.log(`  reproduce: /usr/bin/time -v node build/package/bin/ctxpack.cjs verify .bench/empty-200000.tar.gz --max-manifest-bytes ${256 * MiB} --max-entries 200000\n`);
}

const gib = (bytes) => (bytes / 1024 ** 3).toFixed(2);
const rate = (bytes, seconds) => `${((bytes / seconds) / 1e9).toFixed(2)} GB/s`;

function main() {
  if (!fs.existsSync(cli)) throw new Error('build/package is missing: run `npm run build` first');
  fs.mkdirSync(work, { recursive: true });
  if (process.argv[2] === 'empty-files') {
    emptyFilesRows();
    return;
  }
  const tree = path.join(work, 'tree');
  console.log(`# ctxpack bench — ${os.cpus()[0].model}, ${os.availableParallelism()} cores, node ${process.version}`);
  console.log(`# reproduce: npm run bench   (BENCH_RUNS=${runs} runs per figure, median)\n`);
  ensureTree(tree, path.join(tree, '.complete'));
  const treeBytes = Number(run('du', ['-sb', '--exclude=.complete', tree]).split('\t')[0]);
  warm(tree);

  const sha256sum = timed(() => run('bash', ['-c', `cd "${tree}" && find . -type f ! -name .complete -print0 | xargs -0 sha256sum > /dev/null`]));
  const digestOne = treeDigestSeconds(tree, { oneCore: true });
  const digestAll = treeDigestSeconds(tree, { oneCore: false });
  console.log(`tree digest of ${gib(treeBytes)} GiB (10,001 files)`);
  console.log(`  sha256sum             ${sha256sum.toFixed(2)} s  ${rate(treeBytes, sha256sum)}`);
  console.log(`  ctxpack, 1 core       ${digestOne.toFixed(2)} s  ${rate(treeBytes, digestOne)}  ${(sha256sum / digestOne).toFixed(2)}x sha256sum`);
  console.log(`  ctxpack, all cores    ${digestAll.toFixed(2)} s  ${rate(treeBytes, digestAll)}  ${(sha256sum / digestAll).toFixed(2)}x sha256sum, ${(digestOne / digestAll).toFixed(2)}x 1 core\n`);

  const contract = path.join(work, 'contract.json');
  fs.writeFileSync(contract, JSON.stringify({ transforms: [{ tool: 'bench', params: { n: 1 } }] }));
  const home = path.join(work, 'home');
  const tarball = path.join(work, 'tar.tar.gz');
  const packFile = path.join(work, 'pack.tar.gz');
  const tarSeed = timed(() => run('tar', ['-czf', tarball, '-C', tree, '.']));
  const ctxSeed = timed(() => run('node', [cli, 'seed', tree, '--contract', contract, '--home', home, '--json']), () => fresh(home));
  const uri = JSON.parse(run('node', [cli, 'seed', tree, '--contract', contract, '--home', home, '--json'])).uri;
  fs.rmSync(packFile, { force: true });
  run('node', [cli, 'export', uri, '-o', packFile, '--home', home]);
  const out = path.join(work, 'out');
  const tarUnpack = timed(() => run('tar', ['-xzf', tarball, '-C', out]), () => fresh(out));
  const ctxUnpack = timed(() => run('node', [cli, 'unpack', packFile, '-o', path.join(out, 'x'), '--json']), () => fresh(out));
  const sizes = `pack ${gib(fs.statSync(packFile).size)} GiB, tar.gz ${gib(fs.statSync(tarball).size)} GiB`;
  console.log(`seed and unpack of the same tree (${sizes})`);
  console.log(`  tar -czf              ${tarSeed.toFixed(2)} s`);
  console.log(`  ctxpack seed          ${ctxSeed.toFixed(2)} s  ${(tarSeed / ctxSeed).toFixed(2)}x tar -czf`);
  console.log(`  tar -xzf              ${tarUnpack.toFixed(2)} s`);
  console.log(`  ctxpack unpack        ${ctxUnpack.toFixed(2)} s  ${(tarUnpack / ctxUnpack).toFixed(2)}x tar -xzf (ctxpack also verifies every digest)\n`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });

  const large = path.join(work, 'large');
  ensureLargeTree(large);
  const largeHome = path.join(work, 'large-home');
  const largePack = path.join(work, 'large.tar.gz');
  if (!fs.existsSync(largePack)) {
    fresh(largeHome);
    const largeUri = JSON.parse(run('node', [cli, 'seed', large, '--contract', contract, '--home', largeHome, '--json'])).uri;
    run('node', [cli, 'export', largeUri, '-o', largePack, '--home', largeHome]);
    fs.rmSync(largeHome, { recursive: true, force: true });
  }
  const largeBytes = Number(run('du', ['-sb', '--exclude=.complete', large]).split('\t')[0]);
  const largeOut = path.join(work, 'large-out');
  fs.rmSync(largeOut, { recursive: true, force: true });
  const verifyRss = peakRssMiB(`(c) => c.verify(${JSON.stringify(largePack)})`);
  const unpackRss = peakRssMiB(`(c) => c.unpack(${JSON.stringify(largePack)}, ${JSON.stringify(largeOut)})`);
  fs.rmSync(largeOut, { recursive: true, force: true });
  console.log(`peak memory on a pack of ${gib(largeBytes)} GiB unpacked (${gib(fs.statSync(largePack).size)} GiB compressed)`);
  console.log(`  verify                ${verifyRss.toFixed(0)} MiB  (limit 256 MiB: ${verifyRss < 256 ? 'ok' : 'OVER'})`);
  console.log(`  unpack                ${unpackRss.toFixed(0)} MiB  (limit 256 MiB: ${unpackRss < 256 ? 'ok' : 'OVER'})\n`);

  emptyFilesRows();
}

main();
