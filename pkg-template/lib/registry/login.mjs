// `ctxpack login`: check credentials against the registry (when the reference names a repository) and
// store them where `docker login` would: the host's credential helper, else the default credsStore, else
// `auths` in config.json (mode 0600).
import { CtxpackError } from '../errors.mjs';
import { createRegistryClient } from '../stores/remote-store.mjs';
import { hasRepository, registryHost } from './config.mjs';
import { credentialKey, defaultHelper, dockerConfigPath, helperStore, hostHelper, readDockerConfig, storeInConfig } from './docker-config.mjs';

/** A tag no pack uses: asking for it exercises authentication without needing any content. */
const PROBE_TAG = 'ctxpack-login-check';

/**
 * @param {string} registry "<host>[:port]" or "<host>[:port]/<repository>"
 * @param {{username: string, password: string, insecure?: boolean, env?: NodeJS.ProcessEnv}} options
 * @returns {Promise<{host: string, key: string, storedIn: string, verified: boolean}>}
 */
export async function login(registry, { username, password, insecure, env = process.env }) {
  if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
    throw new CtxpackError('CTX_USAGE', 'login needs a username and a password (or token)', {
      hint: 'pass --username and the password on stdin with --password-stdin, or answer the prompts',
    });
  }
  const host = registryHost(registry);
  const verified = hasRepository(registry);
  if (verified) {
    const client = createRegistryClient({ registry, insecure, credentials: () => ({ username, password }) });
    await client.headManifest(PROBE_TAG);
  }
  const filePath = dockerConfigPath(env);
  const config = readDockerConfig(filePath);
  const helper = hostHelper(config, host) ?? defaultHelper(config);
  if (helper) {
    await helperStore(helper, host, { username, password }, env);
  } else {
    storeInConfig(filePath, host, { username, password });
  }
  return { host, key: credentialKey(host), storedIn: helper ? `docker-credential-${helper}` : filePath, verified };
}
