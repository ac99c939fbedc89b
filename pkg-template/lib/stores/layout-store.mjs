// An OCI image layout directory (oci-layout, index.json, blobs/sha256/<hex>) as a Store, like oras-go's
// content/oci.Store: the pantry, temporary spool layouts and export/import directories are all this class.
// Blobs are content-addressed and written atomically (blob-writer.mjs); index.json is edited by the core under
// a lock and replaced by rename, so readers never see a half-written file. A layout that gc sweeps (the pantry)
// has leases (lease.mjs): work that writes blobs runs under one, so a concurrent gc keeps what it has not
// tagged yet. A layout read from elsewhere (import) is confined: only regular files really inside it are opened,
// so a FIFO, a device or a symlink out of it is an error, never a hang or a read of some other file.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as core from '../core-node.mjs';
import { CtxpackError, isCtxpackError, toCtxpackError } from '../errors.mjs';
import { Lease, currentLease, readLeases, runWithLease } from '../lease.mjs';
import { withLock } from '../lock.mjs';
import { openRegularFile, readRegularFile } from '../regular-file.mjs';
import { BlobWriter, writeFileAtomic } from './blob-writer.mjs';
import { INLINE_TOTAL_BYTES, hashOpenFile } from '../hash-pool.mjs';

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
const HEX_NAME = /^[0-9a-f]{64}$/;
/** index.json is read whole; past this it is damage, not a layout. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** Blobs are read and handed on in pieces of this size. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** A streamed upload's pieces: big enough that a piece costs little, small enough that a few in the socket cost little. */
const STREAM_PIECE_BYTES = 1024 * 1024;

/** @typedef {import('./store.mjs').Descriptor} Descriptor */

/**
 * A layout to read from (import): it must already be one, and it is confined.
 * @param {string} dir
 */
export function openLayoutToRead(dir) {
  const home = path.resolve(dir);
  assertLayout(home);
  return new LayoutStore(home, { label: 'OCI layout', confined: true });
}

/** A layout to write to (export), created on first write. @param {string} dir */
export function openLayoutToWrite(dir) {
  return new LayoutStore(path.resolve(dir), { label: 'OCI layout' });
}

export class LayoutStore {
  /**
   * @param {string} home the layout's directory
   * @param {{label?: string, lockTimeoutMs?: number, leases?: boolean, confined?: boolean}} [options] label: what
   *   describe() calls it; leases: writers take leases (a layout gc sweeps: the pantry, not an export directory
   *   or a spool); confined: read only regular files really inside `home` (an OCI layout from elsewhere)
   */
  constructor(home, { label = 'OCI layout', lockTimeoutMs, leases = false, confined = false } = {}) {
    this.home = home;
    this.label = label;
    this.lockTimeoutMs = lockTimeoutMs;
    this.leases = leases;
    this.confined = confined;
    this.blobsDir = path.join(home, 'blobs', 'sha256');
    this.indexPath = path.join(home, 'index.json');
  }

  describe() {
    return `${this.label} ${this.home}`;
  }

  blobPath(digest) {
    const match = DIGEST_PATTERN.exec(digest);
    if (!match) throw new CtxpackError('CTX_OCI_INVALID', `not a sha256 digest: ${digest}`, { subject: String(digest) });
    return path.join(this.blobsDir, match[1]);
  }

  /** Run `fn` holding the named lock of this layout (e.g. "index", "seed-<hex>"). */
  withLock(name, fn) {
    return withLock(path.join(this.home, 'locks', `${name}.lock`), fn, { timeoutMs: this.lockTimeoutMs });
  }

