// Reading files ctxpack did not write itself (an OCI layout given to `import`, a damaged pantry) without being
// led astray: only regular files are opened (a FIFO would block the open or the read forever, a device could
// be endless), and with `within`, only files whose real path is inside that directory (a symlink out of it is
// refused). The file is checked before it is opened and again through the open descriptor.
import fs from 'node:fs';
import path from 'node:path';
import { CtxpackError, toCtxpackError } from './errors.mjs';

const NON_BLOCKING = fs.constants.O_NONBLOCK ?? 0;
const NO_FOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/**
 * Open a regular file for reading. System errors (ENOENT, EACCES, …) are thrown as they are.
 * @param {string} filePath
 * @param {{within?: string}} [options] the directory the file must really be in
 * @returns {number} the file descriptor
 */
export function openRegularFile(filePath, { within } = {}) {
  const target = within === undefined ? filePath : confinedPath(filePath, within);
  assertRegular(filePath, fs.statSync(target));
  const fd = fs.openSync(target, fs.constants.O_RDONLY | NON_BLOCKING | (within === undefined ? 0 : NO_FOLLOW));
  try {
    assertRegular(filePath, fs.fstatSync(fd));
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * Read a whole regular file of at most `maxBytes`.
 * @param {string} filePath
 * @param {{within?: string, maxBytes: number}} options
 * @returns {Buffer}
 */
export function readRegularFile(filePath, { within, maxBytes }) {
  const fd = openRegularFile(filePath, { within });
  try {
    const { size } = fs.fstatSync(fd);
    if (size > maxBytes) {
      throw new CtxpackError('CTX_LIMIT_EXCEEDED', `${filePath} holds ${size} bytes, more than the ${maxBytes} accepted`, { subject: filePath });
    }
    const buffer = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const read = fs.readSync(fd, buffer, filled, size - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return buffer.subarray(0, filled);
  } finally {
    fs.closeSync(fd);
  }
}

function confinedPath(filePath, within) {
  const real = fs.realpathSync(filePath);
  let root;
  try {
    root = fs.realpathSync(within);
  } catch (error) {
    throw toCtxpackError(error, within);
  }
  if (real !== root && !real.startsWith(`${root}${path.sep}`)) {
    throw new CtxpackError('CTX_SYMLINK_ESCAPES', `${filePath} is a symlink to ${real}, outside ${within}`, {
      subject: filePath,
      hint: 'the directory is damaged or hostile: only files inside it are read; replace the link with the file',
    });
  }
  return real;
}

function assertRegular(filePath, stat) {
  if (stat.isFile()) return;
  throw new CtxpackError('CTX_UNSUPPORTED_ENTRY_TYPE', `${filePath} is a ${describeType(stat)}, not a regular file`, {
    subject: filePath,
    hint: 'the directory is damaged or hostile: only regular files are read; replace it with the file it should be',
  });
}

function describeType(stat) {
  if (stat.isFIFO()) return 'FIFO';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'character device';
  if (stat.isBlockDevice()) return 'block device';
  return 'special file';
}
