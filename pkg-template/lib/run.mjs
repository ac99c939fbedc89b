// run: the Bazel-style job. Compute the contract's URI; on a hit (the pantry, else the configured registry),
// put the outputs where the contract says and skip the command; on a miss, run the command and seed what it
// wrote. With `push`, the pack then goes to the registry too.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CtxpackError, isCtxpackError, toCtxpackError } from './errors.mjs';
import { computeIdentity } from './identity.mjs';
import { openPantry } from './pantry.mjs';
import { configuredRegistry, requireRegistry } from './registry/config.mjs';
import { seed } from './seed.mjs';
import { createEntryPlacer, fillFreshTarget } from './target.mjs';
import { pull, push } from './transfer.mjs';
import { hashWalkedFiles, treeOf } from './tree.mjs';
import { materialize } from './unpacked.mjs';
import { walkTree } from './walk.mjs';

/** A registry that cannot be reached makes run fall back to running the command, with a warning. */
const REGISTRY_DOWN = new Set(['CTX_REGISTRY_UNREACHABLE', 'CTX_REGISTRY_UNAVAILABLE', 'CTX_RATE_LIMITED']);

/**
 * @param {import('./identity.mjs').ContractSource & {
 *   command: string[], home?: string, cwd?: string, stdio?: import('node:child_process').StdioOptions,
 *   sourceDateEpoch?: number, followLinks?: boolean, lockTimeoutMs?: number, onProgress?: Function,
 *   registry?: string, push?: boolean, insecure?: boolean, concurrency?: number, env?: NodeJS.ProcessEnv,
 *   onWarning?: (message: string) => void,
 * }} options registry: default $CTXPACK_REGISTRY, then the config file; none configured means pantry only
 * @returns {Promise<{uri: string, hit: boolean, source: 'pantry' | 'registry' | 'command', durationMs: number,
 *   exitCode: number | null, outputsPath: string, pushed?: object}>} exitCode is null on a hit (the command did not run)
 */
export async function run(options) {
  const { command } = options;
  if (!Array.isArray(command) || command.length === 0 || command.some((arg) => typeof arg !== 'string')) {
    throw new CtxpackError('CTX_USAGE', 'no command given: pass the command to run as an array of strings');
  }
  const started = performance.now();
  // Checked before any work, so `--push` without a registry fails fast.
  const pushRegistry = options.push ? requireRegistry(options.registry, options) : undefined;
  const identity = await computeIdentity(options);
  for (const warning of identity.warnings) options.onWarning?.(warning);
  if (identity.outputs.length === 0) {
    throw new CtxpackError('CTX_CONTRACT_INVALID', 'the contract has no outputs, so run does not know where results go', {
      subject: 'outputs',
      hint: 'add "outputs": [{"path": "out"}] to the contract',
    });
  }
  const outputsPath = path.resolve(identity.baseDir, identity.outputs[0].path);
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const finish = async (source, exitCode) => {
    const pushed = pushRegistry && source !== 'registry' ? await push(identity.uri, transferOptions(options, pushRegistry)) : undefined;
    return { uri: identity.uri, hit: source !== 'command', source, durationMs: elapsed(), exitCode, outputsPath, ...(pushed ? { pushed } : {}) };
  };

  let source = openPantry(options).has(identity.uri) ? 'pantry' : undefined;
  if (source === undefined && (await pulledFromRegistry(identity.uri, options))) source = 'registry';
  if (source !== undefined) {
    await materializeOutputs(identity.uri, outputsPath, options);
    return finish(source, null);
  }

  const exitCode = await runCommand(command, options);
  if (!fs.existsSync(outputsPath)) {
    throw new CtxpackError('CTX_COMMAND_FAILED', `the command succeeded but did not write ${outputsPath}`, {
      subject: identity.outputs[0].path,
      hint: "make the command write its results to the contract's outputs path",
    });
  }
  await seed(outputsPath, { ...options, identity });
  return finish('command', exitCode);
}

/**
 * Pull the URI from the configured registry into the pantry. False when no registry is configured, the
 * registry does not have it, or the registry cannot be reached (a cache miss, with a warning).
 */
async function pulledFromRegistry(uri, options) {
  const registry = configuredRegistry(options.registry, options);
  if (registry === undefined) return false;
  try {
    await pull(uri, transferOptions(options, registry));
    return true;
  } catch (error) {
    if (error?.code === 'CTX_NOT_FOUND') return false;
    if (REGISTRY_DOWN.has(error?.code)) {
      options.onWarning?.(`${error.message}; running the command instead`);
      return false;
    }
    throw error;
  }
}

function transferOptions({ home, insecure, concurrency, env, onProgress, onEvent }, registry) {
  return { registry, home, insecure, concurrency, env, onProgress, onEvent };
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
