// Execution refs: a full ctx:// URI, a bare 64-hex digest, or a unique prefix of at least 8 hex digits.
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { openPantry } from '../pantry.mjs';
import { ARTIFACT_TYPES } from '../stores/layout-store.mjs';

export const MIN_PREFIX_HEX = 8;
const HEX_PREFIX = /^[0-9a-f]+$/;
const URI_PREFIX = 'ctx://sha256:';
const NOT_FOUND_HINT = 'run `ctxpack trace log` to see the execution packs in the pantry';

/**
 * The canonical URI of the execution pack a ref names.
 * @param {string} ref
 * @param {{home?: string}} [options]
 * @returns {string}
 */
export function traceResolve(ref, options = {}) {
  return resolveExecutionRef(openPantry(options), ref);
}

/** traceResolve on an open pantry. */
export function resolveExecutionRef(pantry, ref) {
  const text = String(ref).trim();
  if (text.startsWith('ctx://')) return requireStored(pantry, core.parseUri(text));
  const hex = text.toLowerCase();
  if (!HEX_PREFIX.test(hex) || hex.length > 64) {
    throw new CtxpackError('CTX_USAGE', `${JSON.stringify(text)} is not an execution pack ref`, {
      subject: text,
      hint: `give a ctx://sha256:<hex> URI, its 64 hex digits, or a prefix of at least ${MIN_PREFIX_HEX} of them`,
    });
  }
  if (hex.length === 64) return requireStored(pantry, `${URI_PREFIX}${hex}`);
  if (hex.length < MIN_PREFIX_HEX) {
    throw new CtxpackError('CTX_USAGE', `the prefix ${hex} is too short: give at least ${MIN_PREFIX_HEX} hex digits`, {
      subject: text,
      hint: NOT_FOUND_HINT,
    });
  }
  const matches = pantry.listExecutions().filter((entry) => entry.uri.startsWith(`${URI_PREFIX}${hex}`));
  if (matches.length === 1) return matches[0].uri;
  if (matches.length === 0) {
    throw new CtxpackError('CTX_NOT_FOUND', `no execution pack in the pantry at ${pantry.home} starts with ${hex}`, {
      subject: text,
      hint: NOT_FOUND_HINT,
    });
  }
  throw new CtxpackError('CTX_AMBIGUOUS', `${hex} matches ${matches.length} execution packs: ${matches.map((entry) => entry.uri).join(', ')}`, {
    subject: text,
    hint: 'give more hex digits, or the full URI',
  });
}

function requireStored(pantry, uri) {
  if (!pantry.has(uri, { artifactType: ARTIFACT_TYPES.execution })) {
    throw new CtxpackError('CTX_NOT_FOUND', `${uri} is not an execution pack in the pantry at ${pantry.home}`, {
      subject: uri,
      hint: NOT_FOUND_HINT,
    });
  }
  return uri;
}
