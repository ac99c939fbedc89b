// Shared fixtures for the JS tests: the built package, temp folders, a CLI runner and small trees.
// Everything runs against real files in fresh temporary directories; nothing is mocked.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The package under test: build/package, or CTXPACK_TEST_PACKAGE (e.g. an installed copy). */
export const PACKAGE_DIR = path.resolve(process.env.CTXPACK_TEST_PACKAGE ?? path.join(REPO_ROOT, 'build', 'package'));
export const BIN = path.join(PACKAGE_DIR, 'bin', 'ctxpack.cjs');

if (!fs.existsSync(path.join(PACKAGE_DIR, 'core', 'ctxpack_core_bg.wasm'))) {
  throw new Error(`${PACKAGE_DIR} has no wasm core: run \`node scripts/build.mjs\` first`);
}

/** The package's JS API, loaded from the build. */
export const api = await import(path.join(PACKAGE_DIR, 'lib', 'index.mjs'));

/** A fresh temporary directory, removed (read-only parts included) when the test ends. */
export function tempDir(t, prefix = 'ctxpack-test-') {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  t.after(() => removeAll(dir));
  return dir;
}

export function removeAll(dir) {
  const makeWritable = (entry) => {
    let stat;
    try {
      stat = fs.lstatSync(entry);
    } catch {
      return;
    }
    if (!stat.isDirectory()) return;
    fs.chmodSync(entry, 0o755);
    for (const name of fs.readdirSync(entry)) makeWritable(path.join(entry, name));
  };
  makeWritable(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Write files: `{ "a.txt": "text", "bin/run.sh": { content: "...", mode: 0o755 }, "l": { symlink: "a.txt" } }`.
 */
export function writeTree(root, files) {
  for (const [relative, spec] of Object.entries(files)) {
    const target = path.join(root, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (typeof spec === 'object' && spec !== null && 'symlink' in spec) {
      fs.symlinkSync(spec.symlink, target);
    } else if (typeof spec === 'object' && spec !== null && !(spec instanceof Uint8Array)) {
      fs.writeFileSync(target, spec.content);
      fs.chmodSync(target, spec.mode ?? 0o644);
    } else {
      fs.writeFileSync(target, spec);
    }
  }
}

/** Every path below `root` with what it is: a snapshot to compare before and after an operation. */
export function snapshot(root) {
  const result = {};
  const visit = (dir, prefix) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const absolute = path.join(dir, name);
      const relative = prefix ? `${prefix}/${name}` : name;
      const stat = fs.lstatSync(absolute);
      if (stat.isSymbolicLink()) result[relative] = `-> ${fs.readlinkSync(absolute)}`;
      else if (stat.isDirectory()) {
        result[`${relative}/`] = 'dir';
        visit(absolute, relative);
      } else result[relative] = `${(stat.mode & 0o777).toString(8)} ${fs.readFileSync(absolute).toString('base64')}`;
    }
  };
  visit(root, '');
  return result;
}

/**
 * A small project: inputs/ (a folder), code.py, and contract.json referring to both, outputs at out/.
 * @returns {{dir: string, contractPath: string, outDir: string}}
 */
export function makeProject(root, { params = { size: 512 }, outputs = 'out' } = {}) {
  writeTree(root, {
    'inputs/doc1.txt': 'first document\n',
    'inputs/nested/doc2.txt': 'second document\n',
    'code.py': 'print("chunking")\n',
  });
  const contract = {
    inputs: [{ name: 'docs', path: 'inputs' }],
    transforms: [{ tool: 'chunker', tool_version: '1.2', code_path: 'code.py', params }],
    outputs: [{ path: outputs }],
  };
  const contractPath = path.join(root, 'contract.json');
  fs.writeFileSync(contractPath, JSON.stringify(contract, null, 2));
  return { dir: root, contractPath, outDir: path.join(root, outputs) };
}

/** A typical output folder: text, a nested binary, an executable and a symlink. */
export function writeOutputs(dir) {
  writeTree(dir, {
    'chunks.jsonl': '{"id":1}\n{"id":2}\n',
    'index/vectors.bin': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256)),
    'bin/query.sh': { content: '#!/bin/sh\necho query\n', mode: 0o755 },
    'latest': { symlink: 'chunks.jsonl' },
  });
}

/** A project's outputs seeded into a fresh pantry and exported as a pack file: its URI, home, path, bytes and the
 * outputs folder. */
export async function exportedPack(t) {
  const root = tempDir(t);
  const project = makeProject(path.join(root, 'project'));
  writeOutputs(project.outDir);
  const home = path.join(root, 'home');
  const { uri } = await api.seed(project.outDir, { contractPath: project.contractPath, home });
  const packPath = path.join(root, 'pack.tar.gz');
  api.exportPack(uri, packPath, { home });
  return { uri, home, packPath, bytes: fs.readFileSync(packPath), outDir: project.outDir };
}

/** Run the CLI synchronously. `json()` parses stdout. */
export function cli(args, { home, cwd, env = {}, input } = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    input,
    encoding: 'utf8',
    env: { ...process.env, ...(home ? { CTXPACK_HOME: home } : {}), ...env },
  });
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    json: () => JSON.parse(result.stdout),
  };
}

/** Run the CLI without waiting (for concurrency tests). Resolves with {code, stdout, stderr}. */
export function cliAsync(args, { home, cwd, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, ...(home ? { CTXPACK_HOME: home } : {}), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Create a FIFO; false where mkfifo is not available. */
export function mkfifo(fifoPath) {
  return spawnSync('mkfifo', [fifoPath]).status === 0;
}

/** Run python3 with a script from tests/js/fixtures. */
export function python(script, args) {
  const result = spawnSync('python3', [path.join(REPO_ROOT, 'tests', 'js', 'fixtures', script), ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python3 ${script} failed: ${result.stderr}`);
  return result.stdout;
}

/** Assert that a promise or function fails with a CtxpackError of the given code. */
export async function rejectsWithCode(action, code) {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    if (error?.name !== 'CtxpackError' || error.code !== code) {
      throw new Error(`expected ${code}, got ${error?.name} ${error?.code}: ${error?.message}`, { cause: error });
    }
    return error;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}
