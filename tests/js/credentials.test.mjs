// Registry credentials: $CTXPACK_USER/$CTXPACK_TOKEN (for their one registry), Docker's config.json (auths,
// identity tokens, Docker Hub's key), credential helpers (a fake docker-credential-test on PATH), and `ctxpack
// login` checking them against a real Distribution with htpasswd before storing them, and `logout`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, api, cli, rejectsWithCode, tempDir } from './helpers.mjs';
import { startRegistry } from '../registry/harness.mjs';

const { credentialsFor } = await import(path.join(PACKAGE_DIR, 'lib', 'registry', 'credentials.mjs'));
const { storeInConfig } = await import(path.join(PACKAGE_DIR, 'lib', 'registry', 'docker-config.mjs'));

const SECRET = 'hunter2-very-secret';

/** A Docker config directory holding `config`, and the environment that points at it. */
function dockerEnv(t, config) {
  const dir = tempDir(t, 'ctxpack-docker-');
  if (config !== undefined) fs.writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return { dir, env: { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: dir } };
}

/**
 * docker-credential-test on PATH: `get` answers from its table (or "credentials not found"), `store`
 * appends what it was given to calls.log; every call logs its action and stdin.
 */
function fakeHelper(t, env, { secrets = {}, failWith } = {}) {
  const binDir = tempDir(t, 'ctxpack-helper-');
  const log = path.join(binDir, 'calls.log');
  const script = `#!/usr/bin/env node
const fs = require('node:fs');
const input = fs.readFileSync(0, 'utf8');
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ action: process.argv[2], input }) + '\\n');
const failWith = ${JSON.stringify(failWith ?? null)};
if (failWith) { process.stdout.write(failWith); process.exit(1); }
if (process.argv[2] === 'get') {
  const secrets = ${JSON.stringify(secrets)};
  const entry = secrets[input.trim()];
  if (!entry) { process.stdout.write('credentials not found in native keychain'); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: input.trim(), ...entry }));
}
`;
  const helper = path.join(binDir, 'docker-credential-test');
  fs.writeFileSync(helper, script, { mode: 0o755 });
  env.PATH = `${binDir}${path.delimiter}${env.PATH}`;
  return { calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line)) : []) };
}

const basic = (user, password) => Buffer.from(`${user}:${password}`).toString('base64');

test('auths: base64 user:password, keys with a scheme or path, identity tokens, Docker Hub', async (t) => {
  const { env } = dockerEnv(t, {
    auths: {
      'localhost:5000': { auth: basic('alice', `pa:ss${SECRET}`) },
      'https://registry.example.com/v1/': { auth: basic('bob', SECRET) },
      'ghcr.io': { identitytoken: 'refresh-token' },
      'https://index.docker.io/v1/': { auth: basic('hubuser', SECRET) },
    },
  });
  assert.deepEqual(await credentialsFor('localhost:5000', { env }), { username: 'alice', password: `pa:ss${SECRET}` });
  assert.deepEqual(await credentialsFor('registry.example.com', { env }), { username: 'bob', password: SECRET });
  assert.deepEqual(await credentialsFor('ghcr.io', { env }), { identityToken: 'refresh-token' });
  for (const host of ['docker.io', 'registry-1.docker.io', 'index.docker.io']) {
    assert.deepEqual(await credentialsFor(host, { env }), { username: 'hubuser', password: SECRET }, host);
  }
  assert.equal(await credentialsFor('other.example.com', { env }), null);
});

test('no Docker config means anonymous; CTXPACK_USER + CTXPACK_TOKEN win over the file, for their registry only', async (t) => {
  const none = dockerEnv(t);
  assert.equal(await credentialsFor('localhost:5000', { env: none.env }), null);
  const { env } = dockerEnv(t, { auths: { 'localhost:5000': { auth: basic('alice', 'file-password') } } });
  const ci = { ...env, CTXPACK_USER: 'ci', CTXPACK_TOKEN: SECRET };
  const fromEnv = { username: 'ci', password: SECRET };
  const fromFile = { username: 'alice', password: 'file-password' };
  // The command's one registry, or the one CTXPACK_REGISTRY names.
  assert.deepEqual(await credentialsFor('localhost:5000', { env: ci, envHost: 'localhost:5000' }), fromEnv);
  assert.deepEqual(await credentialsFor('localhost:5000', { env: { ...ci, CTXPACK_REGISTRY: 'localhost:5000/packs' } }), fromEnv);
  // Any other registry gets what the Docker config holds for it.
  assert.deepEqual(await credentialsFor('localhost:5000', { env: ci }), fromFile);
  assert.deepEqual(await credentialsFor('localhost:5000', { env: { ...ci, CTXPACK_REGISTRY: 'other.example.com/packs' }, envHost: 'localhost:5000' }), fromFile);
  assert.equal(await credentialsFor('other.example.com', { env: ci, envHost: 'localhost:5000' }), null);
  const half = await rejectsWithCode(credentialsFor('localhost:5000', { env: { ...env, CTXPACK_TOKEN: SECRET } }), 'CTX_USAGE');
  assert.match(half.message, /CTXPACK_USER/);
  assert.doesNotMatch(half.message + half.hint, new RegExp(SECRET));
});