  /**
   * Run `fn` under a lease on this layout (joining the lease of the enclosing work, if any): blobs written
   * meanwhile are kept from gc until the lease ends, and if `fn` fails, the blobs it added that nothing
   * references are removed again. A layout without leases just runs `fn`.
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
   * Keep blobs the current work relies on (ones it will not write because the layout has them) from gc.
   * Written under the index lock, so a gc either finished before (and the caller's existence check that follows
   * sees what it removed) or sees the lease.
   * @param {Array<string | Descriptor>} blobs digests or descriptors
   */
  async protect(blobs) {
    const lease = currentLease(this.home);
    const digests = blobs.map((blob) => (typeof blob === 'string' ? blob : blob.digest));
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
        const parsed = core.ociParseManifest(this.fetchBytes({ digest: entry.digest, size: entry.size }));
        for (const blob of [parsed.config, ...parsed.layers]) referenced.add(blob.digest);
      } catch (error) {
        // A damaged manifest reaches nothing more; `ctxpack fsck` reports it.
        if (!isCtxpackError(error)) throw error;
      }
    }
    for (const digest of this.referrerDigests()) referenced.add(digest);
    for (const [id, lease] of leases.live) {
      if (id !== exceptLease) for (const digest of lease.digests) referenced.add(digest);
    }
    return referenced;
  }

  /** The referrers indexes (index.json's `sha256-<hex>` entries) and what their signatures reach. */
  referrerDigests() {
    const index = this.readIndex();
    if (index === null) return [];
    const digests = [];
    for (const { descriptor } of core.ociIndexReferrers(index)) {
      digests.push(descriptor.digest);
      let referrers = [];
      try {
        referrers = core.referrersList(this.fetchBytes(descriptor));
      } catch (error) {
        if (!isCtxpackError(error)) throw error;
      }
      for (const { descriptor: referrer } of referrers) {
        digests.push(referrer.digest);
        try {
          const signature = core.parseSignatureManifest(this.fetchBytes(referrer));
          digests.push(signature.envelope.digest, core.ociEmptyConfig().descriptor.digest);
        } catch (error) {
          // Another tool's referrer, or a damaged one: only its manifest is kept.
          if (!isCtxpackError(error)) throw error;
        }
      }
    }
    return digests;
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

  /**
   * Remove the blobs no manifest in index.json reaches and no live lease names (oras-go's oci.Store GC).
   * Call it holding the index lock, with the blob names listed *before* the leases were read.
   * @param {string[]} names the blob directory's listing
   * @param {ReturnType<typeof readLeases>} leases
   * @returns {{blobsRemoved: number, bytesRemoved: number}}
   */
  sweepBlobs(names, leases) {
    const referenced = this.referencedDigests({ leases });
    const swept = { blobsRemoved: 0, bytesRemoved: 0 };
    for (const name of names) {
      if (!HEX_NAME.test(name) || referenced.has(`sha256:${name}`)) continue;
      const blobPath = path.join(this.blobsDir, name);
      swept.bytesRemoved += fileSize(blobPath);
      fs.rmSync(blobPath, { force: true });
      swept.blobsRemoved += 1;
    }
    return swept;
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

  /** @param {Descriptor} descriptor @returns {boolean} the blob is there with that size */
  exists(descriptor) {
    try {
      return fs.statSync(this.blobPath(descriptor.digest)).size === descriptor.size;
    } catch (error) {
      if (error.code === 'ENOENT') return false;
      throw toCtxpackError(error, descriptor.digest);
    }
  }

  /**
   * A small blob (manifest, config) read whole, its size and digest checked against the descriptor.
   * @param {Descriptor} descriptor
   * @returns {Uint8Array}
   */
  fetchBytes(descriptor) {
    if (descriptor.size > MAX_SMALL_BLOB_BYTES) {
      throw new CtxpackError('CTX_OCI_INVALID', `blob ${descriptor.digest} is too big to be a manifest (${descriptor.size} bytes)`, {
        subject: descriptor.digest,
      });
    }
    let bytes;
    try {
      bytes = readRegularFile(this.blobPath(descriptor.digest), { within: this.within(), maxBytes: MAX_SMALL_BLOB_BYTES });
    } catch (error) {
      if (error.code === 'ENOENT') throw missing(this, descriptor);
      throw toCtxpackError(error, descriptor.digest);
    }
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (digest !== descriptor.digest || bytes.length !== descriptor.size) throw damaged(this, descriptor);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /**
   * A blob as a stream of fresh chunks (the consumer may keep or transfer them), opened on the first read, so
   * a stream nobody reads costs nothing. Its size and digest are checked before the stream ends.
   * @param {Descriptor} descriptor
   * @param {{onBytes?: (bytes: number) => void}} [options]
   * @returns {import('./store.mjs').BlobStream}
   */
  fetch(descriptor, { onBytes } = {}) {
    const store = this;
    async function* chunks() {
      const fd = store.openBlobChecked(descriptor);
      const hash = createHash('sha256');
      try {
        for (let offset = 0; offset < descriptor.size; ) {
          const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, descriptor.size - offset));
          const read = fs.readSync(fd, chunk, 0, chunk.length, offset);
          if (read === 0) break;
          const piece = new Uint8Array(chunk.buffer, chunk.byteOffset, read);
          hash.update(piece);
          offset += read;
          onBytes?.(read);
          yield piece;
        }
      } catch (error) {
        throw toCtxpackError(error, store.blobPath(descriptor.digest));
      } finally {
        fs.closeSync(fd);
      }
      if (`sha256:${hash.digest('hex')}` !== descriptor.digest) throw damaged(store, descriptor);
    }
    const stream = chunks();
    stream.verified = true;
    return stream;
  }

  /**
   * A blob for an upload that reads it by offset (the registry client's BlobSource): each read fills one reused
   * buffer, which the caller is done with before it reads again, on libuv's thread pool; `stream` gives a range
   * as a body read while it is sent, in fresh pieces (the socket may still hold the last ones), so a big blob
   * goes in one PATCH without being held. The file is opened on the first read and hashed meanwhile from the same
   * descriptor on a hashing thread (hash-pool.mjs); the read, or the streamed piece, that reaches the end throws
   * if the blob does not match its digest, before the upload can be completed, and every later call throws too.
   * @param {Descriptor} descriptor
   * @param {{onBytes?: (bytes: number) => void}} [options] onBytes: bytes read in order, for the first time
   * @returns {{read(offset: number, length: number): Promise<Uint8Array>, stream(offset: number, length: number): AsyncIterable<Uint8Array> & {byteLength: number}, close(): Promise<void>}}
   */
  reader(descriptor, { onBytes } = {}) {
    let fd;
    let buffer = new Uint8Array(0);
    let hashed = null;
    let reported = 0;
    let failure;
    const subject = this.blobPath(descriptor.digest);
    const open = () => {
      if (failure) throw failure;
      fd ??= this.openBlobChecked(descriptor);
      if (hashed === null) {
        // A small blob is hashed here: starting the hashing threads would cost more.
        hashed = hashOpenFile(fd, { inline: descriptor.size <= INLINE_TOTAL_BYTES, subject });
        hashed.catch(() => {}); // reported by the last read
      }
    };
    const fill = async (piece, offset) => {
      for (let filled = 0; filled < piece.length; ) {
        const read = await readAt(fd, piece, filled, offset + filled, subject);
        if (read === 0) throw (failure = damaged(this, descriptor));
        filled += read;
      }
      const end = offset + piece.length;
      if (end > reported) {
        onBytes?.(end - reported);
        reported = end;
      }
      if (end === descriptor.size && (await hashed).digest !== descriptor.digest) throw (failure = damaged(this, descriptor));
      return piece;
    };
    return {
      read: async (offset, length) => {
        open();
        if (buffer.length < length) buffer = new Uint8Array(length);
        return fill(buffer.subarray(0, length), offset);
      },
      stream: (offset, length) => {
        open();
        return {
          byteLength: length,
          async *[Symbol.asyncIterator]() {
            for (let at = offset; at < offset + length; ) {
              const piece = await fill(Buffer.allocUnsafe(Math.min(STREAM_PIECE_BYTES, offset + length - at)), at);
              at += piece.length;
              yield piece;
            }
          },
        };
      },
      close: async () => {
        // The hashing thread reads the descriptor until it is done.
        await hashed?.catch(() => {});
        if (fd !== undefined) fs.closeSync(fd);
        fd = undefined;
      },
    };
  }

  /**
   * Store a blob from a stream (an async iterable of Uint8Array; a Uint8Array is taken as one chunk). Nothing
   * is read when the blob is already here. The bytes must have the descriptor's size and digest; they are
   * hashed here unless the stream says (`verified`) that its source checked every byte against the
   * descriptor, as a registry download or another layout does, or (`hashes`) that it hashed every byte it gave
   * (its `digest` once it ended, compared here with the descriptor's).
   * @param {Descriptor} descriptor
   * @param {AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array} stream
   * @returns {Promise<{uploaded: boolean}>}
   */
  async push(descriptor, stream) {
    if (this.exists(descriptor)) return { uploaded: false };
    const trusted = stream?.verified === true;
    const hashes = stream?.hashes === true;
    const writer = this.ingest({ hashed: !trusted && !hashes });
    try {
      for await (const chunk of stream instanceof Uint8Array ? [stream] : stream) {
        writer.write(chunk);
        if (writer.size > descriptor.size) throw tooLong(this, descriptor);
      }
      // A source that restarted midway no longer vouches for every byte it gave.
      if (trusted && stream.verified !== true) writer.rehash();
      if (hashes && typeof stream.digest !== 'string') throw new CtxpackError('CTX_INVALID_STATE', 'the stream ended without the digest of its bytes');
      await writer.sync();
    } catch (error) {
      writer.abort();
      throw error;
    }
    await writer.commit(descriptor.mediaType, descriptor, { digest: hashes ? stream.digest : undefined });
    return { uploaded: true };
  }

  /**
   * Store bytes held in memory as a blob (oras-go's PushBytes). With an expected descriptor, the bytes must
   * match it.
   * @param {Uint8Array} bytes
   * @param {string} mediaType
   * @param {Descriptor} [expected]
   * @returns {Promise<Descriptor>}
   */
  pushBytes(bytes, mediaType, expected) {
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
   * the caller has already hashed every byte and checked it against the descriptor it will commit with: the
   * blob is not hashed again, and commit requires that descriptor.
   * @param {{hashed?: boolean}} [options]
   * @returns {BlobWriter}
   */
  ingest({ hashed = true } = {}) {
    this.ensureLayout();
    return new BlobWriter(this, { hashed });
  }

  /**
   * Open a blob for reading: a regular file (in a confined layout, one really inside it).
   * @returns {number} a file descriptor
   */
  openBlob(descriptor) {
    return openRegularFile(this.blobPath(descriptor.digest), { within: this.within() });
  }

  /** openBlob, with the blob's size checked and its absence told as CTX_NOT_FOUND. */
  openBlobChecked(descriptor) {
    let fd;
    try {
      fd = this.openBlob(descriptor);
      if (fs.fstatSync(fd).size !== descriptor.size) throw damaged(this, descriptor);
      return fd;
    } catch (error) {
      if (fd !== undefined) fs.closeSync(fd);
      throw error.code === 'ENOENT' ? missing(this, descriptor) : toCtxpackError(error, this.blobPath(descriptor.digest));
    }
  }

  /** The directory reads must stay in, for a confined layout. */
  within() {
    return this.confined ? this.home : undefined;
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

  /** @param {string} artifactType one of ARTIFACT_TYPES */
  entriesOfType(artifactType) {
    return this.entries().filter((entry) => entry.artifactType === artifactType);
  }

  /**
   * The image manifest a ctx:// URI (or its "ctx-<hex>" tag) names, of either kind, or null (the Store's resolve).
   * @returns {Descriptor | null}
   */
  resolve(reference) {
    return this.lookup(reference)?.descriptor ?? null;
  }

  /**
   * The entry a ctx:// URI (or its "ctx-<hex>" tag) names, of either kind, or null.
   * @returns {{descriptor: Descriptor, artifactType: string} | null}
   */
  lookup(reference) {
    const uri = uriOfReference(reference);
    const entry = this.entries().find((candidate) => candidate.uri === uri);
    return entry ? { descriptor: manifestDescriptor(entry), artifactType: entry.artifactType } : null;
  }

  /**
   * The image manifest a ctx:// URI (or its "ctx-<hex>" tag) names among entries of one kind; CTX_NOT_FOUND
   * when there is none.
   * @param {{artifactType?: string}} [options] default: pack
   * @returns {Descriptor}
   */
  manifestFor(reference, { artifactType = ARTIFACT_TYPES.pack } = {}) {
    const uri = uriOfReference(reference);
    const entry = this.entriesOfType(artifactType).find((candidate) => candidate.uri === uri);
    if (!entry) throw new CtxpackError('CTX_NOT_FOUND', `${uri} is not in the ${this.describe()}`, { subject: uri });
    return manifestDescriptor(entry);
  }

  /**
   * Whether the layout holds an entry of that kind for the URI.
   * @param {{artifactType?: string}} [options] default: pack
   */
  has(uri, { artifactType = ARTIFACT_TYPES.pack } = {}) {
    const canonical = core.parseUri(uri);
    return this.entriesOfType(artifactType).some((entry) => entry.uri === canonical);
  }

  /**
   * The stored pack of a URI: its image manifest (parsed by the core) and descriptors. `config` is the pack's
   * manifest.json blob (the OCI config, or the first layer of the fallback form), `layers` its archive
   * layers in layout order, `layer` the first of them (the only one of a single-layer pack), and `blobs`
   * every blob the image manifest references. Its identity was verified when it was tagged.
   * @returns {{uri: string, manifest: Descriptor, created: string, config: Descriptor, layers: Descriptor[],
   *   layer: Descriptor, fallback: boolean, blobs: Descriptor[]}}
   */
  loadPack(uri) {
    const canonical = core.parseUri(uri);
    const manifest = this.manifestFor(canonical);
    const parsed = core.ociParsePackManifest(this.fetchBytes(manifest));
    if (parsed.uri !== canonical) {
      throw new CtxpackError('CTX_OCI_INVALID', `the ${this.describe()} tags ${core.uriTag(canonical)} with the manifest of ${parsed.uri}`, {
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
   * Store a pack's or an execution pack's image manifest and tag it (the Store's last step of a copy).
   * @param {{artifactType?: string, blobs?: Descriptor[]}} [options] what the copy parsed, so the manifest is
   *   not parsed again (default: parsed here)
   * @returns {Promise<{descriptor: Descriptor, fallback: boolean}>}
   */
  async pushManifest(uri, descriptor, bytes, { artifactType, blobs } = {}) {
    await this.pushBytes(bytes, descriptor.mediaType, descriptor);
    await this.tag(descriptor, core.parseUri(uri), { artifactType, blobs });
    return { descriptor, fallback: false };
  }

  /**
   * Point the URI's ref name at a manifest of either kind. The manifest's blobs must all be present: checked
   * under the index lock, which gc also holds, so an index entry never refers to a blob a concurrent gc removed.
   * @param {{artifactType?: string, blobs?: Descriptor[]}} [options] artifactType: what the manifest is
   *   (default: pack); blobs: every blob it references, when the caller parsed it already
   */
  tag(descriptor, uri, { artifactType = ARTIFACT_TYPES.pack, blobs } = {}) {
    return this.withLock('index', () => {
      let referenced = blobs;
      if (referenced === undefined) {
        const parsed = core.ociParseManifest(this.fetchBytes(descriptor));
        if (parsed.artifactType !== artifactType) {
          throw new CtxpackError('CTX_OCI_INVALID', `${descriptor.digest} is a ${parsed.artifactType} manifest, not a ${artifactType} one`, {
            subject: descriptor.digest,
          });
        }
        referenced = [parsed.config, ...parsed.layers];
      }
      for (const blob of [descriptor, ...referenced]) {
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

  /**
   * Tag many manifests at once (`trace pack` of a batch): one index lock, one index.json write.
   * @param {Array<{descriptor: Descriptor, uri: string, artifactType: string, blobs: Descriptor[]}>} items
   */
  tagAll(items) {
    return this.withLock('index', () => {
      for (const { descriptor, uri, blobs } of items) {
        const vanished = [descriptor, ...blobs].find((blob) => !this.exists(blob));
        if (vanished) {
          throw new CtxpackError('CTX_NOT_FOUND', `blob ${vanished.digest} vanished before ${uri} was recorded (a concurrent gc?)`, {
            subject: vanished.digest,
            hint: 'run the command again',
          });
        }
      }
      const entries = items.map(({ descriptor, uri, artifactType }) => ({ manifest: descriptor, uri, artifactType }));
      writeFileAtomic(this.indexPath, core.ociIndexAddAll(this.readIndex(), entries));
    });
  }

  /** Drop the URI's index entry and its signatures' (packs only; execution packs are immutable). Blobs stay until gc. */
  async untag(uri) {
    const canonical = core.parseUri(uri);
    const notFound = () => new CtxpackError('CTX_NOT_FOUND', `${canonical} is not in the ${this.describe()}`, { subject: canonical });
    // Checked before locking too, so removing from a layout that does not exist creates nothing.
    if (!this.has(canonical)) throw notFound();
    return this.withLock('index', () => {
      if (!this.has(canonical)) throw notFound();
      const { digest } = this.manifestFor(canonical);
      // Its signatures (the sha256-<hex> referrers entry) leave with it; their blobs go at the next gc.
      writeFileAtomic(this.indexPath, core.ociIndexRemoveReferrers(core.ociIndexRemove(this.readIndex(), canonical), digest));
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

function assertLayout(home) {
  const markerPath = path.join(home, 'oci-layout');
  let stat;
  try {
    stat = fs.lstatSync(markerPath);
  } catch (error) {
    if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw toCtxpackError(error, markerPath);
  }
  if (stat?.isFile()) return;
  throw new CtxpackError('CTX_NOT_FOUND', `${home} is not an OCI image layout (it has no oci-layout file)`, {
    subject: home,
    hint: 'give the directory written by `ctxpack export --oci <dir>` (or skopeo/oras with an oci: target)',
  });
}

/** fs.read at a position, on libuv's thread pool. */
function readAt(fd, buffer, at, position, subject) {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, at, buffer.length - at, position, (error, read) => (error ? reject(toCtxpackError(error, subject)) : resolve(read)));
  });
}

function fileSize(filePath) {
  try {
    return fs.lstatSync(filePath).size;
  } catch {
    return 0;
  }
}

function missing(store, descriptor) {
  return new CtxpackError('CTX_NOT_FOUND', `blob ${descriptor.digest} is missing from the ${store.describe()}`, {
    subject: descriptor.digest,
    hint: 'the store is damaged; remove the pack (`ctxpack rm`) and seed, pull or import it again',
  });
}

function damaged(store, descriptor) {
  return new CtxpackError('CTX_DIGEST_MISMATCH', `blob ${descriptor.digest} in the ${store.describe()} does not match its digest or size`, {
    subject: descriptor.digest,
    hint: 'the store is damaged; remove the pack (`ctxpack rm`), run `ctxpack gc` and seed, pull or import it again',
  });
}

function tooLong(store, descriptor) {
  return new CtxpackError('CTX_SIZE_MISMATCH', `blob ${descriptor.digest} for the ${store.describe()} is longer than its ${descriptor.size} bytes`, {
    subject: descriptor.digest,
    hint: 'the source does not hold what its manifest describes; fetch it from a trusted source',
  });
}
