// The `ctxpack` command line: global options, dispatch to one module per command, output and errors.
// Exit codes: 0 success, 1 error, 2 usage error, 3 a context packet blocked from a remote model; a command may
// return others (`trace diff`: 1 when they differ; `run`: its command's own status when that command failed).
// `ctxpack help <command>` and `ctxpack --version` (-V) work as in git and docker; misspelled commands and
// options get a "did you mean".
// With --json, stdout holds exactly one JSON document (the result, or {"error": {...}}); without it, errors go
// to stderr as `error[CTX_…]: message` + hint.
// Warnings (`warning: …`) and registry retries go to stderr in both modes.
import { isCtxpackError, toCtxpackError } from '../errors.mjs';
import { createProgressBar } from '../progress.mjs';
import { parseCommandArgs, positionalsOf, splitCommand } from './arguments.mjs';
import { ProcessOutput, streamOf } from './output.mjs';
import { commandHelp, globalHelp, usageError } from './shared.mjs';
import { didYouMean } from './suggest.mjs';

/**
 * The commands, in help order, each loaded only when it runs (or for help): start-up reads the one command's
 * modules, and the wasm core is compiled only by commands that use it.
 */
const COMMAND_MODULES = {
  id: () => import('./id.mjs'),
  seed: () => import('./seed.mjs'),
  inspect: () => import('./inspect.mjs'),
  verify: () => import('./verify.mjs'),
  export: () => import('./export.mjs'),
  unpack: () => import('./unpack.mjs'),
  ls: () => import('./ls.mjs'),
  cat: () => import('./cat.mjs'),
  rm: () => import('./rm.mjs'),
  gc: () => import('./gc.mjs'),
  fsck: () => import('./fsck.mjs'),
  run: () => import('./run.mjs'),
  push: () => import('./push.mjs'),
  pull: () => import('./pull.mjs'),
  resolve: () => import('./resolve.mjs'),
  copy: () => import('./copy.mjs'),
  import: () => import('./import.mjs'),
  keygen: () => import('./keygen.mjs'),
  sign: () => import('./sign.mjs'),
  login: () => import('./login.mjs'),
  logout: () => import('./logout.mjs'),
  trace: () => import('./trace.mjs'),
  context: () => import('./context.mjs'),
  serve: () => import('./serve.mjs'),
  version: () => import('./version.mjs'),
};

/** Every command's module (for the global help). */
async function loadCommands() {
  return Promise.all(Object.values(COMMAND_MODULES).map(async (load) => (await load()).default));
}

/**
 * Run the CLI with `args` (without node and the script). Returns the exit code.
 * @param {string[]} args
 * @param {{stdin?: NodeJS.ReadStream, stdout?: NodeJS.WritableStream, stderr?: NodeJS.WritableStream}} [streams]
 *   the process's own by default (written without making process.stdout and process.stderr: output.mjs)
 */
export async function main(args, { stdin, stdout = new ProcessOutput(1), stderr = new ProcessOutput(2) } = {}) {
  const json = wantsJson(args);
  let progress;
  // Warnings of a command that runs on the identity core wait for the scrubber (it is in the full core), in order.
  let warned = Promise.resolve();
  try {
    const { command, rest, before } = splitCommand(args);
    if (before.some((arg) => arg === '--version' || arg === '-V')) {
      return await runStandalone((await COMMAND_MODULES.version()).default, { json, stdout, stderr });
    }
    if (command === undefined) {
      const asked = rest.includes('--help') || rest.includes('-h');
      (asked ? stdout : stderr).write(globalHelp(await loadCommands()));
      return asked ? 0 : 2;
    }
    if (command === 'help') {
      stdout.write(await helpFor(positionalsOf(rest)));
      return 0;
    }
    const { spec, args: commandArgs } = selectSubcommand(await findCommand(command), rest);
    if (spec.subcommands) {
      const asked = rest.includes('--help') || rest.includes('-h');
      (asked ? stdout : stderr).write(`${commandHelp(spec).trim()}\n`);
      return asked ? 0 : 2;
    }
    const parsed = parseCommandArgs(spec, commandArgs);
    if (parsed.values.help) {
      stdout.write(`${commandHelp(spec).trim()}\n`);
      return 0;
    }
    // A command on the full core loads the scrubber up front (nearly free); one on the identity core only if it prints.
    if (spec.core !== 'id') await loadScrubber();
    progress = createProgressBar({ stream: stderr, enabled: !json });
    const result = await spec.run({
      values: parsed.values,
      positionals: parsed.positionals,
      afterTerminator: parsed.afterTerminator,
      json,
      home: parsed.values.home,
      onProgress: progress.onProgress,
      clearProgress: progress.clear,
      warn: (message) => {
        const print = () => progress.print(`warning: ${scrub(message)}`);
        if (redactText) print();
        else warned = warned.then(loadScrubber).then(print);
      },
      // Retries and resumes explain a slow transfer; auth and mount events are routine.
      onEvent: (event) => {
        if (event.kind === 'retry' || event.kind === 'resume') progress.print(`${event.kind}: ${event.message}`);
      },
      // process.stdin, .stdout and .stderr are made only for a command that uses them (creating one costs up to
      // 10 ms of start-up).
      streams: {
        get stdin() {
          return stdin ?? process.stdin;
        },
        get stdout() {
          return streamOf(stdout);
        },
        get stderr() {
          return streamOf(stderr);
        },
      },
    });
    await warned;
    progress.stop();
    return await writeResult(result, { json, stdout, stderr });
  } catch (caught) {
    await warned.catch(() => {});
    progress?.stop();
    return reportError(toCtxpackError(caught), { json, stdout, stderr });
  }
}