test('credential helpers: credHelpers for the host, credsStore by default, the server on stdin', async (t) => {
  const { env } = dockerEnv(t, {
    auths: { 'localhost:5000': {}, 'plain.example.com': { auth: basic('carol', 'in-file') } },
    credsStore: 'test',
    credHelpers: { 'helped.example.com': 'test' },
  });
  const helper = fakeHelper(t, env, {
    secrets: {
      'localhost:5000': { Username: 'dave', Secret: SECRET },
      'helped.example.com': { Username: '<token>', Secret: 'identity' },
      'https://index.docker.io/v1/': { Username: 'hub', Secret: SECRET },
    },
  });
  // The auths entry is an empty placeholder, so the default store is asked.
  assert.deepEqual(await credentialsFor('localhost:5000', { env }), { username: 'dave', password: SECRET });
  // "<token>" marks an identity token.
  assert.deepEqual(await credentialsFor('helped.example.com', { env }), { identityToken: 'identity' });
  // Usable credentials in the file are used as they are.
  assert.deepEqual(await credentialsFor('plain.example.com', { env }), { username: 'carol', password: 'in-file' });
  assert.deepEqual(await credentialsFor('registry-1.docker.io', { env }), { username: 'hub', password: SECRET });
  assert.equal(await credentialsFor('unknown.example.com', { env }), null);
  assert.deepEqual(
    helper.calls().map((call) => call.input),
    ['localhost:5000', 'helped.example.com', 'https://index.docker.io/v1/', 'unknown.example.com'],
  );
  assert.ok(helper.calls().every((call) => call.action === 'get'));
});

test('a failing helper or a broken config is CTX_AUTH_FAILED without repeating any secret', async (t) => {
  const failing = dockerEnv(t, { credsStore: 'test' });
  fakeHelper(t, failing.env, { failWith: `error talking to keychain, token=${SECRET}` });
  const helperError = await rejectsWithCode(credentialsFor('localhost:5000', { env: failing.env }), 'CTX_AUTH_FAILED');
  assert.match(helperError.message, /docker-credential-test get failed/);
  assert.doesNotMatch(`${helperError.message} ${helperError.hint}`, new RegExp(SECRET));

  const missing = dockerEnv(t, { credsStore: 'absent-helper' });
  const notInstalled = await rejectsWithCode(credentialsFor('localhost:5000', { env: missing.env }), 'CTX_AUTH_FAILED');
  assert.match(notInstalled.hint, /docker-credential-absent-helper/);

  const broken = dockerEnv(t, `{"auths": {"localhost:5000": {"auth": "${basic('u', SECRET)}"}`);
  const parseError = await rejectsWithCode(credentialsFor('localhost:5000', { env: broken.env }), 'CTX_AUTH_FAILED');
  assert.doesNotMatch(`${parseError.message} ${parseError.hint}`, new RegExp(`${SECRET}|${basic('u', SECRET)}`));

  const notBasic = dockerEnv(t, { auths: { 'localhost:5000': { auth: Buffer.from(SECRET).toString('base64') } } });
  const decodeError = await rejectsWithCode(credentialsFor('localhost:5000', { env: notBasic.env }), 'CTX_AUTH_FAILED');
  assert.doesNotMatch(`${decodeError.message} ${decodeError.hint}`, new RegExp(SECRET));
});

describe_login();

