// The context audit log: <home>/context/audit.jsonl, one hash-chained JSON line per build, cache hit,
// redaction, trim and block, with its head ({seq, hash, mac} of the last line) in audit.head. The core computes
// and checks the chain; this file appends under the pantry's lock, so concurrent agents never fork the chain, and
// keeps the head beside the log so that removing lines from the end is detected too. Each entry's hash is an
// HMAC under the audit key, which lives outside the pantry (auditKeyFile()): whoever can rewrite the pantry but
// not read the key cannot recompute the chain after an edit (docs/context.md, Audit).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contextAuditNext, contextAuditVerify } from '../core-node.mjs';
import { defaultHome, openPantry, writeFileAtomic } from '../pantry.mjs';
import { CtxpackError, toCtxpackError } from '../errors.mjs';

/** $CTXPACK_AUDIT_KEY_FILE, else audit.key beside the config file ($CTXPACK_CONFIG, else $XDG_CONFIG_HOME/ctxpack/ or ~/.config/ctxpack/). */
export function auditKeyFile(env = process.env) {
  if (env.CTXPACK_AUDIT_KEY_FILE) return path.resolve(env.CTXPACK_AUDIT_KEY_FILE);
  const configDir = env.CTXPACK_CONFIG
    ? path.dirname(path.resolve(env.CTXPACK_CONFIG))
    : path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'ctxpack');
  return path.join(configDir, 'audit.key');
}

function parseKey(text, file) {
  const hex = text.trim();
  if (!/^[0-9a-f]{32,}$/i.test(hex) || hex.length % 2 !== 0) {
    throw new CtxpackError('CTX_AUDIT_KEY_MISSING', `${file} does not hold an audit key (32 or more hex digits)`, {
      subject: file,
      hint: 'restore the key file the log was written with; a new key cannot check entries written under the old one',
    });
  }
  return Buffer.from(hex, 'hex');
}

/** The audit key's bytes, or undefined when its file does not exist. */
export function readAuditKey(file = auditKeyFile()) {
  const text = readOptional(file);
  return text === undefined ? undefined : parseKey(text, file);
}

/** The audit key, created on first use: 32 random bytes as hex, mode 0600 in a 0700 folder. */
function auditKey(file = auditKeyFile()) {
  const existing = readAuditKey(file);
  if (existing) return existing;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx`: when two processes create it at once, one wins and the other reads the winner's key.
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (error.code !== 'EEXIST') throw toCtxpackError(error, file);
  }
  return readAuditKey(file);
}

export function auditPaths(home = defaultHome()) {
  const dir = path.join(path.resolve(home), 'context');
  return { dir, log: path.join(dir, 'audit.jsonl'), head: path.join(dir, 'audit.head') };
}

function readOptional(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw toCtxpackError(error, file);
  }
}

function readHead(file) {
  const text = readOptional(file);
  return text === undefined ? null : JSON.parse(text);
}

/**
 * Append one event (`{event, …}`; `time` is added) and return the line written. Fails, appending nothing, when
 * the existing log does not verify: a broken chain must be investigated, not extended.
 * @param {object} event
 * @param {{home?: string, now?: Date}} [options]
 */
export async function auditAppend(event, { home, now = new Date() } = {}) {
  const paths = auditPaths(home);
  fs.mkdirSync(paths.dir, { recursive: true });
  return openPantry({ home }).withLock('context-audit', () => {
    const key = auditKey();
    const text = readOptional(paths.log) ?? '';
    const head = readHead(paths.head);
    // The head file is written after the line: a crash between the two leaves a log one line ahead of its
    // head, which verify accepts only as exactly that (the extra line must chain onto the head).
    const verified = contextAuditVerify(text, head, key);
    const { line, head: next } = contextAuditNext(verified.head ?? null, { ...event, time: now.toISOString() }, key);
    const fd = fs.openSync(paths.log, 'a', 0o600);
    try {
      fs.writeSync(fd, `${line}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    writeFileAtomic(paths.head, Buffer.from(JSON.stringify(next)));
    return line;
  });
}

/**
 * Check the whole chain against its head, keyed entries with the audit key. Throws CTX_AUDIT_BROKEN naming the
 * first bad line, CTX_AUDIT_KEY_MISSING when the log is keyed and the key file is gone. `unkeyed` counts the first
 * entries, written before ctxpack keyed its log: only their plain hash chain is checked.
 * @returns {{entries: number, unkeyed: number, keyFile: string, head: {seq: number, hash: string, mac?: string} | null, events: object[]}}
 */
export function auditVerify({ home } = {}) {
  const paths = auditPaths(home);
  const keyFile = auditKeyFile();
  const key = readAuditKey(keyFile);
  const text = readOptional(paths.log) ?? '';
  const head = readHead(paths.head);
  const report = contextAuditVerify(text, head, key ?? null);
  // Every append since the key exists is keyed: a key beside a log with no keyed entry means the log was
  // rewritten without the key, or (another pantry created the key) it was not appended to since.
  if (key && report.entries > 0 && report.unkeyed === report.entries) {
    throw new CtxpackError('CTX_AUDIT_BROKEN', `none of the ${report.entries} audit entries is keyed, yet the audit key ${keyFile} exists`, {
      subject: paths.log,
      hint: 'if this log predates keying and nothing was appended since, append an event (any context build) to seal it; otherwise it was rewritten without the key: restore it from a backup',
    });
  }
  const events = text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
  return { entries: report.entries, unkeyed: report.unkeyed, keyFile, head: report.head ?? null, events };
}
