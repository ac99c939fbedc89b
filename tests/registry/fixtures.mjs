// Fixtures for the registry tests: the CLI of the package under test (always run as a child process, never
// synchronously: the fault proxy and token server live in the test process), packs seeded into temporary
// pantries, and checks on what a pantry holds (every blob hashes to its name; which packs are indexed).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN } from '../js/helpers.mjs';
import { run, runOk } from './harness.mjs';

export { api, BIN, PACKAGE_DIR, REPO_ROOT } from '../js/helpers.mjs';

/** An environment without any credentials or registry of the developer's own. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const name of ['CTXPACK_USER', 'CTXPACK_TOKEN', 'CTXPACK_REGISTRY', 'CTXPACK_CONFIG', 'CTXPACK_HOME', 'DOCKER_CONFIG']) delete env[name];
  return { ...env, ...extra };
}

/** A temporary directory removed when the test (or suite, with `after`) ends. */
export function tempDir(t, prefix = 'ctxpack-reg-') {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  (t.after ? t.after.bind(t) : t)(() => removeAll(dir));
  return dir;
}

export function removeAll(dir) {
  spawnChmod(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

function spawnChmod(dir) {
  const visit = (entry) => {
    let stat;
    try { stat = fs.lstatSync(entry); } catch { return; }
    if (!stat.isDirectory()) return;
    try { fs.chmodSync(entry, 0o755); } catch {}
    for (const name of fs.readdirSync(entry)) visit(path.join(entry, name));
  };
  visit(dir);
}

/**
 * Run the CLI. Returns { code, stdout, stderr, json, error } (json: parsed stdout with --json; error: its
 * `error` object). `home` sets --home; env defaults to cleanEnv() with a private DOCKER_CONFIG-free HOME.
 */
export async function ctx(args, { home, env, input, cwd, timeoutMs } = {}) {
  const full = [BIN, ...args, ...(home ? ['--home', home] : []), '--json'];
  const result = await run(process.execPath, full, { env: env ?? cleanEnv(), input, cwd, timeoutMs });
  let json = null;
  try { json = JSON.parse(result.stdout); } catch {}
  return { ...result, json, error: json?.error ?? null, args: full.slice(1) };
}

/** Assert a CLI result succeeded; returns its JSON. */
export function ok(result) {
  assert.equal(result.code, 0, `ctxpack ${result.args?.join(' ')} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result.json;
}

/** Assert a CLI result failed with one of `codes` (a CTX_… code or a list). Returns the error object. */
export function failsWith(result, codes) {
  const list = [codes].flat();
  assert.notEqual(result.code, 0, `expected ${list.join(' or ')}, but ctxpack ${result.args?.join(' ')} succeeded:\n${result.stdout}`);
  assert.ok(result.error, `no JSON error in the output (${result.code}):\n${result.stdout}\n${result.stderr}`);
  assert.ok(list.includes(result.error.code), `expected ${list.join(' or ')}, got ${result.error.code}: ${result.error.message}\n${result.stderr}`);
  return result.error;
}

const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes (so failures reproduce): SHA-256 in counter mode over `seed`. */
export function pseudoRandom(bytes, seed = 'ctxpack') {
  const out = Buffer.allocUnsafe(bytes);
  const key = crypto.createHash('sha256').update(String(seed)).digest();
  // AES-CTR keystream is much faster than hashing per block.
  const cipher = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zero = Buffer.alloc(Math.min(bytes, 16 * MiB));
  let done = 0;
  while (done < bytes) {
    const n = Math.min(zero.length, bytes - done);
    cipher.update(zero.subarray(0, n)).copy(out, done);
    done += n;
  }
  return out;
}

/**
 * Seed a pack: writes `files` (path → string | Buffer) into <work>/<name>/out, a contract whose input is
 * <name>/input.txt (holding `input`, which decides the URI), and runs `ctxpack seed`.
 * @returns {{uri: string, hex: string, tag: string, home: string, project: string, out: string}}
 */
export async function seedPack(work, { name = 'project', home, files, input = 'input', env } = {}) {
  const project = path.join(work, name);
  const out = path.join(project, 'out');
  fs.mkdirSync(out, { recursive: true });
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(out, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  fs.writeFileSync(path.join(project, 'input.txt'), input);
  fs.writeFileSync(path.join(project, 'contract.json'), JSON.stringify({
    inputs: [{ name: 'input', path: 'input.txt' }],
    transforms: [{ tool: 'registry-test', tool_version: '1' }],
    outputs: 'out',
  }));
  const seeded = ok(await ctx(['seed', 'out', '--contract', 'contract.json'], { home, cwd: project, env, timeoutMs: 600_000 }));
  const hex = seeded.uri.slice('ctx://sha256:'.length);
  return { uri: seeded.uri, hex, tag: `ctx-${hex}`, home, project, out };
}

/** A small pack with text, nested binary and enough random bytes (default 2 MiB) to cut a download in. */
export function smallFiles(seed = 'small', randomBytes = 2 * MiB) {
  return {
    'chunks.jsonl': '{"id":1,"text":"alpha"}\n{"id":2,"text":"beta"}\n',
    'nested/index.bin': pseudoRandom(randomBytes, seed),
    'nested/readme.md': `# ${seed}\n`,
  };
}

export const sha256File = async (file) => `sha256:${(await runOk('sha256sum', [file])).split(' ')[0]}`;

export function readIndex(home) {
  try { return JSON.parse(fs.readFileSync(path.join(home, 'index.json'), 'utf8')); } catch { return { manifests: [] }; }
}

/** The index entry of a pack (by tag or dev.ctxpack.uri), or undefined. */
export function indexEntry(home, uri) {
  const tag = `ctx-${uri.slice('ctx://sha256:'.length)}`;
  return readIndex(home).manifests.find((m) =>
    m.annotations?.['org.opencontainers.image.ref.name'] === tag || m.annotations?.['dev.ctxpack.uri'] === uri);
}

export const blobPath = (home, digest) => path.join(home, 'blobs', 'sha256', digest.slice('sha256:'.length));

/** Every blob of a pantry checked with sha256sum: none may differ from its name. Returns the digests. */
export async function assertBlobsIntact(home) {
  const dir = path.join(home, 'blobs', 'sha256');
  if (!fs.existsSync(dir)) return [];
  const names = fs.readdirSync(dir).filter((name) => fs.statSync(path.join(dir, name)).isFile());
  if (names.length === 0) return [];
  const out = await runOk('sha256sum', names, { cwd: dir });
  for (const line of out.trim().split('\n')) {
    const [hash, name] = line.split(/\s+\*?/);
    assert.equal(hash, name, `pantry blob ${name} hashes to ${hash}: an unverified blob was stored`);
  }
  return names.map((name) => `sha256:${name}`);
}

/** After a failed pull: the pack is not indexed and no blob is corrupt. */
export async function assertNothingUnverified(home, uri) {
  assert.equal(indexEntry(home, uri), undefined, `${uri} is in the pantry's index after a failed pull`);
  await assertBlobsIntact(home);
}

/** The OCI manifest (parsed) and its blobs for a pack in a pantry. */
export function packBlobs(home, uri) {
  const entry = indexEntry(home, uri);
  assert.ok(entry, `${uri} is not in ${home}`);
  const manifest = JSON.parse(fs.readFileSync(blobPath(home, entry.digest), 'utf8'));
  return { entry, manifest, digests: [entry.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)] };
}

/** Two pantries hold the same pack byte for byte: same manifest digest, same config and layers, all intact. */
export async function assertSamePack(homeA, homeB, uri) {
  const a = packBlobs(homeA, uri);
  const b = packBlobs(homeB, uri);
  assert.equal(b.entry.digest, a.entry.digest, 'the pulled manifest differs from the pushed one');
  assert.deepEqual(b.digests, a.digests);
  for (const digest of b.digests) {
    assert.equal(await sha256File(blobPath(homeB, digest)), digest);
    assert.equal(fs.statSync(blobPath(homeB, digest)).size, fs.statSync(blobPath(homeA, digest)).size);
  }
  await assertBlobsIntact(homeB);
  return b;
}

/** `ctxpack verify <uri>` in a pantry. */
export async function assertVerifies(home, uri) {
  const verified = ok(await ctx(['verify', uri], { home, timeoutMs: 600_000 }));
  assert.equal(verified.ok, true);
  assert.equal(verified.uri, uri);
  return verified;
}

/** Registry manifest bytes, fetched directly (not through ctxpack). */
export async function registryManifest(registryUrl, repository, reference, headers = {}) {
  const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json', ...headers },
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, bytes, json: response.ok ? JSON.parse(bytes.toString('utf8')) : null, digest: response.headers.get('docker-content-digest') };
}

/** Every text an observer could see of a result (stdout, stderr), for secret checks. */
export function assertNoSecret(result, secrets) {
  for (const secret of secrets) {
    assert.ok(!result.stdout.includes(secret), `a secret appears on stdout:\n${result.stdout}`);
    assert.ok(!result.stderr.includes(secret), `a secret appears on stderr:\n${result.stderr}`);
    const b64 = Buffer.from(secret).toString('base64');
    assert.ok(!result.stdout.includes(b64) && !result.stderr.includes(b64), 'a base64 secret appears in the output');
  }
}
