// The context audit log: <home>/context/audit.jsonl, one hash-chained JSON line per build, cache hit,
// redaction, trim and block, with its head ({seq, hash} of the last line) in audit.head. The core computes and
// checks the chain; this file appends under the pantry's lock, so concurrent agents never fork the chain, and
// keeps the head beside the log so that removing lines from the end is detected too.
import fs from 'node:fs';
import path from 'node:path';
import { contextAuditNext, contextAuditVerify } from '../core-node.mjs';
import { defaultHome, openPantry, writeFileAtomic } from '../pantry.mjs';
import { toCtxpackError } from '../errors.mjs';

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
    const text = readOptional(paths.log) ?? '';
    const head = readHead(paths.head);
    // The head file is written after the line: a crash between the two leaves a log one line ahead of its
    // head, which verify accepts only as exactly that (the extra line must chain onto the head).
    const verified = contextAuditVerify(text, head);
    const { line, head: next } = contextAuditNext(verified.head ?? null, { ...event, time: now.toISOString() });
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
 * Check the whole chain against its head. Throws CTX_AUDIT_BROKEN naming the first bad line.
 * @returns {{entries: number, head: {seq: number, hash: string} | null, events: object[]}}
 */
export function auditVerify({ home } = {}) {
  const paths = auditPaths(home);
  const text = readOptional(paths.log) ?? '';
  const head = readHead(paths.head);
  const report = contextAuditVerify(text, head);
  const events = text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
  return { entries: report.entries, head: report.head ?? null, events };
}
