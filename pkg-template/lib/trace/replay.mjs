// `trace replay`: re-run the steps of a stored execution that the log marks deterministic, through tool
// runners, and compare what they produce with the recorded outputs by digest. Only the execution manifest is
// read (its steps[i].output.{digest,size}); the recorded output blobs are not needed.
//
// Fidelity per step: exact (same sha256), failed (other bytes, or the runner threw), degraded (no runner for
// the tool, so the step could not be checked). Overall: any failed → failed, else any degraded → degraded,
// else exact (also when the log has no deterministic step). Non-deterministic steps (LLM calls, HTTP, writes)
// are not replayed and not listed in `steps`; `skipped` counts them.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { CtxpackError, toCtxpackError } from '../errors.mjs';
import { openPantry } from '../pantry.mjs';
import { resolveExecutionRef } from './resolve.mjs';
import { loadExecution } from './stored.mjs';

/** @typedef {(step: {tool: string, parameters: object, cwd: string}) => Promise<Uint8Array | string>} ReplayRunner */

/**
 * Runners that reproduce the fixture conventions byte for byte (tests/fixtures/execution):
 * - `read_file {path, encoding?}`: the file's bytes (text or `encoding: "binary"`, recorded as base64 — the
 *   blob is the decoded bytes either way); `start_line`/`end_line` (1-based, inclusive) keep those lines.
 * - `read_file_numbered`: the same, each line as `cat -n` with a 4-wide number and a tab (the coding agent's
 *   read tool). Not registered under any tool name: `registerReplayRunner("read_file", builtinRunners.read_file_numbered)`.
 * - `sha256 {path}`: `sha256sum`'s line, `<hex>  <path>\n`, with the path as the log wrote it.
 */
export const builtinRunners = Object.freeze({
  read_file: async ({ parameters, cwd }) => selectLines(await readInside(cwd, parameters), parameters),
  read_file_numbered: async ({ parameters, cwd }) => {
    const { lines, first } = splitLines(await readInside(cwd, parameters), parameters);
    return lines.map((line, i) => `${String(first + i).padStart(4)}\t${line}`).join('');
  },
  sha256: async ({ parameters, cwd }) => {
    const hex = createHash('sha256').update(await readInside(cwd, parameters)).digest('hex');
    return `${hex}  ${parameters.path}\n`;
  },
});

/** Tool name → runner, for the whole process: the built-ins under their fixture names, then registered ones. */
const registeredRunners = new Map([
  ['read_file', builtinRunners.read_file],
  ['sha256', builtinRunners.sha256],
]);

/**
 * Add (or replace) the runner of a tool for every later replay in this process.
 * @param {string} tool
 * @param {ReplayRunner} runner
 */
export function registerReplayRunner(tool, runner) {
  checkRunner(tool, runner);
  registeredRunners.set(tool, runner);
}

/**
 * @param {string} ref a ctx:// URI, 64 hex or a unique prefix of an execution pack in the pantry
 * @param {{home?: string, cwd?: string, runners?: Record<string, ReplayRunner>}} [options]
 *   cwd: where the tools run (file paths in the log are relative to it); runners: for this call only,
 *   before the registered ones
 * @returns {Promise<{uri: string, fidelity: Fidelity, skipped: number,
 *   steps: Array<{index: number, tool: string, fidelity: Fidelity, reason?: string}>}>}
 * @typedef {"exact" | "degraded" | "failed"} Fidelity
 */
export async function traceReplay(ref, { home, cwd = process.cwd(), runners = {} } = {}) {
  for (const [tool, runner] of Object.entries(runners)) checkRunner(tool, runner);
  const pantry = openPantry({ home });
  const uri = resolveExecutionRef(pantry, ref);
  const { manifest } = loadExecution(pantry, uri);
  const directory = await replayDirectory(cwd);
  const steps = [];
  let skipped = 0;
  // Sequentially, in log order: a step may read what an earlier one of the original run produced, and tool
  // runners are not required to be safe to run concurrently.
  for (const step of manifest.steps ?? []) {
    if (step.deterministic !== true) {
      skipped += 1;
      continue;
    }
    const runner = Object.hasOwn(runners, step.tool) ? runners[step.tool] : registeredRunners.get(step.tool);
    steps.push({ index: step.index, tool: step.tool, ...(await replayStep(step, runner, directory)) });
  }
  return { uri, fidelity: overallFidelity(steps), skipped, steps };
}

