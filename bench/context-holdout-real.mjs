// Hold-out sets made from real material (issue 13): real files of this Debian machine (/usr/share/doc, /etc, the
// Python stdlib, man pages, node_modules) are the carriers; fake credentials of many kinds are planted into them in
// many syntaxes, written from the vendors' documented token formats (not from ctxpack's rules); hard negatives are
// planted too, most of them taken from the real files (hex digests, git SHAs, UUIDs, base64 found in them), and
// everything the carrier itself holds counts as a negative.
//
// Three sets from disjoint carriers (a file belongs to the set its path hashes to) and different seeds:
//   tuning     the only set whose misses may be looked at while tuning the detectors;
//   holdout-a, holdout-b   reported, never looked at while tuning;
// and two of real files with nothing planted (every detection a false positive): clean-tuning (the tuning set's
// carriers) and clean-holdout (holdout-a's).
//
//   node bench/context-holdout-real.mjs [set…]   writes .bench/holdout-real/<set>/{files/**,labels.json}
//
// labels.json: files[name] = [{kind, line, endLine, start, end}]; start/end are UTF-16 offsets (what detectSecrets
// returns), lines 1-based. Deterministic on a given machine: carriers are listed in sorted order.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { prng } from './prng.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REAL_DIR = path.join(root, '.bench/holdout-real');
export const REAL_SETS = [
  { name: 'tuning', slot: 0, seed: 0x51a7e001 },
  { name: 'holdout-a', slot: 1, seed: 0x51a7e002 },
  { name: 'holdout-b', slot: 2, seed: 0x51a7e003 },
  // Real files as they are, nothing planted: every detection is a false positive (the machine holds no live
  // credential in world-readable files outside test directories, which are skipped).
  { name: 'clean-tuning', slot: 0, seed: 0x51a7e004, clean: true },
  { name: 'clean-holdout', slot: 1, seed: 0x51a7e005, clean: true },
];
const CLEAN_FILES = 400;
const FILES_PER_SET = 160;

const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LO = 'abcdefghijklmnopqrstuvwxyz';
const DIG = '0123456789';
const ALNUM = UP + LO + DIG;
const B64 = ALNUM + '+/';
const B64URL = ALNUM + '-_';
const HEX = '0123456789abcdef';
const BECH32 = 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L';

// ------------------------------------------------------------------ carriers
const ROOTS = [
  { dir: '/usr/share/doc', depth: 3 },
  { dir: '/etc', depth: 3 },
  { dir: '/usr/lib/python3.11', depth: 2 },
  { dir: '/usr/share/man', depth: 2, man: true },
  { dir: '/usr/lib/node_modules', depth: 5 },
];
const SKIP = /(^|\/)(ssl\/private|shadow|gshadow|test|tests|__pycache__)(\/|$)|\.(key|pem|crt|p12|gpg|pyc|so|png|gif|jpg|wasm|node)$/;

/** Carrier paths per root, so each root is drawn equally often (man pages would otherwise dominate). */
function listCarriers() {
  const byRoot = [];
  const visit = (dir, depth, man) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (SKIP.test(p)) continue;
      if (e.isDirectory() && depth > 0) visit(p, depth - 1, man);
      else if (e.isFile()) {
        const st = fs.statSync(p);
        // World-readable only: nothing private of this machine ends up in a set.
        if (!(st.mode & 0o004) || st.size < 400 || st.size > 400_000) continue;
        if (man ? p.endsWith('.gz') : !p.endsWith('.gz')) out.push(p);
      }
    }
  };
  let out;
  for (const { dir, depth, man } of ROOTS) {
    out = [];
    visit(dir, depth, man);
    if (out.length) byRoot.push(out);
  }
  return byRoot;
}

