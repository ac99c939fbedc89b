// Option tables and helpers shared by the command modules.
import { CtxpackError } from '../errors.mjs';
import { formatBytes, plural } from '../format.mjs';

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
  'no-cache': { type: 'boolean' },
};

export const CONTRACT_HELP_LINES = `  --contract <file>  the contract (JSON); its paths are relative to its directory
  --follow-links     record symlinks as the files they point to
  --no-cache         hash every input byte, trusting no stat cache (also: CTXPACK_NO_STAT_CACHE=1)`;

/** Reader limits, named like the core's Limits, as --max-… options. */
const LIMIT_NAMES = {
  'max-manifest-bytes': 'maxManifestBytes',
  'max-provenance-bytes': 'maxProvenanceBytes',
  'max-entry-bytes': 'maxEntryBytes',
  'max-total-bytes': 'maxTotalBytes',
  'max-entries': 'maxEntries',
  'max-ratio': 'maxRatio',
};

export const LIMIT_OPTIONS = Object.fromEntries(Object.keys(LIMIT_NAMES).map((name) => [name, { type: 'string' }]));

export const LIMIT_HELP_LINES = `  --max-entry-bytes <n>       largest file to accept (the defaults guard against hostile packs)
  --max-total-bytes <n>       largest total of file sizes
  --max-entries <n>           most files and symlinks
  --max-manifest-bytes <n>    largest manifest.json
  --max-provenance-bytes <n>  largest provenance in manifest.json (it is not identity; default 1 MiB)
  --max-ratio <n>             largest inflated / compressed ratio (gzip bombs)`;

