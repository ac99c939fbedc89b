// The `ctxpack` command line: global options, dispatch to one module per command, output and errors.
// Exit codes: 0 success, 1 error, 2 usage error, 3 a context packet blocked from a remote model; a command may return others (`trace diff`: 1 when they differ).
// With --json, stdout holds exactly one JSON document (the result, or {"error": {...}}); without it, errors go
// to stderr as `error[CTX_…]: message` + hint.
// Warnings (`warning: …`) and registry retries go to stderr in both modes.
import { parseArgs } from 'node:util';
import { isCtxpackError, toCtxpackError } from '../errors.mjs';
import { createProgressBar } from '../progress.mjs';
import { GLOBAL_OPTIONS, commandHelp, globalHelp, usageError } from './shared.mjs';
import contextCommand from './context.mjs';
import copyCommand from './copy.mjs';
import exportCommand from './export.mjs';
import fsckCommand from './fsck.mjs';
import gcCommand from './gc.mjs';
import idCommand from './id.mjs';
import importCommand from './import.mjs';
import inspectCommand from './inspect.mjs';
import loginCommand from './login.mjs';
import logoutCommand from './logout.mjs';
import lsCommand from './ls.mjs';
import pullCommand from './pull.mjs';
import pushCommand from './push.mjs';
import resolveCommand from './resolve.mjs';
import rmCommand from './rm.mjs';
import runCommand from './run.mjs';
import seedCommand from './seed.mjs';
import traceCommand from './trace.mjs';
import unpackCommand from './unpack.mjs';
import verifyCommand from './verify.mjs';
import versionCommand from './version.mjs';

export const COMMANDS = [
  idCommand,
  seedCommand,
  inspectCommand,
  verifyCommand,
  exportCommand,
  unpackCommand,
  lsCommand,
  rmCommand,
  gcCommand,
  fsckCommand,
  runCommand,
  pushCommand,
  pullCommand,
  resolveCommand,
  copyCommand,
  importCommand,
  loginCommand,
  logoutCommand,
  traceCommand,
  contextCommand,
  versionCommand,
];

/**
 * Run the CLI with `args` (without node and the script). Returns the exit code.
 * @param {string[]} args
 * @param {{stdin?: NodeJS.ReadStream, stdout?: NodeJS.WritableStream, stderr?: NodeJS.WritableStream}} [streams]
 */
export async function main(args, { stdin = process.stdin, stdout = process.stdout, stderr = process.stderr } = {}) {
  const json = wantsJson(args);
  let progress;
  try {
    const { command, rest } = splitCommand(args);
    if (command === undefined) {
      const asked = rest.includes('--help') || rest.includes('-h');
      (asked ? stdout : stderr).write(globalHelp(COMMANDS));
      return asked ? 0 : 2;
    }
    const found = COMMANDS.find((candidate) => candidate.name === command);
    if (!found) throw usageError(`unknown command "${command}"`, 'run `ctxpack --help` for the list of commands');
    const { spec, args: commandArgs } = selectSubcommand(found, rest);
    if (spec === undefined) {
      const asked = rest.includes('--help') || rest.includes('-h');
      (asked ? stdout : stderr).write(`${commandHelp(found).trim()}\n`);
      return asked ? 0 : 2;
    }
    const parsed = parseCommandArgs(spec, commandArgs);
    if (parsed.values.help) {
      stdout.write(`${commandHelp(spec).trim()}\n`);
      return 0;
    }
    progress = createProgressBar({ stream: stderr, enabled: !json });
    const result = await spec.run({
      values: parsed.values,
      positionals: parsed.positionals,
      afterTerminator: parsed.afterTerminator,
      json,
      home: parsed.values.home,
      onProgress: progress.onProgress,
      warn: (message) => progress.print(`warning: ${message}`),
      // Retries and resumes explain a slow transfer; auth and mount events are routine.
      onEvent: (event) => {
        if (event.kind === 'retry' || event.kind === 'resume') progress.print(`${event.kind}: ${event.message}`);
      },
      streams: { stdin, stdout, stderr },
    });
    progress.stop();
    for (const warning of result.warnings ?? []) stderr.write(`warning: ${warning}\n`);
    if (json) stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
    else if (result.text) stdout.write(`${result.text}\n`);
    if (result.note && !json) stderr.write(`${result.note}\n`);
    return result.exitCode ?? 0;
  } catch (caught) {
    progress?.stop();
    return reportError(toCtxpackError(caught), { json, stdout, stderr });
  }
}

