// Which keys to trust for a registry scope, and whether a signature is required: the --trust-key files and
// --require-signature of the command, joined with the trust policy's rule for the scope (--trust-policy, else
// $CTXPACK_TRUST_POLICY, else ~/.config/ctxpack/trust.json when it exists). The policy's rules are the core's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { readPublicKey } from './keys.mjs';

const MAX_POLICY_BYTES = 1024 * 1024;

/**
 * @param {{trustKeys?: string[], trustPolicy?: string, requireSignature?: boolean, env?: NodeJS.ProcessEnv}} options
 * @param {string} scope "<host>[:port]/<repository>"
 * @returns {{required: boolean, keys: string[], policy?: {path: string, rule: string, matched: string}}} keys: PEM texts
 */
export function trustFor(options, scope) {
  const keys = (options.trustKeys ?? []).map((file) => readPublicKey(file));
  // A key given on the command line is given to be checked: it implies --require-signature.
  let required = Boolean(options.requireSignature) || keys.length > 0;
  const policyPath = policyFile(options);
  let policy;
  if (policyPath !== undefined) {
    const rule = core.trustPolicyRule(readPolicy(policyPath), scope);
    if (rule) {
      required ||= rule.signatureRequired;
      for (const key of rule.trustedKeys) {
        keys.push('pem' in key ? key.pem : readPublicKey(path.resolve(path.dirname(policyPath), key.path)));
      }
      policy = { path: policyPath, rule: rule.name, matched: rule.matched };
    }
  }
  if (required && keys.length === 0) {
    throw new CtxpackError('CTX_USAGE', `a signature is required for ${scope} but no key is trusted`, {
      hint: 'give --trust-key <file.pub>, or trusted keys in the trust policy for this scope',
    });
  }
  return { required, keys, ...(policy ? { policy } : {}) };
}

/** The trust policy file in effect, or undefined: an explicit one must exist, the default may not. */
function policyFile({ trustPolicy, env = process.env }) {
  const explicit = trustPolicy ?? (env.CTXPACK_TRUST_POLICY || undefined);
  if (explicit !== undefined) return path.resolve(explicit);
  const fallback = path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'ctxpack', 'trust.json');
  return fs.existsSync(fallback) ? fallback : undefined;
}

function readPolicy(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new CtxpackError('CTX_NOT_FOUND', `trust policy ${file} does not exist`, { subject: file, hint: 'check the --trust-policy path' });
  }
  if (!stat.isFile() || stat.size > MAX_POLICY_BYTES) {
    throw new CtxpackError('CTX_TRUST_POLICY_INVALID', `${file} is not a trust policy file`, { subject: file });
  }
  return fs.readFileSync(file, 'utf8');
}
