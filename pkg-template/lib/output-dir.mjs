// The user's output folder (unpack -o, run -o, pull -o): a tree is written to it without ever damaging what is
// there: refuse a non-empty target, build everything in a fresh temporary directory beside it, and rename
// that into place only at the end.
// The staging directory (.<name>.ctxpack-<pid>-<start time>-XXXXXX) is removed if the process is interrupted;
// one left by a process killed outright is removed by the next fill of the same target.
import fs from 'node:fs';
import path from 'node:path';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { ownerToken, tokenAlive } from './process-owner.mjs';
import { registerCleanup } from './signal-cleanup.mjs';

/** Throw CTX_TARGET_EXISTS unless `target` is absent or an empty directory. */
export function assertTargetFree(target) {
  let stat;
  try {
    stat = fs.lstatSync(target);
  } catch (error) {
    if (error.code === 'ENOENT') return;
    throw toCtxpackError(error, target);
  }
  if (!stat.isDirectory() || fs.readdirSync(target).length > 0) throw targetExists(target);
}

/**
 * Fill a fresh temporary directory next to `target` with `fill(tempDir)`, then move it into place.
 * On any failure the temporary directory is removed and `target` is left as it was.
 * @template T
 * @param {string} target
 * @param {(tempDir: string) => Promise<T> | T} fill
 * @param {{dirMode?: number}} [options] mode of the new root directory
 * @returns {Promise<T>}
 */
export async function fillFreshTarget(target, fill, { dirMode = 0o755 } = {}) {
  const absolute = path.resolve(target);
  assertTargetFree(absolute);
  const parent = path.dirname(absolute);
  const stagingPrefix = `.${path.basename(absolute)}.ctxpack-`;
  let createdParents;
  let tempDir;
  let unregister;
  try {
    createdParents = fs.mkdirSync(parent, { recursive: true });
    removeAbandonedStaging(parent, stagingPrefix);
    tempDir = fs.mkdtempSync(path.join(parent, `${stagingPrefix}${ownerToken()}-`));
    unregister = registerCleanup(() => removeTree(tempDir));
  } catch (error) {
    throw toCtxpackError(error, parent);
  }
  try {
    const result = await fill(tempDir);
    fs.chmodSync(tempDir, dirMode);
    moveIntoPlace(tempDir, absolute);
    return result;
  } catch (error) {
    removeTree(tempDir);
    if (createdParents !== undefined) removeEmptyDirectories(parent, createdParents);
    throw toCtxpackError(error, absolute);
  } finally {
    unregister();
  }
}

/** Staging directories `<prefix><pid>-<start time>-XXXXXX` in `parent` whose process is gone are removed. */
function removeAbandonedStaging(parent, prefix) {
  for (const name of fs.readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const token = /^(\d+-\d+)-[^-]+$/.exec(name.slice(prefix.length))?.[1];
    if (token !== undefined && tokenAlive(token) === false) removeTree(path.join(parent, name));
  }
}

/** Undo `mkdir -p`: remove `dir` and its parents up to `topmost`, stopping at the first one not empty. */
function removeEmptyDirectories(dir, topmost) {
  for (let current = dir; ; current = path.dirname(current)) {
    try {
      fs.rmdirSync(current);
    } catch {
      return;
    }
    if (current === topmost) return;
  }
}

/** rename(2) replaces an empty directory atomically and fails if it gained content meanwhile. */
function moveIntoPlace(tempDir, target) {
  try {
    fs.renameSync(tempDir, target);
  } catch (error) {
    if (['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR'].includes(error.code)) throw targetExists(target);
    throw error;
  }
}

/**
 * Place pack entries under `root`: returns a function that creates the parent directories of a relative,
 * '/'-separated entry path and gives its absolute path. Every directory on the way must be a real directory
 * (never a symlink), so nothing can be written outside `root` whatever the entries say.
 * @param {string} root
 * @returns {(relativePath: string) => string}
 */
export function createEntryPlacer(root) {
  const realDirectories = new Set();
  return (relativePath) => {
    const parts = relativePath.split('/');
    if (path.isAbsolute(relativePath) || parts.some((part) => part === '' || part === '.' || part === '..')) {
      throw unsafeEntry('CTX_PATH_INVALID', `entry ${relativePath} would be written outside the target`, relativePath);
    }
    let current = root;
    let relative = '';
    for (const part of parts.slice(0, -1)) {
      current = path.join(current, part);
      relative = relative === '' ? part : `${relative}/${part}`;
      if (realDirectories.has(relative)) continue;
      try {
        fs.mkdirSync(current);
      } catch (error) {
        if (error.code !== 'EEXIST') throw toCtxpackError(error, current);
      }
      const stat = fs.lstatSync(current);
      if (stat.isSymbolicLink()) {
        throw unsafeEntry('CTX_SYMLINK_ESCAPES', `entry ${relativePath} would be written through the symlink ${relative}`, relativePath);
      }
      if (!stat.isDirectory()) {
        throw unsafeEntry('CTX_PATH_COLLISION', `entry ${relativePath} needs ${relative} to be a directory, but it is a file`, relativePath);
      }
      realDirectories.add(relative);
    }
    return path.join(root, ...parts);
  };
}

function unsafeEntry(code, message, subject) {
  return new CtxpackError(code, message, { subject, hint: 'the pack is malicious or damaged; do not use it' });
}

/** Remove a tree, including read-only directories (the pantry's unpacked copies). */
export function removeTree(dir) {
  makeDirectoriesWritable(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

function makeDirectoriesWritable(dir) {
  let stat;
  try {
    stat = fs.lstatSync(dir);
  } catch {
    return;
  }
  if (!stat.isDirectory()) return;
  fs.chmodSync(dir, 0o700);
  for (const name of fs.readdirSync(dir)) makeDirectoriesWritable(path.join(dir, name));
}

/** Make a tree read-only: files 0444 (0555 if executable), directories 0555, deepest first. */
export function makeReadOnly(dir) {
  for (const dirent of fs.readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, dirent.name);
    if (dirent.isDirectory()) makeReadOnly(child);
    else if (dirent.isFile()) fs.chmodSync(child, fs.statSync(child).mode & 0o111 ? 0o555 : 0o444);
  }
  fs.chmodSync(dir, 0o555);
}

function targetExists(target) {
  return new CtxpackError('CTX_TARGET_EXISTS', `${target} already exists and is not an empty directory; nothing was written`, {
    subject: target,
  });
}