/** Exit code of the CLI for a fidelity: exact 0, degraded 2, failed 1. */
export function replayExitCode(fidelity) {
  return { exact: 0, degraded: 2, failed: 1 }[fidelity];
}

async function replayStep(step, runner, cwd) {
  if (!runner) return { fidelity: 'degraded', reason: `no runner for ${step.tool}` };
  let produced;
  try {
    produced = await runner({ tool: step.tool, parameters: step.parameters ?? {}, cwd });
  } catch (error) {
    return { fidelity: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
  const bytes = typeof produced === 'string' ? Buffer.from(produced, 'utf8') : produced;
  if (!(bytes instanceof Uint8Array)) {
    return { fidelity: 'failed', reason: `the runner for ${step.tool} returned ${typeof produced}, not a Uint8Array or a string` };
  }
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const recorded = step.output;
  if (digest === recorded.digest && bytes.length === recorded.size) return { fidelity: 'exact' };
  return {
    fidelity: 'failed',
    reason: `recorded ${recorded.digest} (${recorded.size} bytes), replayed ${digest} (${bytes.length} bytes)`,
  };
}

function overallFidelity(steps) {
  if (steps.some((step) => step.fidelity === 'failed')) return 'failed';
  if (steps.some((step) => step.fidelity === 'degraded')) return 'degraded';
  return 'exact';
}

function checkRunner(tool, runner) {
  if (typeof tool !== 'string' || tool === '') {
    throw new CtxpackError('CTX_USAGE', `a replay runner needs a tool name, got ${JSON.stringify(tool)}`);
  }
  if (typeof runner !== 'function') {
    throw new CtxpackError('CTX_USAGE', `the replay runner for ${tool} is not a function`, { subject: tool });
  }
}

/** The working directory, resolved through symlinks (so that readInside compares real paths). */
async function replayDirectory(cwd) {
  try {
    const real = await fs.realpath(path.resolve(cwd));
    if ((await fs.stat(real)).isDirectory()) return real;
  } catch (error) {
    if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw toCtxpackError(error, cwd);
  }
  throw new CtxpackError('CTX_NOT_FOUND', `the replay directory ${cwd} is not a directory`, {
    subject: String(cwd),
    hint: 'give the directory the agent worked in (the paths in the log are relative to it)',
  });
}

/**
 * The bytes of `parameters.path`, relative to cwd (a real path). A log is input from elsewhere: its paths may
 * not be absolute or lead out of cwd, by ".." or a symlink, so that replaying a shared log cannot probe files
 * outside the workspace.
 */
async function readInside(cwd, parameters) {
  const relative = parameters?.path;
  if (typeof relative !== 'string' || relative === '') {
    throw new CtxpackError('CTX_USAGE', 'the step has no "path" parameter');
  }
  const outside = () => new CtxpackError('CTX_PATH_INVALID', `${relative} is not inside the replay directory ${cwd}`, {
    subject: relative,
    hint: 'replay reads only files below its working directory',
  });
  const prefix = cwd.endsWith(path.sep) ? cwd : cwd + path.sep;
  const inside = (candidate) => candidate.startsWith(prefix);
  if (path.isAbsolute(relative) || !inside(path.resolve(cwd, relative))) throw outside();
  try {
    const real = await fs.realpath(path.resolve(cwd, relative));
    if (!inside(real)) throw outside();
    return await fs.readFile(real);
  } catch (error) {
    throw toCtxpackError(error, relative);
  }
}

/** Lines start_line..end_line (1-based, inclusive, each with its "\n"), and the number of the first. */
function splitLines(bytes, parameters) {
  const lines = bytes.toString('utf8').split(/(?<=\n)/);
  if (lines.at(-1) === '') lines.pop();
  const first = Math.max(1, parameters.start_line ?? 1);
  const last = Math.min(lines.length, parameters.end_line ?? lines.length);
  return { lines: lines.slice(first - 1, last), first };
}

function selectLines(bytes, parameters) {
  if (parameters.start_line === undefined && parameters.end_line === undefined) return bytes;
  return splitLines(bytes, parameters).lines.join('');
}
