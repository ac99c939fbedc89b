// Contract → ctx:// URI. The core says which paths the contract needs (inputs, code_path); we hash them
// relative to the contract file's directory and hand the digests back to the core, which resolves the URI.
import fs from 'node:fs';
import path from 'node:path';
import * as core from './core-node.mjs';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { phaseReporter } from './progress.mjs';
import { fileBytes, hashWalkedFiles, treeOf } from './tree.mjs';
import { walkTree } from './walk.mjs';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @typedef {object} ContractSource
 * @property {string} [contractPath] a contract file; its directory is the base for relative paths
 * @property {string | object} [contract] the contract itself (JSON text or an object), with `baseDir`
 * @property {string} [baseDir] base for the contract's relative paths (default: the current directory)
 */

/**
 * Read a contract from a file or take it as given.
 * @param {ContractSource} source
 * @returns {{text: string, baseDir: string}}
 */
export function loadContract({ contractPath, contract, baseDir }) {
  if (contractPath !== undefined) {
    const absolute = path.resolve(contractPath);
    let bytes;
    try {
      bytes = fs.readFileSync(absolute);
    } catch (error) {
      if (error.code === 'ENOENT') {
        throw new CtxpackError('CTX_IO', `contract file ${contractPath} does not exist`, {
          subject: contractPath,
          hint: 'check the --contract path',
        });
      }
      throw toCtxpackError(error, contractPath);
    }
    let text;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new CtxpackError('CTX_JSON_INVALID', `contract file ${contractPath} is not valid UTF-8`, {
        subject: contractPath,
        hint: 'save the contract as UTF-8 JSON',
      });
    }
    return { text, baseDir: path.dirname(absolute) };
  }
  if (contract === undefined || contract === null) {
    throw new CtxpackError('CTX_USAGE', 'no contract given: pass contractPath, or contract with baseDir');
  }
  return {
    text: typeof contract === 'string' ? contract : JSON.stringify(contract),
    baseDir: path.resolve(baseDir ?? '.'),
  };
}

/**
 * Compute a contract's identity, hashing every input and code path it names. `warnings` are the core's
 * (a transform whose code is not part of the identity); the caller shows them.
 * @param {ContractSource & {followLinks?: boolean, onProgress?: Function}} options
 * @returns {Promise<{uri: string, contract: object, outputs: Array<{path: string}>, baseDir: string, warnings: string[]}>}
 */
export async function computeIdentity(options) {
  const { text, baseDir } = loadContract(options);
  const plan = core.contractPlan(text);
  const targets = plan.needs.map((need) => inspectNeed(need, baseDir, options.followLinks ?? false));

  const walked = targets.flatMap((target) => target.entries);
  await hashWalkedFiles(walked, { onBytes: phaseReporter(options.onProgress, 'inputs', fileBytes(walked)) });

  const inputs = {};
  const code = {};
  for (const { need, kind, entries } of targets) {
    const digest = kind === 'tree' ? treeOf(entries).digest : entries[0].digest;
    if (need.kind === 'input') inputs[need.name] = { type: kind, digest };
    else code[String(need.transform)] = digest;
  }
  const { uri, contract } = core.resolveContract(text, { inputs, code });
  return { uri, contract, outputs: plan.outputs, baseDir, warnings: plan.warnings };
}

/** Stat one needed path: a file to hash, or a directory to walk. Nothing is hashed yet. */
function inspectNeed(need, baseDir, followLinks) {
  const absolute = path.resolve(baseDir, need.path);
  const label = need.kind === 'input' ? `input "${need.name}"` : `code_path of transform ${need.transform}`;
  const subject = need.kind === 'input' ? need.name : `transforms[${need.transform}].code_path`;
  let stat;
  try {
    stat = fs.statSync(absolute);
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new CtxpackError('CTX_INPUT_MISSING', `${label}: ${need.path} does not exist (looked for ${absolute})`, {
        subject,
      });
    }
    throw toCtxpackError(error, absolute);
  }
  if (stat.isDirectory()) return { need, kind: 'tree', entries: walkTree(absolute, { followLinks }) };
  if (stat.isFile()) {
    return { need, kind: 'file', entries: [{ path: need.path, type: 'file', size: stat.size, executable: false, source: absolute }] };
  }
  throw new CtxpackError('CTX_UNSUPPORTED_ENTRY_TYPE', `${label}: ${need.path} is neither a file nor a directory`, {
    subject,
  });
}
