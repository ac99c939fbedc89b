// Docker's client config (~/.docker/config.json, or $DOCKER_CONFIG/config.json) and credential helpers
// (`docker-credential-<name> get|store`), read and written the way `docker login` does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { CtxpackError } from '../errors.mjs';

/** Docker Hub's credentials live under this key, whatever name the registry was reached by. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const HELPER_TIMEOUT_MS = 60_000;
const HELPER_NOT_FOUND = /credentials not found/i;

export function dockerConfigPath(env = process.env) {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

/** The key Docker files a host's credentials under: the host itself, or Docker Hub's URL. */
export function credentialKey(host) {
  return DOCKER_HUB_HOSTS.has(host) ? DOCKER_HUB_KEY : host;
}

/** "https://host:5000/v1/" → "host:5000", as Docker compares `auths` keys. */
function keyHost(key) {
  return key.replace(/^[a-z]+:\/\//i, '').split('/')[0].toLowerCase();
}

/** @returns {object} the parsed config, `{}` when there is none */
export function readDockerConfig(filePath) {
  let text;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return {};
    throw new CtxpackError('CTX_IO', `cannot read ${filePath}: ${error.code}`, { subject: filePath });
  }
  let config;
  try {
    config = JSON.parse(text);
  } catch {
    config = undefined;
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    // The file holds secrets: say where it is, never what is in it.
    throw new CtxpackError('CTX_AUTH_FAILED', `${filePath} is not a JSON object`, {
      subject: filePath,
      hint: 'fix or remove the Docker config file, or set DOCKER_CONFIG to another directory',
    });
  }
  return config;
}

/** The helper `credHelpers` names for this host, or undefined. */
export function hostHelper(config, host) {
  const key = credentialKey(host);
  const helpers = isObject(config.credHelpers) ? config.credHelpers : {};
  const named = helpers[key] ?? Object.entries(helpers).find(([entry]) => keyHost(entry) === keyHost(key))?.[1];
  return typeof named === 'string' && named !== '' ? named : undefined;
}

/** The default helper (`credsStore`), or undefined. */
export function defaultHelper(config) {
  return typeof config.credsStore === 'string' && config.credsStore !== '' ? config.credsStore : undefined;
}

/** The `auths` entry of a host: exact key first, then any key naming the same host. */
export function authEntryFor(config, host) {
  if (!isObject(config.auths)) return undefined;
  const key = credentialKey(host);
  const entry = config.auths[key] ?? Object.entries(config.auths).find(([name]) => keyHost(name) === keyHost(key))?.[1];
  return isObject(entry) ? entry : undefined;
}

/**
 * Credentials from an `auths` entry: base64 "user:password" in `auth`, or an OAuth `identitytoken`.
 * @returns {import('./credentials.mjs').Credentials | null}
 */
export function credentialsFromAuthEntry(entry, filePath) {
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') return { identityToken: entry.identitytoken };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) {
      throw new CtxpackError('CTX_AUTH_FAILED', `an "auth" entry in ${filePath} is not base64 of "user:password"`, {
        subject: filePath,
        hint: 'log in again with `ctxpack login <registry>` or `docker login`',
      });
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return null;
}

/**
 * Ask `docker-credential-<helper> get` for a host's credentials.
 * @returns {Promise<import('./credentials.mjs').Credentials | null>} null when the helper has none
 */
export async function helperGet(helper, host, env) {
  const server = credentialKey(host);
  const result = await runHelper(helper, 'get', server, env);
  if (result.code !== 0) {
    if (HELPER_NOT_FOUND.test(result.stdout)) return null;
    throw helperFailed(helper, 'get', result.code);
  }
  let answer;
  try {
    answer = JSON.parse(result.stdout);
  } catch {
    answer = undefined;
  }
  if (!isObject(answer) || typeof answer.Secret !== 'string') {
    throw new CtxpackError('CTX_AUTH_FAILED', `docker-credential-${helper} get answered something that is not {"Username", "Secret"}`, {
      subject: `docker-credential-${helper}`,
      hint: 'check the credential helper, or remove it from the Docker config',
    });
  }
  // Docker's convention: the username "<token>" marks an identity (refresh) token.
  if (answer.Username === '<token>') return { identityToken: answer.Secret };
  return { username: String(answer.Username ?? ''), password: answer.Secret };
}

/** Hand credentials to `docker-credential-<helper> store`. */
export async function helperStore(helper, host, { username, password }, env) {
  const input = JSON.stringify({ ServerURL: credentialKey(host), Username: username, Secret: password });
  const result = await runHelper(helper, 'store', input, env);
  if (result.code !== 0) throw helperFailed(helper, 'store', result.code);
}

/**
 * `docker-credential-<helper> erase`.
 * @returns {Promise<boolean>} false when the helper had nothing for the host
 */
export async function helperErase(helper, host, env) {
  const result = await runHelper(helper, 'erase', credentialKey(host), env);
  if (result.code === 0) return true;
  if (HELPER_NOT_FOUND.test(result.stdout)) return false;
  throw helperFailed(helper, 'erase', result.code);
}

/**
 * Store credentials in config.json's `auths` (base64 "user:password"), keeping everything else in the
 * file. Written to a temp file with mode 0600 and renamed over, so the secret is never world-readable.
 */
export function storeInConfig(filePath, host, { username, password }) {
  const config = readDockerConfig(filePath);
  const auths = isObject(config.auths) ? config.auths : {};
  const key = credentialKey(host);
  auths[key] = { ...(isObject(auths[key]) ? auths[key] : {}), auth: Buffer.from(`${username}:${password}`).toString('base64') };
  delete auths[key].identitytoken;
  config.auths = auths;
  writeConfig(filePath, config);
}

/**
 * Remove every `auths` entry naming the host (exact key or same host), keeping the rest of the file.
 * @returns {boolean} whether one was there
 */
export function removeFromConfig(filePath, host) {
  const config = readDockerConfig(filePath);
  if (!isObject(config.auths)) return false;
  const key = credentialKey(host);
  const names = Object.keys(config.auths).filter((name) => name === key || keyHost(name) === keyHost(key));
  for (const name of names) delete config.auths[name];
  if (names.length > 0) writeConfig(filePath, config);
  return names.length > 0;
}

function writeConfig(filePath, config) {
  const dir = path.dirname(filePath);
  const tempPath = path.join(dir, `.config.json.${randomUUID()}`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(tempPath, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600, flag: 'wx' });
    fs.renameSync(tempPath, filePath);
  } catch (error) {
    fs.rmSync(tempPath, { force: true });
    throw new CtxpackError('CTX_IO', `cannot write ${filePath}: ${error.code ?? error.message}`, { subject: filePath });
  }
}

function runHelper(helper, action, input, env) {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    // Our own timer (spawn's `timeout` outlives a helper that failed to start), unref'd so it never holds the process.
    const timer = setTimeout(() => child.kill(), HELPER_TIMEOUT_MS).unref();
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new CtxpackError('CTX_AUTH_FAILED', `cannot run the credential helper ${program}: ${error.code ?? error.message}`, {
        subject: program,
        hint: `install ${program} and put it on PATH, or remove "${helper}" from credsStore/credHelpers in the Docker config`,
      }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? -1 : code, stdout });
    });
    // A helper that exits without reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** The helper's output may hold secrets, so it is never repeated in the error. */
function helperFailed(helper, action, code) {
  return new CtxpackError('CTX_AUTH_FAILED', `docker-credential-${helper} ${action} failed (exit status ${code})`, {
    subject: `docker-credential-${helper}`,
    hint: `run \`docker-credential-${helper} list\` to check the helper, or log in again`,
  });
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
