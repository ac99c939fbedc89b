// run: the Bazel-style job. Compute the contract's URI; on a hit (the pantry, else the configured registry),
// put the outputs where the contract says and skip the command; on a miss, run the command and seed what it
// wrote. With `push`, the pack then goes to the registry too. The contract is the identity, not the command:
// the command is recorded in the pack's provenance, and a hit made by another command is restored with a warning.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { redactText } from './core-node.mjs';
import { CtxpackError, isCtxpackError, toCtxpackError } from './errors.mjs';
import { computeIdentity } from './identity.mjs';
import { openPantry } from './pantry.mjs';
import { configuredRegistry, requireRegistry } from './registry/config.mjs';
import { seed } from './seed.mjs';
import { sign } from './sign/index.mjs';
import { createEntryPlacer, fillFreshTarget } from './output-dir.mjs';
import { pull, push } from './transfer.mjs';
import { hashWalkedFiles, treeOf } from './tree.mjs';
import { materialize } from './unpacked.mjs';
import { walkTree } from './walk.mjs';

/** A registry that cannot be reached makes run fall back to running the command, with a warning. */
const REGISTRY_DOWN = new Set(['CTX_REGISTRY_UNREACHABLE', 'CTX_REGISTRY_UNAVAILABLE', 'CTX_RATE_LIMITED']);
/** A registry pack refused for its signature is a miss: the command runs, and a --push replaces it. */
const UNTRUSTED = new Set(['CTX_SIGNATURE_REQUIRED', 'CTX_SIGNATURE_INVALID', 'CTX_KEY_UNTRUSTED']);

/**
 * @param {import('./identity.mjs').ContractSource & {
 *   command: string[], home?: string, cwd?: string, stdio?: import('node:child_process').StdioOptions,
 *   sourceDateEpoch?: number, followLinks?: boolean, lockTimeoutMs?: number, onProgress?: Function,
 *   registry?: string, push?: boolean, insecure?: boolean, concurrency?: number, env?: NodeJS.ProcessEnv,
 *   onWarning?: (message: string) => void, onCommandStart?: () => void, signKey?: string,
 * } & import('./transfer.mjs').TrustOptions} options registry: default $CTXPACK_REGISTRY, then the config file; none configured means pantry only;
 *   signKey: a private key (PEM file; default $CTXPACK_SIGN_KEY) that signs the pack before --push pushes it;
 *   requireSignature/trustKeys/trustPolicy: a registry pack without a trusted signature is a miss (with a warning);
 *   onCommandStart: called just before the command is spawned (the CLI clears its progress bar)
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
  const signKey = options.signKey ?? ((options.env ?? process.env).CTXPACK_SIGN_KEY || undefined);
  const finish = async (source, exitCode) => {
    const publish = pushRegistry && source !== 'registry';
    if (publish && signKey) await sign(identity.uri, { key: signKey, home: options.home });
    const pushed = publish ? await push(identity.uri, transferOptions(options, pushRegistry)) : undefined;
    return { uri: identity.uri, hit: source !== 'command', source, durationMs: elapsed(), exitCode, outputsPath, ...(pushed ? { pushed } : {}) };
  };

  let source = openPantry(options).has(identity.uri) ? 'pantry' : undefined;
  if (source === undefined && (await pulledFromRegistry(identity.uri, options))) source = 'registry';
  if (source !== undefined) {
    const { manifest } = await materializeOutputs(identity.uri, outputsPath, options);
    warnIfMadeByAnotherCommand(manifest, command, options);
    return finish(source, null);
  }

  // What the command leaves in the folder is packed: files already there would be packed with it.
  if (!isAbsentOrEmpty(outputsPath)) {
    throw new CtxpackError('CTX_TARGET_EXISTS', `the outputs folder ${outputsPath} is not empty, and the pantry has no pack of ${identity.uri}`, {
      subject: identity.outputs[0].path,
      hint: 'remove or empty it so that the pack holds only what the command writes; nothing was run',
    });
  }
  options.onCommandStart?.();
  const exitCode = await runCommand(command, options);
  if (!fs.existsSync(outputsPath)) {
    throw new CtxpackError('CTX_COMMAND_FAILED', `the command succeeded but did not write ${outputsPath}`, {
      subject: identity.outputs[0].path,
      hint: "make the command write its results to the contract's outputs path",
    });
  }
  await seed(outputsPath, { ...options, identity, provenance: { tool: 'ctxpack run', command: recordedCommand(command) } });
  return finish('command', exitCode);
}

/** The command as provenance records it: its argv, with anything a secret detector flags masked. */
function recordedCommand(command) {
  return command.map((arg) => redactText(arg).text);
}

