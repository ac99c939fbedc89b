// Writing files of an OCI layout so that readers never see half of one: a blob is written to a temp file
// beside the blobs (named after the writer's lease, so gc leaves it alone) and appears under its digest only
// once complete and synced; small files (index.json) are replaced atomically by rename.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { CtxpackError, toCtxpackError } from '../errors.mjs';
import { Lease, currentLease } from '../lease.mjs';
import { registerCleanup } from '../signal-cleanup.mjs';

/**
 * Prefix of blobs being written ("<prefix><lease id>-<uuid>"); they live beside the blobs so the final rename
 * never crosses devices.
 */
export const INGEST_PREFIX = '.ingest-';

/**
 * A big blob is flushed to disk in the background each time this much more was written, so its final fsync
 * waits for the last bytes only, not for the whole blob (the kernel would start on its own only at gigabytes).
 */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;

/**
 * A blob being written: to a temp file beside the blobs, hashed on the way (unless the caller did), renamed
 * into place on commit. The temp file is named after the writer's lease, so gc leaves it alone while the lease
 * lives, and it is removed if the process is interrupted.
 */
export class BlobWriter {
  constructor(store, { hashed }) {
    this.store = store;
    // Outside any leased work (a caller of the Pantry API), the write holds a lease of its own.
    this.ownLease = store.leases && currentLease(store.home) === null ? new Lease(store.home, 'write') : null;
    this.lease = store.leases ? (this.ownLease ?? currentLease(store.home)) : null;
    this.lease?.hold();
    const owner = this.lease ? `${this.lease.id}-` : '';
    this.tempPath = path.join(store.blobsDir, `${INGEST_PREFIX}${owner}${randomUUID()}`);
    this.unregister = registerCleanup(() => fs.rmSync(this.tempPath, { force: true }));
    try {
      this.fd = openOrThrow(this.tempPath);
    } catch (error) {
      this.finish();
      throw error;
    }
    this.hash = hashed ? createHash('sha256') : null;
    this.size = 0;
    this.flushedAt = 0;
    /** The background flush, through a descriptor of its own, which it closes when done. */
    this.flushing = null;
  }

  write(chunk) {
    if (chunk.length === 0) return;
    writeAll(this.fd, chunk, this.tempPath);
    this.hash?.update(chunk);
    this.size += chunk.length;
    if (this.size - this.flushedAt >= FLUSH_EVERY_BYTES && this.flushing === null) this.flushInBackground();
  }

  /**
   * fdatasync on libuv's thread pool, through a second descriptor (an abort closes and removes the file at
   * once, whatever the flush does). Its errors are the final fsync's to report.
   */
  flushInBackground() {
    this.flushedAt = this.size;
    let fd;
    try {
      fd = fs.openSync(this.tempPath, 'r');
    } catch {
      return;
    }
    this.flushing = new Promise((resolve) => {
      fs.fdatasync(fd, () => fs.close(fd, () => resolve()));
    }).then(() => {
      this.flushing = null;
    });
  }

  /**
   * Flush the written bytes to disk on libuv's thread pool, so a caller that can wait does not block its
   * thread on the fsync (which for a big blob takes as long as writing it); commit's fsync is then quick.
   * @returns {Promise<void>}
   */
  async sync() {
    await this.flushing;
    return new Promise((resolve, reject) => {
      fs.fsync(this.fd, (error) => (error ? reject(toCtxpackError(error, this.tempPath)) : resolve()));
    });
  }

  /**
   * Hash what was written so far, from the file: for a writer started unhashed whose source turned out not to
   * have verified every byte it gave (a download that restarted midway), so commit checks the digest after all.
   */
  rehash() {
    if (this.hash !== null) return;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (let offset = 0; offset < this.size; ) {
      const read = fs.readSync(this.fd, buffer, 0, buffer.length, offset);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      offset += read;
    }
    this.hash = hash;
  }

