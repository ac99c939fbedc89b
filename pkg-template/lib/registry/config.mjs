// Which registry a command talks to: the --registry option, else $CTXPACK_REGISTRY, else the config file
// ($CTXPACK_CONFIG, else ~/.config/ctxpack/config.json, `{"registry": "<host>[:port]/<repository>"}`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CtxpackError } from '../errors.mjs';

const NO_REGISTRY_HINT =
  'pass --registry <host>[:port]/<repository>, set CTXPACK_REGISTRY, or put {"registry": "..."} in ~/.config/ctxpack/config.json';

/** The config file's path: $CTXPACK_CONFIG, else ~/.config/ctxpack/config.json. */
export function configPath(env = process.env) {
  return env.CTXPACK_CONFIG || path.join(os.homedir(), '.config', 'ctxpack', 'config.json');
}

/**
 * The registry reference to use, or undefined when none is configured anywhere.
 * @param {string | undefined} option the --registry value
 * @param {{env?: NodeJS.ProcessEnv}} [options]
 * @returns {string | undefined}
 */
export function configuredRegistry(option, { env = process.env } = {}) {
  if (option !== undefined && option !== '') return option;
  if (env.CTXPACK_REGISTRY) return env.CTXPACK_REGISTRY;
  return readConfigFile(configPath(env)).registry;
}

/** Like configuredRegistry, but a missing registry is a usage error. */
export function requireRegistry(option, options) {
  const registry = configuredRegistry(option, options);
  if (registry === undefined) throw new CtxpackError('CTX_USAGE', 'no registry given', { hint: NO_REGISTRY_HINT });
  return registry;
}

function readConfigFile(filePath) {
  let text;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return {};
    throw new CtxpackError('CTX_IO', `cannot read the ctxpack config file ${filePath}: ${error.code}`, { subject: filePath });
  }
  let config;
  try {
    config = JSON.parse(text);
  } catch {
    config = undefined;
  }
  const registry = config?.registry;
  if (config === null || typeof config !== 'object' || Array.isArray(config) || (registry !== undefined && typeof registry !== 'string')) {
    throw new CtxpackError('CTX_USAGE', `the ctxpack config file ${filePath} is not a JSON object with a string "registry"`, {
      subject: filePath,
      hint: 'write it as {"registry": "<host>[:port]/<repository>"}, or set CTXPACK_CONFIG to another file',
    });
  }
  return { registry: registry === '' ? undefined : registry };
}

/**
 * The host part of a registry reference ("http://localhost:5000/packs" → "localhost:5000"). Used to key
 * credentials; the wasm client does the full parsing and validation.
 */
export function registryHost(reference) {
  const withoutScheme = reference.replace(/^https?:\/\//, '');
  const authority = withoutScheme.split('/')[0];
  if (authority.includes('@') || /[?#]/.test(reference)) {
    // Never repeat the reference: it holds a password or token.
    const host = authority.split('@').pop().split(/[?#]/)[0];
    throw new CtxpackError('CTX_REGISTRY_INVALID', `the registry reference for ${host} holds credentials or a query`, {
      subject: `${host}/…`,
      hint: 'write it as <host>[:port]/<repository>; log in with `ctxpack login`, or set CTXPACK_USER and CTXPACK_TOKEN',
    });
  }
  const host = authority;
  if (host === '') {
    throw new CtxpackError('CTX_REGISTRY_INVALID', `no host in the registry reference ${JSON.stringify(reference)}`, {
      subject: reference,
      hint: 'write it as <host>[:port]/<repository>, e.g. localhost:5000/packs',
    });
  }
  return host.toLowerCase();
}

/** Whether the reference names a repository too (not only a host). */
export function hasRepository(reference) {
  return reference.replace(/^https?:\/\//, '').replace(/\/+$/, '').includes('/');
}
