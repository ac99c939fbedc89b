// ctxpack context hold-out set: an independent, seeded generator of realistic files developers feed to LLMs, with
// fake credentials and PII planted at known offsets and many hard negatives (placeholders, documentation example
// keys, digests, UUIDs, public keys, hashes). Written from vendors' documented credential formats, NOT from the
// detector rules, so it measures how the detectors generalise. Labelling decisions: tests/fixtures/context/holdout/README.md.
//
//   node bench/context-holdout.mjs      writes tests/fixtures/context/holdout/{files/**,labels.json}
//
// Every value is fake: random bodies (with the vendor's checksum where the format has one) from a fixed seed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from './prng.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const HOLDOUT_DIR = path.join(root, 'tests/fixtures/context/holdout');

const r = prng(0x5eed2026);
const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LO = 'abcdefghijklmnopqrstuvwxyz';
const DIG = '0123456789';
const ALNUM = UP + LO + DIG;
const B62 = DIG + UP + LO;
const B64 = UP + LO + DIG + '+/';
const B64URL = UP + LO + DIG + '-_';
const HEX = '0123456789abcdef';
const hex = (n) => r.from(HEX, n);
const digits = (n) => r.pick('123456789') + r.from(DIG, n - 1);

// ------------------------------------------------------------------ checksums
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (s) => {
  let c = 0xffffffff;
  for (const b of Buffer.from(s)) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const base62 = (n, width) => {
  let s = '';
  do {
    s = B62[n % 62] + s;
    n = Math.floor(n / 62);
  } while (n > 0);
  return s.padStart(width, '0');
};
/** GitHub / npm style token: prefix + 30 random base62 + base62(CRC32(random)) padded to 6. */
const checksummed = (prefix) => {
  const body = r.from(B62, 30);
  return prefix + body + base62(crc32(body), 6);
};
const luhnComplete = (partial) => {
  let sum = 0;
  const ds = [...partial].reverse().map(Number);
  ds.forEach((d, i) => {
    let x = i % 2 === 0 ? d * 2 : d;
    if (x > 9) x -= 9;
    sum += x;
  });
  return partial + ((10 - (sum % 10)) % 10);
};
const card = (prefix, len) => luhnComplete(prefix + r.from(DIG, len - prefix.length - 1));
const notLuhn = (len) => {
  const c = card(r.pick(['4', '5']), len);
  return c.slice(0, -1) + ((Number(c.at(-1)) + 3) % 10);
};
const ibanOf = (country, bban) => {
  const rearranged = (bban + country + '00').replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  let mod = 0;
  for (const ch of rearranged) mod = (mod * 10 + Number(ch)) % 97;
  return country + String(98 - mod).padStart(2, '0') + bban;
};
const iban = (country) =>
  ({
    DE: () => ibanOf('DE', r.from(DIG, 18)),
    GB: () => ibanOf('GB', r.from(UP, 4) + r.from(DIG, 14)),
    FR: () => ibanOf('FR', r.from(DIG, 10) + r.from(ALNUM.toUpperCase().slice(0, 26) + DIG, 11) + r.from(DIG, 2)),
    NL: () => ibanOf('NL', r.from(UP, 4) + r.from(DIG, 10)),
    ES: () => ibanOf('ES', r.from(DIG, 20)),
  })[country]();
const spaced = (s) => s.match(/.{1,4}/g).join(' ');
const b64url = (s) => Buffer.from(s).toString('base64url');

// ------------------------------------------------------------------ secret generators (vendor formats)
const gen = {
  awsKeyId: () => 'AKIA' + r.from(UP + '234567', 16),
  awsTempKeyId: () => 'ASIA' + r.from(UP + '234567', 16),
  awsSecret: () => r.from(ALNUM + '+/', 40),
  awsSession: () => 'IQoJb3JpZ2luX2VjE' + r.from(B64, 340) + '==',
  gcpApiKey: () => 'AIza' + r.from(ALNUM + '-_', 35),
  gcpOauthSecret: () => 'GOCSPX-' + r.from(ALNUM + '-_', 28),
  azureStorageKey: () => r.from(B64, 86) + '==',
  azureClientSecret: () => r.from(ALNUM, 3) + r.from(DIG, 1) + 'Q~' + r.from(ALNUM + '-_.~', 34),
  azureSasSig: () => encodeURIComponent(r.from(B64, 43) + '='),
  ghp: () => checksummed('ghp_'),
  gho: () => checksummed('gho_'),
  ghs: () => checksummed('ghs_'),
  ghu: () => checksummed('ghu_'),
  githubPat: () => 'github_pat_' + r.from(B62, 22) + '_' + r.from(B62, 59),
  glpat: () => 'glpat-' + r.from(ALNUM + '-_', 20),
  glrt: () => 'glrt-' + r.from(ALNUM + '-_', 20),
  gldt: () => 'gldt-' + r.from(ALNUM + '-_', 20),
  slackBot: () => `xoxb-${digits(11)}-${digits(13)}-${r.from(ALNUM, 24)}`,
  slackUser: () => `xoxp-${digits(11)}-${digits(11)}-${digits(13)}-${hex(32)}`,
  slackApp: () => `xapp-1-A0${r.from(UP + DIG, 9)}-${digits(13)}-${hex(64)}`,
  slackWebhook: () => `https://hooks.slack.com/services/T${r.from(UP + DIG, 8)}/B${r.from(UP + DIG, 10)}/${r.from(ALNUM, 24)}`,
  stripeLive: () => 'sk_live_' + r.from(ALNUM, 24),
  stripeLiveLong: () => 'sk_live_51' + r.from(ALNUM, 97),
  stripeTest: () => 'sk_test_51' + r.from(ALNUM, 97),
  stripeRestricted: () => 'rk_live_51' + r.from(ALNUM, 97),
  stripeWebhook: () => 'whsec_' + r.from(ALNUM, 32),
  openaiLegacy: () => 'sk-' + r.from(ALNUM, 20) + 'T3BlbkFJ' + r.from(ALNUM, 20),
  openaiProj: () => 'sk-proj-' + r.from(ALNUM + '-_', 74) + 'T3BlbkFJ' + r.from(ALNUM + '-_', 74),
  openaiSvc: () => 'sk-svcacct-' + r.from(ALNUM + '-_', 74) + 'T3BlbkFJ' + r.from(ALNUM + '-_', 74),
  anthropic: () => 'sk-ant-api03-' + r.from(ALNUM + '-_', 93) + 'AA',
  anthropicAdmin: () => 'sk-ant-admin01-' + r.from(ALNUM + '-_', 93) + 'AA',
  hf: () => 'hf_' + r.from(UP + LO, 34),
  sendgrid: () => 'SG.' + r.from(ALNUM + '-_', 22) + '.' + r.from(ALNUM + '-_', 43),
  twilioKeySid: () => 'SK' + hex(32),
  twilioAuth: () => hex(32),
  npm: () => checksummed('npm_'),
  pypi: () => 'pypi-AgEIcHlwaS5vcmcCJ' + r.from(B64URL, 160),
  dockerhub: () => 'dckr_pat_' + r.from(ALNUM + '-_', 27),
  digitalocean: () => 'dop_v1_' + hex(64),
  shopify: () => 'shpat_' + hex(32),
  telegram: () => `${digits(10)}:AA${r.from(ALNUM + '-_', 33)}`,
  discordWebhook: () => `https://discord.com/api/webhooks/${digits(18)}/${r.from(ALNUM + '-_', 68)}`,
  mailgun: () => 'key-' + hex(32),
  jwt: (payload) =>
    `${b64url(JSON.stringify({ alg: r.pick(['HS256', 'RS256']), typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}.${r.from(B64URL, r.pick([43, 86, 342]))}`,
  password: (n = 20) => r.from(ALNUM, 3) + r.from(ALNUM + '!#%^*-_+=', n - 6) + r.from(DIG, 1) + r.pick(['!', '#', '%']) + r.from(LO, 1),
  opaque: (n = 40) => r.from(ALNUM, n),
};
const pemBody = (prefix, bytes, width = 64) => {
  const body = prefix + Buffer.from(Array.from({ length: bytes }, () => r.int(256))).toString('base64');
  return body.match(new RegExp(`.{1,${width}}`, 'g')).join('\n');
};
const pem = {
  rsa: () => `-----BEGIN RSA PRIVATE KEY-----\n${pemBody('MIIEpAIBAAKCAQEA', 1180)}\n-----END RSA PRIVATE KEY-----`,
  pkcs8: () => `-----BEGIN PRIVATE KEY-----\n${pemBody('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ', 1180)}\n-----END PRIVATE KEY-----`,
  ec: () => `-----BEGIN EC PRIVATE KEY-----\n${pemBody('MHcCAQEEI', 110)}\n-----END EC PRIVATE KEY-----`,
  openssh: () =>
    `-----BEGIN OPENSSH PRIVATE KEY-----\n${pemBody('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', 300, 70)}\n-----END OPENSSH PRIVATE KEY-----`,
  encrypted: () => `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${pemBody('MIIFHzBJBgkqhkiG9w0BBQ0wPDAbBgkqhkiG9w0BBQwwDgQI', 1200)}\n-----END ENCRYPTED PRIVATE KEY-----`,
  publicKey: () => `-----BEGIN PUBLIC KEY-----\n${pemBody('MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA', 250)}\n-----END PUBLIC KEY-----`,
  certificate: () => `-----BEGIN CERTIFICATE-----\n${pemBody('MIIDdzCCAl+gAwIBAgIE', 880)}\n-----END CERTIFICATE-----`,
};

// ------------------------------------------------------------------ non-secret generators (hard negatives)
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${r.pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
const sha1 = () => hex(40);
const sha256 = () => hex(64);
const bcrypt = () => `$2b$12$${r.from('./' + ALNUM, 53)}`;
const argon2 = () => `$argon2id$v=19$m=65536,t=3,p=4$${r.from(B64.slice(0, 64), 22)}$${r.from(B64.slice(0, 64), 43)}`;
const ip = () => `${r.pick([10, 172, 192, 34, 52])}.${r.int(256)}.${r.int(256)}.${1 + r.int(254)}`;
const sshPub = (type = 'ssh-ed25519') =>
  type === 'ssh-ed25519' ? `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${r.from(B64, 43)} deploy@ci` : `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ${r.from(B64, 340)} alice@laptop`;
const pngDataUri = () => `data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAA${r.from(B64, 600)}=`;
const integrity = () => `sha512-${r.from(B64, 86)}==`;
const traceparent = () => `00-${hex(32)}-${hex(16)}-01`;
const ts = (h = r.int(24)) => `2026-11-${String(10 + r.int(13)).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(r.int(60)).padStart(2, '0')}:${String(r.int(60)).padStart(2, '0')}.${r.from(DIG, 3)}Z`;

// ------------------------------------------------------------------ file builder
const S = (kind, value) => ({ secret: true, kind, value });
class Doc {
  constructor(name) {
    this.name = name;
    this.text = '';
    this.labels = [];
  }
  /** Tagged template: appends one line (with '\n'); S(kind, value) interpolations become labels. */
  l = (strings, ...vals) => {
    strings.forEach((s, i) => {
      this.text += s;
      if (i >= vals.length) return;
      const v = vals[i];
      if (v && v.secret) {
        const start = this.text.length;
        this.text += v.value;
        this.labels.push({ kind: v.kind, start, end: this.text.length, value: v.value });
      } else this.text += String(v);
    });
    this.text += '\n';
    return this;
  };
  raw(s) {
    this.text += s;
    return this;
  }
}

function buildFiles() {
  const docs = [];
  const doc = (name) => {
    const d = new Doc(name);
    docs.push(d);
    return d;
  };
  const person = () => `${r.pick(['maria.gonzalez', 'j.okafor', 'wei.zhang', 'priya.raman', 'tom.becker', 'a.kowalska', 'samir.haddad', 'lena.nilsson'])}${r.int(90) + 10}`;
  const mail = () => `${person()}@${r.pick(['gmail.com', 'outlook.com', 'acme-corp.io', 'fastmail.fm', 'proton.me', 'northwind.de'])}`;

  // 1. Django settings
  {
    const d = doc('backend/myproject/settings.py');
    d.l`"""Django settings for myproject (generated by 'django-admin startproject' using Django 5.0.6)."""`;
    d.l`import os`;
    d.l`from pathlib import Path`;
    d.l``;
    d.l`BASE_DIR = Path(__file__).resolve().parent.parent`;
    d.l``;
    d.l`# SECURITY WARNING: keep the secret key used in production secret!`;
    d.l`SECRET_KEY = '${S('generic', 'django-insecure-' + r.from(LO + DIG + '!@#$%^&*(-_=+)', 50))}'`;
    d.l`DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"`;
    d.l`ALLOWED_HOSTS = ["api.myproject.example", "localhost", "127.0.0.1"]`;
    d.l``;
    d.l`ADMINS = [("Ops", "${S('email', mail())}"), ("Docs", "webmaster@example.com")]`;
    d.l``;
    d.l`DATABASES = {`;
    d.l`    "default": {`;
    d.l`        "ENGINE": "django.db.backends.postgresql",`;
    d.l`        "NAME": os.environ.get("POSTGRES_DB", "myproject"),`;
    d.l`        "USER": os.environ.get("POSTGRES_USER", "myproject"),`;
    d.l`        "PASSWORD": os.environ["POSTGRES_PASSWORD"],`;
    d.l`        "HOST": os.environ.get("POSTGRES_HOST", "localhost"),`;
    d.l`    }`;
    d.l`}`;
    d.l``;
    d.l`AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]`;
    d.l`PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]`;
    d.l``;
    d.l`EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"`;
    d.l`EMAIL_HOST = "smtp.sendgrid.net"`;
    d.l`EMAIL_HOST_USER = "apikey"`;
    d.l`EMAIL_HOST_PASSWORD = "${S('sendgrid', gen.sendgrid())}"`;
    d.l``;
    d.l`AWS_ACCESS_KEY_ID = "${S('aws', gen.awsKeyId())}"`;
    d.l`AWS_SECRET_ACCESS_KEY = "${S('aws', gen.awsSecret())}"`;
    d.l`AWS_STORAGE_BUCKET_NAME = "myproject-media-prod"`;
    d.l`AWS_S3_REGION_NAME = "eu-central-1"`;
    d.l``;
    d.l`STRIPE_SECRET_KEY = "${S('stripe', gen.stripeLive())}"`;
    d.l`STRIPE_PUBLISHABLE_KEY = "pk_live_51${r.from(ALNUM, 97)}"  # public by design`;
    d.l`SENTRY_DSN = "https://${hex(32)}@o${digits(6)}.ingest.sentry.io/${digits(7)}"`;
    d.l`CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")`;
  }

  // 2. Node config
  {
    const d = doc('services/api/config/default.js');
    d.l`'use strict';`;
    d.l`// Loaded by node-config; values in production.js override these. Keep real values in the vault!`;
    d.l`module.exports = {`;
    d.l`  port: Number(process.env.PORT || 8080),`;
    d.l`  db: {`;
    d.l`    url: process.env.DATABASE_URL || 'postgres://api:${S('url-credentials', gen.password(18))}@db.internal.acme-corp.io:5432/api',`;
    d.l`    pool: { min: 2, max: 10 },`;
    d.l`  },`;
    d.l`  redis: { url: 'redis://localhost:6379' },`;
    d.l`  openai: {`;
    d.l`    apiKey: process.env.OPENAI_API_KEY ?? '${S('openai', gen.openaiLegacy())}',`;
    d.l`    model: 'gpt-4o-mini-2024-07-18',`;
    d.l`  },`;
    d.l`  slack: { webhookUrl: '${S('slack', gen.slackWebhook())}' },`;
    d.l`  mail: { apiKey: process.env.SENDGRID_API_KEY, from: 'no-reply@example.org' },`;
    d.l`  session: { secret: '${S('generic', gen.opaque(48))}', cookieName: 'sid', maxAgeMs: 86400000 },`;
    d.l`  features: { buildId: '${sha1()}', requestIdHeader: 'x-request-id' },`;
    d.l`  auth: { password: process.env.ADMIN_PASSWORD, passwordMinLength: 12, token: '<your-token-here>' },`;
    d.l`};`;
  }

  // 3. Go server
  {
    const d = doc('cmd/ingest/main.go');
    d.l`package main`;
    d.l``;
    d.l`import (`;
    d.l`\t"database/sql"`;
    d.l`\t"log"`;
    d.l`\t"os"`;
    d.l``;
    d.l`\t_ "github.com/go-sql-driver/mysql"`;
    d.l`\t"github.com/google/go-github/v62/github"`;
    d.l`)`;
    d.l``;
    d.l`// TODO(wei): move to env before the demo`;
    d.l`const githubToken = "${S('github', gen.ghp())}"`;
    d.l``;
    d.l`var hmacKey = []byte("${S('generic', gen.opaque(32))}")`;
    d.l``;
    d.l`// schema digest sha256:${sha256()}`;
    d.l`const schemaVersion = "v1.14.2"`;
    d.l``;
    d.l`func main() {`;
    d.l`\tdsn := "ingest:${S('url-credentials', gen.password(16))}@tcp(mysql-primary.internal:3306)/events?parseTime=true"`;
    d.l`\tdb, err := sql.Open("mysql", dsn)`;
    d.l`\tif err != nil {`;
    d.l`\t\tlog.Fatalf("open: %v", err)`;
    d.l`\t}`;
    d.l`\tdefer db.Close()`;
    d.l`\tclient := github.NewClient(nil).WithAuthToken(githubToken)`;
    d.l`\tbackup := github.NewClient(nil).WithAuthToken(os.Getenv("GITHUB_TOKEN"))`;
    d.l`\t_ = backup`;
    d.l`\tlog.Printf("client ready, trace=%s", "${hex(32)}")`;
    d.l`\t_ = client`;
    d.l`}`;
  }

  // 4. Spring application.properties
  {
    const d = doc('billing/src/main/resources/application-prod.properties');
    d.l`# Spring Boot 3.3 - production profile`;
    d.l`server.port=8443`;
    d.l`spring.datasource.url=jdbc:postgresql://billing-db.prod.internal:5432/billing`;
    d.l`spring.datasource.username=billing_svc`;
    d.l`spring.datasource.password=${S('generic', gen.password(22))}`;
    d.l`spring.datasource.hikari.maximum-pool-size=20`;
    d.l`spring.mail.host=smtp.office365.com`;
    d.l`spring.mail.username=${S('email', mail())}`;
    d.l`spring.mail.password=\${MAIL_PASSWORD}`;
    d.l`app.jwt.secret=${S('generic', Buffer.from(Array.from({ length: 48 }, () => r.int(256))).toString('base64'))}`;
    d.l`app.jwt.expiration-ms=3600000`;
    d.l`azure.storage.connection-string=DefaultEndpointsProtocol=https;AccountName=billingexports;AccountKey=${S('azure', gen.azureStorageKey())};EndpointSuffix=core.windows.net`;
    d.l`management.endpoints.web.exposure.include=health,info`;
    d.l`app.invoice.template-id=${uuid()}`;
    d.l`app.keystore.password=changeit`;
  }

  // 5. Kotlin client
  {
    const d = doc('android/app/src/main/java/io/acme/notes/ai/AssistantClient.kt');
    d.l`package io.acme.notes.ai`;
    d.l``;
    d.l`import okhttp3.OkHttpClient`;
    d.l`import okhttp3.Request`;
    d.l``;
    d.l`object AssistantClient {`;
    d.l`    // FIXME: ship through BuildConfig instead`;
    d.l`    private const val ANTHROPIC_KEY = "${S('anthropic', gen.anthropic())}"`;
    d.l`    private const val HF_TOKEN = "${S('huggingface', gen.hf())}"`;
    d.l`    private const val INSTALL_ID = "${uuid()}"`;
    d.l`    private const val MODEL = "claude-3-5-sonnet-20241022"`;
    d.l``;
    d.l`    private val http = OkHttpClient()`;
    d.l``;
    d.l`    fun request(body: String, apiKey: String = BuildConfig.ANTHROPIC_API_KEY) = Request.Builder()`;
    d.l`        .url("https://api.anthropic.com/v1/messages")`;
    d.l`        .header("x-api-key", ANTHROPIC_KEY)`;
    d.l`        .header("anthropic-version", "2023-06-01")`;
    d.l`        .header("x-install-id", INSTALL_ID)`;
    d.l`        .build()`;
    d.l`}`;
  }

  // 6. Ruby: Stripe initializer + Rails secrets
  {
    const d = doc('shop/config/initializers/stripe.rb');
    d.l`# frozen_string_literal: true`;
    d.l``;
    d.l`Rails.configuration.stripe = {`;
    d.l`  publishable_key: ENV.fetch('STRIPE_PUBLISHABLE_KEY', 'pk_test_TYooMQauvdEDq54NiTphI7jx'),`;
    d.l`  secret_key: ENV.fetch('STRIPE_SECRET_KEY') { '${S('stripe', gen.stripeLiveLong())}' },`;
    d.l`  webhook_secret: '${S('stripe', gen.stripeWebhook())}'`;
    d.l`}`;
    d.l``;
    d.l`Stripe.api_key = Rails.configuration.stripe[:secret_key]`;
    d.l`Stripe.api_version = '2024-06-20'`;
    d.l`Stripe.max_network_retries = 2`;
    const s = doc('shop/config/secrets.yml');
    s.l`# Do not keep production secrets in the repository; use credentials.yml.enc.`;
    s.l`development:`;
    s.l`  secret_key_base: ${S('generic', hex(128))}`;
    s.l``;
    s.l`test:`;
    s.l`  secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>`;
    s.l``;
    s.l`production:`;
    s.l`  secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>`;
    s.l`  shopify_api_token: ${S('shopify', gen.shopify())}`;
    s.l`  mailgun_api_key: ${S('mailgun', gen.mailgun())}`;
  }

  // 7. PHP env loader
  {
    const d = doc('web/src/Config/Env.php');
    d.l`<?php`;
    d.l`declare(strict_types=1);`;
    d.l``;
    d.l`namespace App\\Config;`;
    d.l``;
    d.l`final class Env`;
    d.l`{`;
    d.l`    public static function db(): array`;
    d.l`    {`;
    d.l`        return [`;
    d.l`            'dsn' => 'mysql:host=127.0.0.1;dbname=shop;charset=utf8mb4',`;
    d.l`            'user' => $_ENV['DB_USER'] ?? 'shop',`;
    d.l`            'password' => $_ENV['DB_PASSWORD'] ?? '${S('generic', gen.password(18))}',`;
    d.l`        ];`;
    d.l`    }`;
    d.l``;
    d.l`    public static function twilio(): array`;
    d.l`    {`;
    d.l`        return [`;
    d.l`            'account_sid' => 'AC${hex(32)}',`;
    d.l`            'api_key' => '${S('twilio', gen.twilioKeySid())}',`;
    d.l`            'auth_token' => '${S('twilio', gen.twilioAuth())}',`;
    d.l`            'from' => '+15005550006',`;
    d.l`        ];`;
    d.l`    }`;
    d.l``;
    d.l`    public static function hashPassword(string $password): string`;
    d.l`    {`;
    d.l`        return password_hash($password, PASSWORD_ARGON2ID);`;
    d.l`    }`;
    d.l`}`;
  }

  // 8. Terraform
  {
    const d = doc('infra/prod/main.tf');
    d.l`terraform {`;
    d.l`  required_version = ">= 1.6.0"`;
    d.l`  required_providers {`;
    d.l`    aws          = { source = "hashicorp/aws", version = "~> 5.60" }`;
    d.l`    digitalocean = { source = "digitalocean/digitalocean", version = "~> 2.40" }`;
    d.l`  }`;
    d.l`}`;
    d.l``;
    d.l`provider "aws" {`;
    d.l`  region     = "us-east-1"`;
    d.l`  access_key = "${S('aws', gen.awsKeyId())}"`;
    d.l`  secret_key = "${S('aws', gen.awsSecret())}"`;
    d.l`}`;
    d.l``;
    d.l`provider "digitalocean" {`;
    d.l`  token = "${S('digitalocean', gen.digitalocean())}"`;
    d.l`}`;
    d.l``;
    d.l`variable "db_password" {`;
    d.l`  type      = string`;
    d.l`  sensitive = true`;
    d.l`  default   = "changeme"`;
    d.l`}`;
    d.l``;
    d.l`resource "random_password" "replica" {`;
    d.l`  length  = 32`;
    d.l`  special = true`;
    d.l`}`;
    d.l``;
    d.l`resource "aws_db_instance" "main" {`;
    d.l`  identifier          = "main-pg16"`;
    d.l`  engine              = "postgres"`;
    d.l`  engine_version      = "16.3"`;
    d.l`  instance_class      = "db.r6g.large"`;
    d.l`  username            = "root_admin"`;
    d.l`  password            = var.db_password`;
    d.l`  snapshot_identifier = "arn:aws:rds:us-east-1:${digits(12)}:snapshot:main-${hex(8)}"`;
    d.l`}`;
    d.l``;
    d.l`resource "aws_db_instance" "analytics" {`;
    d.l`  identifier = "analytics"`;
    d.l`  username   = "analytics"`;
    d.l`  password   = "${S('generic', gen.password(24))}"`;
    d.l`  kms_key_id = "arn:aws:kms:us-east-1:${digits(12)}:key/${uuid()}"`;
    d.l`}`;
    d.l``;
    d.l`resource "aws_iam_access_key" "ci" {`;
    d.l`  user    = aws_iam_user.ci.name`;
    d.l`  pgp_key = "keybase:acme_ops"`;
    d.l`}`;
  }

  // 9. Azure tfvars
  {
    const d = doc('infra/azure/terraform.tfvars');
    d.l`subscription_id = "${uuid()}"`;
    d.l`tenant_id       = "${uuid()}"`;
    d.l`client_id       = "${uuid()}"`;
    d.l`client_secret   = "${S('azure', gen.azureClientSecret())}"`;
    d.l`location        = "westeurope"`;
    d.l`sas_url         = "https://exportsprod.blob.core.windows.net/invoices?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2026-12-31T23:59:59Z&st=2026-01-01T00:00:00Z&spr=https&sig=${S('azure', gen.azureSasSig())}"`;
    d.l`tags = { owner = "platform", cost_center = "CC-4411" }`;
  }

  // 10. Kubernetes manifests
  {
    const d = doc('deploy/k8s/api.yaml');
    const dbpw = gen.password(20);
    d.l`apiVersion: v1`;
    d.l`kind: Secret`;
    d.l`metadata:`;
    d.l`  name: api-secrets`;
    d.l`  namespace: prod`;
    d.l`type: Opaque`;
    d.l`data:`;
    d.l`  DB_PASSWORD: ${S('generic', Buffer.from(dbpw).toString('base64'))}`;
    d.l`stringData:`;
    d.l`  DATABASE_URL: "postgresql://api:${S('url-credentials', gen.password(20))}@pg-rw.prod.svc.cluster.local:5432/api?sslmode=require"`;
    d.l`  GITLAB_DEPLOY_TOKEN: "${S('gitlab', gen.gldt())}"`;
    d.l`---`;
    d.l`apiVersion: apps/v1`;
    d.l`kind: Deployment`;
    d.l`metadata:`;
    d.l`  name: api`;
    d.l`  annotations:`;
    d.l`    checksum/config: ${sha256()}`;
    d.l`spec:`;
    d.l`  replicas: 3`;
    d.l`  template:`;
    d.l`    spec:`;
    d.l`      containers:`;
    d.l`        - name: api`;
    d.l`          image: registry.acme-corp.io/api@sha256:${sha256()}`;
    d.l`          env:`;
    d.l`            - name: DB_PASSWORD`;
    d.l`              valueFrom:`;
    d.l`                secretKeyRef: { name: api-secrets, key: DB_PASSWORD }`;
    d.l`            - name: OTEL_TRACE_ID_SEED`;
    d.l`              value: "${hex(32)}"`;
  }

  // 11. kubeconfig
  {
    const d = doc('deploy/k8s/kubeconfig-ci.yaml');
    d.l`apiVersion: v1`;
    d.l`kind: Config`;
    d.l`clusters:`;
    d.l`- cluster:`;
    d.l`    certificate-authority-data: ${Buffer.from(pem.certificate()).toString('base64')}`;
    d.l`    server: https://${ip()}:6443`;
    d.l`  name: prod`;
    d.l`users:`;
    d.l`- name: ci-admin`;
    d.l`  user:`;
    d.l`    client-key-data: ${S('private-key', Buffer.from(pem.rsa()).toString('base64'))}`;
    d.l`- name: ci-bot`;
    d.l`  user:`;
    d.l`    token: ${S('jwt', gen.jwt({ iss: 'kubernetes/serviceaccount', 'kubernetes.io/serviceaccount/namespace': 'ci', sub: 'system:serviceaccount:ci:deployer' }))}`;
    d.l`contexts:`;
    d.l`- context: { cluster: prod, user: ci-bot }`;
    d.l`  name: prod`;
    d.l`current-context: prod`;
  }

  // 12. docker-compose
  {
    const d = doc('docker-compose.yml');
    d.l`services:`;
    d.l`  db:`;
    d.l`    image: postgres:16.3-alpine`;
    d.l`    environment:`;
    d.l`      POSTGRES_USER: postgres`;
    d.l`      POSTGRES_PASSWORD: postgres`;
    d.l`  cache:`;
    d.l`    image: redis:7.2`;
    d.l`    command: ["redis-server", "--requirepass", "${S('generic', gen.password(24))}"]`;
    d.l`  queue:`;
    d.l`    image: rabbitmq:3.13-management`;
    d.l`    environment:`;
    d.l`      RABBITMQ_DEFAULT_USER: app`;
    d.l`      RABBITMQ_DEFAULT_PASS: ${S('generic', gen.password(20))}`;
    d.l`  worker:`;
    d.l`    build: ./worker`;
    d.l`    environment:`;
    d.l`      BROKER_URL: amqp://app:${S('url-credentials', gen.password(20))}@queue:5672/`;
    d.l`      CACHE_URL: redis://:${S('url-credentials', gen.password(24))}@cache:6379/1`;
    d.l`      MINIO_ROOT_USER: minioadmin`;
    d.l`      MINIO_ROOT_PASSWORD: \${MINIO_ROOT_PASSWORD:?set it in .env}`;
    d.l`      HF_HOME: /cache/hf`;
  }

  // 13. GitHub Actions
  {
    const d = doc('.github/workflows/release.yml');
    d.l`name: release`;
    d.l`on:`;
    d.l`  push:`;
    d.l`    tags: ['v*']`;
    d.l`jobs:`;
    d.l`  publish:`;
    d.l`    runs-on: ubuntu-24.04`;
    d.l`    permissions: { contents: write, id-token: write }`;
    d.l`    steps:`;
    d.l`      - uses: actions/checkout@${sha1()} # v4.1.7`;
    d.l`      - uses: actions/setup-node@${sha1()} # v4.0.3`;
    d.l`        with: { node-version: 20, registry-url: 'https://registry.npmjs.org' }`;
    d.l`      - run: npm ci && npm publish --provenance`;
    d.l`        env:`;
    d.l`          NODE_AUTH_TOKEN: \${{ secrets.NPM_TOKEN }}`;
    d.l`      - name: docker login`;
    d.l`        run: echo "${S('dockerhub', gen.dockerhub())}" | docker login -u acmebot --password-stdin`;
    d.l`      - name: notify`;
    d.l`        run: |`;
    d.l`          curl -sS -X POST -H "Authorization: Bearer ${S('github', gen.ghs())}" \\`;
    d.l`            https://api.github.com/repos/acme/notes/dispatches -d '{"event_type":"released"}'`;
    d.l`      - name: fine-grained fallback`;
    d.l`        env:`;
    d.l`          GH_TOKEN: ${S('github', gen.githubPat())}`;
    d.l`        run: gh release upload "$GITHUB_REF_NAME" dist/*.tgz`;
  }

  // 14. GitLab CI
  {
    const d = doc('.gitlab-ci.yml');
    d.l`stages: [test, publish]`;
    d.l``;
    d.l`variables:`;
    d.l`  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"`;
    d.l`  GITLAB_API_TOKEN: "${S('gitlab', gen.glpat())}"`;
    d.l`  DATABASE_URL: "postgres://postgres:password@postgres:5432/test"`;
    d.l``;
    d.l`test:`;
    d.l`  image: python:3.12-slim`;
    d.l`  services: [postgres:16]`;
    d.l`  script:`;
    d.l`    - pip install -r requirements.txt`;
    d.l`    - pytest -q`;
    d.l``;
    d.l`publish:`;
    d.l`  stage: publish`;
    d.l`  script:`;
    d.l`    - pip install build twine`;
    d.l`    - python -m build`;
    d.l`    - twine upload -u __token__ -p ${S('pypi', gen.pypi())} dist/*`;
    d.l`    - 'curl --header "JOB-TOKEN: $CI_JOB_TOKEN" --upload-file dist/pkg.whl "\${CI_API_V4_URL}/projects/\${CI_PROJECT_ID}/packages/generic/pkg/1.0.0/pkg.whl"'`;
    d.l``;
    d.l`# runner registration (do not commit): gitlab-runner register --token ${S('gitlab', gen.glrt())}`;
  }

  // 15. shell deploy script
  {
    const d = doc('scripts/deploy.sh');
    d.l`#!/usr/bin/env bash`;
    d.l`set -euo pipefail`;
    d.l``;
    d.l`# temporary creds from 'aws sts assume-role' pasted for the hotfix`;
    d.l`export AWS_ACCESS_KEY_ID=${S('aws', gen.awsTempKeyId())}`;
    d.l`export AWS_SECRET_ACCESS_KEY=${S('aws', gen.awsSecret())}`;
    d.l`export AWS_SESSION_TOKEN=${S('aws', gen.awsSession())}`;
    d.l`export AWS_DEFAULT_REGION=eu-west-1`;
    d.l``;
    d.l`RELEASE_SHA=$(git rev-parse HEAD)   # e.g. ${sha1()}`;
    d.l`echo "deploying \${RELEASE_SHA} to ${ip()}"`;
    d.l`ssh -o StrictHostKeyChecking=no deploy@${ip()} "sudo systemctl restart api"`;
    d.l``;
    d.l`curl -fsS -H "Authorization: token ${S('github', gen.ghp())}" \\`;
    d.l`  https://api.github.com/repos/acme/notes/deployments`;
    d.l``;
    d.l`read -rsp "Vault password: " VAULT_PASSWORD`;
    d.l`mysql -h db1.internal -u backup -p'${S('generic', gen.password(16))}' -e 'FLUSH TABLES WITH READ LOCK'`;
    d.l`docker login -u acmebot -p "$DOCKERHUB_TOKEN"`;
  }

  // 16. .env (real) and .env.example (placeholders)
  {
    const d = doc('services/agent/.env');
    d.l`# local dev for the agent service`;
    d.l`OPENAI_API_KEY=${S('openai', gen.openaiProj())}`;
    d.l`ANTHROPIC_API_KEY=${S('anthropic', gen.anthropic())}`;
    d.l`ANTHROPIC_ADMIN_KEY=${S('anthropic', gen.anthropicAdmin())}`;
    d.l`STRIPE_API_KEY=${S('stripe', gen.stripeTest())}`;
    d.l`DATABASE_URL=mongodb+srv://agent:${S('url-credentials', gen.password(18))}@cluster0.x1y2z.mongodb.net/agent?retryWrites=true`;
    d.l`GOOGLE_CLIENT_ID=${digits(12)}-${r.from(LO + DIG, 32)}.apps.googleusercontent.com`;
    d.l`GOOGLE_CLIENT_SECRET=${S('gcp', gen.gcpOauthSecret())}`;
    d.l`JWT_SECRET=${S('generic', gen.opaque(64))}`;
    d.l`TWILIO_ACCOUNT_SID=AC${hex(32)}`;
    d.l`TWILIO_AUTH_TOKEN=${S('twilio', gen.twilioAuth())}`;
    d.l`LOG_LEVEL=debug`;
    d.l`REQUEST_TIMEOUT_MS=30000`;
    const e = doc('services/agent/.env.example');
    e.l`# copy to .env and fill in`;
    e.l`OPENAI_API_KEY=sk-...`;
    e.l`ANTHROPIC_API_KEY=<your-anthropic-key>`;
    e.l`STRIPE_API_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx`;
    e.l`DATABASE_URL=mongodb+srv://USER:PASSWORD@cluster0.example.mongodb.net/agent`;
    e.l`GOOGLE_CLIENT_SECRET=changeme`;
    e.l`JWT_SECRET=replace-with-64-random-chars`;
    e.l`TWILIO_AUTH_TOKEN=your_auth_token`;
    e.l`AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX`;
    e.l`AWS_SECRET_ACCESS_KEY=\${AWS_SECRET_ACCESS_KEY}`;
    e.l`GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`;
  }

  // 17. Jupyter notebook
  {
    const d = doc('notebooks/eval-embeddings.ipynb');
    const key = gen.openaiSvc();
    d.l`{`;
    d.l` "cells": [`;
    d.l`  {`;
    d.l`   "cell_type": "code",`;
    d.l`   "execution_count": 3,`;
    d.l`   "metadata": {},`;
    d.l`   "outputs": [],`;
    d.l`   "source": [`;
    d.l`    "import os\\n",`;
    d.l`    "from openai import OpenAI\\n",`;
    d.l`    "client = OpenAI(api_key=\\"${S('openai', key)}\\")\\n",`;
    d.l`    "from huggingface_hub import login\\n",`;
    d.l`    "login(token=\\"${S('huggingface', gen.hf())}\\")"`;
    d.l`   ]`;
    d.l`  },`;
    d.l`  {`;
    d.l`   "cell_type": "code",`;
    d.l`   "execution_count": 4,`;
    d.l`   "metadata": {},`;
    d.l`   "outputs": [`;
    d.l`    {`;
    d.l`     "data": {`;
    d.l`      "image/png": "${pngDataUri().slice('data:image/png;base64,'.length)}",`;
    d.l`      "text/plain": ["<Figure size 640x480 with 1 Axes>"]`;
    d.l`     },`;
    d.l`     "metadata": {},`;
    d.l`     "output_type": "display_data"`;
    d.l`    },`;
    d.l`    {`;
    d.l`     "name": "stdout",`;
    d.l`     "output_type": "stream",`;
    d.l`     "text": ["run id ${uuid()} finished, cosine@10 = 0.8123, model sha ${sha256().slice(0, 12)}\\n"]`;
    d.l`    }`;
    d.l`   ],`;
    d.l`   "source": ["plot_recall(results)  # password-free: uses os.environ['WANDB_API_KEY']"]`;
    d.l`  }`;
    d.l` ],`;
    d.l` "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},`;
    d.l` "nbformat": 4,`;
    d.l` "nbformat_minor": 5`;
    d.l`}`;
  }

  // 18. HTTP request log
  {
    const d = doc('logs/gateway-access.log');
    for (let i = 0; i < 6; i++) d.l`${ts(9)} INFO  gw req_id=${hex(24)} traceparent=${traceparent()} client=${ip()} "GET /v2/orders/${digits(8)} HTTP/1.1" 200 ${r.int(9000)}B ${r.int(300)}ms`;
    d.l`${ts(9)} DEBUG gw headers={"host":"api.acme-corp.io","authorization":"Bearer ${S('jwt', gen.jwt({ sub: uuid(), email_verified: true, iat: 1763900000, exp: 1763903600, scope: 'orders:read' }))}","user-agent":"okhttp/4.12.0"}`;
    d.l`${ts(9)} DEBUG gw headers={"host":"api.acme-corp.io","authorization":"Basic ${S('http-auth', Buffer.from('reporting:' + gen.password(18)).toString('base64'))}","accept":"*/*"}`;
    d.l`${ts(9)} WARN  gw deprecated query auth: "GET /v1/export?format=csv&api_key=${S('generic', gen.opaque(32))} HTTP/1.1" from ${ip()}`;
    d.l`${ts(9)} DEBUG gw set-cookie: session=${S('http-auth', r.from(B64URL, 43))}; Path=/; HttpOnly; Secure; SameSite=Lax`;
    d.l`${ts(9)} INFO  gw login ok user=${S('email', mail())} ip=${ip()} mfa=totp`;
    d.l`${ts(9)} DEBUG gw upstream call: Authorization: Bearer ${S('http-auth', gen.opaque(40))} -> billing.internal`;
    for (let i = 0; i < 5; i++) d.l`${ts(10)} INFO  gw req_id=${hex(24)} traceparent=${traceparent()} client=${ip()} "POST /v2/orders HTTP/1.1" 201 ${r.int(900)}B etag="${hex(32)}"`;
    d.l`${ts(10)} ERROR gw password reset failed for user id ${digits(7)}: token expired (request ${uuid()})`;
  }

  // 19. Python stack trace
  {
    const d = doc('logs/worker-crash.txt');
    d.l`Traceback (most recent call last):`;
    d.l`  File "/app/worker/tasks.py", line 88, in sync_orders`;
    d.l`    conn = psycopg2.connect(settings.REPORTING_DSN)`;
    d.l`  File "/usr/local/lib/python3.12/site-packages/psycopg2/__init__.py", line 122, in connect`;
    d.l`    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)`;
    d.l`psycopg2.OperationalError: connection to server at "reporting-db.internal" (${ip()}), port 5432 failed: FATAL:  password authentication failed for user "reporting"`;
    d.l``;
    d.l`During handling of the above exception, another exception occurred:`;
    d.l``;
    d.l`Traceback (most recent call last):`;
    d.l`  File "/app/worker/retry.py", line 41, in run`;
    d.l`    raise RetryError(f"giving up on {dsn}")`;
    d.l`worker.retry.RetryError: giving up on postgresql://reporting:${S('url-credentials', gen.password(16))}@reporting-db.internal:5432/reporting`;
    d.l`sentry_event_id=${hex(32)} release=worker@2.8.1+${sha1().slice(0, 7)}`;
    d.l``;
    d.l`Exception in thread "main" java.sql.SQLException: Access denied for user 'etl'@'10.2.0.7' (using password: YES)`;
    d.l`\tat com.mysql.cj.jdbc.exceptions.SQLError.createSQLException(SQLError.java:130)`;
    d.l`\tat com.mysql.cj.jdbc.ConnectionImpl.createNewIO(ConnectionImpl.java:825)`;
    d.l`\tat io.acme.etl.Main.connect(Main.java:57) url=jdbc:mysql://etl-db:3306/warehouse?user=etl&password=${S('url-credentials', gen.password(18))}&useSSL=true`;
    d.l`\tat io.acme.etl.Main.main(Main.java:22)`;
  }

  // 20. README with curl examples (mostly placeholders and documented example values)
  {
    const d = doc('README.md');
    d.l`# notes-api`;
    d.l``;
    d.l`Quick start — 🚀 set your key first: \`export OPENAI_API_KEY=<your-key>\`.`;
    d.l``;
    d.l`\`\`\`sh`;
    d.l`curl https://api.openai.com/v1/chat/completions \\`;
    d.l`  -H "Authorization: Bearer $OPENAI_API_KEY" \\`;
    d.l`  -H "Content-Type: application/json" -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'`;
    d.l`\`\`\``;
    d.l``;
    d.l`AWS example credentials from the AWS docs (never real): \`AKIAIOSFODNN7EXAMPLE\` / \`wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\`.`;
    d.l``;
    d.l`Stripe's documentation test key and card: \`sk_test_4eC39HqLyjWDarjtT1zdp7dc\`, card \`4242 4242 4242 4242\`, any CVC.`;
    d.l``;
    d.l`The password must be at least 12 characters; the admin password is set on first login. Tokens expire after 1h.`;
    d.l``;
    d.l`Example JWT (from jwt.io): \`eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\``;
    d.l``;
    d.l`Contact: maintainers@example.com. Clone with \`git clone git@github.com:acme/notes-api.git\`. Image: \`ghcr.io/acme/notes-api@sha256:${sha256()}\`.`;
    d.l``;
    d.l`For the staging smoke test (rotate after the demo!):`;
    d.l``;
    d.l`\`\`\`sh`;
    d.l`curl https://api.anthropic.com/v1/messages -H "x-api-key: ${S('anthropic', gen.anthropic())}" -H "anthropic-version: 2023-06-01"`;
    d.l`curl -u admin:${S('http-auth', gen.password(16))} https://staging.acme-corp.io/admin/health`;
    d.l`\`\`\``;
    d.l``;
    d.l`Version 2.14.0-rc.3 (build ${sha1()}), © 2026 ACME — 日本語ドキュメントは docs/ja を参照してください。`;
  }

  // 21. API docs with public keys and certificates (negatives) plus one real webhook
  {
    const d = doc('docs/ops/access.md');
    d.l`# Access for the ops team`;
    d.l``;
    d.l`Add your **public** key to \`authorized_keys\` on the bastion:`;
    d.l``;
    d.l`    ${sshPub()}`;
    d.l`    ${sshPub('ssh-rsa')}`;
    d.l``;
    d.l`The webhook signing public key:`;
    d.l``;
    d.l`\`\`\``;
    d.l`${pem.publicKey()}`;
    d.l`\`\`\``;
    d.l``;
    d.l`Our TLS chain (public):`;
    d.l``;
    d.l`\`\`\``;
    d.l`${pem.certificate()}`;
    d.l`\`\`\``;
    d.l``;
    d.l`Alerts go to Discord: ${S('discord', gen.discordWebhook())}`;
    d.l`On-call bot (Telegram): \`${S('telegram', gen.telegram())}\``;
    d.l``;
    d.l`Password policy: passwords are hashed with bcrypt (cost 12), e.g. \`${bcrypt()}\`; never store the plain password.`;
    d.l`Key fingerprint: SHA256:${r.from(B64.slice(0, 64), 43)} (ED25519).`;
  }

  // 22. SQL dump
  {
    const d = doc('db/seed-dump.sql');
    d.l`-- PostgreSQL database dump, pg_dump 16.3`;
    d.l`SET client_encoding = 'UTF8';`;
    d.l`CREATE ROLE app_rw WITH LOGIN PASSWORD '${S('generic', gen.password(20))}';`;
    d.l`CREATE ROLE readonly WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:${r.from(B64, 24)}$${r.from(B64, 44)}:${r.from(B64, 44)}';`;
    d.l``;
    d.l`COPY public.users (id, email, full_name, password_hash, created_at) FROM stdin;`;
    for (let i = 0; i < 4; i++) d.l`${uuid()}\t${S('email', mail())}\t${r.pick(['María González', 'Jin Okafor', 'Wei Zhang', 'Łucja Kowalska', 'Zoë Brandt'])}\t${i % 2 ? argon2() : bcrypt()}\t2026-0${1 + r.int(9)}-1${r.int(9)} 10:2${r.int(9)}:00+00`;
    d.l`\\.`;
    d.l``;
    d.l`COPY public.payment_methods (id, user_id, card_number, iban, order_ref) FROM stdin;`;
    d.l`1\t${uuid()}\t${S('card', card('4', 16))}\t\\N\t${notLuhn(16)}`;
    d.l`2\t${uuid()}\t${S('card', card('5' + r.pick('12345'), 16))}\t\\N\t${notLuhn(16)}`;
    d.l`3\t${uuid()}\t\\N\t${S('iban', iban('DE'))}\tORD-${digits(10)}`;
    d.l`4\t${uuid()}\t${S('card', card(r.pick(['34', '37']), 15))}\t\\N\tORD-${digits(10)}`;
    d.l`5\t${uuid()}\t\\N\t${S('iban', iban('NL'))}\tORD-${digits(10)}`;
    d.l`\\.`;
    d.l``;
    d.l`COPY public.api_tokens (id, user_id, token_sha256, last_used) FROM stdin;`;
    for (let i = 0; i < 3; i++) d.l`${i + 1}\t${uuid()}\t${sha256()}\t2026-11-0${1 + i}`;
    d.l`\\.`;
  }

  // 23. GCP service account JSON
  {
    const d = doc('deploy/gcp/sa-exporter.json');
    d.l`{`;
    d.l`  "type": "service_account",`;
    d.l`  "project_id": "acme-analytics-prod",`;
    d.l`  "private_key_id": "${sha1()}",`;
    d.l`  "private_key": "${S('private-key', pem.pkcs8().replace(/\n/g, '\\n') + '\\n')}",`;
    d.l`  "client_email": "${S('email', 'exporter@acme-analytics-prod.iam.gserviceaccount.com')}",`;
    d.l`  "client_id": "${digits(21)}",`;
    d.l`  "auth_uri": "https://accounts.google.com/o/oauth2/auth",`;
    d.l`  "token_uri": "https://oauth2.googleapis.com/token",`;
    d.l`  "universe_domain": "googleapis.com"`;
    d.l`}`;
  }

  // 24. frontend config (public-by-design values) + Firebase key
  {
    const d = doc('web/src/config.ts');
    d.l`// Values here ship to the browser.`;
    d.l`export const config = {`;
    d.l`  firebase: {`;
    d.l`    apiKey: '${S('gcp', gen.gcpApiKey())}',`;
    d.l`    authDomain: 'acme-notes.firebaseapp.com',`;
    d.l`    projectId: 'acme-notes',`;
    d.l`    appId: '1:${digits(12)}:web:${hex(22)}',`;
    d.l`  },`;
    d.l`  stripePublishableKey: 'pk_live_51${r.from(ALNUM, 97)}',`;
    d.l`  algoliaSearchOnlyKey: '${hex(32)}',`;
    d.l`  sentryDsn: 'https://${hex(32)}@o${digits(6)}.ingest.sentry.io/${digits(7)}',`;
    d.l`  buildHash: '${hex(20)}',`;
    d.l`  apiKey: import.meta.env.VITE_API_KEY,`;
    d.l`  password: '', // filled from the login form`;
    d.l`} as const;`;
  }

  // 25. npmrc / pypirc / pip.conf
  {
    const d = doc('ci/publish-config.txt');
    d.l`# ~/.npmrc on the release runner`;
    d.l`//registry.npmjs.org/:_authToken=${S('npm', gen.npm())}`;
    d.l`@acme:registry=https://npm.pkg.github.com`;
    d.l`//npm.pkg.github.com/:_authToken=\${GITHUB_TOKEN}`;
    d.l``;
    d.l`# ~/.pypirc`;
    d.l`[pypi]`;
    d.l`username = __token__`;
    d.l`password = ${S('pypi', gen.pypi())}`;
    d.l``;
    d.l`# /etc/pip.conf`;
    d.l`[global]`;
    d.l`index-url = https://ci-reader:${S('url-credentials', gen.password(18))}@pypi.acme-corp.io/simple`;
    d.l`trusted-host = pypi.acme-corp.io`;
  }

  // 26. package-lock excerpt (negatives only)
  {
    const d = doc('services/api/package-lock.json');
    d.l`{`;
    d.l`  "name": "api",`;
    d.l`  "version": "3.2.0",`;
    d.l`  "lockfileVersion": 3,`;
    d.l`  "packages": {`;
    for (const [n, v] of [['express', '4.19.2'], ['jsonwebtoken', '9.0.2'], ['bcryptjs', '2.4.3'], ['dotenv', '16.4.5'], ['pg', '8.12.0']]) {
      d.l`    "node_modules/${n}": {`;
      d.l`      "version": "${v}",`;
      d.l`      "resolved": "https://registry.npmjs.org/${n}/-/${n}-${v}.tgz",`;
      d.l`      "integrity": "${integrity()}"`;
      d.l`    },`;
    }
    d.l`    "node_modules/secret-stream": { "version": "1.0.0", "resolved": "https://registry.npmjs.org/secret-stream/-/secret-stream-1.0.0.tgz", "integrity": "sha1-${r.from(B64, 27)}=" }`;
    d.l`  }`;
    d.l`}`;
  }

  // 27. Slack bot (Python)
  {
    const d = doc('bots/standup/app.py');
    d.l`import os`;
    d.l`from slack_bolt import App`;
    d.l`from slack_bolt.adapter.socket_mode import SocketModeHandler`;
    d.l``;
    d.l`BOT_TOKEN = os.getenv("SLACK_BOT_TOKEN", "${S('slack', gen.slackBot())}")`;
    d.l`APP_TOKEN = "${S('slack', gen.slackApp())}"`;
    d.l`ADMIN_USER_TOKEN = "${S('slack', gen.slackUser())}"  # for chat.delete`;
    d.l`SIGNING_SECRET = os.environ["SLACK_SIGNING_SECRET"]`;
    d.l``;
    d.l`app = App(token=BOT_TOKEN, signing_secret=SIGNING_SECRET)`;
    d.l``;
    d.l`@app.command("/standup")`;
    d.l`def standup(ack, respond, command):`;
    d.l`    ack()`;
    d.l`    respond(f"Thanks <@{command['user_id']}>! Logged as {command['trigger_id']}")`;
    d.l``;
    d.l`def check_password(password: str, token: str | None = None) -> bool:`;
    d.l`    return len(password) >= 12 and token != "xxxx"`;
    d.l``;
    d.l`if __name__ == "__main__":`;
    d.l`    SocketModeHandler(app, APP_TOKEN).start()`;
  }

  // 28. Python test fixture with inline private keys
  {
    const d = doc('tests/test_signing.py');
    d.l`import jwt`;
    d.l`import pytest`;
    d.l``;
    d.l`# Generated for the tests only; still a real private key, do not reuse.`;
    d.l`TEST_RSA_KEY = """${S('private-key', pem.rsa())}"""`;
    d.l``;
    d.l`TEST_EC_KEY = """`;
    d.l`${S('private-key', pem.ec())}`;
    d.l`"""`;
    d.l``;
    d.l`PUBLIC_KEY = """${pem.publicKey()}"""`;
    d.l``;
    d.l`def test_roundtrip():`;
    d.l`    token = jwt.encode({"sub": "${uuid()}"}, TEST_RSA_KEY, algorithm="RS256")`;
    d.l`    assert jwt.decode(token, PUBLIC_KEY, algorithms=["RS256"])["sub"]`;
    d.l``;
    d.l`def test_password_not_logged(caplog):`;
    d.l`    login(user="alice", password="hunter2")`;
    d.l`    assert "hunter2" not in caplog.text`;
  }

  // 29. SSH deploy key pasted in a runbook
  {
    const d = doc('docs/runbooks/restore-bastion.md');
    d.l`## Restore bastion access`;
    d.l``;
    d.l`1. Write the break-glass key to \`~/.ssh/id_ed25519\` (mode 0600):`;
    d.l``;
    d.l`\`\`\``;
    d.l`${S('private-key', pem.openssh())}`;
    d.l`\`\`\``;
    d.l``;
    d.l`2. Its public half is already in \`authorized_keys\`: \`${sshPub()}\`.`;
    d.l`3. The backup archive key (passphrase in the vault):`;
    d.l``;
    d.l`\`\`\``;
    d.l`${S('private-key', pem.encrypted())}`;
    d.l`\`\`\``;
    d.l``;
    d.l`4. Verify: \`sha256sum backup.tar.zst\` → \`${sha256()}\`.`;
  }

  // 30. CSV export with PII
  {
    const d = doc('exports/customers-2026-11.csv');
    d.l`customer_id,name,email,phone,iban,card,order_id,created`;
    const rows = [
      () => [S('email', mail()), S('iban', spaced(iban('DE'))), notLuhn(16)],
      () => [S('email', mail()), S('iban', iban('GB')), S('card', card('6011', 16).replace(/(\d{4})(?=\d)/g, '$1-'))],
      () => [S('email', mail()), S('iban', spaced(iban('FR'))), S('card', card('4', 16).replace(/(\d{4})(?=\d)/g, '$1 '))],
      () => [S('email', mail()), S('iban', iban('ES')), ''],
      () => [`user${r.int(99)}@example.com`, '', notLuhn(16)],
    ];
    for (const row of rows) {
      const [email, ibanCell, cardCell] = row();
      d.l`${digits(6)},${r.pick(['Ana Souza', 'Jonas Weber', 'Chloé Martin', 'Diego Ruiz', 'Test User'])},${email},+49 151 ${digits(8)},${ibanCell},${cardCell},${uuid()},2026-11-${String(1 + r.int(28)).padStart(2, '0')}`;
    }
  }

  // 31. Prose / changelog (negatives)
  {
    const d = doc('CHANGELOG.md');
    d.l`# Changelog`;
    d.l``;
    d.l`## 2.14.0 — 2026-11-20`;
    d.l``;
    d.l`- Rotate the session secret without logging everyone out (${sha1().slice(0, 7)}).`;
    d.l`- \`password\` fields are now masked in the admin UI; the \`token\` column is hashed (sha256).`;
    d.l`- Bump jsonwebtoken 9.0.1 → 9.0.2 (GHSA-${r.from(LO + DIG, 4)}-${r.from(LO + DIG, 4)}-${r.from(LO + DIG, 4)}).`;
    d.l`- Fix: \`api_key\` query parameter is rejected with 400 instead of 500 (request ${uuid()}).`;
    d.l`- The secret manager path changed from \`secret/data/api\` to \`kv/prod/api\`.`;
    d.l`- Build ${hex(40)} signed; SBOM digest sha512:${hex(128)}.`;
    d.l`- Set \`PASSWORD_RESET_TTL=3600\` and \`TOKEN_BUCKET_SIZE=120\` in production.`;
    d.l`- Thanks to @wei-zhang and @priya for reports. Old example: \`secret = "YOUR_SECRET_HERE"\`.`;
    d.l``;
    d.l`## 2.13.2 — 2026-10-02`;
    d.l``;
    d.l`- Log lines no longer contain the bearer token; they contain \`Bearer [REDACTED]\`.`;
    d.l`- Upgrade base image to \`node:20.17.0-bookworm-slim@sha256:${sha256()}\`.`;
  }

  // 32. Rust/Cargo + Java test (negatives with secret-ish words) plus a GitHub OAuth token in a test
  {
    const d = doc('clients/java/src/test/java/io/acme/GitHubClientTest.java');
    d.l`package io.acme;`;
    d.l``;
    d.l`import static org.junit.jupiter.api.Assertions.*;`;
    d.l`import org.junit.jupiter.api.Test;`;
    d.l``;
    d.l`class GitHubClientTest {`;
    d.l`    private static final String FAKE_TOKEN = "ghp_" + "x".repeat(36);`;
    d.l`    private static final String RECORDED_OAUTH = "${S('github', gen.gho())}"; // recorded cassette, revoke!`;
    d.l`    private static final String USER_TO_SERVER = "${S('github', gen.ghu())}";`;
    d.l`    private static final String COMMIT = "${sha1()}";`;
    d.l`    private static final String REQUEST_ID = "${r.from(UP + DIG, 4)}:${r.from(UP + DIG, 6)}:${r.from(UP + DIG, 7)}:${r.from(UP + DIG, 8)}:${r.from(UP + DIG, 8)}";`;
    d.l``;
    d.l`    @Test`;
    d.l`    void rejectsEmptyPassword() {`;
    d.l`        assertThrows(IllegalArgumentException.class, () -> new GitHubClient("", "password"));`;
    d.l`        assertEquals(40, COMMIT.length());`;
    d.l`    }`;
    d.l`}`;
  }

  // 33. Chat transcript pasted into an issue (mixed)
  {
    const d = doc('notes/support-thread.txt');
    d.l`From: ${S('email', mail())}`;
    d.l`To: ${S('email', 'support@acme-corp.io')}`;
    d.l`Subject: Re: webhook signature fails — 署名エラー`;
    d.l``;
    d.l`Hi! 👋 Our webhook secret is ${S('stripe', gen.stripeWebhook())} and the restricted key we use is ${S('stripe', gen.stripeRestricted())}.`;
    d.l`I also tried the sandbox key sk_test_... from your docs, no luck. My IBAN for the refund is ${S('iban', spaced(iban('GB')))}.`;
    d.l`Our SendGrid key (for the e-mail part): ${S('sendgrid', gen.sendgrid())}`;
    d.l`Card on file ends in 4242. Ticket #${digits(6)}, correlation id ${uuid()}.`;
    d.l``;
    d.l`> On Nov 20, ${S('email', 'support@acme-corp.io')} wrote:`;
    d.l`> Please never send us your password or full API key; a key prefix like "sk_live_…AbCd" is enough.`;
  }

  // 34. Ansible group vars + Helm values: encrypted/templated values (negatives) beside plain ones
  {
    const d = doc('ops/ansible/group_vars/prod.yml');
    d.l`---`;
    d.l`ansible_user: deploy`;
    d.l`ansible_become_password: "{{ vault_become_password }}"`;
    d.l`vault_db_password: !vault |`;
    d.l`  $ANSIBLE_VAULT;1.1;AES256`;
    for (let i = 0; i < 5; i++) d.l`  ${hex(80)}`;
    d.l`redis_password: "${S('generic', gen.password(22))}"`;
    d.l`grafana_admin_password: "{{ lookup('community.hashi_vault.hashi_vault', 'secret=kv/data/grafana:password') }}"`;
    d.l`datadog_api_key: "${S('generic', hex(32))}"`;
    d.l`app_release_checksum: "sha256:${sha256()}"`;
    d.l`api_key_header: "X-API-Key"`;
    d.l`secret_name: "prod/db/password"`;
    d.l`password_reset_token_ttl: 3600`;
    d.l`token_type: bearer`;
    const h = doc('charts/api/values.prod.yaml');
    h.l`# encrypted with sops 3.9 (age)`;
    h.l`db:`;
    h.l`  host: pg-rw.prod.svc`;
    h.l`  password: ENC[AES256_GCM,data:${r.from(B64, 28)},iv:${r.from(B64, 43)}=,tag:${r.from(B64, 22)}==,type:str]`;
    h.l`  existingSecret: api-db`;
    h.l`image:`;
    h.l`  tag: "3.2.0"`;
    h.l`  digest: sha256:${sha256()}`;
    h.l`ingress:`;
    h.l`  annotations:`;
    h.l`    nginx.ingress.kubernetes.io/auth-secret: basic-auth`;
    h.l`podAnnotations:`;
    h.l`  checksum/secret: ${sha256()}`;
    h.l`extraEnv:`;
    h.l`  - name: NEXT_PUBLIC_POSTHOG_KEY`;
    h.l`    value: phc_${r.from(ALNUM, 43)}`;
    h.l`  - name: DB_PASSWORD`;
    h.l`    value: "{{ .Values.db.password }}"`;
    h.l`sops:`;
    h.l`  age:`;
    h.l`    - recipient: age1${r.from('qpzry9x8gf2tvdw0s3jn54khce6mua7l', 58)}`;
    h.l`  lastmodified: "2026-11-20T10:11:12Z"`;
    h.l`  mac: ENC[AES256_GCM,data:${r.from(B64, 88)},iv:${r.from(B64, 43)}=,tag:${r.from(B64, 22)}==,type:str]`;
  }

  // 35. Credential stores developers paste: Maven settings, docker config.json, .netrc, .git-credentials
  {
    const d = doc('ops/ci-credentials-notes.md');
    d.l`Runner setup notes (copied from the old box, clean this up):`;
    d.l``;
    d.l`~/.m2/settings.xml`;
    d.l``;
    d.l`\`\`\`xml`;
    d.l`<servers>`;
    d.l`  <server><id>nexus-releases</id><username>ci</username><password>${S('generic', gen.password(20))}</password></server>`;
    d.l`  <server><id>nexus-snapshots</id><username>ci</username><password>\${env.NEXUS_PASSWORD}</password></server>`;
    d.l`</servers>`;
    d.l`\`\`\``;
    d.l``;
    d.l`~/.docker/config.json`;
    d.l``;
    d.l`\`\`\`json`;
    d.l`{ "auths": { "registry.acme-corp.io": { "auth": "${S('http-auth', Buffer.from('ci:' + gen.password(20)).toString('base64'))}" } }, "credsStore": "" }`;
    d.l`\`\`\``;
    d.l``;
    d.l`~/.netrc`;
    d.l``;
    d.l`    machine api.github.com login acme-ci password ${S('github', gen.ghp())}`;
    d.l``;
    d.l`~/.git-credentials`;
    d.l``;
    d.l`    https://acme-ci:${S('gitlab', gen.glpat())}@gitlab.acme-corp.io`;
    d.l``;
    d.l`Azure OpenAI: AZURE_OPENAI_ENDPOINT=https://acme-oai.openai.azure.com/ AZURE_OPENAI_API_KEY=${S('azure', hex(32))}`;
    d.l`Cache key in the workflow: \`\${{ runner.os }}-node-\${{ hashFiles('**/package-lock.json') }}\`; idempotency key ${uuid()}.`;
    d.l`PGP: -----BEGIN PGP PUBLIC KEY BLOCK----- (see keys/ops.asc), fingerprint ${hex(40).toUpperCase()}.`;
    d.l`Generate new secrets with \`python -c "import secrets; print(secrets.token_hex(32))"\` — never reuse password=None defaults.`;
  }

  return docs;
}

export function writeHoldout(dir = HOLDOUT_DIR) {
  const docs = buildFiles();
  fs.rmSync(path.join(dir, 'files'), { recursive: true, force: true });
  const files = {};
  for (const d of docs) {
    const p = path.join(dir, 'files', d.name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, d.text);
    files[d.name] = d.labels.map(({ kind, start, end, value }) => ({
      kind,
      line: d.text.slice(0, start).split('\n').length,
      start,
      end,
      sha256: crypto.createHash('sha256').update(value).digest('hex'),
    }));
  }
  const labels = {
    comment: 'Hold-out set for ctxpack detectors, generated by bench/context-holdout.mjs (seeded). Offsets are UTF-16 code units into the file text; kind is a credential/PII family; values are fake. See README.md.',
    files,
  };
  fs.writeFileSync(path.join(dir, 'labels.json'), JSON.stringify(labels, null, 1) + '\n');
  return labels;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files } = writeHoldout();
  const all = Object.values(files).flat();
  const byKind = {};
  for (const l of all) byKind[l.kind] = (byKind[l.kind] ?? 0) + 1;
  console.log(`wrote ${Object.keys(files).length} files, ${all.length} labelled secrets to ${path.relative(root, HOLDOUT_DIR)}`);
  console.log(byKind);
}