function readCarrier(p) {
  let bytes = fs.readFileSync(p);
  if (p.endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
  if (bytes.subarray(0, 4096).includes(0)) return null;
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD')) return null;
  return text;
}

const slotOf = (p) => crypto.createHash('sha256').update(p).digest()[0] % 3;

/** Real look-alikes found in the carriers: hex digests, UUIDs, base64 runs; plus this repository's git SHAs. */
function realNegatives(texts) {
  const found = { hex32: new Set(), hex40: new Set(), hex64: new Set(), uuid: new Set(), b64: new Set(), integrity: new Set() };
  for (const t of texts) {
    for (const m of t.matchAll(/\b[0-9a-f]{64}\b/g)) found.hex64.add(m[0]);
    for (const m of t.matchAll(/\b[0-9a-f]{40}\b/g)) found.hex40.add(m[0]);
    for (const m of t.matchAll(/\b[0-9a-f]{32}\b/g)) found.hex32.add(m[0]);
    for (const m of t.matchAll(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi)) found.uuid.add(m[0]);
    for (const m of t.matchAll(/sha(?:512|384|256|1)-[A-Za-z0-9+/]{27,86}={0,2}/g)) found.integrity.add(m[0]);
    for (const m of t.matchAll(/(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40,120}={0,2}(?![A-Za-z0-9+/])/g)) if (/[a-z]/.test(m[0]) && /[A-Z]/.test(m[0]) && /[0-9]/.test(m[0])) found.b64.add(m[0]);
  }
  try {
    for (const sha of execFileSync('git', ['-C', root, 'rev-list', '--all', '-n', '400'], { encoding: 'utf8' }).split('\n')) if (sha) found.hex40.add(sha);
  } catch {}
  for (const dir of ['/var/lib/dpkg/info']) {
    try {
      for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.md5sums')).sort().slice(0, 40))
        for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/^[0-9a-f]{32}/gm)) found.hex32.add(m[0]);
    } catch {}
  }
  return Object.fromEntries(Object.entries(found).map(([k, v]) => [k, [...v].sort()]));
}

// ------------------------------------------------------------------ one set
export function writeRealSet(name) {
  const set = REAL_SETS.find((s) => s.name === name);
  if (!set) throw new Error(`unknown set ${name}`);
  const r = prng(set.seed);
  const pools = listCarriers().map((list) => list.filter((p) => slotOf(p) === set.slot));
  const carriers = [];
  const wanted = set.clean ? CLEAN_FILES : FILES_PER_SET;
  // A sample of the pools, read lazily: only what the set uses.
  for (let tries = 0; carriers.length < wanted && tries < wanted * 6; tries++) {
    const pool = pools[r.int(pools.length)];
    const p = pool[r.int(pool.length)];
    if (carriers.some((c) => c.p === p)) continue;
    const text = readCarrier(p);
    if (text && text.split('\n').length > 8) carriers.push({ p, text });
  }
  const neg = realNegatives(carriers.map((c) => c.text));
  const g = generators(r, neg);
  const outDir = path.join(REAL_DIR, name);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(outDir, 'files'), { recursive: true });
  const labels = {};
  const sources = {};
  carriers.forEach(({ p, text }, index) => {
    const base = path.basename(p).replace(/\.gz$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
    const fileName = `${String(index).padStart(3, '0')}-${base}`;
    if (set.clean) {
      fs.writeFileSync(path.join(outDir, 'files', fileName), text.slice(0, 64 * 1024));
      labels[fileName] = [];
      sources[fileName] = p;
      return;
    }
    const lines = text.split('\n');
    const from = r.int(Math.max(1, lines.length - 60));
    const window = lines.slice(from, from + 30 + r.int(120));
    const plants = 2 + r.int(5);
    // Each planted block goes between carrier lines; parts are strings or {secret, kind}.
    const blocks = [];
    for (let k = 0; k < plants; k++) blocks.push({ at: r.int(window.length + 1), parts: r.next() < 0.62 ? g.positive() : g.negative() });
    blocks.sort((a, b) => a.at - b.at);
    let out = '';
    const fileLabels = [];
    let b = 0;
    for (let i = 0; i <= window.length; i++) {
      while (b < blocks.length && blocks[b].at === i) {
        for (const part of blocks[b].parts) {
          if (typeof part === 'string') out += part;
          else {
            const start = out.length;
            out += part.secret;
            const line = out.slice(0, start).split('\n').length;
            fileLabels.push({ kind: part.kind, line, endLine: line + part.secret.split('\n').length - 1, start, end: out.length });
          }
        }
        if (!out.endsWith('\n')) out += '\n';
        b++;
      }
      if (i < window.length) out += window[i] + '\n';
    }
    fs.writeFileSync(path.join(outDir, 'files', fileName), out);
    labels[fileName] = fileLabels;
    sources[fileName] = p;
  });
  fs.writeFileSync(path.join(outDir, 'labels.json'), JSON.stringify({ set: name, seed: set.seed, sources, files: labels }, null, 1));
  return outDir;
}

