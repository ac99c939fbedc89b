#!/usr/bin/env node
// The fault table: each attack a hostile or broken registry can make, run against a ctxpack CLI on real
// Distribution registries (tests/registry/harness.mjs), with what came of it: the error code, whether a
// credential reached a host it does not belong to (by that host's own request log), whether a secret was echoed,
// and how long it took. Run it against two builds to compare them:
//
//   node bench/hostile.mjs [--cli <path to bin/ctxpack.cjs>] [--cap <seconds>]
//
// --cli defaults to this checkout's build/package; --cap (default 60) ends a command that is still waiting.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { packBlobs } from '../tests/registry/fixtures.mjs';
import { makeTestCa, run, startFaultProxy, startRegistry } from '../tests/registry/harness.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { cli: { type: 'string' }, cap: { type: 'string', default: '60' } } });
const cli = path.resolve(values.cli ?? path.join(root, 'build', 'package', 'bin', 'ctxpack.cjs'));
const capMs = Number(values.cap) * 1000;
const SECRET = 'hunter2-bench-secret';
const BASIC = `Basic ${Buffer.from(`alice:${SECRET}`).toString('base64')}`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-hostile-bench-'));
const baseEnv = () => {
  const env = { ...process.env, HOME: work };
  for (const name of ['CTXPACK_USER', 'CTXPACK_TOKEN', 'CTXPACK_REGISTRY', 'CTXPACK_CONFIG', 'CTXPACK_HOME', 'DOCKER_CONFIG', 'CTXPACK_CA_FILE', 'NODE_EXTRA_CA_CERTS']) delete env[name];
  return env;
};
let homes = 0;
const freshHome = () => path.join(work, `home-${homes++}`);

async function ctx(args, { env, home = freshHome() } = {}) {
  const started = Date.now();
  const result = await run(process.execPath, [cli, ...args, '--home', home, '--json'], { env, timeoutMs: capMs });
  const elapsed = (Date.now() - started) / 1000;
  let code = 'ok';
  try {
    code = JSON.parse(result.stdout).error?.code ?? (result.code === 0 ? 'ok' : `exit ${result.code}`);
  } catch {
    code = result.signal ? `still waiting after ${values.cap} s` : `exit ${result.code}`;
  }
  const echoed = `${result.stdout}${result.stderr}`.includes(SECRET) || `${result.stdout}${result.stderr}`.includes(BASIC.slice(6));
  return { code, elapsed, echoed, home };
}