function describe_login() {
  let registry;
  before(async () => {
    registry = await startRegistry({ auth: 'htpasswd', users: { alice: SECRET } });
  });
  after(() => registry?.close());

  test('login checks the credentials, then stores auths in config.json with mode 0600, keeping the rest of the file', async (t) => {
    const { dir, env } = dockerEnv(t, { auths: { 'other.example.com': { auth: basic('x', 'y') } }, experimental: 'enabled' });
    const result = await api.login(registry.host, { username: 'alice', password: SECRET, env });
    const file = path.join(dir, 'config.json');
    assert.deepEqual(result, {
      host: registry.host,
      key: registry.host,
      storedIn: file,
      verified: true,
      warnings: [`the password is stored unencrypted in ${file}; configure a credential helper (credsStore) to avoid this`],
    });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(config.experimental, 'enabled');
    assert.deepEqual(config.auths['other.example.com'], { auth: basic('x', 'y') });
    assert.deepEqual(config.auths[registry.host], { auth: basic('alice', SECRET) });
    assert.deepEqual(await credentialsFor(registry.host, { env }), { username: 'alice', password: SECRET });

    // Wrong credentials: refused by the registry, nothing stored, nothing secret repeated.
    const before = fs.readFileSync(file, 'utf8');
    const refused = await rejectsWithCode(api.login(registry.host, { username: 'alice', password: 'wrong-password', env }), 'CTX_AUTH_FAILED');
    assert.match(refused.hint, /nothing was stored/);
    assert.doesNotMatch(`${refused.message} ${refused.hint}`, /wrong-password/);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    await rejectsWithCode(api.login(registry.host, { username: 'alice', password: '', env }), 'CTX_USAGE');

    // logout removes exactly that entry; a second logout finds nothing.
    assert.deepEqual(await api.logout(registry.host, { env }), { host: registry.host, key: registry.host, removedFrom: file });
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).auths), ['other.example.com']);
    assert.equal((await api.logout(registry.host, { env })).removedFrom, null);
  });

  test('Docker Hub credentials go under its canonical key; a fresh DOCKER_CONFIG directory is created private', (t) => {
    const fresh = path.join(tempDir(t), 'docker');
    storeInConfig(path.join(fresh, 'config.json'), 'docker.io', { username: 'hub', password: SECRET });
    assert.equal(fs.statSync(fresh).mode & 0o777, 0o700);
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(path.join(fresh, 'config.json'), 'utf8')).auths), ['https://index.docker.io/v1/']);
  });

  test('login hands credentials to the configured helper instead of the file, and logout erases them there', async (t) => {
    const { dir, env } = dockerEnv(t, { credHelpers: { [registry.host]: 'test' } });
    const helper = fakeHelper(t, env);
    const result = await api.login(registry.host, { username: 'alice', password: SECRET, env });
    assert.equal(result.storedIn, 'docker-credential-test');
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(helper.calls(), [{ action: 'store', input: JSON.stringify({ ServerURL: registry.host, Username: 'alice', Secret: SECRET }) }]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')), { credHelpers: { [registry.host]: 'test' } });
    assert.equal((await api.logout(registry.host, { env })).removedFrom, 'docker-credential-test');
    assert.deepEqual(helper.calls()[1], { action: 'erase', input: registry.host });
  });

  test('ctxpack login --password-stdin: checked, stored, nothing secret printed; logout; no terminal and no stdin is a usage error', (t) => {
    const { dir, env } = dockerEnv(t);
    const result = cli(['login', registry.host, '-u', 'alice', '--password-stdin', '--json'], { env, input: `${SECRET}\n` });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json().storedIn, path.join(dir, 'config.json'));
    assert.match(result.stderr, /warning: the password is stored unencrypted/);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(SECRET));
    const stored = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    assert.equal(Buffer.from(stored.auths[registry.host].auth, 'base64').toString(), `alice:${SECRET}`);

    const text = cli(['login', `${registry.host}/packs`, '-u', 'alice', '--password-stdin'], { env, input: SECRET });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^login succeeded: checked against ${registry.host} and stored in `));

    const wrong = cli(['login', registry.host, '-u', 'alice', '--password-stdin', '--json'], { env, input: 'not-the-password' });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.json().error.code, 'CTX_AUTH_FAILED');
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /not-the-password/);

    assert.equal(cli(['logout', registry.host], { env }).stdout.trim(), `removed the credentials of ${registry.host} from ${path.join(dir, 'config.json')}`);
    assert.equal(cli(['logout', registry.host], { env }).stdout.trim(), `not logged in to ${registry.host}`);

    const noTerminal = cli(['login', registry.host, '-u', 'alice', '--json'], { env, input: '' });
    assert.equal(noTerminal.code, 2);
    assert.equal(noTerminal.json().error.code, 'CTX_USAGE');
    const noUser = cli(['login', registry.host, '--password-stdin', '--json'], { env, input: SECRET });
    assert.equal(noUser.code, 2);
    assert.match(cli(['login', '--help']).stdout, /^Usage: ctxpack login/);
  });

  test('a registry reference with credentials or a token in it is refused without echoing them', () => {
    for (const reference of [`alice:${SECRET}@${registry.host}/packs`, `${registry.host}/packs?token=${SECRET}`]) {
      const result = cli(['resolve', `ctx://sha256:${'a'.repeat(64)}`, '--registry', reference, '--json']);
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.json().error.code, 'CTX_REGISTRY_INVALID');
      assert.doesNotMatch(result.stdout + result.stderr, new RegExp(SECRET));
    }
  });
}