// ------------------------------------------------------------------ secrets and look-alikes
function generators(r, neg) {
  const from = r.from;
  const pick = r.pick;
  const hex = (n) => from(HEX, n);
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick('89ab')}${hex(3)}-${hex(12)}`;
  const b64 = (bytes) => Buffer.from(bytes).toString('base64');
  const words = ['orbit', 'maple', 'falcon', 'river', 'copper', 'violet', 'tundra', 'saffron', 'quartz', 'harbor', 'ember', 'lilac'];
  const cap = (w) => w[0].toUpperCase() + w.slice(1);
  const human = () =>
    pick([
      () => `${cap(pick(words))}${1990 + r.int(40)}${pick('!#$%&*?')}`,
      () => `${pick(words)}${r.int(100)}`,
      () => `${pick(words)}-${pick(words)}-${pick(words)}-${r.int(100)}`,
      () => from(ALNUM + '!#%&*+-=?@^_', 12 + r.int(12)),
      () => `${cap(pick(words))}${pick('@#.')}${cap(pick(words))}${r.int(1000)}`,
    ])();
  const jwt = () => {
    const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${enc({ alg: pick(['HS256', 'RS256', 'ES256']), typ: 'JWT', kid: hex(8) })}.${enc({ sub: uuid(), iss: pick(['https://auth.acme.dev', 'payments']), exp: 1760000000 + r.int(1e7), scope: pick(['read write', 'admin', 'deploy']) })}.${from(B64URL, 43)}`;
  };
  // kind → [value generator, key names by style, context keyword for values with no prefix]
  const KINDS = {
    'aws-access-key-id': [() => pick(['AKIA', 'ASIA']) + from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16), { env: ['AWS_ACCESS_KEY_ID'], camel: ['accessKeyId'], dot: ['aws.access.key.id', 'aws.accessKeyId'], snake: ['aws_access_key_id'] }],
    'aws-secret-access-key': [() => from(B64, 40), { env: ['AWS_SECRET_ACCESS_KEY'], camel: ['secretAccessKey'], dot: ['aws.secret.key', 'aws.secretAccessKey'], snake: ['aws_secret_access_key'] }],
    'aws-session-token': [() => pick(['IQoJb3JpZ2luX2VjE', 'FwoGZXIvYXdzE']) + from(B64, 180 + r.int(200)), { env: ['AWS_SESSION_TOKEN'], camel: ['sessionToken'], dot: ['aws.session.token'], snake: ['aws_session_token'] }],
    'github-token': [() => pick([() => 'ghp_' + from(ALNUM, 36), () => 'gho_' + from(ALNUM, 36), () => `github_pat_11${from(UP + DIG, 20)}_${from(ALNUM, 59)}`])(), { env: ['GITHUB_TOKEN', 'GH_TOKEN'], camel: ['githubToken'], dot: ['github.token'], snake: ['github_token'] }],
    'gitlab-token': [() => 'glpat-' + from(B64URL, 20), { env: ['GITLAB_TOKEN', 'CI_JOB_TOKEN_OVERRIDE'], camel: ['gitlabToken'], dot: ['gitlab.private.token'], snake: ['gitlab_token'] }],
    'slack-token': [() => `xoxb-${r.int(9e11) + 1e11}-${r.int(9e11) + 1e11}-${from(ALNUM, 24)}`, { env: ['SLACK_BOT_TOKEN'], camel: ['slackToken'], dot: ['slack.bot.token'], snake: ['slack_bot_token'] }],
    'stripe-key': [() => pick(['sk_live_', 'rk_live_', 'sk_test_']) + from(ALNUM, 24 + r.int(75)), { env: ['STRIPE_SECRET_KEY', 'STRIPE_API_KEY'], camel: ['stripeSecretKey'], dot: ['stripe.secret.key'], snake: ['stripe_secret_key'] }],
    'openai-key': [() => 'sk-proj-' + from(B64URL, 100 + r.int(60)), { env: ['OPENAI_API_KEY'], camel: ['openaiApiKey'], dot: ['openai.api.key'], snake: ['openai_api_key'] }],
    'anthropic-key': [() => 'sk-ant-api03-' + from(B64URL, 93) + 'AA', { env: ['ANTHROPIC_API_KEY'], camel: ['anthropicApiKey'], dot: ['anthropic.api.key'], snake: ['anthropic_api_key'] }],
    'google-api-key': [() => 'AIza' + from(B64URL, 35), { env: ['GOOGLE_API_KEY', 'FIREBASE_API_KEY'], camel: ['googleApiKey', 'apiKey'], dot: ['google.maps.key'], snake: ['google_api_key'] }],
    'sendgrid-key': [() => `SG.${from(B64URL, 22)}.${from(B64URL, 43)}`, { env: ['SENDGRID_API_KEY'], camel: ['sendgridKey'], dot: ['sendgrid.api.key'], snake: ['sendgrid_api_key'] }],
    'twilio-auth-token': [() => hex(32), { env: ['TWILIO_AUTH_TOKEN'], camel: ['twilioAuthToken', 'authToken'], dot: ['twilio.auth.token', 'twilio.authToken'], snake: ['twilio_auth_token'] }, 'twilio'],
    'datadog-api-key': [() => hex(32), { env: ['DD_API_KEY', 'DATADOG_API_KEY'], camel: ['datadogApiKey'], dot: ['dd.api.key', 'datadog.api.key'], snake: ['dd_api_key', 'datadog_api_key'] }, 'datadog'],
    'datadog-app-key': [() => hex(40), { env: ['DD_APP_KEY', 'DATADOG_APP_KEY'], camel: ['datadogAppKey'], dot: ['dd.app.key', 'datadog.application.key'], snake: ['dd_app_key', 'datadog_application_key'] }, 'datadog'],
    'newrelic-key': [() => pick([() => 'NRAK-' + from(UP + DIG, 27), () => 'NRJS-' + hex(19), () => hex(36) + 'NRAL'])(), { env: ['NEW_RELIC_API_KEY', 'NEW_RELIC_LICENSE_KEY'], camel: ['newRelicApiKey', 'licenseKey'], dot: ['newrelic.license.key', 'newrelic.api.key'], snake: ['new_relic_license_key'] }, 'newrelic'],
    'heroku-api-key': [() => uuid(), { env: ['HEROKU_API_KEY'], camel: ['herokuApiKey'], dot: ['heroku.api.key'], snake: ['heroku_api_key'] }, 'heroku'],
    'mailchimp-key': [() => `${hex(32)}-us${1 + r.int(21)}`, { env: ['MAILCHIMP_API_KEY'], camel: ['mailchimpApiKey', 'apiKey'], dot: ['mailchimp.api.key'], snake: ['mailchimp_api_key'] }, 'mailchimp'],
    'sentry-dsn': [null, { env: ['SENTRY_DSN'], camel: ['sentryDsn', 'dsn'], dot: ['sentry.dsn'], snake: ['sentry_dsn'] }],
    'age-secret-key': [() => 'AGE-SECRET-KEY-1' + from(BECH32, 58), { env: ['SOPS_AGE_KEY', 'AGE_KEY'], camel: ['ageKey'], dot: ['sops.age.key'], snake: ['age_secret_key'] }],
    'azure-storage-key': [() => from(B64, 86) + '==', { env: ['AZURE_STORAGE_KEY', 'AZURE_STORAGE_ACCOUNT_KEY'], camel: ['accountKey', 'azureStorageKey'], dot: ['azure.storage.account-key', 'azure.storage.key'], snake: ['azure_storage_key'] }, 'azure'],
    'supabase-token': [() => 'sbp_' + hex(40), { env: ['SUPABASE_ACCESS_TOKEN'], camel: ['supabaseToken'], dot: ['supabase.access.token'], snake: ['supabase_access_token'] }],
    'grafana-token': [() => pick([() => `glsa_${from(ALNUM, 32)}_${hex(8)}`, () => `glc_${from(B64, 60)}${pick(['', '=', '=='])}`])(), { env: ['GRAFANA_TOKEN', 'GRAFANA_SERVICE_ACCOUNT_TOKEN'], camel: ['grafanaToken'], dot: ['grafana.api.token'], snake: ['grafana_token'] }],
    'doppler-token': [() => `dp.${pick(['pt', 'st', 'ct', 'sa'])}.${from(ALNUM, 43)}`, { env: ['DOPPLER_TOKEN'], camel: ['dopplerToken'], dot: ['doppler.token'], snake: ['doppler_token'] }],
    'jwt': [jwt, { env: ['ID_TOKEN', 'SESSION_JWT'], camel: ['idToken', 'jwt'], dot: ['auth.jwt'], snake: ['access_token', 'jwt'] }],
    'password': [human, { env: ['DB_PASSWORD', 'POSTGRES_PASSWORD', 'SMTP_PASS', 'REDIS_PASSWORD', 'ADMIN_PASSWORD'], camel: ['password', 'dbPassword', 'adminPass'], dot: ['spring.datasource.password', 'mail.smtp.password', 'db.password'], snake: ['password', 'db_password', 'smtp_password', 'passwd'] }],
    'generic-api-key': [() => pick([() => from(ALNUM, 32), () => from(B64URL, 40), () => hex(64), () => from(ALNUM, 24)])(), { env: ['API_KEY', 'SECRET_KEY', 'CLIENT_SECRET', 'APP_SECRET', 'AUTH_TOKEN', 'WEBHOOK_SECRET'], camel: ['apiKey', 'clientSecret', 'accessToken', 'secretKey'], dot: ['app.api.key', 'security.jwt.secret', 'oauth.client.secret'], snake: ['api_key', 'secret_key', 'client_secret', 'access_token', 'api_token'] }],
  };
  const sentry = () => {
    const key = hex(32);
    return { parts: [`https://`, { secret: key, kind: 'sentry-dsn' }, `@o${100000 + r.int(900000)}.ingest.sentry.io/${1000000 + r.int(9000000)}`] };
  };
  const S = (secret, kind) => ({ secret, kind });

  // Syntaxes: (key, value part) → parts. `style` names the key spelling they use.
  const SYNTAX = [
    ['env', (k, v) => [`${k}=`, v]],
    ['env', (k, v) => [`export ${k}="`, v, '"']],
    ['env', (k, v) => [`${k}='`, v, `'  # ${pick(['rotated', 'prod', 'staging', 'do not commit'])}`]],
    ['env', (k, v) => [`os.environ["${k}"] = "`, v, '"']],
    ['env', (k, v) => [`os.environ.setdefault("${k}", "`, v, '")']],
    ['env', (k, v) => [`ENV ${k}=`, v]],
    ['env', (k, v) => [`      - name: ${k}\n        value: "`, v, '"']],
    ['env', (k, v) => [`  - name: ${k}\n    value: `, v]],
    ['env', (k, v) => [`set ${k}=`, v]],
    ['env', (k, v) => [`$env:${k} = "`, v, '"']],
    ['env', (k, v) => [`      ${k}: `, v]],
    ['camel', (k, v) => [`const ${k}: string = "`, v, '";']],
    ['camel', (k, v) => [`export const ${k} = '`, v, "';"]],
    ['camel', (k, v) => [`  ${k}: "`, v, '",']],
    ['camel', (k, v) => [`${k} := "`, v, '"']],
    ['camel', (k, v) => [`private static final String ${k} = "`, v, '";']],
    ['camel', (k, v) => [`  "${k}": "`, v, '",']],
    ['camel', (k, v) => [`<add key="${k}" value="`, v, '" />']],
    ['camel', (k, v) => [`<${k}>`, v, `</${k}>`]],
    ['camel', (k, v) => [`<credentials user="deploy" ${k}="`, v, '"/>']],
    ['dot', (k, v) => [`${k}=`, v]],
    ['dot', (k, v) => [`${k} = `, v]],
    ['dot', (k, v) => [`${k}: `, v]],
    ['snake', (k, v) => [`${k} = "`, v, '"']],
    ['snake', (k, v) => [`${k}: `, v]],
    ['snake', (k, v) => [`${k}: '`, v, "'"]],
    ['snake', (k, v) => [`  "${k}": "`, v, '"']],
    ['snake', (k, v) => [`${k} = `, v]],
    ['snake', (k, v) => [`$${k} = '`, v, "';"]],
    ['snake', (k, v) => [`:${k} => "`, v, '",']],
    ['snake', (k, v) => [`[default]\n${k} = `, v]],
  ];
  // A JSON-escaped notebook cell around a Python assignment.
  const notebook = (k, v) => [`  {"cell_type": "code", "metadata": {}, "source": ["import os\\n", "os.environ[\\"${k}\\"] = \\"`, v, `\\"\\n"]},`];

  const positive = () => {
    // Passwords and unbranded keys are the commonest secrets in real files: three times the weight of a vendor's.
    const kind = pick([...Object.keys(KINDS), 'password', 'password', 'generic-api-key', 'generic-api-key']);
    const [make, keys, keyword] = KINDS[kind];
    // Special shapes first.
    const roll = r.next();
    if (kind === 'password' && roll < 0.3) {
      const pw = human();
      return pick([
        () => [`mysql -u root -p`, S(pw, kind), ` -h db.internal ${pick(['shop', 'app'])}`],
        () => [`docker login -u deploy -p `, S(pw, kind), ` registry.acme.dev`],
        () => [`./manage.py createsuperuser --username admin --password `, S(pw, kind)],
        () => [`psql "postgresql://app:`, S(pw, kind), `@db.internal:5432/app"`],
        () => [`redis-cli -a `, S(pw, kind), ` -h cache.internal`],
        () => [`password: `, S(pw, kind)],
        () => [`sshpass -p '`, S(pw, kind), `' ssh deploy@10.0.4.7`],
        () => [`DATABASE_URL=mysql://shop:`, S(pw, kind), `@10.1.2.3/shop`],
        () => [`  <password>`, S(pw, kind), `</password>`],
      ])();
    }
    if (kind === 'password' && roll < 0.4) {
      const user = pick(['deploy', 'ci-bot', 'alice']);
      const pw = human();
      const auth = b64(`${user}:${pw}`);
      return [`{\n  "auths": {\n    "${pick(['https://index.docker.io/v1/', 'registry.acme.dev', 'ghcr.io'])}": {\n      "auth": "`, S(auth, 'docker-auth'), `"\n    }\n  }\n}`];
    }
    if (kind === 'sentry-dsn') {
      const { parts } = sentry();
      const k = pick(keys[pick(['env', 'camel', 'snake'])]);
      return pick([() => [`${k}=`, ...parts], () => [`  ${k}: "`, ...parts, '"'], () => [`sentry_sdk.init(dsn="`, ...parts, '", traces_sample_rate=0.2)'], () => [`Sentry.init({ dsn: '`, ...parts, "' });"]])();
    }
    if (kind === 'jwt' && roll < 0.3) return [`curl -H "Authorization: Bearer `, S(jwt(), kind), `" https://api.acme.dev/v1/me`];
    if (kind === 'generic-api-key' && roll < 0.15) return [`curl -s -H "Authorization: Bearer `, S(from(B64URL, 40), kind), `" https://api.acme.dev/v2/items`];
    const value = make();
    if (roll > 0.93) {
      const k = pick(keys.env);
      return notebook(k, S(value, kind));
    }
    const [style, syntax] = pick(SYNTAX);
    const k = pick(keys[style] ?? keys.snake);
    const parts = syntax(k, S(value, kind));
    // A comment naming the vendor above keyword-only values, as config files do.
    if (keyword && r.next() < 0.3) parts.unshift(`# ${keyword} credentials\n`);
    return parts;
  };

  const realOr = (list, fallback) => (list.length ? pick(list) : fallback());
  const b64text = () => b64(pick(['Copyright (C) the Free Software Foundation, Inc. ', 'This package provides the documentation for the program. ', 'See the file COPYING for the full license text and conditions. ']).repeat(1 + r.int(2)));
  const NEGATIVES = [
    () => [`${pick(['commit', 'sha', 'rev', 'revision', 'git_sha', 'GIT_COMMIT', 'head_sha'])}: ${realOr(neg.hex40, () => hex(40))}`],
    () => [`${pick(['checksum', 'sha256', 'digest', 'sha256sum', 'integrity_hash'])} = "${realOr(neg.hex64, () => hex(64))}"`],
    () => [`image: registry.acme.dev/api@sha256:${realOr(neg.hex64, () => hex(64))}`],
    () => [`    "resolved": "https://registry.npmjs.org/x/-/x-1.2.3.tgz",\n    "integrity": "${realOr(neg.integrity, () => 'sha512-' + from(B64, 86) + '==')}"`],
    () => [`${realOr(neg.hex32, () => hex(32))}  usr/share/doc/${pick(['bash', 'coreutils', 'tar'])}/changelog.Debian.gz`],
    () => [`${pick(['request_id', 'trace_id', 'correlation_id', 'session_id', 'installation_id'])}=${realOr(neg.uuid, uuid)} status=200`],
    () => [`level=info msg="key accepted" api_key_id=${realOr(neg.uuid, uuid)} pod=${pick(['checkout', 'payments-api', 'worker'])}-${from('bcdfghjklmnpqrstvwxz2456789', 9)}-${from('bcdfghjklmnpqrstvwxz2456789', 5)}`],
    () => [`Authorization: Bearer [REDACTED] request_id=${uuid()} pod=api-${from('bcdfghjklmnpqrstvwxz2456789', 10)}-${from('bcdfghjklmnpqrstvwxz2456789', 5)}`],
    () => [`token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c  # jwt.io example`],
    () => [`${pick(['payload', 'content', 'body_b64', 'data'])}: ${b64text()}`],
    () => [`${pick(['signature', 'blob', 'data'])}: ${realOr(neg.b64, b64text)}`],
    () => [`${pick(['DB_PASSWORD', 'password', 'api_key', 'SECRET_KEY', 'token'])}=${pick(['changeme', '${DB_PASSWORD}', '<your-api-key>', 'xxxxxxxxxxxxxxxx', 'your-token-here', 'REPLACE_ME', '********', '""', 'None', 'null', '$(cat /run/secrets/db_password)', "{{ .Values.db.password }}"])}`],
    () => [`    ${pick(['password', 'apiKey', 'token'])}: ${pick(['string;', 'str', 'Optional[str] = None', 'process.env.API_KEY,', 'os.environ["DB_PASSWORD"]', 'config.get("password")', 'getPassword(),', "settings.SECRET_KEY"])}`],
    () => [`        - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef:\n              name: ${pick(['db-credentials', 'postgres-secret'])}\n              key: password`],
    () => [`AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`],
    () => [`password_min_length = ${8 + r.int(8)}`],
    () => [`${pick(['token_url', 'auth_uri', 'token_uri'])}: https://oauth2.${pick(['googleapis.com', 'acme.dev'])}/token`],
    () => [`Merge pull request #${r.int(5000)} from acme/fix-token-refresh (${realOr(neg.hex40, () => hex(40)).slice(0, 12)})`],
    () => [`uuid = "${realOr(neg.uuid, uuid)}"`],
    () => [`heroku_app_id: ${realOr(neg.uuid, uuid)}`],
    () => [`cache_key: ${realOr(neg.hex64, () => hex(64))}`],
  ];
  const negative = () => pick(NEGATIVES)();
  return { positive, negative };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : REAL_SETS.map((s) => s.name);
  for (const name of names) {
    const dir = writeRealSet(name);
    const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8')).files;
    const n = Object.values(labels).reduce((a, l) => a + l.length, 0);
    console.log(`${name}: ${Object.keys(labels).length} files, ${n} labelled secrets → ${path.relative(root, dir)}`);
  }
}