const registry = await startRegistry({ auth: 'htpasswd', users: { alice: SECRET } });
const front = await startFaultProxy(registry.url);
const other = await startFaultProxy(registry.url);
// A second registry with its own users: it asks for credentials, and must not be given alice's.
const second = await startRegistry({ auth: 'htpasswd', users: { bob: 'bobs-own-password' } });
const secondFront = await startFaultProxy(second.url);
const rows = [];
try {
  const source = freshHome();
  const input = path.join(work, 'input.txt');
  const outDir = path.join(work, 'out');
  fs.writeFileSync(input, 'hostile bench input\n');
  fs.mkdirSync(outDir);
  fs.writeFileSync(path.join(outDir, 'data.bin'), crypto.randomBytes(3 * 1024 * 1024));
  const contract = path.join(work, 'contract.json');
  fs.writeFileSync(contract, JSON.stringify({ inputs: [{ name: 'in', path: 'input.txt' }], transforms: [{ tool: 'bench' }], outputs: 'out' }));
  const seeded = await run(process.execPath, [cli, 'seed', outDir, '--contract', contract, '--home', source, '--json'], { env: baseEnv() });
  const uri = JSON.parse(seeded.stdout).uri;
  const layer = packBlobs(source, uri).manifest.layers[0];
  const envCreds = { ...baseEnv(), CTXPACK_USER: 'alice', CTXPACK_TOKEN: SECRET, CTXPACK_REGISTRY: front.ref('packs') };
  const dockerDir = path.join(work, 'docker');
  fs.mkdirSync(dockerDir);
  fs.writeFileSync(path.join(dockerDir, 'config.json'), JSON.stringify({ auths: { [front.host]: { auth: BASIC.slice(6) } } }));
  const dockerCreds = { ...baseEnv(), DOCKER_CONFIG: dockerDir };
  const leaked = (proxy) => (proxy.stats().requests.some((e) => e.authorization !== null) ? 'YES' : 'no');
  const reset = () => [front, other, secondFront].forEach((p) => { p.setRules({}); p.reset(); });
  const row = (attack, result, leak = '-') => rows.push({ attack, outcome: result.code, 'credential elsewhere': leak, 'secret echoed': result.echoed ? 'YES' : 'no', seconds: result.elapsed.toFixed(1) });

  for (const [name, env] of [['CTXPACK_USER/TOKEN', envCreds], ['Docker config', dockerCreds]]) {
    reset();
    front.setRules({ uploadLocationTo: other.url });
    other.setRules({ upstreamAuthorization: BASIC });
    const result = await ctx(['push', uri, '--registry', front.ref(`up-${rows.length}`)], { env, home: source });
    row(`upload Location on another host (${name})`, result, leaked(other));
  }

  reset();
  await ctx(['push', uri, '--registry', front.ref('packs')], { env: envCreds, home: source });
  front.setRules({ redirectBlobTo: other.url });
  other.setRules({ upstreamAuthorization: BASIC });
  row('blob GET redirected to another host', await ctx(['pull', uri, '--registry', front.ref('packs')], { env: envCreds }), leaked(other));

  reset();
  const toSecond = await ctx(['copy', uri, '--from', front.ref('packs'), '--to', secondFront.ref('packs')], { env: envCreds });
  row('copy to a second registry (its own users)', toSecond, secondFront.stats().requests.some((e) => e.authorization === BASIC) ? 'YES' : 'no');

  reset();
  row('reference user:pass@host/repo', await ctx(['pull', uri, '--registry', `alice:${SECRET}@${front.host}/packs`], { env: baseEnv() }));

  reset();
  front.setRules({ silence: { kind: 'blob-get' } });
  row('registry never answers a blob GET', await ctx(['pull', uri, '--registry', front.ref('packs')], { env: envCreds }));

  reset();
  front.setRules({ silence: { kind: 'blob-get', digest: layer.digest, afterBytes: 256 * 1024, times: 1 } });
  row('blob stalls after 256 KiB', await ctx(['pull', uri, '--registry', front.ref('packs')], { env: envCreds }));

  const ca = makeTestCa(work);
  const tls = await startRegistry({ auth: 'none', tls: ca });
  try {
    row('TLS registry, CA not trusted', await ctx(['pull', uri, '--registry', `https://${tls.host}/packs`], { env: baseEnv() }));
  } finally {
    await tls.close();
  }
  const tlsToken = await startRegistry({ auth: 'token', users: { alice: SECRET }, tls: ca });
  try {
    const env = { ...baseEnv(), NODE_EXTRA_CA_CERTS: ca.caFile, CTXPACK_USER: 'alice', CTXPACK_TOKEN: SECRET };
    const result = await ctx(['push', uri, '--registry', `https://${tlsToken.host}/packs`], { env, home: source });
    row('https registry, token realm plain http', result, tlsToken.tokenServer.log.some((e) => e.user) ? 'YES' : 'no');
  } finally {
    await tlsToken.close();
  }
} finally {
  await Promise.all([front.close(), other.close(), secondFront.close()]);
  await registry.close();
  await second.close();
  fs.rmSync(work, { recursive: true, force: true });
}

console.log(`# hostile registries against ${cli}`);
console.log(`# reproduce: node bench/hostile.mjs --cli ${path.relative(process.cwd(), cli)} --cap ${values.cap}\n`);
const columns = Object.keys(rows[0]);
console.log(`| ${columns.join(' | ')} |`);
console.log(`|${columns.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${columns.map((c) => r[c]).join(' | ')} |`);