/** A command run without its own arguments (`ctxpack --version` is `ctxpack version`). */
async function runStandalone(spec, { json, stdout, stderr }) {
  return writeResult(await spec.run({ values: {}, positionals: [], json }), { json, stdout, stderr });
}

async function writeResult(result, { json, stdout, stderr }) {
  if (result.warnings?.length) await loadScrubber();
  for (const warning of result.warnings ?? []) stderr.write(`warning: ${scrub(warning)}\n`);
  if (json) stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
  else if (result.text) stdout.write(`${result.text}\n`);
  if (result.note && !json) stderr.write(`${result.note}\n`);
  return result.exitCode ?? 0;
}

async function reportError(error, { json, stdout, stderr }) {
  await loadScrubber();
  const expected = isCtxpackError(error);
  const code = expected ? error.code : 'CTX_INTERNAL';
  const hint = scrub(expected ? error.hint ?? (await defaultHint(code)) : 'this is a bug in ctxpack; please report it with the trace below');
  const message = scrub(error.message);
  // `run` exits with its command's own status (127 not found, 128+n killed by signal n), like `docker run`.
  const commandStatus = code === 'CTX_COMMAND_FAILED' && Number.isInteger(error.exitCode) && error.exitCode > 0 ? error.exitCode : undefined;
  if (json) {
    const subject = expected ? scrub(error.subject) : undefined;
    stdout.write(`${JSON.stringify({ error: { code, message, hint, subject, exitCode: commandStatus } }, null, 2)}\n`);
  } else {
    stderr.write(`error[${code}]: ${message}\n`);
    if (hint) stderr.write(`  hint: ${hint}\n`);
    if (!expected) stderr.write(`${scrub(error.stack)}\n`);
  }
  if (commandStatus !== undefined) return commandStatus;
  return code === 'CTX_USAGE' ? 2 : code === 'CTX_PACKET_BLOCKED' ? 3 : 1;
}

/**
 * Errors and warnings can quote what the user typed or a server said (a token given as an argument, a URL with
 * a password): whatever the built-in detectors flag is masked before it is printed. The detectors are in the
 * full core, loaded here only when there is something to print.
 */
function scrub(text) {
  return typeof text === 'string' ? redactText(text).text : text;
}

let redactText;
async function loadScrubber() {
  redactText ??= (await import('../core-node.mjs')).redactText;
}

/** A code's hint from the core's table, for an error made before the core was loaded (which installs them). */
async function defaultHint(code) {
  const { errorCodes } = await import('../core-node.mjs');
  return errorCodes().find((entry) => entry.code === code)?.hint;
}

/** --json is honoured even when the rest of the command line is wrong, so errors come out as JSON too. */
function wantsJson(args) {
  const terminator = args.indexOf('--');
  return (terminator === -1 ? args : args.slice(0, terminator)).includes('--json');
}

async function findCommand(name) {
  if (Object.hasOwn(COMMAND_MODULES, name)) return (await COMMAND_MODULES[name]()).default;
  const names = [...Object.keys(COMMAND_MODULES), 'help'];
  throw usageError(`unknown command "${name}"${didYouMean(name, names, (match) => `\`${match}\``)}`, 'run `ctxpack --help` for the list of commands');
}

/**
 * A command group (`trace`) runs the subcommand its first positional names (`trace diff …` → the "trace diff"
 * module). Without a subcommand, the group itself is returned (its help is printed).
 */
function selectSubcommand(group, args) {
  if (!group.subcommands) return { spec: group, args };
  const { command, rest } = splitCommand(args);
  if (command === undefined) return { spec: group, args };
  const spec = group.subcommands.find((candidate) => candidate.name === `${group.name} ${command}`);
  if (!spec) {
    const names = group.subcommands.map((candidate) => candidate.name.slice(group.name.length + 1));
    throw usageError(
      `unknown ${group.name} command "${command}"${didYouMean(command, names, (match) => `\`${group.name} ${match}\``)}`,
      `run \`ctxpack help ${group.name}\` for the list of commands`,
    );
  }
  return { spec, args: rest };
}

/** `ctxpack help [command [subcommand]]`: the help text, on stdout. */
async function helpFor(words) {
  if (words.length === 0) return globalHelp(await loadCommands());
  const { spec } = selectSubcommand(await findCommand(words[0]), words.slice(1));
  return `${commandHelp(spec).trim()}\n`;
}
