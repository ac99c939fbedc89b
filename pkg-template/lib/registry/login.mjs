// `ctxpack login` / `logout`: check credentials against the registry (`GET /v2/`, as `docker login` does) and
// store them where `docker login` would: the host's credential helper, else the default credsStore, else
// `auths` in config.json (mode 0600, with a warning: base64 is not encryption); and remove them again.
import { CtxpackError } from '../errors.mjs';
import { createRegistryClient } from '../stores/remote-store.mjs';
import { registryHost } from './config.mjs';
import {
  authEntryFor,
  credentialKey,
  defaultHelper,
  dockerConfigPath,
  helperErase,
  helperStore,
  hostHelper,
  readDockerConfig,
  removeFromConfig,
  storeInConfig,
} from './docker-config.mjs';

/** The login check talks to the registry's API root; the client needs some repository name to be built. */
const PROBE_REPOSITORY = 'ctxpack-login-check';

/**
 * @param {string} registry "<host>[:port]", optionally with a scheme and a repository
 * @param {{username: string, password: string, insecure?: boolean, timeout?: number, caFile?: string,
 *   env?: NodeJS.ProcessEnv}} options
 * @returns {Promise<{host: string, key: string, storedIn: string, verified: true, warnings: string[]}>}
 */
export async function login(registry, { username, password, insecure, timeout, caFile, env = process.env }) {
  if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
    throw new CtxpackError('CTX_USAGE', 'login needs a username and a password (or token)', {
      hint: 'pass --username and the password on stdin with --password-stdin, or answer the prompts',
    });
  }
  const host = registryHost(registry);
  const scheme = /^https?:\/\//.exec(registry)?.[0] ?? '';
  const client = createRegistryClient({
    registry: `${scheme}${host}/${PROBE_REPOSITORY}`,
    insecure,
    timeout,
    caFile,
    env,
    credentials: () => ({ username, password }),
  });
  await client.checkLogin().catch((error) => {
    if (error?.code === 'CTX_AUTH_FAILED') error.hint = 'check the username and password (or token); nothing was stored';
    throw error;
  });
  const filePath = dockerConfigPath(env);
  const config = readDockerConfig(filePath);
  const helper = hostHelper(config, host) ?? defaultHelper(config);
  const warnings = [];
  if (helper) {
    await helperStore(helper, host, { username, password }, env);
  } else {
    storeInConfig(filePath, host, { username, password });
    warnings.push(`the password is stored unencrypted in ${filePath}; configure a credential helper (credsStore) to avoid this`);
  }
  return { host, key: credentialKey(host), storedIn: helper ? `docker-credential-${helper}` : filePath, verified: true, warnings };
}

/**
 * Forget a registry's credentials, where `docker logout` would: its credential helper, else `auths`.
 * @param {string} registry "<host>[:port]"
 * @param {{env?: NodeJS.ProcessEnv}} [options]
 * @returns {Promise<{host: string, key: string, removedFrom: string | null}>} removedFrom: null when there were none
 */
export async function logout(registry, { env = process.env } = {}) {
  const host = registryHost(registry);
  const filePath = dockerConfigPath(env);
  const config = readDockerConfig(filePath);
  const helper = hostHelper(config, host) ?? defaultHelper(config);
  let removedFrom = null;
  if (helper && (await helperErase(helper, host, env))) removedFrom = `docker-credential-${helper}`;
  if (authEntryFor(config, host) && removeFromConfig(filePath, host)) removedFrom ??= filePath;
  return { host, key: credentialKey(host), removedFrom };
}
