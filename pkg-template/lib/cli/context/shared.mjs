// Options and output helpers shared by the `ctxpack context` commands.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { redactText } from '../../core-node.mjs';
import { CtxpackError } from '../../errors.mjs';
import { formatContextDocument, writeContextDocument } from '../../context/documents.mjs';
import { loadContextPolicy } from '../../context/policy.mjs';
import { usageError } from '../shared.mjs';

export const POLICY_OPTIONS = {
  project: { type: 'string' },
  policy: { type: 'string' },
  schema: { type: 'string' },
  gitleaks: { type: 'string', multiple: true },
  'approve-remote': { type: 'boolean' },
};

export const POLICY_HELP_LINES = [
  '  --project <dir>    the project root (default: the current directory)',
  '  --policy <file>    policy (default: <project>/.intent/context/policy.yaml, else the built-in policy)',
  '  --schema <file>    schema (default: <project>/.intent/context/schema.yaml, else the built-in one)',
  '  --gitleaks <file>  add the rules of a gitleaks TOML file (repeatable; <project>/.gitleaks.toml is read too)',
  '  --approve-remote   approve a remote_allowed packet the policy reserves for approval (recorded in the audit log)',
];

export const OUTPUT_OPTIONS = {
  output: { type: 'string', short: 'o' },
  force: { type: 'boolean' },
  format: { type: 'string' },
};

export const OUTPUT_HELP_LINES = [
  '  -o, --output <file>  write the packet there (YAML, or JSON for .json) instead of stdout',
  '  --force              replace the output file if it exists',
  '  --format yaml|json   the format on stdout (default yaml)',
];

export const TOKENIZER_OPTIONS = { tokenizer: { type: 'string' } };
export const TOKENIZER_HELP_LINES = [
  '  --tokenizer <module>  a JS module whose default export counts tokens: (text) => number',
  '                        (default: the built-in exact o200k_base count)',
];

export function policyOptions(values) {
  return { project: values.project, policy: values.policy, schema: values.schema, gitleaks: values.gitleaks ?? [] };
}

export function loadPolicy(values) {
  return loadContextPolicy(policyOptions(values)).policy;
}

/** The tokenizer a --tokenizer module exports, checked on a sample. */
export async function loadTokenizer(values) {
  if (values.tokenizer === undefined) return undefined;
  const file = path.resolve(values.tokenizer);
  if (!fs.existsSync(file)) throw usageError(`--tokenizer ${values.tokenizer}: no such file`, 'give the path of an .mjs module');
  const module = await import(pathToFileURL(file).href);
  const count = module.default ?? module.countTokens;
  if (typeof count !== 'function' || !Number.isSafeInteger(count('hello world'))) {
    throw new CtxpackError('CTX_USAGE', `${values.tokenizer} does not export a function (text) => number`, {
      hint: 'export default (text) => tokenizer.encode(text).length',
    });
  }
  return count;
}

/**
 * Write `doc` where the options say: a file (atomically, never over an existing one without --force), or
 * stdout as text. Returns the command result's `text` part.
 */
export function emitDocument(doc, values, json) {
  if (values.output !== undefined) {
    writeContextDocument(values.output, doc, { overwrite: Boolean(values.force) });
    return undefined;
  }
  if (json) return undefined;
  const format = values.format ?? 'yaml';
  if (format !== 'yaml' && format !== 'json') throw usageError(`--format must be yaml or json, got ${JSON.stringify(format)}`);
  return formatContextDocument(doc, { format }).trimEnd();
}

export function violationLines(violations) {
  return violations.map((violation) => `  ${violation.path}: ${violation.code} ${violation.message}`);
}

export function positiveInteger(values, name) {
  if (values[name] === undefined) return undefined;
  const value = Number(values[name]);
  if (!Number.isSafeInteger(value) || value <= 0) throw usageError(`--${name} must be a positive whole number, got ${JSON.stringify(values[name])}`);
  return value;
}

/**
 * A message or summary line that quotes packet text (item names, a problem summary, old audit events), with
 * whatever the built-in detectors flag masked: messages never carry a secret, even one the packet still holds.
 */
export function masked(text) {
  return redactText(text).text;
}