  /**
   * Make the blob durable and visible. An existing blob with the same digest and size is kept as it is.
   * `batched`: the caller awaited sync(), wrote only blobs that were absent and calls syncBlobDirectory() once
   * after the batch's commits (many small blobs: the fsyncs overlap instead of costing one journal commit each).
   * `digest`: of the bytes written, computed by the caller of a writer started unhashed (checked like our own).
   * @returns {Promise<{mediaType: string, digest: string, size: number}>}
   */
  async commit(mediaType, expected, { batched = false, digest: computed } = {}) {
    if (this.hash === null && !expected) {
      this.abort();
      throw new CtxpackError('CTX_INVALID_STATE', 'a blob written unhashed needs the descriptor it was verified against');
    }
    const digest = this.hash !== null ? `sha256:${this.hash.digest('hex')}` : (computed ?? expected.digest);
    try {
      if (!batched) fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = undefined;
      if (expected && (expected.digest !== digest || expected.size !== this.size)) {
        throw new CtxpackError('CTX_DIGEST_MISMATCH', `blob content hashes to ${digest} (${this.size} bytes), expected ${expected.digest} (${expected.size} bytes)`, {
          subject: expected.digest,
        });
      }
      const finalPath = this.store.blobPath(digest);
      // Leased before the name appears: a gc that lists the blob reads the leases afterwards and keeps it.
      this.lease?.protect([digest]);
      // A batch writes only blobs that were absent: renamed into place (one call instead of a link and an unlink;
      // a copy another process put there meanwhile has the same bytes).
      let created = batched ? renameBlob(this.tempPath, finalPath) : publishBlob(this.tempPath, finalPath, this.size);
      if (!created && this.lease !== null) {
        // It was there already, unreferenced perhaps, and a gc that read the leases before ours may be about to
        // remove it. Once no gc runs (the index lock), it is either still there (and leased) or put back.
        created = await this.store.withLock('index', () => publishBlob(this.tempPath, finalPath, this.size));
      }
      if (created) this.lease?.created.add(digest);
      if (!batched) syncDirectory(this.store.blobsDir);
    } catch (error) {
      this.abort();
      throw toCtxpackError(error, this.tempPath);
    }
    this.finish();
    return { mediaType, digest, size: this.size };
  }

  abort() {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.finish();
  }

  /** The temp file is gone (published or dropped); so is the write's own lease. */
  finish() {
    fs.rmSync(this.tempPath, { force: true });
    this.unregister();
    this.ownLease?.release();
  }
}

/**
 * Publish the temp file as the blob unless a good copy is there (same size; a blob of another size under that
 * name is damage and is replaced). When a copy was there, the temp file stays.
 * @returns {boolean} whether this call put the blob in place
 */
function publishBlob(tempPath, finalPath, size) {
  try {
    fs.linkSync(tempPath, finalPath);
    return true;
  } catch (error) {
    if (error.code !== 'EEXIST' && !['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'].includes(error.code)) throw error;
  }
  let existing;
  try {
    existing = fs.lstatSync(finalPath);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  if (existing?.isFile() && existing.size === size) return false;
  // Absent (a file system without hard links) or damaged: rename over it, atomically.
  fs.renameSync(tempPath, finalPath);
  return true;
}

function renameBlob(tempPath, finalPath) {
  fs.renameSync(tempPath, finalPath);
  return true;
}

/** Replace a file atomically: write a temp file in the same directory, fsync, rename over. */
export function writeFileAtomic(filePath, bytes) {
  const tempPath = `${filePath}.tmp-${randomUUID()}`;
  try {
    const fd = fs.openSync(tempPath, 'wx', 0o644);
    try {
      writeAll(fd, bytes, tempPath);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tempPath, filePath);
    syncDirectory(path.dirname(filePath));
  } catch (error) {
    fs.rmSync(tempPath, { force: true });
    throw toCtxpackError(error, filePath);
  }
}

function writeAll(fd, bytes, subject) {
  try {
    let offset = 0;
    while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
  } catch (error) {
    throw toCtxpackError(error, subject);
  }
}

function openOrThrow(filePath) {
  try {
    return fs.openSync(filePath, 'wx+', 0o644);
  } catch (error) {
    throw toCtxpackError(error, filePath);
  }
}

/** Make the names of blobs committed with `batched` durable: one directory fsync for the whole batch. */
export function syncBlobDirectory(store) {
  syncDirectory(store.blobsDir);
}

/** Make a rename durable. Some platforms cannot open directories; durability there is best effort. */
function syncDirectory(dir) {
  let fd;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Best effort (see above).
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
