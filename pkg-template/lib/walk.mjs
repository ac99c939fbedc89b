// Walk a directory into tree entries (tree/v1): regular files and symlinks, paths relative and '/'-separated.
// Names are read as bytes, so a name that is not UTF-8 reaches the core as bytes and is rejected there
// (CTX_PATH_NOT_UTF8) instead of being silently replaced.
import fs from 'node:fs';
import { CtxpackError, toCtxpackError } from './errors.mjs';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');
const SLASH = Buffer.from('/');

/**
 * @typedef {object} WalkedFile
 * @property {string | Uint8Array} path   relative path (bytes when the name is not valid UTF-8)
 * @property {'file'} type
 * @property {number} size
 * @property {boolean} executable         any execute bit set
 * @property {string | Uint8Array} source absolute path to read the content from
 *
 * @typedef {object} WalkedSymlink
 * @property {string | Uint8Array} path
 * @property {'symlink'} type
 * @property {string} target
 *
 * @typedef {WalkedFile | WalkedSymlink} WalkedEntry
 */

/**
 * List every regular file and symlink below `root`. Empty directories contribute nothing.
 * With `followLinks`, a symlink is recorded as the file (or directory of files) it points to.
 * @param {string} root
 * @param {{followLinks?: boolean}} [options]
 * @returns {WalkedEntry[]}
 */
export function walkTree(root, { followLinks = false } = {}) {
  const rootStat = ioCall(root, () => fs.statSync(root));
  if (!rootStat.isDirectory()) {
    throw new CtxpackError('CTX_IO', `${root} is not a directory`, { subject: root });
  }
  const entries = [];
  const ancestors = new Set([identityOf(rootStat)]);
  visitDirectory(Buffer.from(root), null, entries, followLinks, ancestors);
  return entries;
}

/**
 * The walk identity uses: the same entries as walkTree, found in steps so hashing starts while the walk goes
 * on, with names as strings (a directory is re-read as bytes only when a name in it did not decode). Files are
 * told apart by the type readdir reports, without a stat: the hashing threads stat each file they open. A name
 * that is not UTF-8 is handed to `sink.undecodable(bytes)`, which must throw.
 */
export class TreeWalk {
  /**
   * @param {string} root
   * @param {{followLinks?: boolean}} [options]
   */
  constructor(root, { followLinks = false } = {}) {
    const rootStat = ioCall(root, () => fs.statSync(root, { bigint: true }));
    if (!rootStat.isDirectory()) throw new CtxpackError('CTX_IO', `${root} is not a directory`, { subject: root });
    this.root = root;
    this.followLinks = followLinks;
    this.stack = [{ relative: '', ancestors: followLinks ? [identityOf(rootStat)] : undefined }];
  }

  /**
   * Visit directories until about `budget` entries were seen.
   * @param {number} budget
   * @param {{file: (relative: string) => void, symlink: (relative: string, target: string) => void,
   *   undecodable: (relative: Uint8Array) => never}} sink
   * @returns {boolean} whether entries remain
   */
  step(budget, sink) {
    let seen = 0;
    while (seen < budget && this.stack.length > 0) {
      const { relative: dir, ancestors } = this.stack.pop();
      const absoluteDir = dir === '' ? this.root : `${this.root}/${dir}`;
      const dirents = ioCall(dir || this.root, () => fs.readdirSync(absoluteDir, { withFileTypes: true }));
      seen += dirents.length;
      for (const dirent of dirents) {
        const { name } = dirent;
        if (name.includes('\uFFFD')) this.checkNames(absoluteDir, dir, sink);
        const relative = dir === '' ? name : `${dir}/${name}`;
        if (dirent.isFile()) {
          sink.file(relative);
          continue;
        }
        if (dirent.isDirectory() && !this.followLinks) {
          this.stack.push({ relative, ancestors });
          continue;
        }
        // A link to follow or read, a directory whose links may loop, or a type readdir did not report.
        const absolute = `${this.root}/${relative}`;
        let stat = ioCall(relative, () => fs.lstatSync(absolute, { bigint: true }));
        if (stat.isSymbolicLink()) {
          if (!this.followLinks) {
            sink.symlink(relative, readLinkTarget(absolute, relative));
            continue;
          }
          stat = followLink(absolute, relative, true);
        }
        if (stat.isDirectory()) {
          const id = identityOf(stat);
          if (ancestors?.includes(id)) {
            throw new CtxpackError('CTX_IO', `symlink loop: ${relative} leads back to a parent directory`, {
              subject: relative,
              hint: 'remove the looping link, or pack without following links',
            });
          }
          this.stack.push({ relative, ancestors: ancestors && [...ancestors, id] });
        } else if (stat.isFile()) {
          sink.file(relative);
        } else {
          throw new CtxpackError('CTX_UNSUPPORTED_ENTRY_TYPE', `${relative} is a ${describeSpecial(stat)}; packs hold only files and symlinks`, {
            subject: relative,
          });
        }
      }
    }
    return this.stack.length > 0;
  }

