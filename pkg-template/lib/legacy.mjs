// Python CtxPack v0 layers (spec §7.4): extract one safely, for `--legacy`. The core's LegacyReader checks
// names, types, limits and the manifest's URI as the bytes stream through; the files go to a fresh temporary
// directory beside the target, symlinks are created only once the whole tree proved safe, and the directory
// is moved into place at the end. A v0 pack cannot be verified; the result says why (`unverified`).
import fs from 'node:fs';
import path from 'node:path';
import * as core from './core-node.mjs';
import { CtxpackError, toCtxpackError } from './errors.mjs';
import { createEntryPlacer, fillFreshTarget } from './output-dir.mjs';

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * @param {string | AsyncIterable<Uint8Array>} filePathOrStream a v0 .tar.gz layer, or its bytes as a stream
 * @param {string} outDir absent or empty; filled atomically
 * @param {{expectUri?: string, limits?: object}} [options]
 * @returns {Promise<{uri: string, manifest: object, files: number, bytes: number, unverified: string[], path: string}>}
 */
export async function extractLegacyLayer(filePathOrStream, outDir, { expectUri, limits } = {}) {
  const target = path.resolve(outDir);
  const summary = await fillFreshTarget(target, (tempDir) => extractInto(openSource(filePathOrStream), tempDir, { expectUri, limits }));
  return {
    uri: summary.uri,
    manifest: summary.manifest,
    files: summary.files,
    bytes: summary.bytes,
    unverified: summary.unverified,
    path: target,
  };
}

function openSource(filePathOrStream) {
  if (typeof filePathOrStream !== 'string') return filePathOrStream;
  if (!fs.existsSync(filePathOrStream)) {
    throw new CtxpackError('CTX_NOT_FOUND', `${filePathOrStream} does not exist`, { subject: filePathOrStream });
  }
  return fs.createReadStream(filePathOrStream, { highWaterMark: READ_CHUNK_BYTES });
}

async function extractInto(source, dir, { expectUri, limits }) {
  const reader = new core.LegacyReader({ expectUri, limits });
  const placeEntry = createEntryPlacer(dir);
  const symlinks = [];
  let fd;
  let currentPath;
  const handle = (event) => {
    switch (event.kind) {
      case 'manifest':
        return;
      case 'directory':
        currentPath = event.path;
        makeDirectory(placeEntry(event.path), event.path);
        return;
      case 'entry':
        currentPath = event.path;
        if (event.type === 'symlink') {
          symlinks.push(event);
          return;
        }
        fd = createExclusive(placeEntry(event.path), event.executable ? 0o755 : 0o644, event.path);
        return;
      case 'data':
        for (let offset = 0; offset < event.bytes.length; ) offset += fs.writeSync(fd, event.bytes, offset, event.bytes.length - offset);
        return;
      case 'end':
        if (fd !== undefined) fs.closeSync(fd);
        fd = undefined;
        return;
      default:
        throw new CtxpackError('CTX_INVALID_STATE', `unknown legacy reader event ${event.kind}`);
    }
  };
  const drain = () => {
    for (let event = reader.next(); event != null; event = reader.next()) handle(event);
  };
  try {
    for await (const chunk of source) {
      drain();
      reader.push(chunk);
    }
    drain();
    const summary = reader.finish();
    for (const link of symlinks) {
      currentPath = link.path;
      fs.symlinkSync(link.target, placeEntry(link.path));
    }
    return summary;
  } catch (error) {
    throw toCtxpackError(error, currentPath);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    reader.free();
    source.destroy?.();
  }
}

function makeDirectory(dirPath, entryPath) {
  try {
    fs.mkdirSync(dirPath, { mode: 0o755 });
  } catch (error) {
    if (error.code !== 'EEXIST') throw toCtxpackError(error, entryPath);
    if (!fs.lstatSync(dirPath).isDirectory()) {
      throw new CtxpackError('CTX_PATH_COLLISION', `${entryPath} is both a directory and a file`, { subject: entryPath });
    }
  }
}

function createExclusive(filePath, mode, entryPath) {
  try {
    const fd = fs.openSync(filePath, 'wx', mode);
    fs.fchmodSync(fd, mode);
    return fd;
  } catch (error) {
    if (error.code === 'EEXIST') {
      throw new CtxpackError('CTX_ENTRY_DUPLICATE', `the layer holds ${entryPath} twice`, { subject: entryPath });
    }
    throw toCtxpackError(error, entryPath);
  }
}
