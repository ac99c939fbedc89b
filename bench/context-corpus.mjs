// ctxpack context corpus generator (issue 5): writes
//   tests/fixtures/context/labelled/   a labelled set of realistic files (Python, JS/TS, Go, YAML, TOML, .env,
//                                      Dockerfile, CI workflow, JSON, SQL, shell, logs, Markdown, key files) with
//                                      planted credentials of every built-in rule and many look-alikes, and
//                                      labels.json: per file, the true secrets {ruleId, kind, line, start, end,
//                                      sha256} (start/end: UTF-16 offsets into the file, as detectSecrets reports);
//   .bench/context/corpus/             with --corpus: ~100 MB of mixed text (code, configs, logs, JSON, prose,
//                                      CJK, base64 blobs) with a realistic sprinkle of secrets, in 1 MiB files.
//
// Every secret is generated here from a seeded PRNG (mulberry32), with the issuer's documented shape and a valid
// checksum where the format has one (GitHub/npm CRC32, Luhn, IBAN mod 97, JWT JSON parts). None is real.
//
// Reproduce: node bench/context-corpus.mjs [--corpus]   (bench/context.mjs runs it when needed)
// BENCH_CONTEXT_MB changes the corpus size (default 100).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { prng } from './prng.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const LABELLED_DIR = path.join(root, 'tests', 'fixtures', 'context', 'labelled');
export const CORPUS_DIR = path.join(root, '.bench', 'context', 'corpus');
const SEED = 5;


