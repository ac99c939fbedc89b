// Reading a command line against the option tables, in ctxpack's own words: an unknown option with the option
// it was likely meant to be, a missing value, a value given to a flag, a wrong number of arguments. Node's
// parseArgs only tokenises (strict: false), so its own wording never reaches the user.
import { parseArgs } from 'node:util';
import { GLOBAL_OPTIONS, usageError } from './shared.mjs';
import { didYouMean } from './suggest.mjs';

/**
 * The command is the first positional argument; global options may come before it. `before` holds the
 * arguments ahead of the command (where `--version` is looked for).
 * @returns {{command: string | undefined, rest: string[], before: string[]}}
 */
export function splitCommand(args) {
  const { tokens } = parseArgs({ args, options: GLOBAL_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((token) => token.kind === 'positional' || token.kind === 'option-terminator');
  if (!first || first.kind !== 'positional') return { command: undefined, rest: args, before: first ? args.slice(0, first.index) : args };
  return { command: first.value, rest: [...args.slice(0, first.index), ...args.slice(first.index + 1)], before: args.slice(0, first.index) };
}

/** The positional arguments among global options (`ctxpack help --home x run` → ["run"]). */
export function positionalsOf(args) {
  return parseArgs({ args, options: GLOBAL_OPTIONS, strict: false, allowPositionals: true }).positionals;
}

/**
 * Values and positionals of one command's arguments. A command that `acceptsCommand` (run) gets what follows
 * `--` separately, as `afterTerminator`.
 * @returns {{values: object, positionals: string[], afterTerminator: string[]}}
 */
export function parseCommandArgs(spec, args) {
  const options = { ...GLOBAL_OPTIONS, ...spec.options };
  const usage = `run \`ctxpack help ${spec.name}\` for the usage`;
  const { values, positionals: all, tokens } = parseArgs({
    args,
    options: parseArgsOptions(options),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === 'option') checkOption(token, options, usage);
  }
  const terminator = tokens.find((token) => token.kind === 'option-terminator');
  const afterTerminator = terminator ? args.slice(terminator.index + 1) : [];
  const before = tokens.filter((token) => token.kind === 'positional' && (!terminator || token.index < terminator.index));
  const positionals = spec.acceptsCommand ? before.map((token) => token.value) : all;
  if (values.help) return { values, positionals, afterTerminator };
  const [min, max] = spec.positionals;
  if (positionals.length > max) {
    const extra = positionals[max];
    throw usageError(`unexpected argument ${JSON.stringify(extra)}: ${spec.name} takes ${describeCount(min, max)} (ctxpack ${spec.synopsis})`, usage);
  }
  if (positionals.length < min) {
    throw usageError(`${spec.name} needs ${describeCount(min, max)}: ctxpack ${spec.synopsis}`, usage);
  }
  for (const [name, option] of Object.entries(spec.options)) {
    if (option.required && values[name] === undefined) throw usageError(`${spec.name} needs --${name}: ctxpack ${spec.synopsis}`, usage);
  }
  return { values, positionals, afterTerminator };
}

function checkOption(token, options, usage) {
  const option = options[token.name];
  if (!option) {
    const known = Object.entries(options).flatMap(([name, { short }]) => (short ? [`--${name}`, `-${short}`] : [`--${name}`]));
    throw usageError(`unknown option ${token.rawName}${token.rawName.startsWith('--') ? didYouMean(token.rawName, known) : ''}`, usage);
  }
  if (option.type === 'boolean') {
    if (token.inlineValue) throw usageError(`${token.rawName} takes no value (got ${token.rawName}=${token.value})`, usage);
    return;
  }
  if (token.value === undefined) throw usageError(`${token.rawName} needs a value`, usage);
  // `--contract --json`: the next option is almost never meant as the value.
  if (!token.inlineValue && token.value.startsWith('-') && token.value !== '-') {
    throw usageError(`${token.rawName} needs a value, but the option ${token.value} follows it`, `write ${token.rawName}=${token.value} if that is the value; ${usage}`);
  }
}

/** parseArgs's view of our option table (which also says which options are required). */
function parseArgsOptions(options) {
  return Object.fromEntries(
    Object.entries(options).map(([name, { type, short, multiple }]) => [name, { type, ...(short ? { short } : {}), ...(multiple ? { multiple } : {}) }]),
  );
}

function describeCount(min, max) {
  if (max === Infinity) return `at least ${min} argument${min === 1 ? '' : 's'}`;
  if (min === max) return min === 0 ? 'no arguments' : `${min} argument${min === 1 ? '' : 's'}`;
  return `${min} to ${max} arguments`;
}