  /** A name shown with U+FFFD may hold it for real, or may not be UTF-8: read the directory as bytes to know. */
  checkNames(absoluteDir, dir, sink) {
    for (const name of ioCall(dir || this.root, () => fs.readdirSync(absoluteDir, { encoding: 'buffer' }))) {
      if (typeof decodePath(name) !== 'string') sink.undecodable(Buffer.concat([Buffer.from(dir === '' ? '' : `${dir}/`), name]));
    }
  }
}

/** A name for messages: the relative path, with undecodable bytes shown as U+FFFD. */
export function displayPath(path) {
  return typeof path === 'string' ? path : lenientUtf8.decode(path);
}

function visitDirectory(absoluteDir, relativeDir, entries, followLinks, ancestors) {
  const names = ioCall(relativeDir ?? absoluteDir, () => fs.readdirSync(absoluteDir, { encoding: 'buffer' }));
  names.sort(Buffer.compare);
  for (const name of names) {
    const absolute = Buffer.concat([absoluteDir, SLASH, name]);
    const relative = relativeDir === null ? name : Buffer.concat([relativeDir, SLASH, name]);
    let stat = ioCall(relative, () => fs.lstatSync(absolute));
    if (stat.isSymbolicLink()) {
      if (!followLinks) {
        entries.push({ path: decodePath(relative), type: 'symlink', target: readLinkTarget(absolute, relative) });
        continue;
      }
      stat = followLink(absolute, relative);
    }
    if (stat.isDirectory()) {
      const id = identityOf(stat);
      if (ancestors.has(id)) {
        throw new CtxpackError('CTX_IO', `symlink loop: ${displayPath(relative)} leads back to a parent directory`, {
          subject: displayPath(relative),
          hint: 'remove the looping link, or pack without following links',
        });
      }
      ancestors.add(id);
      visitDirectory(absolute, relative, entries, followLinks, ancestors);
      ancestors.delete(id);
    } else if (stat.isFile()) {
      entries.push({
        path: decodePath(relative),
        type: 'file',
        size: stat.size,
        executable: (stat.mode & 0o111) !== 0,
        source: decodePath(absolute),
      });
    } else {
      const subject = displayPath(relative);
      throw new CtxpackError('CTX_UNSUPPORTED_ENTRY_TYPE', `${subject} is a ${describeSpecial(stat)}; packs hold only files and symlinks`, {
        subject,
      });
    }
  }
}

function followLink(absolute, relative, bigint = false) {
  try {
    return fs.statSync(absolute, { bigint });
  } catch (error) {
    if (error.code === 'ENOENT') {
      const subject = displayPath(relative);
      throw new CtxpackError('CTX_IO', `symlink ${subject} points to nothing`, {
        subject,
        hint: 'fix or remove the dangling link, or pack without following links',
      });
    }
    throw toCtxpackError(error, displayPath(relative));
  }
}

function readLinkTarget(absolute, relative) {
  const target = ioCall(relative, () => fs.readlinkSync(absolute, { encoding: 'buffer' }));
  try {
    return strictUtf8.decode(target);
  } catch {
    const subject = displayPath(relative);
    throw new CtxpackError('CTX_PATH_NOT_UTF8', `the target of symlink ${subject} is not valid UTF-8`, { subject });
  }
}

function decodePath(bytes) {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return new Uint8Array(bytes);
  }
}

function describeSpecial(stat) {
  if (stat.isFIFO()) return 'FIFO';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'character device';
  if (stat.isBlockDevice()) return 'block device';
  return 'special file';
}

function identityOf(stat) {
  return `${stat.dev}:${stat.ino}`;
}

/** Run a file system call, reporting failures as CTX_IO about `subject` (a path, as text or bytes). */
function ioCall(subject, fn) {
  try {
    return fn();
  } catch (error) {
    throw toCtxpackError(error, displayPath(subject));
  }
}