function reportError(error, { json, stdout, stderr }) {
  const expected = isCtxpackError(error);
  const code = expected ? error.code : 'CTX_INTERNAL';
  const hint = expected ? error.hint : 'this is a bug in ctxpack; please report it with the trace below';
  if (json) {
    stdout.write(`${JSON.stringify({ error: { code, message: error.message, hint, subject: expected ? error.subject : undefined } }, null, 2)}\n`);
  } else {
    stderr.write(`error[${code}]: ${error.message}\n`);
    if (hint) stderr.write(`  hint: ${hint}\n`);
    if (!expected) stderr.write(`${error.stack}\n`);
  }
  return code === 'CTX_USAGE' ? 2 : code === 'CTX_PACKET_BLOCKED' ? 3 : 1;
}

/** --json is honoured even when the rest of the command line is wrong, so errors come out as JSON too. */
function wantsJson(args) {
  const terminator = args.indexOf('--');
  return (terminator === -1 ? args : args.slice(0, terminator)).includes('--json');
}

/** The command is the first positional argument; global options may come before it. */
function splitCommand(args) {
  const { tokens } = parseArgs({ args, options: GLOBAL_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((token) => token.kind === 'positional' || token.kind === 'option-terminator');
  if (!first || first.kind !== 'positional') return { command: undefined, rest: args };
  return { command: first.value, rest: [...args.slice(0, first.index), ...args.slice(first.index + 1)] };
}

/**
 * A command group (`trace`) runs the subcommand its first positional names (`trace diff …` → the "trace diff"
 * module). `spec` is undefined when no subcommand was given.
 */
function selectSubcommand(group, args) {
  if (!group.subcommands) return { spec: group, args };
  const { command, rest } = splitCommand(args);
  if (command === undefined) return { spec: undefined, args };
  const spec = group.subcommands.find((candidate) => candidate.name === `${group.name} ${command}`);
  if (!spec) throw usageError(`unknown ${group.name} command "${command}"`, `run \`ctxpack ${group.name} --help\` for the list of commands`);
  return { spec, args: rest };
}

function parseCommandArgs(spec, args) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: parseArgsOptions({ ...GLOBAL_OPTIONS, ...spec.options }),
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    throw usageError(error.message, `run \`ctxpack ${spec.name} --help\` for the usage`);
  }
  const terminator = parsed.tokens.find((token) => token.kind === 'option-terminator');
  const before = parsed.tokens.filter((token) => token.kind === 'positional' && (!terminator || token.index < terminator.index));
  const afterTerminator = terminator ? args.slice(terminator.index + 1) : [];
  const positionals = spec.acceptsCommand ? before.map((token) => token.value) : parsed.positionals;
  if (!parsed.values.help) {
    const [min, max] = spec.positionals;
    if (positionals.length < min || positionals.length > max) {
      throw usageError(`${spec.name} takes ${describeCount(min, max)}: ${spec.synopsis}`, `run \`ctxpack ${spec.name} --help\` for the usage`);
    }
    for (const [name, option] of Object.entries(spec.options)) {
      if (option.required && parsed.values[name] === undefined) {
        throw usageError(`${spec.name} needs --${name}: ${spec.synopsis}`, `run \`ctxpack ${spec.name} --help\` for the usage`);
      }
    }
  }
  return { values: parsed.values, positionals, afterTerminator };
}

/** parseArgs's view of our option table (which also says which options are required). */
function parseArgsOptions(options) {
  return Object.fromEntries(Object.entries(options).map(([name, { type, short }]) => [name, short ? { type, short } : { type }]));
}

function describeCount(min, max) {
  if (max === Infinity) return `at least ${min} argument${min === 1 ? '' : 's'}`;
  if (min === max) return min === 0 ? 'no arguments' : `${min} argument${min === 1 ? '' : 's'}`;
  return `${min} to ${max} arguments`;
}
