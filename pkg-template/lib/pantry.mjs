// The local pantry: an OCI image layout (oci-layout, index.json, blobs/sha256/<hex>) under $CTXPACK_HOME.
// Its interface follows oras-go's content Store (fetch / push / exists / resolve / tag), so a remote registry
// can later stand behind the same calls. Blobs are content-addressed and written atomically; index.json is
// edited by the core under a lock and replaced by rename, so readers never see a half-written file.
// Work that writes blobs runs under a lease (lease.mjs), so a concurrent gc keeps what it has not recorded yet.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import * as core from './core-node.mjs';
import { CtxpackError, isCtxpackError, toCtxpackError } from './errors.mjs';
import { Lease, currentLease, readLeases, runWithLease } from './lease.mjs';
import { withLock } from './lock.mjs';
import { openRegularFile, readRegularFile } from './regular-file.mjs';
import { registerCleanup } from './signal-cleanup.mjs';

export const MEDIA_TYPES = Object.freeze({
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  packManifest: 'application/vnd.ctxpack.manifest.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  executionManifest: 'application/vnd.ctxpack.execution.v1+json',
  executionBlob: 'application/vnd.ctxpack.blob.v1',
});

/** What an index entry names: a pack (pack/v1) or an execution pack (execution/v1). */
export const ARTIFACT_TYPES = Object.freeze({ pack: 'pack', execution: 'execution' });

/** Manifests and configs are read whole; anything claiming to be bigger is not one of ours. */
const MAX_SMALL_BLOB_BYTES = 64 * 1024 * 1024;
const DIGEST_PATTERN = /^sha256:([0-9a-f]{64})$/;
/** index.json is read whole; past this it is damage, not a pantry. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/**
 * Prefix of blobs being written ("<prefix><lease id>-<uuid>"); they live beside the blobs so the final rename
 * never crosses devices.
 */
export const INGEST_PREFIX = '.ingest-';

/** `$CTXPACK_HOME`, else `~/.cache/ctxpack`. */
export function defaultHome() {
  return process.env.CTXPACK_HOME || path.join(os.homedir(), '.cache', 'ctxpack');
}

/**
 * @param {{home?: string, lockTimeoutMs?: number}} [options]
 * @returns {Pantry}
 */
export function openPantry({ home, lockTimeoutMs } = {}) {
  return new Pantry(path.resolve(home ?? defaultHome()), { lockTimeoutMs, leases: true });
}

/** @typedef {{mediaType: string, digest: string, size: number, annotations?: Record<string, string>}} Descriptor */

export class Pantry {
  /**
   * @param {string} home
   * @param {{lockTimeoutMs?: number, leases?: boolean, confined?: boolean}} [options] leases: writers take
   *   leases (the pantry; not an export directory or a spool, which no gc sweeps); confined: read only regular
   *   files really inside `home` (an OCI layout from elsewhere)
   */
  constructor(home, { lockTimeoutMs, leases = false, confined = false } = {}) {
    this.home = home;
    this.lockTimeoutMs = lockTimeoutMs;
    this.leases = leases;
    this.confined = confined;
    this.blobsDir = path.join(home, 'blobs', 'sha256');
    this.indexPath = path.join(home, 'index.json');
  }

  blobPath(digest) {
    const match = DIGEST_PATTERN.exec(digest);
    if (!match) throw new CtxpackError('CTX_OCI_INVALID', `not a sha256 digest: ${digest}`, { subject: String(digest) });
    return path.join(this.blobsDir, match[1]);
  }

  /** Run `fn` holding the named pantry lock (e.g. "index", "seed-<hex>"). */
  withLock(name, fn) {
    return withLock(path.join(this.home, 'locks', `${name}.lock`), fn, { timeoutMs: this.lockTimeoutMs });
  }

