// The visitor that extracts a pack's entries into a directory while the reader verifies them (unpack, the
// pantry's unpacked copies). Files are created exclusively (an existing path or link is never followed);
// symlinks are only collected: the caller creates them once the whole pack verified.
import fs from 'node:fs';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { createEntryPlacer } from './output-dir.mjs';
import { readPackFile } from './pack-stream.mjs';

/**
 * @param {string} dir an existing directory (empty, or being filled by other layers of the same pack)
 * @returns {{visitor: import('./pack-stream.mjs').PackVisitor,
 *   symlinks: Array<{path: string, target: string}>, currentPath: () => string | undefined, close: () => void}}
 */
export function createExtractor(dir) {
  const placeEntry = createEntryPlacer(dir);
  const symlinks = [];
  let fd;
  let currentPath;
  const visitor = {
    entry(entry) {
      if (entry.type === 'symlink') {
        symlinks.push({ path: entry.path, target: entry.target });
        return;
      }
      currentPath = entry.path;
      const mode = entry.executable ? 0o755 : 0o644;
      fd = createExclusive(placeEntry(entry.path), mode, entry.path);
      fs.fchmodSync(fd, mode);
    },
    data(bytes) {
      let offset = 0;
      while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
    },
    end() {
      if (fd === undefined) return;
      fs.closeSync(fd);
      fd = undefined;
    },
  };
  return {
    visitor,
    symlinks,
    currentPath: () => currentPath,
    close() {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}

/**
 * Verify one stored layer (readPackFile's options), extracting it into `extractTo` when given (its symlinks are
 * returned, not created), else showing it to `visitor`.
 * @returns {{uri: string, files: number, bytes: number, compressedBytes: number, layerDigest: string,
 *   symlinks: Array<{path: string, target: string}>}}
 */
export function readLayer({ blobPath, extractTo, ...options }, { visitor, onBytes }) {
  const extractor = extractTo === undefined ? undefined : createExtractor(extractTo);
  try {
    const result = readPackFile(blobPath, { ...options, visitor: extractor?.visitor ?? visitor, onBytes });
    return { ...result, symlinks: extractor?.symlinks ?? [] };
  } catch (error) {
    throw toCtxpackError(error, extractor?.currentPath());
  } finally {
    extractor?.close();
  }
}

/** Create the collected symlinks (after the whole pack verified). */
export function createSymlinks(dir, symlinks) {
  const placeEntry = createEntryPlacer(dir);
  for (const link of symlinks) {
    try {
      fs.symlinkSync(link.target, placeEntry(link.path));
    } catch (error) {
      throw toCtxpackError(error, link.path);
    }
  }
}

function createExclusive(filePath, mode, entryPath) {
  try {
    return fs.openSync(filePath, 'wx', mode);
  } catch (error) {
    if (error.code === 'EEXIST') {
      throw new CtxpackError('CTX_ENTRY_DUPLICATE', `the pack holds ${entryPath} twice`, { subject: entryPath });
    }
    throw toCtxpackError(error, entryPath);
  }
}