/** The Partial<Limits> given on the command line, or undefined. */
export function limitsFrom(values) {
  const limits = {};
  for (const [option, key] of Object.entries(LIMIT_NAMES)) {
    if (values[option] === undefined) continue;
    const value = Number(values[option]);
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw usageError(`--${option} must be a positive whole number, got ${JSON.stringify(values[option])}`, `e.g. --${option} 1000000`);
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
  -V, --version  print the versions of ctxpack, its core and Node (before any command)

Run \`ctxpack help <command>\` (or \`ctxpack <command> --help\`) for a command's options.
`;
}

/** A command's --help text, from the synopsis, summary, details and optionLines its module declares. */
export function commandHelp({ synopsis, summary, details = '', optionLines = [] }) {
  const sections = [`Usage: ctxpack ${synopsis}`, summary];
  if (details) sections.push(details);
  if (optionLines.length > 0) sections.push(`Options:\n${optionLines.join('\n')}`);
  sections.push(GLOBAL_HELP_LINES);
  return sections.join('\n\n');
}

/**
 * A command group (`trace`, `context`): main dispatches on its first positional to one of `subcommands`, each an
 * ordinary command module; the group's help lists them.
 */
export function commandGroup({ name, summary, subcommands }) {
  const width = Math.max(...subcommands.map((command) => command.synopsis.length));
  return {
    name,
    synopsis: `${name} <command> …`,
    summary,
    details: `Commands:\n${subcommands.map((command) => `  ${command.synopsis.padEnd(width)}  ${command.summary}`).join('\n')}

Run \`ctxpack ${name} <command> --help\` for a command's options.`,
    options: {},
    positionals: [0, 0],
    subcommands,
  };
}

export function usageError(message, hint) {
  return new CtxpackError('CTX_USAGE', message, { hint });
}

/** How to reach registries: plain http, how long to wait, which CA to trust. */
export const CONNECTION_OPTIONS = {
  insecure: { type: 'boolean' },
  timeout: { type: 'string' },
  'ca-file': { type: 'string' },
};

export const CONNECTION_HELP_LINES = `  --insecure         allow plain http:// to a registry that is not on this machine
  --timeout <s>      seconds to wait for an answer or the next byte (default $CTXPACK_TIMEOUT, else 30);
                     a transfer that makes no progress for four times that fails (CTX_REGISTRY_TIMEOUT)
  --ca-file <pem>    trust the CA certificates in this file too (default $CTXPACK_CA_FILE)`;

export const REGISTRY_OPTIONS = {
  registry: { type: 'string' },
  ...CONNECTION_OPTIONS,
};

export const REGISTRY_HELP_LINES = `  --registry <ref>   <host>[:port]/<repository> (default: $CTXPACK_REGISTRY, else "registry" in
                     $CTXPACK_CONFIG or ~/.config/ctxpack/config.json)
${CONNECTION_HELP_LINES}`;

/** The CONNECTION_OPTIONS given on the command line, as options of the registry API. */
export function connectionFrom(values) {
  return { insecure: values.insecure, timeout: values.timeout, caFile: values['ca-file'] };
}

export const CONCURRENCY_OPTIONS = { concurrency: { type: 'string' } };

export const CONCURRENCY_HELP_LINES = '  --concurrency <n>  blobs transferred at once (default 4)';

/** The options of the commands that move packs to or from the configured registry (push, pull, run). */
export const REGISTRY_TRANSFER_OPTIONS = { ...REGISTRY_OPTIONS, ...CONCURRENCY_OPTIONS };

export const REGISTRY_TRANSFER_HELP_LINES = `${REGISTRY_HELP_LINES}\n${CONCURRENCY_HELP_LINES}`;

export const AUTH_DETAILS = `Credentials: $CTXPACK_USER and $CTXPACK_TOKEN for the registry $CTXPACK_REGISTRY names (else for the one
registry of the command), else Docker's config ($DOCKER_CONFIG or ~/.docker: credHelpers, auths, credsStore), as
\`ctxpack login\` or \`docker login\` stored them; else anonymous. Credentials go only to their registry's origin.`;

/** --concurrency as a number, or undefined for the default. */
export function concurrencyFrom(values) {
  if (values.concurrency === undefined) return undefined;
  const value = Number(values.concurrency);
  if (!Number.isSafeInteger(value) || value < 1 || value > 64) {
    throw usageError(`--concurrency must be a whole number from 1 to 64, got ${JSON.stringify(values.concurrency)}`, 'e.g. --concurrency 8');
  }
  return value;
}

/** The REGISTRY_TRANSFER_OPTIONS given on the command line, as options of the transfer API. */
export function registryTransferFrom(values) {
  return { registry: values.registry, ...connectionFrom(values), concurrency: concurrencyFrom(values) };
}

/** What a copy did, in a line: "3 blobs (12.0 MiB) uploaded, 1 already there". */
export function describeTransfer(result, verb) {
  if (result.alreadyPresent) return 'already there; nothing transferred';
  const { transferred, skipped, mounted } = result.blobs;
  const parts = [`${plural(transferred, 'blob')} ${verb} (${formatBytes(result.bytes)})`];
  if (mounted > 0) parts.push(`${mounted} mounted`);
  if (skipped > 0) parts.push(`${skipped} already there`);
  return parts.join(', ');
}

/** The warning when a registry refused the ctxpack config type and got the fallback form. */
export function fallbackWarning(result, registry) {
  return result.fallback
    ? [`${registry} refused the ctxpack config type; pushed the fallback form (empty config, manifest.json as the first layer), which ctxpack reads the same way`]
    : [];
}

/** The output of push and copy: the pack's reference on stdout, then what moved and any fallback warning. */
export function uploadOutput(result, { done, verb, registry }) {
  return {
    text: result.reference,
    note: `${done}: ${describeTransfer(result, verb)}`,
    warnings: [...fallbackWarning(result, registry), ...(result.warnings ?? [])],
    json: result,
  };
}

/** Signature checks of the commands that take packs from a registry (pull, run, copy). */
export const TRUST_OPTIONS = {
  'require-signature': { type: 'boolean' },
  'trust-key': { type: 'string', multiple: true },
  'trust-policy': { type: 'string' },
};

export const TRUST_HELP_LINES = `  --require-signature   refuse a pack without a valid signature from a trusted key (checked before
                        anything is stored)
  --trust-key <pub>     trust this public key (SPKI PEM, e.g. from \`ctxpack keygen\`); repeatable;
                        implies --require-signature
  --trust-policy <file> trust policy (default $CTXPACK_TRUST_POLICY, else ~/.config/ctxpack/trust.json if it
                        exists): per registry scope, trusted keys and whether a signature is required`;

/** The TRUST_OPTIONS given on the command line, as options of the API. */
export function trustFrom(values) {
  return { requireSignature: values['require-signature'], trustKeys: values['trust-key'], trustPolicy: values['trust-policy'] };
}
