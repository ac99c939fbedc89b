// run: the Bazel-style job. Compute the contract's URI; on a pantry hit, put the outputs where the contract
// says and skip the command; on a miss, run the command and seed what it wrote.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CtxpackError, isCtxpackError, toCtxpackError } from './errors.mjs';
import { computeIdentity } from './identity.mjs';
import { openPantry } from './pantry.mjs';
import { seed } from './seed.mjs';
import { createEntryPlacer, fillFreshTarget } from './target.mjs';
import { hashWalkedFiles, treeOf } from './tree.mjs';
import { materialize } from './unpacked.mjs';
import { walkTree } from './walk.mjs';

/**
 * @param {import('./identity.mjs').ContractSource & {
 *   command: string[], home?: string, cwd?: string, stdio?: import('node:child_process').StdioOptions,
 *   sourceDateEpoch?: number, followLinks?: boolean, lockTimeoutMs?: number, onProgress?: Function,
 * }} options
 * @returns {Promise<{uri: string, hit: boolean, durationMs: number, exitCode: number | null, outputsPath: string}>}
 *   exitCode is null on a hit (the command did not run)
 */
export async function run(options) {
  const { command } = options;
  if (!Array.isArray(command) || command.length === 0 || command.some((arg) => typeof arg !== 'string')) {
    throw new CtxpackError('CTX_USAGE', 'no command given: pass the command to run as an array of strings');
  }
  const started = performance.now();
  const identity = await computeIdentity(options);
  if (identity.outputs.length === 0) {
    throw new CtxpackError('CTX_CONTRACT_INVALID', 'the contract has no outputs, so run does not know where results go', {
      subject: 'outputs',
      hint: 'add "outputs": [{"path": "out"}] to the contract',
    });
  }
  const outputsPath = path.resolve(identity.baseDir, identity.outputs[0].path);
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;

  if (openPantry(options).has(identity.uri)) {
    await materializeOutputs(identity.uri, outputsPath, options);
    return { uri: identity.uri, hit: true, durationMs: elapsed(), exitCode: null, outputsPath };
  }

  const exitCode = await runCommand(command, options);
  if (!fs.existsSync(outputsPath)) {
    throw new CtxpackError('CTX_COMMAND_FAILED', `the command succeeded but did not write ${outputsPath}`, {
      subject: identity.outputs[0].path,
      hint: "make the command write its results to the contract's outputs path",
    });
  }
  await seed(outputsPath, { ...options, identity });
  return { uri: identity.uri, hit: false, durationMs: elapsed(), exitCode, outputsPath };
}

/** Spawn without a shell; resolve with exit code 0, otherwise throw CTX_COMMAND_FAILED. */
function runCommand(command, { cwd, stdio = 'inherit' }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd, stdio });
    child.on('error', (error) => {
      reject(new CtxpackError('CTX_COMMAND_FAILED', `could not start ${command[0]}: ${error.code ?? error.message}`, {
        subject: command[0],
        hint: 'check the command name and that it is on PATH; nothing was stored',
      }));
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve(code);
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      const error = new CtxpackError('CTX_COMMAND_FAILED', `${command[0]} ${how}; nothing was stored`, { subject: command[0] });
      error.exitCode = code;
      reject(error);
    });
  });
}

/**
 * Put a pantry pack's outputs at `outputsPath`. A folder already holding exactly that tree is left alone;
 * any other non-empty folder is refused (CTX_TARGET_EXISTS) rather than overwritten.
 */
async function materializeOutputs(uri, outputsPath, options) {
  const copy = await materialize(uri, options);
  if (await holdsTree(outputsPath, copy.manifest)) return;
  await fillFreshTarget(outputsPath, (tempDir) => copyTree(copy.path, copy.manifest.outputs.entries, tempDir));
}

/** Does `dir` already hold exactly the manifest's tree? Cheap comparisons first, hashing only if they pass. */
async function holdsTree(dir, manifest) {
  let stat;
  try {
    stat = fs.statSync(dir);
  } catch (error) {
    if (error.code === 'ENOENT') return false;
    throw toCtxpackError(error, dir);
  }
  if (!stat.isDirectory()) return false;
  try {
    const walked = walkTree(dir);
    const expected = new Map(manifest.outputs.entries.map((entry) => [entry.path, entry]));
    if (walked.length !== expected.size) return false;
    const sameShape = walked.every((entry) => {
      const other = typeof entry.path === 'string' ? expected.get(entry.path.normalize('NFC')) : undefined;
      if (!other || other.type !== entry.type) return false;
      return entry.type === 'file' ? other.size === entry.size : other.target === entry.target;
    });
    if (!sameShape) return false;
    await hashWalkedFiles(walked);
    return treeOf(walked).digest === manifest.outputs.digest;
  } catch (error) {
    // A folder that is not even a valid tree (special files, bad names, escaping links) is not the pack's.
    if (isCtxpackError(error)) return false;
    throw error;
  }
}

/** Copy a verified unpacked tree (cloning blocks where the file system can), with modes 0644/0755. */
function copyTree(sourceDir, entries, targetDir) {
  const placeEntry = createEntryPlacer(targetDir);
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    const destination = placeEntry(entry.path);
    fs.copyFileSync(path.join(sourceDir, entry.path), destination, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE);
    fs.chmodSync(destination, entry.executable ? 0o755 : 0o644);
  }
  for (const entry of entries) {
    if (entry.type === 'symlink') fs.symlinkSync(entry.target, placeEntry(entry.path));
  }
}