const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';
const B64 = ALNUM + '+/';
const URL = ALNUM + '_-';
const B32 = UPPER + '234567';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(text) {
  let c = 0xffffffff;
  for (const byte of Buffer.from(text)) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function base62(n, width) {
  let s = '';
  do {
    s = ALNUM[n % 62] + s; // GitHub's alphabet order differs; the shape (6 base62 chars) is what matters
    n = Math.floor(n / 62);
  } while (n > 0);
  return s.padStart(width, '0');
}
const b64url = (text) => Buffer.from(text).toString('base64url');
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

function luhnComplete(prefix, length, r) {
  let digits = prefix + r.from(DIGITS, length - prefix.length - 1);
  for (let check = 0; check < 10; check++) {
    const candidate = digits + check;
    let sum = 0;
    [...candidate].reverse().forEach((d, i) => {
      let v = Number(d);
      if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    });
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable');
}
function ibanFor(country, bban) {
  const rearranged = bban + country + '00';
  let rem = 0;
  for (const ch of rearranged) {
    const v = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + Number(d)) % 97;
  }
  return `${country}${String(98 - rem).padStart(2, '0')}${bban}`;
}
const wrap = (text, width) => text.match(new RegExp(`.{1,${width}}`, 'g')).join('\n');

/** Secret generators, one per built-in rule (ipv4-address is off by default and only appears as a look-alike). */
export function secretMakers(r) {
  const gh = (prefix) => {
    const body = r.from(ALNUM, 30);
    return `${prefix}${body}${base62(crc32(body), 6)}`;
  };
  const uuid = () => `${r.from(HEX, 8)}-${r.from(HEX, 4)}-4${r.from(HEX, 3)}-${r.pick('89ab')}${r.from(HEX, 3)}-${r.from(HEX, 12)}`;
  const pem = (label, bytes) => `-----BEGIN ${label}-----\n${wrap(r.from(B64, bytes), 64)}\n-----END ${label}-----`;
  return {
    'aws-access-key-id': () => r.pick(['AKIA', 'ASIA']) + r.from(B32, 16),
    'aws-secret-access-key': () => r.from(B64, 40),
    'gcp-service-account-private-key': () =>
      `-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ${wrap(r.from(B64, 1560), 64).replaceAll('\n', '\\n')}\\n-----END PRIVATE KEY-----\\n`,
    'gcp-api-key': () => `AIzaSy${r.from(URL, 33)}`,
    'azure-storage-account-key': () => `${r.from(B64, 86)}==`,
    'digitalocean-token': () => `${r.pick(['dop', 'doo', 'dor'])}_v1_${r.from(HEX, 64)}`,
    'heroku-api-key': () => `HRKU-AA${r.from(URL, 58)}`,
    'heroku-legacy-api-key': uuid,
    'cloudflare-api-token': () => r.from(URL, 40),
    'cloudflare-global-api-key': () => r.from(HEX, 37),
    'cloudflare-origin-ca-key': () => `v1.0-${r.from(HEX, 24)}-${r.from(HEX, 146)}`,
    'databricks-token': () => `dapi${r.from(HEX, 32)}`,
    'vault-service-token': () => `hvs.CAESI${r.from(URL, 86)}`,
    'vault-batch-token': () => `hvb.AAAAAQ${r.from(URL, 132)}`,
    'github-personal-access-token': () => gh('ghp_'),
    'github-oauth-token': () => gh('gho_'),
    'github-user-to-server-token': () => gh('ghu_'),
    'github-server-to-server-token': () => gh('ghs_'),
    'github-refresh-token': () => gh('ghr_') + r.from(ALNUM, 40),
    'github-fine-grained-token': () => `github_pat_11${r.from(UPPER + DIGITS, 20)}_${r.from(ALNUM, 59)}`,
    'gitlab-personal-access-token': () => `glpat-${r.from(URL, 20)}`,
    'gitlab-runner-token': () => `glrt-t1_${r.from(URL, 20)}`,
    'gitlab-deploy-token': () => `gldt-${r.from(URL, 20)}`,
    'bitbucket-app-password': () => `ATBB${r.from(ALNUM, 32)}${r.from(HEX.toUpperCase(), 8)}`,
    'atlassian-api-token': () => `ATATT3xFfGF0${r.from(URL, 180)}=${r.from(HEX.toUpperCase(), 8)}`,
    'npm-access-token': () => gh('npm_'),
    'pypi-upload-token': () => `pypi-AgEIcHlwaS5vcmc${r.from(URL, 160)}`,
    'dockerhub-access-token': () => `dckr_pat_${r.from(URL, 27)}`,
    'openai-api-key': () =>
      r.next() < 0.7 ? `sk-proj-${r.from(URL, 156)}` : `sk-${r.from(ALNUM, 20)}T3BlbkFJ${r.from(ALNUM, 20)}`,
    'anthropic-api-key': () => `sk-ant-api03-${r.from(URL, 93)}AA`,
    'huggingface-access-token': () => `hf_${r.from(ALNUM, 34)}`,
    'groq-api-key': () => `gsk_${r.from(ALNUM, 52)}`,
    'replicate-api-token': () => `r8_${r.from(ALNUM, 37)}`,
    'cohere-api-key': () => r.from(ALNUM, 40),
    'mistral-api-key': () => r.from(ALNUM, 32),
    'stripe-secret-key': () => `sk_${r.pick(['live', 'test'])}_51${r.from(ALNUM, 97)}`,
    'stripe-restricted-key': () => `rk_${r.pick(['live', 'test'])}_51${r.from(ALNUM, 97)}`,
    'stripe-webhook-secret': () => `whsec_${r.from(ALNUM, 32)}`,
    'square-access-token': () => `EAAA${r.from(URL, 60)}`,
    'square-oauth-secret': () => `sq0csp-${r.from(URL, 43)}`,
    'braintree-access-token': () =>
      `access_token$${r.pick(['production', 'sandbox'])}$${r.from(LOWER + DIGITS, 16)}$${r.from(HEX, 32)}`,
    'slack-bot-token': () => `xoxb-${r.from(DIGITS, 12)}-${r.from(DIGITS, 13)}-${r.from(ALNUM, 24)}`,
    'slack-user-token': () => `xoxp-${r.from(DIGITS, 12)}-${r.from(DIGITS, 12)}-${r.from(DIGITS, 13)}-${r.from(HEX, 32)}`,
    'slack-app-token': () => `xapp-1-A${r.from(UPPER + DIGITS, 10)}-${r.from(DIGITS, 13)}-${r.from(HEX, 64)}`,
    'slack-legacy-token': () => `${r.pick(['xoxa', 'xoxr', 'xoxs'])}-2-${r.from(DIGITS, 12)}-${r.from(ALNUM, 32)}`,
    'slack-webhook-url': () =>
      `https://hooks.slack.com/services/T${r.from(UPPER + DIGITS, 8)}/B${r.from(UPPER + DIGITS, 10)}/${r.from(ALNUM, 24)}`,
    'discord-bot-token': () =>
      `${b64url(String(100000000000000000n + BigInt(r.int(2 ** 31)) * 1000000n + BigInt(r.int(1e6)))).replace(/=+$/, '')}.${r.from(URL, 6)}.${r.from(URL, 38)}`,
    'discord-webhook-url': () =>
      `https://discord.com/api/webhooks/1${r.from(DIGITS, 18)}/${r.from(URL, 68)}`,
    'telegram-bot-token': () => `${1 + r.int(8)}${r.from(DIGITS, 9)}:AA${r.from(URL, 33)}`,
    'twilio-api-key': () => `SK${r.from(HEX, 32)}`,
    'twilio-auth-token': () => r.from(HEX, 32),
    'sendgrid-api-key': () => `SG.${r.from(URL, 22)}.${r.from(URL, 43)}`,
    'mailgun-api-key': () => `key-${r.from(HEX, 32)}`,
    'shopify-access-token': () => `${r.pick(['shpat', 'shpca', 'shppa'])}_${r.from(HEX, 32)}`,
    'shopify-shared-secret': () => `shpss_${r.from(HEX, 32)}`,
    'linear-api-key': () => `lin_api_${r.from(ALNUM, 40)}`,
    'notion-integration-token': () => (r.next() < 0.5 ? `secret_${r.from(ALNUM, 43)}` : `ntn_${r.from(ALNUM, 46)}`),
    jwt: () => {
      const header = b64url(JSON.stringify({ alg: r.pick(['HS256', 'RS256']), typ: 'JWT' })).replace(/=+$/, '');
      const payload = b64url(
        JSON.stringify({ sub: String(100000 + r.int(900000)), name: r.pick(['Ada Lovelace', 'Grace Hopper']), iat: 1732300000 + r.int(100000), scope: 'read:repo write:pack' }),
      ).replace(/=+$/, '');
      return `${header}.${payload}.${r.from(URL, 43)}`;
    },
    'openssh-private-key': () =>
      `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n${wrap(r.from(B64, 280), 70)}\n-----END OPENSSH PRIVATE KEY-----`,
    'pgp-private-key': () =>
      `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQVYBGVh${wrap(r.from(B64, 600), 64)}\n=${r.from(B64, 4)}\n-----END PGP PRIVATE KEY BLOCK-----`,
    'private-key': () =>
      r.next() < 0.5
        ? pem('RSA PRIVATE KEY', 1200)
        : `-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI${wrap(r.from(B64, 150), 64)}\n-----END EC PRIVATE KEY-----`,
    'putty-private-key': () =>
      `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@build-7\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAI${r.from(B64, 39)}\n${r.from(B64, 4)}\nPrivate-Lines: 1\nAAAAI${r.from(B64, 39)}\nPrivate-MAC: ${r.from(HEX, 64)}`,
    'connection-string-password': () => r.from(ALNUM, 12 + r.int(12)),
    'generic-password': () => r.from(ALNUM + '!#%^*', 12 + r.int(10)),
    'generic-secret': () => r.from(B64, 32 + r.int(16)),
    'generic-api-token': () => r.from(ALNUM, 32 + r.int(8)),
    'email-address': () =>
      `${r.pick(['jane.doe', 'm.tanaka', 'oncall', 'billing', 'a.kowalski', 'dev+ci', 'li.wei'])}${r.int(100)}@${r.pick(['acme-corp.io', 'northwind.com', 'mail.contoso.net', 'fabrikam.dev', 'globex.co.uk'])}`,
    'payment-card-number': () => {
      const [prefix, length] = r.pick([['4', 16], ['51', 16], ['55', 16], ['2221', 16], ['37', 15], ['6011', 16]]);
      const number = luhnComplete(prefix, length, r);
      return length === 16 && r.next() < 0.5 ? number.match(/.{4}/g).join(' ') : number;
    },
    iban: () => {
      const [country, bban] = r.pick([
        ['DE', r.from(DIGITS, 18)],
        ['FR', r.from(DIGITS, 10) + r.from(UPPER + DIGITS, 11) + r.from(DIGITS, 2)],
        ['GB', r.from(UPPER, 4) + r.from(DIGITS, 14)],
        ['NL', r.from(UPPER, 4) + r.from(DIGITS, 10)],
      ]);
      const iban = ibanFor(country, bban);
      return r.next() < 0.5 ? iban.match(/.{1,4}/g).join(' ') : iban;
    },
  };
}

export const KIND = (ruleId) =>
  ['email-address', 'payment-card-number', 'iban', 'ipv4-address'].includes(ruleId) ? 'pii' : 'credential';

/**
 * A file under construction: `text` appends plain text, `secret` appends a labelled secret (its UTF-16 offsets).
 */
class Doc {
  constructor(name) {
    this.name = name;
    this.text = '';
    this.labels = [];
  }
  t(text) {
    this.text += text;
    return this;
  }
  s(ruleId, value) {
    const start = this.text.length;
    this.text += value;
    this.labels.push({ ruleId, kind: KIND(ruleId), line: this.text.slice(0, start).split('\n').length, start, end: this.text.length, sha256: sha256(value) });
    return this;
  }
}

/** Look-alikes that are not secrets, shared by several files. */
function lookAlikes(r) {
  const uuid = () => `${r.from(HEX, 8)}-${r.from(HEX, 4)}-4${r.from(HEX, 3)}-${r.pick('89ab')}${r.from(HEX, 3)}-${r.from(HEX, 12)}`;
  return {
    uuid,
    sha1: () => r.from(HEX, 40),
    sha256: () => r.from(HEX, 64),
    sha512b64: () => Buffer.from(r.from(HEX, 128), 'hex').toString('base64'),
    ip: () => `${r.pick([10, 172, 192, 34, 52])}.${r.int(256)}.${r.int(256)}.${1 + r.int(254)}`,
    version: () => `${r.int(10)}.${r.int(30)}.${r.int(20)}`,
    pngBase64: () => 'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAA' + r.from(B64, 240 + r.int(200)) + '==',
    id: () => r.from(DIGITS, 12 + r.int(7)),
  };
}

/** The labelled files: each a function of the PRNG, so the corpus can re-render them with other values. */
export function documents(r) {
  const S = secretMakers(r);
  const L = lookAlikes(r);
  const docs = [];
  const doc = (name) => {
    const d = new Doc(name);
    docs.push(d);
    return d;
  };

  doc('app/settings.py')
    .t(`"""Django settings for the billing service."""\nimport os\nfrom pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent\n\n# SECURITY WARNING: keep the secret key used in production secret!\nSECRET_KEY = "`)
    .s('generic-secret', S['generic-secret']())
    .t(`"\nDEBUG = os.environ.get("DEBUG", "0") == "1"\nALLOWED_HOSTS = ["billing.internal", "${L.ip()}"]\n\nDATABASES = {\n    "default": {\n        "ENGINE": "django.db.backends.postgresql",\n        "NAME": "billing",\n        "USER": "billing",\n        "PASSWORD": os.environ["DB_PASSWORD"],\n        "HOST": os.environ.get("DB_HOST", "localhost"),\n        "PORT": 5432,\n    }\n}\n\nAWS_ACCESS_KEY_ID = "`)
    .s('aws-access-key-id', S['aws-access-key-id']())
    .t(`"\nAWS_SECRET_ACCESS_KEY = "`)
    .s('aws-secret-access-key', S['aws-secret-access-key']())
    .t(`"\nAWS_STORAGE_BUCKET_NAME = "acme-billing-invoices"\nAWS_S3_REGION_NAME = "eu-west-1"\n# Example from the AWS docs, not a key: AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\nEMAIL_HOST = "smtp.sendgrid.net"\nEMAIL_HOST_USER = "apikey"\nEMAIL_HOST_PASSWORD = os.environ.get("SENDGRID_PASSWORD")\nDEFAULT_FROM_EMAIL = "`)
    .s('email-address', S['email-address']())
    .t(`"\n\nSTRIPE_PUBLISHABLE_KEY = "pk_live_51${r.from(ALNUM, 97)}"\nSTRIPE_SECRET_KEY = "`)
    .s('stripe-secret-key', S['stripe-secret-key']())
    .t(`"\nSTRIPE_API_VERSION = "2024-06-20"\nSESSION_COOKIE_AGE = 1209600\nCSRF_TRUSTED_ORIGINS = ["https://billing.acme-corp.io"]\nREQUEST_ID_HEADER = "X-Request-ID"  # e.g. ${L.uuid()}\nPASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]\nAUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]\n`);

  doc('services/llm_client.py')
    .t(`import os\nimport httpx\nfrom functools import lru_cache\n\nOPENAI_API_KEY = os.environ["OPENAI_API_KEY"]\nDEFAULT_MODEL = "gpt-4o-2024-08-06"\nMAX_TOKENS = 4096\n\n\ndef get_token() -> str:\n    token = os.environ.get("ANTHROPIC_API_KEY") or read_keyring("anthropic")\n    return token\n\n\nclass Client:\n    def __init__(self, api_key: str | None = None, timeout: float = 30.0):\n        self.api_key = api_key or get_token()\n        self.timeout = timeout\n        self.tokenizer = "o200k_base"\n\n    def headers(self) -> dict:\n        return {"Authorization": f"Bearer {self.api_key}", "anthropic-version": "2023-06-01"}\n\n\n# TODO(ops): remove before merging, these were for the load test\nFALLBACK_KEYS = {\n    "openai": "`)
    .s('openai-api-key', S['openai-api-key']())
    .t(`",\n    "anthropic": "`)
    .s('anthropic-api-key', S['anthropic-api-key']())
    .t(`",\n    "groq": "`)
    .s('groq-api-key', S['groq-api-key']())
    .t(`",\n}\nHF_TOKEN = "`)
    .s('huggingface-access-token', S['huggingface-access-token']())
    .t(`"\nCOHERE_API_KEY = "`)
    .s('cohere-api-key', S['cohere-api-key']())
    .t(`"\nmistral_api_key = "`)
    .s('mistral-api-key', S['mistral-api-key']())
    .t(`"\nREPLICATE_API_TOKEN = "`)
    .s('replicate-api-token', S['replicate-api-token']())
    .t(`"\n\n\n@lru_cache(maxsize=32)\ndef embed(text: str, model: str = "text-embedding-3-small") -> list[float]:\n    response = httpx.post(\n        "https://api.openai.com/v1/embeddings",\n        headers={"Authorization": f"Bearer {OPENAI_API_KEY}"},\n        json={"model": model, "input": text},\n        timeout=30,\n    )\n    response.raise_for_status()\n    return response.json()["data"][0]["embedding"]\n\n# placeholder shapes from the docs: sk-proj-... and sk-ant-api03-...\nhf_hub_download(repo_id="sentence-transformers/all-MiniLM-L6-v2", filename="config.json")\n`);

  doc('src/payments.ts')
    .t(`import Stripe from 'stripe';\nimport { Client, Environment } from 'square';\nimport braintree from 'braintree';\n\n// Test mode only. Card for manual QA: `)
    .s('payment-card-number', '4242 4242 4242 4242')
    .t(`, any CVC.\nexport const stripe = new Stripe(process.env.STRIPE_SECRET_KEY ?? '', { apiVersion: '2024-06-20' });\nconst restricted = '`)
    .s('stripe-restricted-key', S['stripe-restricted-key']())
    .t(`';\nconst webhookSecret = '`)
    .s('stripe-webhook-secret', S['stripe-webhook-secret']())
    .t(`';\nconst publishable = 'pk_test_51${r.from(ALNUM, 97)}';\n\nexport const square = new Client({\n  accessToken: '`)
    .s('square-access-token', S['square-access-token']())
    .t(`',\n  environment: Environment.Production,\n});\nexport const SQUARE_APP_SECRET = '`)
    .s('square-oauth-secret', S['square-oauth-secret']())
    .t(`';\n\nexport const gateway = new braintree.BraintreeGateway({ accessToken: '`)
    .s('braintree-access-token', S['braintree-access-token']())
    .t(`' });\n\nexport async function charge(customerId: string, amountCents: number, idempotencyKey = crypto.randomUUID()) {\n  const intent = await stripe.paymentIntents.create(\n    { customer: customerId, amount: amountCents, currency: 'eur', metadata: { orderId: '${L.uuid()}' } },\n    { idempotencyKey },\n  );\n  if (intent.status !== 'succeeded') throw new Error(\`payment \${intent.id} is \${intent.status}\`);\n  return { id: intent.id, token: intent.client_secret?.slice(0, 8), restricted: restricted.length, publishable, webhookSecret };\n}\n`);

  doc('src/notify.js')
    .t(`// Notifications fan-out: Slack, Discord, Telegram, e-mail, SMS.\nconst { WebClient } = require('@slack/web-api');\nconst twilio = require('twilio');\n\nconst slack = new WebClient(process.env.SLACK_BOT_TOKEN || '`)
    .s('slack-bot-token', S['slack-bot-token']())
    .t(`');\nconst SLACK_ALERTS_WEBHOOK = '`)
    .s('slack-webhook-url', S['slack-webhook-url']())
    .t(`';\nconst DISCORD_WEBHOOK = "`)
    .s('discord-webhook-url', S['discord-webhook-url']())
    .t(`";\nconst TELEGRAM_BOT = '`)
    .s('telegram-bot-token', S['telegram-bot-token']())
    .t(`';\nconst sendgridKey = '`)
    .s('sendgrid-api-key', S['sendgrid-api-key']())
    .t(`';\nconst MAILGUN = { domain: 'mg.acme-corp.io', apiKey: '`)
    .s('mailgun-api-key', S['mailgun-api-key']())
    .t(`' };\n\n// Account SID is an identifier, not a secret.\nconst TWILIO_ACCOUNT_SID = 'AC${r.from(HEX, 32)}';\nconst TWILIO_API_KEY = '`)
    .s('twilio-api-key', S['twilio-api-key']())
    .t(`';\nconst twilioAuthToken = '`)
    .s('twilio-auth-token', S['twilio-auth-token']())
    .t(`';\nconst sms = twilio(TWILIO_ACCOUNT_SID, twilioAuthToken);\n\nasync function alert(text, { channel = '#ops', color = '#36a64f' } = {}) {\n  const ts = Date.now();\n  await slack.chat.postMessage({ channel, text, attachments: [{ color, footer: \`build \${'${L.sha1().slice(0, 7)}'}\` }] });\n  await fetch(SLACK_ALERTS_WEBHOOK, { method: 'POST', body: JSON.stringify({ text }) });\n  return ts;\n}\n\nmodule.exports = { alert, sms, sendgridKey, MAILGUN, TWILIO_API_KEY, DISCORD_WEBHOOK, TELEGRAM_BOT };\n`);

  doc('cmd/server/main.go')
    .t(`package main\n\nimport (\n\t"context"\n\t"database/sql"\n\t"log/slog"\n\t"net/http"\n\t"os"\n\t"time"\n\n\t"github.com/google/go-github/v62/github"\n\tvault "github.com/hashicorp/vault/api"\n)\n\n// Build metadata, set by -ldflags.\nvar (\n\tversion = "${L.version()}"\n\tcommit  = "${L.sha1()}"\n)\n\nconst defaultDSN = "postgres://api:`)
    .s('connection-string-password', S['connection-string-password']())
    .t(`@db.internal:5432/api?sslmode=require"\n\n// Fallback credentials for local runs (should come from the environment).\nconst githubToken = "`)
    .s('github-personal-access-token', S['github-personal-access-token']())
    .t(`"\nconst vaultToken = "`)
    .s('vault-service-token', S['vault-service-token']())
    .t(`"\n\nvar schemaDigest = "sha256:${L.sha256()}"\n\nfunc main() {\n\tctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)\n\tdefer cancel()\n\tdsn := os.Getenv("DATABASE_URL")\n\tif dsn == "" {\n\t\tdsn = defaultDSN\n\t}\n\tdb, err := sql.Open("pgx", dsn)\n\tif err != nil {\n\t\tslog.Error("open database", "err", err)\n\t\tos.Exit(1)\n\t}\n\tdefer db.Close()\n\tclient := github.NewClient(nil).WithAuthToken(getenv("GITHUB_TOKEN", githubToken))\n\tcfg := vault.DefaultConfig()\n\tvc, _ := vault.NewClient(cfg)\n\tvc.SetToken(getenv("VAULT_TOKEN", vaultToken))\n\ttoken := r.Header.Get("X-Request-Token")\n\t_ = token\n\tslog.Info("starting", "version", version, "commit", commit, "request", "${L.uuid()}")\n\thttp.ListenAndServe(":8080", handler(ctx, db, client))\n}\n\nfunc getenv(key, fallback string) string {\n\tif v, ok := os.LookupEnv(key); ok {\n\t\treturn v\n\t}\n\treturn fallback\n}\n`);

  doc('deploy/docker-compose.yml')
    .t(`services:\n  db:\n    image: postgres:16.4@sha256:${L.sha256()}\n    environment:\n      POSTGRES_USER: app\n      POSTGRES_PASSWORD: "`)
    .s('generic-password', S['generic-password']())
    .t(`"\n      POSTGRES_DB: app\n    healthcheck:\n      test: ["CMD-SHELL", "pg_isready -U app"]\n      interval: 10s\n  cache:\n    image: redis:7.4-alpine\n    command: ["redis-server", "--requirepass", "\${REDIS_PASSWORD}"]\n  worker:\n    build: .\n    environment:\n      REDIS_URL: redis://:`)
    .s('connection-string-password', S['connection-string-password']())
    .t(`@cache:6379/0\n      MONGO_URL: "mongodb+srv://reporting:`)
    .s('connection-string-password', S['connection-string-password']())
    .t(`@cluster0.${r.from(LOWER + DIGITS, 5)}.mongodb.net/reports?retryWrites=true"\n      AMQP_URL: amqp://guest:guest@rabbitmq:5672/\n      DATABASE_PASSWORD: \${DATABASE_PASSWORD:?set it in .env}\n      API_TOKEN: \${API_TOKEN}\n      LOG_LEVEL: info\n    depends_on: [db, cache]\n    deploy:\n      resources:\n        limits: { cpus: "0.50", memory: 512M }\n`);

  doc('.env.production')
    .t(`# Production environment. Loaded by the process manager.\nNODE_ENV=production\nPORT=3000\nDATABASE_URL=postgresql://app:`)
    .s('connection-string-password', S['connection-string-password']())
    .t(`@${L.ip()}:5432/app\nHEROKU_API_KEY=`)
    .s('heroku-legacy-api-key', S['heroku-legacy-api-key']())
    .t(`\nHEROKU_PLATFORM_KEY=`)
    .s('heroku-api-key', S['heroku-api-key']())
    .t(`\nCLOUDFLARE_API_TOKEN=`)
    .s('cloudflare-api-token', S['cloudflare-api-token']())
    .t(`\nCLOUDFLARE_GLOBAL_API_KEY=`)
    .s('cloudflare-global-api-key', S['cloudflare-global-api-key']())
    .t(`\nCLOUDFLARE_ZONE_ID=${r.from(HEX, 32)}\nCF_ORIGIN_CA_KEY=`)
    .s('cloudflare-origin-ca-key', S['cloudflare-origin-ca-key']())
    .t(`\nDIGITALOCEAN_TOKEN=`)
    .s('digitalocean-token', S['digitalocean-token']())
    .t(`\nDATABRICKS_HOST=https://adb-${r.from(DIGITS, 16)}.7.azuredatabricks.net\nDATABRICKS_TOKEN=`)
    .s('databricks-token', S['databricks-token']())
    .t(`\nLINEAR_API_KEY=`)
    .s('linear-api-key', S['linear-api-key']())
    .t(`\nNOTION_TOKEN=`)
    .s('notion-integration-token', S['notion-integration-token']())
    .t(`\nSHOPIFY_ACCESS_TOKEN=`)
    .s('shopify-access-token', S['shopify-access-token']())
    .t(`\nSHOPIFY_API_SECRET=`)
    .s('shopify-shared-secret', S['shopify-shared-secret']())
    .t(`\nGOOGLE_MAPS_API_KEY=`)
    .s('gcp-api-key', S['gcp-api-key']())
    .t(`\nAZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=`)
    .s('azure-storage-account-key', S['azure-storage-account-key']())
    .t(`;EndpointSuffix=core.windows.net\nSESSION_SECRET=`)
    .s('generic-secret', S['generic-secret']())
    .t(`\nJWT_SECRET=changeme\nSENTRY_ENVIRONMENT=production\nFEATURE_FLAGS=checkout_v2,search_v3\nRELEASE=${L.version()}+${L.sha1().slice(0, 8)}\n`);

  doc('.npmrc')
    .t(`registry=https://registry.npmjs.org/\n@acme:registry=https://npm.pkg.github.com/\n//registry.npmjs.org/:_authToken=`)
    .s('npm-access-token', S['npm-access-token']())
    .t(`\n//npm.pkg.github.com/:_authToken=\${GITHUB_TOKEN}\nsave-exact=true\nfund=false\n`);

  doc('.pypirc')
    .t(`[distutils]\nindex-servers =\n    pypi\n    testpypi\n\n[pypi]\nusername = __token__\npassword = `)
    .s('pypi-upload-token', S['pypi-upload-token']())
    .t(`\n\n[testpypi]\nrepository = https://test.pypi.org/legacy/\nusername = __token__\npassword = <your TestPyPI token>\n`);

  doc('config/integrations.toml')
    .t(`# Integrations used by the release bot.\ntitle = "release-bot"\nversion = "${L.version()}"\n\n[gitlab]\nurl = "https://gitlab.acme-corp.io"\ntoken = "`)
    .s('gitlab-personal-access-token', S['gitlab-personal-access-token']())
    .t(`"\nrunner_registration = "`)
    .s('gitlab-runner-token', S['gitlab-runner-token']())
    .t(`"\nproject_id = 4821\n\n[bitbucket]\nworkspace = "acme"\nusername = "release-bot"\napp_password = "`)
    .s('bitbucket-app-password', S['bitbucket-app-password']())
    .t(`"\n\n[jira]\nsite = "https://acme.atlassian.net"\nuser = "`)
    .s('email-address', S['email-address']())
    .t(`"\napi_token = "`)
    .s('atlassian-api-token', S['atlassian-api-token']())
    .t(`"\n\n[theme]\nprimary = "#1f6feb"\naccent = "#ff7b72"\nmax_tokens = 8192\ntoken_ttl_seconds = 3600\ntokenizer = "cl100k_base"\n`);

  doc('Dockerfile')
    .t(`# syntax=docker/dockerfile:1.7\nFROM node:20.18-bookworm-slim@sha256:${L.sha256()} AS build\nARG NPM_TOKEN\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci --omit=dev\nCOPY . .\nRUN npm run build\n\nFROM gcr.io/distroless/nodejs20-debian12@sha256:${L.sha256()}\nENV NODE_ENV=production \\\n    GITLAB_DEPLOY_TOKEN=`)
    .s('gitlab-deploy-token', S['gitlab-deploy-token']())
    .t(` \\\n    API_TOKEN_FILE=/run/secrets/api_token\nLABEL org.opencontainers.image.revision="${L.sha1()}" \\\n      org.opencontainers.image.version="${L.version()}"\nCOPY --from=build /app/dist /app\nUSER 65532:65532\nEXPOSE 8080\nCMD ["/app/server.js"]\n`);

  doc('.github/workflows/release.yml')
    .t(`name: release\non:\n  push:\n    tags: ["v*"]\npermissions:\n  contents: write\n  id-token: write\njobs:\n  publish:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@${L.sha1()} # v4.2.2\n      - uses: actions/setup-node@${L.sha1()} # v4.1.0\n        with:\n          node-version: 20\n          registry-url: https://registry.npmjs.org\n      - run: npm ci && npm test\n      - run: npm publish --provenance\n        env:\n          NODE_AUTH_TOKEN: \${{ secrets.NPM_TOKEN }}\n      - name: docker login\n        run: echo "`)
    .s('dockerhub-access-token', S['dockerhub-access-token']())
    .t(`" | docker login -u acmebot --password-stdin\n      - name: notify\n        env:\n          SLACK_WEBHOOK_URL: \${{ secrets.SLACK_WEBHOOK_URL }}\n          GITHUB_TOKEN: \${{ secrets.GITHUB_TOKEN }}\n        run: ./scripts/notify.sh "\${GITHUB_REF_NAME}"\n      - name: fine-grained token for the docs repo (rotate!)\n        run: git clone https://x-access-token:`)
    .s('github-fine-grained-token', S['github-fine-grained-token']())
    .t(`@github.com/acme/docs.git\n`);

  doc('credentials/service-account.json')
    .t(`{\n  "type": "service_account",\n  "project_id": "acme-analytics-prod",\n  "private_key_id": "${r.from(HEX, 40)}",\n  "private_key": "`)
    .s('gcp-service-account-private-key', S['gcp-service-account-private-key']())
    .t(`",\n  "client_email": "etl-runner@acme-analytics-prod.iam.gserviceaccount.com",\n  "client_id": "${r.from(DIGITS, 21)}",\n  "auth_uri": "https://accounts.google.com/o/oauth2/auth",\n  "token_uri": "https://oauth2.googleapis.com/token",\n  "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",\n  "universe_domain": "googleapis.com"\n}\n`);
  // The client_email of a service account is an e-mail address by format.
  const sa = docs.at(-1);
  const at = sa.text.indexOf('etl-runner@');
  const email = 'etl-runner@acme-analytics-prod.iam.gserviceaccount.com';
  sa.labels.push({ ruleId: 'email-address', kind: 'pii', line: sa.text.slice(0, at).split('\n').length, start: at, end: at + email.length, sha256: sha256(email) });

  doc('keys/id_ed25519').s('openssh-private-key', S['openssh-private-key']()).t('\n');
  doc('keys/id_ed25519.pub').t(`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${r.from(B64, 43)} deploy@build-7\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ${r.from(B64, 500)} ops@bastion\n`);
  doc('keys/server.key').s('private-key', S['private-key']()).t('\n');
  doc('keys/signing.asc').t('# exported with gpg --export-secret-keys --armor\n').s('pgp-private-key', S['pgp-private-key']()).t('\n');
  doc('keys/deploy.ppk').s('putty-private-key', S['putty-private-key']()).t('\n');
  doc('certs/ca.pem').t(
    `-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE${wrap(r.from(B64, 1100), 64)}\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA${wrap(r.from(B64, 330), 64)}\n-----END PUBLIC KEY-----\n`,
  );

  {
    const d = doc('logs/api-gateway.log');
    for (let i = 0; i < 60; i++) {
      const ts = `2026-11-23T${String(8 + Math.floor(i / 10)).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}:${String((i * 13) % 60).padStart(2, '0')}.${r.from(DIGITS, 3)}Z`;
      const line = `${ts} ${r.pick(['INFO ', 'INFO ', 'WARN ', 'DEBUG'])} [gateway] req_id=${L.uuid()} client=${L.ip()} method=${r.pick(['GET', 'POST'])} path=/v2/${r.pick(['orders', 'users', 'packs', 'search'])}/${L.id()} status=${r.pick([200, 200, 201, 304, 401, 429])} dur_ms=${r.int(900)} trace=${r.from(HEX, 32)}`;
      d.t(line);
      if (i === 7 || i === 31) {
        d.t(' auth="Bearer ').s('jwt', S.jwt()).t('"');
      } else if (i === 12 || i === 44) {
        d.t(' user=').s('email-address', S['email-address']());
      } else if (i === 20) {
        d.t(' body={"card":"').s('payment-card-number', S['payment-card-number']()).t('","exp":"09/29"}');
      } else if (i === 27) {
        d.t(' x-api-key=').s('anthropic-api-key', S['anthropic-api-key']());
      } else if (i === 50) {
        d.t(' ua="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"');
      }
      d.t('\n');
    }
  }

  {
    const d = doc('logs/ci-build.log');
    d.t(`Run actions/checkout@v4\nSyncing repository: acme/ctx-service\nFetching the repository\n/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +${L.sha1()}:refs/remotes/origin/main\nremote: Enumerating objects: 1184, done.\nHEAD is now at ${L.sha1().slice(0, 7)} Merge pull request #4821 from acme/fix-cache\n`);
    d.t(`git remote add mirror https://x-access-token:`).s('github-server-to-server-token', S['github-server-to-server-token']()).t(`@github.com/acme/ctx-service-mirror.git\n`);
    d.t(`git config user.email "41898282+github-actions[bot]@users.noreply.github.com"\n`);
    d.t(`Cloning into 'vendor/proto'...\nfrom git@github.com:acme/proto.git\n`);
    for (let i = 0; i < 30; i++) {
      d.t(`#${12 + i} [build ${1 + (i % 5)}/9] RUN npm ci  ${(r.next() * 40).toFixed(1)}s\n#${12 + i} sha256:${L.sha256()} ${(r.next() * 90).toFixed(1)}MB / ${(r.next() * 90).toFixed(1)}MB ${r.int(9)}.${r.int(9)}s done\n`);
    }
    d.t(`npm warn deprecated inflight@1.0.6: This module is not supported\nadded 812 packages, and audited 813 packages in 21s\nnpm notice Publishing to https://registry.npmjs.org/ with tag latest and default access\nnpm notice integrity: sha512-${L.sha512b64()}\nnpm notice shasum: ${L.sha1()}\n`);
    d.t(`Pushing image docker.io/acme/ctx-service:${L.version()} digest: sha256:${L.sha256()} size: 2417\n`);
    d.t(`DEBUG: refresh token rotated: `).s('github-refresh-token', S['github-refresh-token']()).t(`\n`);
    d.t(`DEBUG: oauth app token `).s('github-oauth-token', S['github-oauth-token']()).t(` expires in 28800s\n`);
    d.t(`DEBUG: user-to-server token for @octocat: `).s('github-user-to-server-token', S['github-user-to-server-token']()).t(`\n`);
    d.t(`Test Suites: 112 passed, 112 total\nTests:       1804 passed, 1804 total\nTime:        84.112 s\nRan all test suites. Build ${L.uuid()} finished at 2026-11-23 10:42:17 UTC\n`);
  }
  // `41898282+github-actions[bot]@users.noreply.github.com` above is a look-alike: `[bot]` is outside the
  // local-part alphabet, so only `bot]@…` could match, and no rule reports it.

  doc('fixtures/oauth-response.json').t(`{\n  "access_token": "`).s('jwt', S.jwt()).t(`",\n  "token_type": "Bearer",\n  "expires_in": 3600,\n  "refresh_token": "`).s('slack-legacy-token', S['slack-legacy-token']()).t(`",\n  "scope": "channels:read chat:write",\n  "authed_user": { "id": "U${r.from(UPPER + DIGITS, 10)}", "access_token": "`).s('slack-user-token', S['slack-user-token']()).t(`" },\n  "app_token": "`).s('slack-app-token', S['slack-app-token']()).t(`",\n  "team": { "id": "T${r.from(UPPER + DIGITS, 8)}", "name": "Acme" },\n  "request_id": "${L.uuid()}",\n  "avatar": "data:image/png;base64,${L.pngBase64()}",\n  "etag": "W/\\"${r.from(HEX, 32)}\\"",\n  "created": 1732370000123\n}\n`);

  doc('package-lock.json').t(
    `{\n  "name": "ctx-web",\n  "version": "0.3.1",\n  "lockfileVersion": 3,\n  "requires": true,\n  "packages": {\n${Array.from({ length: 14 }, () => {
      const name = r.pick(['react', 'undici', 'zod', 'typescript', 'esbuild', 'semver', 'picomatch', 'tslib']) + (r.next() < 0.5 ? '' : '-' + r.pick(['core', 'utils', 'types']));
      const v = L.version();
      return `    "node_modules/${name}": {\n      "version": "${v}",\n      "resolved": "https://registry.npmjs.org/${name}/-/${name}-${v}.tgz",\n      "integrity": "sha512-${L.sha512b64()}",\n      "license": "MIT"\n    }`;
    }).join(',\n')}\n  }\n}\n`,
  );

  doc('docs/setup.md')
    .t(`# Setting up the billing service\n\nYou need Node 20, Docker and a Stripe account in test mode. Ask `)
    .s('email-address', S['email-address']())
    .t(` for access to the staging project.\n\n## Credentials\n\nCopy \`.env.example\` to \`.env\` and fill in the values. Never commit real keys; the examples below are\nplaceholders taken from the vendors' documentation:\n\n\`\`\`sh\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nexport OPENAI_API_KEY=sk-...\nexport GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nexport STRIPE_SECRET_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx\nexport DATABASE_URL=postgres://app:<password>@localhost:5432/app\n\`\`\`\n\nIn test mode, pay with the card `)
    .s('payment-card-number', '4111 1111 1111 1111')
    .t(` and any future expiry date. SEPA debits in test mode use\nthe IBAN `)
    .s('iban', 'DE89 3704 0044 0532 0130 00')
    .t(`.\n\n## Troubleshooting\n\n- \`401 Unauthorized\`: the token in \`STRIPE_SECRET_KEY\` is for the wrong account.\n- Version \`${L.version()}\` of the SDK needs API version 2024-06-20.\n- The request id (for example \`${L.uuid()}\`) is in the \`Request-Id\` header; quote it when you open a ticket.\n- Clone with \`git clone git@github.com:acme/billing.git\`; the CI runner at ${L.ip()} pulls from the mirror.\n\nOne reviewer pasted a live key into this page in March; it was rotated. The old value for reference:\n`)
    .s('shopify-access-token', S['shopify-access-token']())
    .t(`\n`);

  doc('scripts/deploy.sh')
    .t(`#!/usr/bin/env bash\nset -euo pipefail\n\n: "\${ENVIRONMENT:?usage: deploy.sh <env>}"\nREGION=\${REGION:-eu-west-1}\nTOKEN=$(vault kv get -field=token secret/deploy/$ENVIRONMENT)\nexport VAULT_TOKEN="`)
    .s('vault-batch-token', S['vault-batch-token']())
    .t(`"\n\ncurl -fsS -H "Authorization: Bearer $TOKEN" "https://deploy.acme-corp.io/api/v1/releases" \\\n  -d "{\\"sha\\": \\"$(git rev-parse HEAD)\\", \\"env\\": \\"$ENVIRONMENT\\"}"\n\n# PagerDuty-free on-call hook\ncurl -X POST -H 'Content-type: application/json' --data '{"text":"deployed"}' \\\n  `)
    .s('slack-webhook-url', S['slack-webhook-url']())
    .t(`\n\nhelm upgrade --install api ./chart --set image.tag=${L.sha1().slice(0, 12)} --set replicas=3 --wait --timeout 5m\necho "password=$(openssl rand -base64 24)" > /dev/null\ndocker login -u acme -p "$DOCKER_PASSWORD" registry.acme-corp.io\n`);

  doc('k8s/secret.yaml')
    .t(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: api-credentials\n  namespace: prod\ntype: Opaque\nstringData:\n  db-password: `)
    .s('generic-password', S['generic-password']())
    .t(`\n  api-token: `)
    .s('generic-api-token', S['generic-api-token']())
    .t(`\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api@sha256:${L.sha256()}\n          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef: { name: api-credentials, key: db-password }\n            - name: TOKEN_AUDIENCE\n              value: api.acme-corp.io\n          resources:\n            limits: { cpu: 500m, memory: 256Mi }\n`);

  doc('terraform/main.tf')
    .t(`terraform {\n  required_version = ">= 1.6"\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "~> 5.70" }\n  }\n}\n\nprovider "aws" {\n  region     = "eu-central-1"\n  access_key = "`)
    .s('aws-access-key-id', S['aws-access-key-id']())
    .t(`"\n  secret_key = "`)
    .s('generic-secret', S['generic-secret']())
    .t(`"\n}\n\nresource "aws_s3_bucket" "artifacts" {\n  bucket = "acme-artifacts-${r.from(LOWER + DIGITS, 6)}"\n  tags   = { Owner = "platform", CostCenter = "4711" }\n}\n\nvariable "db_password" {\n  type      = string\n  sensitive = true\n}\n\nresource "aws_db_instance" "main" {\n  identifier     = "main"\n  engine         = "postgres"\n  engine_version = "16.4"\n  password       = var.db_password\n  kms_key_id     = "arn:aws:kms:eu-central-1:${r.from(DIGITS, 12)}:key/${L.uuid()}"\n}\n`);

  doc('db/seed.sql')
    .t(`-- Seed data for the staging database. Customers are synthetic.\nINSERT INTO customers (id, name, email, iban, created_at) VALUES\n`)
    .t(`  ('${L.uuid()}', 'Ada Lovelace', '`).s('email-address', S['email-address']()).t(`', '`).s('iban', S.iban()).t(`', '2026-01-12 09:14:00'),\n`)
    .t(`  ('${L.uuid()}', 'Grace Hopper', '`).s('email-address', S['email-address']()).t(`', '`).s('iban', S.iban()).t(`', '2026-02-03 17:40:00');\n\n`)
    .t(`INSERT INTO cards (customer_id, pan, brand) VALUES\n  ('${L.uuid()}', '`).s('payment-card-number', S['payment-card-number']()).t(`', 'visa');\n\n`)
    .t(`INSERT INTO users (login, password_hash) VALUES\n  ('admin', '$2b$12$${r.from(ALNUM + './', 53)}'),\n  ('ci', '$argon2id$v=19$m=65536,t=3,p=4$${r.from(B64, 22)}$${r.from(B64, 43)}');\n-- order numbers and timestamps are not cards\nINSERT INTO orders (no, placed_ms) VALUES (1000000000000017, 1732370000123), (2026112300000042, 1732370000456);\n`);

  doc('src/i18n/messages.ja.json')
    .t(`{\n  "welcome": "ようこそ、コンテキストパケットへ 🎉",\n  "apiKeyHelp": "APIキーは設定画面で発行できます。例：sk-xxxxxxxx",\n  "contact": "お問い合わせ：`)
    .s('email-address', S['email-address']())
    .t(`",\n  "debugToken": "テスト用トークン（削除予定）🔑 `)
    .s('github-personal-access-token', S['github-personal-access-token']())
    .t(`",\n  "limits": "1回のリクエストは最大 8,192 トークンまでです。",\n  "zh": "上下文数据包会在发送前删除密钥和个人信息。😀"\n}\n`);

  doc('src/bot/discord.py')
    .t(`import discord\nfrom discord.ext import commands\n\nintents = discord.Intents.default()\nintents.message_content = True\nbot = commands.Bot(command_prefix="!", intents=intents)\n\nGUILD_ID = 1${r.from(DIGITS, 18)}\n\n\n@bot.command()\nasync def ping(ctx):\n    await ctx.send(f"pong {round(bot.latency * 1000)} ms")\n\n\nif __name__ == "__main__":\n    bot.run("`)
    .s('discord-bot-token', S['discord-bot-token']())
    .t(`")\n`);

  doc('src/lib/version.ts').t(
    `// Look-alikes only: versions, hashes, ids, colours and encoded data that are not secrets.\nexport const VERSION = '${L.version()}';\nexport const BUILD = { commit: '${L.sha1()}', tree: 'sha256:${L.sha256()}', id: '${L.uuid()}' };\nexport const PALETTE = ['#0d1117', '#161b22', '#58a6ff', '#f78166'];\nexport const LOGO = 'data:image/png;base64,${L.pngBase64()}';\nexport const SERVERS = ['${L.ip()}', '${L.ip()}', '${L.ip()}'];\nexport const TOKEN_LIMIT = 128_000;\nexport const tokenizer = 'o200k_base';\nexport const passwordMinLength = 12;\nexport const secretName = 'prod/api/credentials';\nexport const apiKeyHeader = 'x-api-key';\nexport const token = await getToken({ audience: 'api://default' });\nexport const password = process.env.DB_PASSWORD ?? readFileSync('/run/secrets/db_password', 'utf8');\nexport const SNOWFLAKE = 1${r.from(DIGITS, 18)}n;\nexport const CHECKSUM = 0x${r.from(HEX, 16)}n;\nexport const PHONE = '+49 30 ${r.from(DIGITS, 8)}';\nexport const DATES = ['2026-11-23T10:42:17Z', '1732370000'];\nexport const PATHS = ['src/context/detect/rules.rs', 'wasm32-unknown-unknown'];\nexport const HASHED = '${L.sha512b64()}';\n`,
  );

  return docs;
}

export function writeLabelled() {
  const r = prng(SEED);
  const docs = documents(r);
  fs.rmSync(LABELLED_DIR, { recursive: true, force: true });
  const labels = {};
  for (const d of docs) {
    const file = path.join(LABELLED_DIR, 'files', d.name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, d.text);
    labels[d.name] = d.labels;
  }
  fs.writeFileSync(
    path.join(LABELLED_DIR, 'labels.json'),
    JSON.stringify(
      {
        generator: 'bench/context-corpus.mjs',
        seed: SEED,
        note: 'start/end are UTF-16 offsets into the file (as detectSecrets reports); sha256 is of the secret. Well-known test card numbers and the ISO example IBAN are labelled: the PII rules match their format and checksum, and redacting a test value costs nothing. ipv4-address is off by default: IPs are look-alikes.',
        files: labels,
      },
      null,
      1,
    ) + '\n',
  );
  return { files: docs.length, secrets: docs.reduce((n, d) => n + d.labels.length, 0) };
}

// ----- the mixed corpus -----

const PROSE = [
  'A context packet is the unit of work an agent hands to a language model.',
  'It names the task, the files and symbols that matter, and the limits the model must respect.',
  'The original service loaded its policy and then never consulted it, so secrets could reach a remote model.',
  'Budgets are checked against an estimate that errs on the high side, because a packet that is too large is rejected.',
  'Every redaction is recorded with its rule and its count, so a reviewer can see why a packet is smaller than expected.',
  'The migration finished overnight without incident, and the on-call engineer closed the ticket in the morning.',
  'We measured throughput on a two-core machine while another build was running, so the numbers are conservative.',
  'Customers who upgraded last week reported that the cache hit rate improved noticeably after the fix.',
  'Please review the attached design document before Thursday and leave your comments inline.',
  'Nothing in this section is normative; it explains the reasoning behind the rules that follow.',
];
const CJK = [
  'コンテキストパケットは、エージェントが言語モデルに渡す作業の単位です。',
  'タスク、関連するファイルとシンボル、そしてモデルが守るべき制限を記述します。',
  '元のサービスはポリシーを読み込みましたが、一度も参照しませんでした。',
  '上下文数据包是代理交给语言模型的工作单元。',
  '它列出任务、相关的文件和符号，以及模型必须遵守的限制。',
  '每一次删除都会记录规则和次数，审阅者可以看到数据包为什么变小了。',
  '컨텍스트 패킷은 에이전트가 언어 모델에 전달하는 작업 단위입니다.',
];

function filler(r, kind) {
  const L = lookAlikes(r);
  switch (kind) {
    case 'prose':
      return Array.from({ length: 4 + r.int(6) }, () => Array.from({ length: 3 + r.int(4) }, () => r.pick(PROSE)).join(' ')).join('\n\n') + '\n';
    case 'cjk':
      return Array.from({ length: 3 + r.int(5) }, () => Array.from({ length: 3 + r.int(5) }, () => r.pick(CJK)).join('')).join('\n\n') + '\n';
    case 'log':
      return Array.from({ length: 40 + r.int(80) }, (_, i) => `2026-11-23T10:${String(i % 60).padStart(2, '0')}:${String(r.int(60)).padStart(2, '0')}.${r.from(DIGITS, 3)}Z ${r.pick(['INFO', 'WARN', 'DEBUG', 'ERROR'])} [${r.pick(['worker', 'api', 'scheduler'])}] req=${L.uuid()} ip=${L.ip()} took=${r.int(2000)}ms ${r.pick(PROSE)}`).join('\n') + '\n';
    case 'json':
      return JSON.stringify(Array.from({ length: 20 + r.int(40) }, () => ({ id: L.uuid(), sha: L.sha1(), version: L.version(), count: r.int(1e6), tags: [r.pick(['a', 'b', 'c']), r.pick(['x', 'y'])], note: r.pick(PROSE) })), null, 2) + '\n';
    case 'base64':
      return wrap(r.from(B64, 2000 + r.int(6000)), 76) + '\n';
    default:
      throw new Error(kind);
  }
}

/** ~`megabytes` MB of mixed text in 1 MiB files; secrets come from re-rendered labelled documents (~15 % of the bytes). */
export function writeCorpus(megabytes = Number(process.env.BENCH_CONTEXT_MB ?? 100)) {
  // Keyed by size and by this generator's source, so a changed generator never reuses a stale corpus.
  const source = sha256(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8')).slice(0, 12);
  const stamp = path.join(CORPUS_DIR, `.complete-${megabytes}-${source}`);
  if (fs.existsSync(stamp)) return;
  fs.rmSync(CORPUS_DIR, { recursive: true, force: true });
  fs.mkdirSync(CORPUS_DIR, { recursive: true });
  const r = prng(SEED + 1000);
  const target = megabytes * 1024 * 1024;
  let written = 0;
  let index = 0;
  let pending = [];
  let docs = [];
  while (written < target) {
    let part;
    if (r.next() < 0.15) {
      if (docs.length === 0) docs = documents(prng(r.int(2 ** 31)));
      part = docs.pop().text;
    } else {
      part = filler(r, r.pick(['prose', 'prose', 'cjk', 'log', 'log', 'json', 'json', 'base64']));
    }
    pending.push(part);
    const size = pending.reduce((n, p) => n + p.length, 0);
    if (size >= 1024 * 1024) {
      const text = pending.join('\n');
      fs.writeFileSync(path.join(CORPUS_DIR, `part-${String(index++).padStart(4, '0')}.txt`), text);
      written += Buffer.byteLength(text);
      pending = [];
    }
  }
  fs.writeFileSync(stamp, '');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const summary = writeLabelled();
  console.log(`labelled set: ${summary.files} files, ${summary.secrets} secrets → ${path.relative(root, LABELLED_DIR)}`);
  if (process.argv.includes('--corpus')) {
    writeCorpus();
    console.log(`corpus → ${path.relative(root, CORPUS_DIR)}`);
  }
}
