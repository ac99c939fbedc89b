// Option tables and helpers shared by the command modules.
import { CtxpackError } from '../errors.mjs';

export const GLOBAL_OPTIONS = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const GLOBAL_HELP_LINES = `Global options:
  --home <dir>   pantry location (default: $CTXPACK_HOME, else ~/.cache/ctxpack)
  --json         print one JSON document on stdout (errors as {"error": {...}})
  -h, --help     show this help`;

export const CONTRACT_OPTIONS = {
  contract: { type: 'string', required: true },
  'follow-links': { type: 'boolean' },
};

export const CONTRACT_HELP_LINES = `  --contract <file>  the contract (JSON); its paths are relative to its directory
  --follow-links     record symlinks as the files they point to`;

/** Reader limits, named like the core's Limits, as --max-… options. */
const LIMIT_NAMES = {
  'max-manifest-bytes': 'maxManifestBytes',
  'max-entry-bytes': 'maxEntryBytes',
  'max-total-bytes': 'maxTotalBytes',
  'max-entries': 'maxEntries',
  'max-ratio': 'maxRatio',
};

export const LIMIT_OPTIONS = Object.fromEntries(Object.keys(LIMIT_NAMES).map((name) => [name, { type: 'string' }]));

export const LIMIT_HELP_LINES = `  --max-entry-bytes <n>     largest file to accept (the defaults guard against hostile packs)
  --max-total-bytes <n>     largest total of file sizes
  --max-entries <n>         most files and symlinks
  --max-manifest-bytes <n>  largest manifest.json
  --max-ratio <n>           largest inflated / compressed ratio (gzip bombs)`;

/** The Partial<Limits> given on the command line, or undefined. */
export function limitsFrom(values) {
  const limits = {};
  for (const [option, key] of Object.entries(LIMIT_NAMES)) {
    if (values[option] === undefined) continue;
    const value = Number(values[option]);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new CtxpackError('CTX_USAGE', `--${option} must be a positive whole number, got ${JSON.stringify(values[option])}`, {
        hint: `e.g. --${option} 1000000`,
      });
    }
    limits[key] = value;
  }
  return Object.keys(limits).length > 0 ? limits : undefined;
}

export function globalHelp(commands) {
  const width = Math.max(...commands.map((command) => command.synopsis.length));
  const lines = commands.map((command) => `  ${command.synopsis.padEnd(width)}  ${command.summary}`);
  return `ctxpack — content-addressed packs for AI pipeline outputs

Usage: ctxpack <command> [options]

Commands:
${lines.join('\n')}

${GLOBAL_HELP_LINES}

Run \`ctxpack <command> --help\` for a command's options.
`;
}

/** A command's --help text. */
export function commandHelp({ synopsis, summary, details = '', optionLines = [] }) {
  const sections = [`Usage: ctxpack ${synopsis}`, summary];
  if (details) sections.push(details);
  if (optionLines.length > 0) sections.push(`Options:\n${optionLines.join('\n')}`);
  sections.push(GLOBAL_HELP_LINES);
  return sections.join('\n\n');
}

export function usageError(message, hint) {
  return new CtxpackError('CTX_USAGE', message, { hint });
}
