// Key files: `ctxpack keygen` writes an Ed25519 pair as `openssl genpkey -algorithm ed25519` would (PKCS#8
// private key, mode 0600; SPKI public key), never over an existing file. Reading and checking a key is the core's.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as core from '../core-node.mjs';
import { CtxpackError, toCtxpackError } from '../errors.mjs';

/** Key files are a few hundred bytes; a larger file is not one. */
const MAX_KEY_BYTES = 16 * 1024;

/**
 * Write `<name>.pem` (private, 0600) and `<name>.pub` (public). Refuses to overwrite either.
 * @param {string} name path without extension
 * @returns {{privateKey: string, publicKey: string, keyid: string}} the two paths and the key id
 */
export function generateKeyPair(name) {
  const privatePath = path.resolve(`${name}.pem`);
  const publicPath = path.resolve(`${name}.pub`);
  for (const target of [privatePath, publicPath]) {
    if (fs.existsSync(target)) {
      throw new CtxpackError('CTX_TARGET_EXISTS', `${target} exists; a key is never overwritten`, {
        subject: target,
        hint: 'choose another name with -o, or move the old key away first',
      });
    }
  }
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeNew(privatePath, privateKey, 0o600);
  try {
    writeNew(publicPath, publicKey, 0o644);
  } catch (error) {
    fs.rmSync(privatePath, { force: true });
    throw error;
  }
  return { privateKey: privatePath, publicKey: publicPath, keyid: core.signKeyInfo(publicKey).keyid };
}

/** A key file's PEM text (read whole, bounded). @param {string} file */
export function readKeyFile(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw toCtxpackError(error, file);
  }
  if (!stat.isFile() || stat.size > MAX_KEY_BYTES) {
    throw new CtxpackError('CTX_KEY_INVALID', `${file} is not a key file (not a regular file of at most ${MAX_KEY_BYTES} bytes)`, { subject: file });
  }
  return fs.readFileSync(file, 'utf8');
}

/** A public key file's PEM, checked by the core (its key id is named in errors). @param {string} file */
export function readPublicKey(file) {
  const pem = readKeyFile(file);
  try {
    core.signKeyInfo(pem);
  } catch (error) {
    error.message = `${file}: ${error.message}`;
    throw error;
  }
  if (pem.includes('PRIVATE KEY-----')) {
    throw new CtxpackError('CTX_KEY_INVALID', `${file} holds a private key; trust the public key (<name>.pub) instead`, { subject: file });
  }
  return pem;
}

function writeNew(file, text, mode) {
  try {
    fs.writeFileSync(file, text, { flag: 'wx', mode });
  } catch (error) {
    if (error.code === 'EEXIST') {
      throw new CtxpackError('CTX_TARGET_EXISTS', `${file} exists; a key is never overwritten`, { subject: file });
    }
    throw toCtxpackError(error, file);
  }
}
