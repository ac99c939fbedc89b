// Registry credentials, in this order: $CTXPACK_USER + $CTXPACK_TOKEN (for the one registry they belong to),
// then Docker's config (a credential helper for the host, an `auths` entry, the default credsStore). Nothing
// found means anonymous access.
import { CtxpackError } from '../errors.mjs';
import { registryHost } from './config.mjs';
import {
  authEntryFor,
  credentialKey,
  credentialsFromAuthEntry,
  defaultHelper,
  dockerConfigPath,
  helperGet,
  hostHelper,
  readDockerConfig,
} from './docker-config.mjs';

/** @typedef {{username: string, password: string} | {identityToken: string} | {registryToken: string}} Credentials */

/**
 * The credentials for a registry host, or null for anonymous access.
 * @param {string} host "registry.example.com" or "localhost:5000"
 * @param {{env?: NodeJS.ProcessEnv, envHost?: string}} [options] envHost: the host CTXPACK_USER/CTXPACK_TOKEN
 *   belong to when CTXPACK_REGISTRY does not say (the one registry a command talks to)
 * @returns {Promise<Credentials | null>}
 */
export async function credentialsFor(host, { env = process.env, envHost } = {}) {
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv && sameRegistry(envCredentialsHost(env, envHost), host)) return fromEnv;
  const filePath = dockerConfigPath(env);
  const config = readDockerConfig(filePath);
  const named = hostHelper(config, host);
  if (named) return helperGet(named, host, env);
  const entry = authEntryFor(config, host);
  const fromFile = entry ? credentialsFromAuthEntry(entry, filePath) : null;
  // The default credsStore only when the file has nothing usable: docker leaves empty `auths`
  // placeholders for the hosts it keeps in the store.
  const store = defaultHelper(config);
  if (store && !fromFile) return helperGet(store, host, env);
  return fromFile;
}

/**
 * The registry host $CTXPACK_USER/$CTXPACK_TOKEN belong to: $CTXPACK_REGISTRY's, else `fallback` (undefined:
 * none, as for `copy` between two registries).
 */
export function envCredentialsHost(env = process.env, fallback) {
  return env.CTXPACK_REGISTRY ? registryHost(env.CTXPACK_REGISTRY) : fallback;
}

/** Docker Hub answers to several names; its credentials are one. */
function sameRegistry(a, b) {
  return a !== undefined && credentialKey(a.toLowerCase()) === credentialKey(b.toLowerCase());
}

/** $CTXPACK_USER and $CTXPACK_TOKEN, both or neither. */
function credentialsFromEnv(env) {
  const username = env.CTXPACK_USER;
  const password = env.CTXPACK_TOKEN;
  if (!username && !password) return null;
  if (!username || !password) {
    throw new CtxpackError('CTX_USAGE', `${username ? 'CTXPACK_TOKEN' : 'CTXPACK_USER'} is not set, but ${username ? 'CTXPACK_USER' : 'CTXPACK_TOKEN'} is`, {
      hint: 'set both CTXPACK_USER and CTXPACK_TOKEN, or neither to use the Docker config',
    });
  }
  return { username, password };
}