  /**
   * Run `fn` under a lease on this pantry (joining the lease of the enclosing work, if any): blobs written
   * meanwhile are kept from gc until the lease ends, and if `fn` fails, the blobs it added that nothing
   * references are removed again.
   * @template T
   * @param {string} command what the work is, for people reading the lease ("seed", "pull", …)
   * @param {() => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async withLease(command, fn) {
    if (!this.leases || currentLease(this.home) !== null) return fn();
    const lease = new Lease(this.home, command);
    try {
      return await runWithLease(lease, fn);
    } catch (error) {
      await this.removeUnreferenced(lease).catch(() => {
        // Left for the next gc, which no lease stops from removing them any more.
      });
      throw error;
    } finally {
      lease.release();
    }
  }

  /**
   * Keep blobs the current work relies on (ones it will not write because the pantry has them) from gc.
   * Written under the index lock, so a gc either finished before (and the caller's existence check that follows
   * sees what it removed) or sees the lease.
   * @param {string[]} digests
   */
  async protect(digests) {
    const lease = currentLease(this.home);
    if (lease === null || digests.every((digest) => lease.digests.has(digest))) return;
    await this.withLock('index', () => lease.protect(digests));
  }

  /**
   * Digests that must stay: every manifest in index.json and the blobs each reaches (packs and execution packs
   * share blobs), and every blob a live lease names, except `exceptLease`'s. Call it holding the index lock.
   * @param {{leases?: ReturnType<typeof readLeases>, exceptLease?: string}} [options]
   * @returns {Set<string>}
   */
  referencedDigests({ leases = readLeases(this.home), exceptLease } = {}) {
    const referenced = new Set();
    for (const entry of this.entries()) {
      referenced.add(entry.digest);
      try {
        const parsed = core.ociParseManifest(this.fetch({ digest: entry.digest, size: entry.size }));
        for (const blob of [parsed.config, ...parsed.layers]) referenced.add(blob.digest);
      } catch (error) {
        // A damaged manifest reaches nothing more; `ctxpack fsck` reports it.
        if (!isCtxpackError(error)) throw error;
      }
    }
    for (const [id, lease] of leases.live) {
      if (id !== exceptLease) for (const digest of lease.digests) referenced.add(digest);
    }
    return referenced;
  }

  /** After failed work: remove the blobs its lease added that no index entry and no other lease needs. */
  async removeUnreferenced(lease) {
    if (lease.created.size === 0) return;
    await this.withLock('index', () => {
      const referenced = this.referencedDigests({ exceptLease: lease.id });
      for (const digest of lease.created) {
        if (!referenced.has(digest)) fs.rmSync(this.blobPath(digest), { force: true });
      }
      lease.created.clear();
    });
  }