/** A hit is the contract's pack whatever command made it; say so when that was another command. */
function warnIfMadeByAnotherCommand(manifest, command, options) {
  const made = manifest.provenance?.command;
  if (!Array.isArray(made)) return;
  const same = (given) => JSON.stringify(made) === JSON.stringify(given);
  // Masking compiles the detectors (a few hundred ms): only when the command as given does not match.
  if (same(command)) return;
  const recorded = recordedCommand(command);
  if (same(recorded)) return;
  options.onWarning?.(
    `the pack was made by \`${shellWords(made)}\`, not \`${shellWords(recorded)}\`; the contract is its identity, so its outputs were ` +
      'restored (change the contract, e.g. a transform param, if the command changes the results)',
  );
}

/** argv as a shell would need it typed: words with spaces or special characters in single quotes. */
function shellWords(argv) {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${String(arg).replaceAll("'", "'\\''")}'`)).join(' ');
}

/** True when nothing is at `dir`, or an empty directory is. */
function isAbsentOrEmpty(dir) {
  try {
    return fs.statSync(dir).isDirectory() && fs.readdirSync(dir).length === 0;
  } catch (error) {
    if (error.code === 'ENOENT') return true;
    throw toCtxpackError(error, dir);
  }
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
    if (UNTRUSTED.has(error?.code)) {
      options.onWarning?.(`the registry's pack was refused: ${error.message}; running the command instead`);
      return false;
    }
    if (REGISTRY_DOWN.has(error?.code)) {
      options.onWarning?.(`${error.message}; running the command instead`);
      return false;
    }
    throw error;
  }
}

function transferOptions(options, registry) {
  const { home, insecure, timeout, caFile, concurrency, env, onProgress, onEvent, requireSignature, trustKeys, trustPolicy } = options;
  return { registry, home, insecure, timeout, caFile, concurrency, env, onProgress, onEvent, requireSignature, trustKeys, trustPolicy };
}

/**
 * Spawn without a shell; resolve with exit code 0, otherwise throw CTX_COMMAND_FAILED whose `exitCode` is what
 * a shell would report: the command's status, 127 when it was not found, 126 when it could not be executed,
 * 128 + n when signal n killed it.
 */
function runCommand(command, { cwd, stdio = 'inherit' }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd, stdio });
    child.on('error', (error) => {
      const notFound = error.code === 'ENOENT';
      const failure = new CtxpackError('CTX_COMMAND_FAILED', `could not start ${command[0]}: ${notFound ? 'command not found' : error.code ?? error.message}`, {
        subject: command[0],
        hint: notFound ? 'check the command name and that it is on PATH; nothing was stored' : 'check that the file is an executable program; nothing was stored',
      });
      failure.exitCode = notFound ? 127 : 126;
      reject(failure);
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve(code);
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      const error = new CtxpackError('CTX_COMMAND_FAILED', `${command[0]} ${how}; nothing was stored`, { subject: command[0] });
      error.exitCode = signal ? 128 + (osConstants.signals[signal] ?? 0) : code;
      reject(error);
    });
  });
}

/**
 * Put a pantry pack's outputs at `outputsPath`; returns the pantry's unpacked copy (with its manifest). A
 * folder already holding exactly that tree is left alone; any other non-empty folder is refused
 * (CTX_TARGET_EXISTS) rather than overwritten.
 */
async function materializeOutputs(uri, outputsPath, options) {
  const copy = await materialize(uri, options);
  if (await holdsTree(outputsPath, copy.manifest)) return copy;
  await fillFreshTarget(outputsPath, (tempDir) => copyTree(copy.path, copy.manifest.outputs.entries, tempDir));
  return copy;
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
