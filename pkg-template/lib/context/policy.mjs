// The context policy of a project: `.intent/context/policy.yaml` and `schema.yaml` as the original lays them
// out, gitleaks rule files, and ctxpack's built-in defaults for whatever is absent.
import fs from 'node:fs';
import path from 'node:path';
import { ContextPolicy } from '../core-node.mjs';
import { toCtxpackError } from '../errors.mjs';
import { readContextDocument } from './documents.mjs';

export const POLICY_PATH = path.join('.intent', 'context', 'policy.yaml');
export const SCHEMA_PATH = path.join('.intent', 'context', 'schema.yaml');
/** gitleaks' own default location: a project that already runs gitleaks gets the same rules here. */
export const GITLEAKS_PATH = '.gitleaks.toml';

/**
 * @param {{project?: string, policy?: string, schema?: string, gitleaks?: string[]}} [options]
 *   explicit files win over the project's; `gitleaks` adds rule files to the project's `.gitleaks.toml`.
 * @returns {{policy: ContextPolicy, files: string[]}} the policy and the files it was read from
 */
export function loadContextPolicy({ project = process.cwd(), policy, schema, gitleaks = [] } = {}) {
  const files = [];
  const pick = (explicit, relative) => {
    const file = explicit ?? path.join(project, relative);
    if (explicit === undefined && !fs.existsSync(file)) return undefined;
    files.push(file);
    return file;
  };
  const policyFile = pick(policy, POLICY_PATH);
  const schemaFile = pick(schema, SCHEMA_PATH);
  const projectGitleaks = path.join(project, GITLEAKS_PATH);
  const gitleaksFiles = [...(fs.existsSync(projectGitleaks) ? [projectGitleaks] : []), ...gitleaks];
  files.push(...gitleaksFiles);
  const gitleaksTexts = gitleaksFiles.map((file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw toCtxpackError(error, file);
    }
  });
  const policyDoc = policyFile === undefined ? undefined : readContextDocument(policyFile);
  const schemaDoc = schemaFile === undefined ? undefined : readContextDocument(schemaFile);
  try {
    return { policy: new ContextPolicy(policyDoc, { gitleaks: gitleaksTexts, schema: schemaDoc }), files };
  } catch (error) {
    if (error && typeof error === 'object' && error.subject === undefined) error.subject = files.join(', ');
    throw error;
  }
}