  /** Create the layout on first write. */
  ensureLayout() {
    try {
      fs.mkdirSync(this.blobsDir, { recursive: true });
      const layoutPath = path.join(this.home, 'oci-layout');
      if (!fs.existsSync(layoutPath)) writeFileAtomic(layoutPath, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    } catch (error) {
      throw toCtxpackError(error, this.home);
    }
  }

  /** @param {Descriptor} descriptor */
  exists(descriptor) {
    try {
      return fs.statSync(this.blobPath(descriptor.digest)).size === descriptor.size;
    } catch (error) {
      if (error.code === 'ENOENT') return false;
      throw toCtxpackError(error, descriptor.digest);
    }
  }

  /**
   * Read a small blob whole, checking its size and digest against the descriptor.
   * @param {Descriptor} descriptor
   * @returns {Uint8Array}
   */
  fetch(descriptor) {
    if (descriptor.size > MAX_SMALL_BLOB_BYTES) {
      throw new CtxpackError('CTX_OCI_INVALID', `blob ${descriptor.digest} is too big to be a manifest (${descriptor.size} bytes)`, {
        subject: descriptor.digest,
      });
    }
    let bytes;
    try {
      bytes = readRegularFile(this.blobPath(descriptor.digest), { within: this.within(), maxBytes: MAX_SMALL_BLOB_BYTES });
    } catch (error) {
      if (error.code === 'ENOENT') {
        throw new CtxpackError('CTX_NOT_FOUND', `blob ${descriptor.digest} is missing from the pantry`, {
          subject: descriptor.digest,
          hint: 'the pantry is damaged; remove the pack (`ctxpack rm`) and seed it again',
        });
      }
      throw toCtxpackError(error, descriptor.digest);
    }
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (digest !== descriptor.digest || bytes.length !== descriptor.size) {
      throw new CtxpackError('CTX_DIGEST_MISMATCH', `blob ${descriptor.digest} in the pantry does not match its digest`, {
        subject: descriptor.digest,
        hint: 'the pantry is damaged; remove the pack (`ctxpack rm`), run `ctxpack gc` and seed it again',
      });
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /**
   * Open a blob for reading: a regular file (in a confined layout, one really inside it).
   * @returns {number} a file descriptor
   */
  openBlob(descriptor) {
    return openRegularFile(this.blobPath(descriptor.digest), { within: this.within() });
  }

  /** The directory reads must stay in, for a confined layout. */
  within() {
    return this.confined ? this.home : undefined;
  }

  /**
   * Store bytes as a blob. With an expected descriptor, the bytes must match it.
   * @param {Uint8Array} bytes
   * @param {string} mediaType
   * @returns {Promise<Descriptor>}
   */
  push(bytes, mediaType, expected) {
    const writer = this.ingest();
    try {
      writer.write(bytes);
    } catch (error) {
      writer.abort();
      throw error;
    }
    return writer.commit(mediaType, expected);
  }

  /**
   * Start writing a blob whose digest is not known yet (it is computed while writing). With `hashed: false`
   * the caller has already hashed every byte and checked it against the descriptor it will commit with (the
   * RegistryClient's verified download): the blob is not hashed again, and commit requires that descriptor.
   * @param {{hashed?: boolean}} [options]
   */
  ingest({ hashed = true } = {}) {
    this.ensureLayout();
    return new BlobWriter(this, { hashed });
  }

  readIndex() {
    try {
      return new Uint8Array(readRegularFile(this.indexPath, { within: this.within(), maxBytes: MAX_INDEX_BYTES }));
    } catch (error) {
      if (error.code === 'ENOENT') return null;
      throw toCtxpackError(error, this.indexPath);
    }
  }

  /**
   * Every ctxpack entry of index.json, packs and execution packs alike (gc needs both).
   * @returns {Array<{uri: string, tag: string, digest: string, size: number, artifactType: string}>}
   */
  entries() {
    const index = this.readIndex();
    return index === null ? [] : core.ociIndexList(index);
  }

  /** The packs (pack/v1): what ls, loadPack, run and the registry commands work on. */
  list() {
    return this.entriesOfType(ARTIFACT_TYPES.pack);
  }

  /** The execution packs (execution/v1): what `ctxpack trace` works on. */
  listExecutions() {
    return this.entriesOfType(ARTIFACT_TYPES.execution);
  }

  /**
   * The OCI manifest descriptor a ctx:// URI (or its "ctx-<hex>" tag) names, among entries of one kind.
   * @param {{artifactType?: string}} [options] default: pack
   * @returns {Descriptor}
   */
  resolve(reference, { artifactType = ARTIFACT_TYPES.pack } = {}) {
    const uri = uriOfReference(reference);
    const entry = this.entriesOfType(artifactType).find((candidate) => candidate.uri === uri);
    if (!entry) throw new CtxpackError('CTX_NOT_FOUND', `${uri} is not in the pantry at ${this.home}`, { subject: uri });
    return manifestDescriptor(entry);
  }

  /**
   * The entry a ctx:// URI (or its "ctx-<hex>" tag) names, of either kind, or null: the registry commands
   * move packs and execution packs alike.
   * @returns {{descriptor: Descriptor, artifactType: string} | null}
   */
  lookup(reference) {
    const uri = uriOfReference(reference);
    const entry = this.entries().find((candidate) => candidate.uri === uri);
    return entry ? { descriptor: manifestDescriptor(entry), artifactType: entry.artifactType } : null;
  }

  /**
   * Whether the pantry holds an entry of that kind for the URI.
   * @param {{artifactType?: string}} [options] default: pack
   */
  has(uri, { artifactType = ARTIFACT_TYPES.pack } = {}) {
    const canonical = core.parseUri(uri);
    return this.entriesOfType(artifactType).some((entry) => entry.uri === canonical);
  }

  /** @param {string} artifactType one of ARTIFACT_TYPES */
  entriesOfType(artifactType) {
    return this.entries().filter((entry) => entry.artifactType === artifactType);
  }

  /**
   * The stored pack of a URI: its OCI manifest (parsed by the core) and descriptors. `config` is the pack's
   * manifest.json blob (the OCI config, or the first layer of the fallback form), `layers` its archive
   * layers in layout order, `layer` the first of them (the only one of a single-layer pack), and `blobs`
   * every blob the OCI manifest references.
   * @returns {{uri: string, manifest: Descriptor, created: string, config: Descriptor, layers: Descriptor[],
   *   layer: Descriptor, fallback: boolean, blobs: Descriptor[]}}
   */
  loadPack(uri) {
    const canonical = core.parseUri(uri);
    const manifest = this.resolve(canonical);
    const parsed = core.ociParsePackManifest(this.fetch(manifest));
    if (parsed.uri !== canonical) {
      throw new CtxpackError('CTX_OCI_INVALID', `the pantry's manifest for ${canonical} describes ${parsed.uri}`, {
        subject: canonical,
      });
    }
    return {
      uri: canonical,
      manifest,
      created: parsed.created,
      config: parsed.manifestJson,
      layers: parsed.packLayers,
      layer: parsed.packLayers[0],
      fallback: parsed.fallback,
      blobs: [parsed.config, ...parsed.layers],
    };
  }

  /**
   * Point the URI's ref name at a manifest of either kind. The manifest's blobs must all be present: checked
   * under the index lock, which gc also holds, so an index entry never refers to a blob a concurrent gc removed.
   * @param {{artifactType?: string}} [options] what the manifest is (default: pack); the manifest must say so too
   */
  tag(descriptor, uri, { artifactType = ARTIFACT_TYPES.pack } = {}) {
    return this.withLock('index', () => {
      const parsed = core.ociParseManifest(this.fetch(descriptor));
      if (parsed.artifactType !== artifactType) {
        throw new CtxpackError('CTX_OCI_INVALID', `${descriptor.digest} is a ${parsed.artifactType} manifest, not a ${artifactType} one`, {
          subject: descriptor.digest,
        });
      }
      for (const blob of [parsed.config, ...parsed.layers]) {
        if (!this.exists(blob)) {
          throw new CtxpackError('CTX_NOT_FOUND', `blob ${blob.digest} vanished before ${uri} was recorded (a concurrent gc?)`, {
            subject: blob.digest,
            hint: 'run the command again',
          });
        }
      }
      writeFileAtomic(this.indexPath, core.ociIndexAdd(this.readIndex(), descriptor, uri, artifactType));
    });
  }

  /** Drop the URI's index entry (packs only; execution packs are immutable). Its blobs stay until gc. */
  async untag(uri) {
    const canonical = core.parseUri(uri);
    const notFound = () => new CtxpackError('CTX_NOT_FOUND', `${canonical} is not in the pantry at ${this.home}`, { subject: canonical });
    // Checked before locking too, so removing from a pantry that does not exist creates nothing.
    if (!this.has(canonical)) throw notFound();
    return this.withLock('index', () => {
      if (!this.has(canonical)) throw notFound();
      writeFileAtomic(this.indexPath, core.ociIndexRemove(this.readIndex(), canonical));
    });
  }
}

/** A ctx:// URI, or the "ctx-<hex>" tag that names one, as the canonical URI. */
function uriOfReference(reference) {
  return reference.startsWith('ctx-') ? core.parseUri(`ctx://sha256:${reference.slice(4)}`) : core.parseUri(reference);
}

function manifestDescriptor(entry) {
  return { mediaType: MEDIA_TYPES.ociManifest, digest: entry.digest, size: entry.size };
}

/**
 * A blob being written: to a temp file beside the blobs, hashed on the way (unless the caller did), renamed
 * into place on commit. The temp file is named after the writer's lease, so gc leaves it alone while the lease
 * lives, and it is removed if the process is interrupted.
 */
class BlobWriter {
  constructor(pantry, { hashed }) {
    this.pantry = pantry;
    // Outside any leased work (a caller of the Pantry API), the write holds a lease of its own.
    this.ownLease = pantry.leases && currentLease(pantry.home) === null ? new Lease(pantry.home, 'write') : null;
    this.lease = pantry.leases ? (this.ownLease ?? currentLease(pantry.home)) : null;
    this.lease?.hold();
    const owner = this.lease ? `${this.lease.id}-` : '';
    this.tempPath = path.join(pantry.blobsDir, `${INGEST_PREFIX}${owner}${randomUUID()}`);
    this.unregister = registerCleanup(() => fs.rmSync(this.tempPath, { force: true }));
    try {
      this.fd = openOrThrow(this.tempPath);
    } catch (error) {
      this.finish();
      throw error;
    }
    this.hash = hashed ? createHash('sha256') : null;
    this.size = 0;
  }

  write(chunk) {
    if (chunk.length === 0) return;
    writeAll(this.fd, chunk, this.tempPath);
    this.hash?.update(chunk);
    this.size += chunk.length;
  }

  /**
   * Flush the written bytes to disk on libuv's thread pool, so a caller that can wait does not block its
   * thread on the fsync (which for a big blob takes as long as writing it); commit's fsync is then quick.
   * @returns {Promise<void>}
   */
  sync() {
    return new Promise((resolve, reject) => {
      fs.fsync(this.fd, (error) => (error ? reject(toCtxpackError(error, this.tempPath)) : resolve()));
    });
  }

  /**
   * Make the blob durable and visible. An existing blob with the same digest and size is kept as it is.
   * @returns {Promise<Descriptor>}
   */
  async commit(mediaType, expected) {
    if (this.hash === null && !expected) {
      this.abort();
      throw new CtxpackError('CTX_INVALID_STATE', 'a blob written unhashed needs the descriptor it was verified against');
    }
    const digest = this.hash === null ? expected.digest : `sha256:${this.hash.digest('hex')}`;
    try {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = undefined;
      if (expected && (expected.digest !== digest || expected.size !== this.size)) {
        throw new CtxpackError('CTX_DIGEST_MISMATCH', `blob content hashes to ${digest} (${this.size} bytes), expected ${expected.digest} (${expected.size} bytes)`, {
          subject: expected.digest,
        });
      }
      const finalPath = this.pantry.blobPath(digest);
      // Leased before the name appears: a gc that lists the blob reads the leases afterwards and keeps it.
      this.lease?.protect([digest]);
      let created = publishBlob(this.tempPath, finalPath, this.size);
      if (!created && this.lease !== null) {
        // It was there already, unreferenced perhaps, and a gc that read the leases before ours may be about to
        // remove it. Once no gc runs (the index lock), it is either still there (and leased) or put back.
        created = await this.pantry.withLock('index', () => publishBlob(this.tempPath, finalPath, this.size));
      }
      if (created) this.lease?.created.add(digest);
      syncDirectory(this.pantry.blobsDir);
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
    return fs.openSync(filePath, 'wx', 0o644);
  } catch (error) {
    throw toCtxpackError(error, filePath);
  }
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
