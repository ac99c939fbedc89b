// The pantry (or any OCI image layout directory) as a Store. Incoming blobs stream into `.ingest-*` temp
// files and become visible only when their size and digest match the descriptor. Copies into the pantry run
// under a lease (withLease), so gc keeps what they wrote or rely on until the manifest is tagged.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import * as core from '../core-node.mjs';
import { CtxpackError, toCtxpackError } from '../errors.mjs';
import { ARTIFACT_TYPES, openPantry } from '../pantry.mjs';
import { verifyStoredPack } from '../read.mjs';
import { openLayerVerifier } from '../verify-pool.mjs';
import { verifyStoredExecution } from './verify-execution.mjs';

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The local pantry: a pack is fully verified before its index entry is written (its layers while they
 * stream in, through openVerifyingSink, or from disk by verifyStoredPack when the pantry already had them);
 * an execution pack by verifyStoredExecution, its blobs having been digest-checked as they streamed in.
 * @param {{home?: string, lockTimeoutMs?: number}} [options]
 */
export function openPantryStore(options = {}) {
  return new LayoutStore(openPantry(options), { label: 'pantry', verifyPack: verifyStoredPack, verifyExecution: verifyStoredExecution });
}

export class LayoutStore {
  /**
   * @param {import('../pantry.mjs').Pantry} pantry the layout, through the pantry's code
   * @param {{label: string, verifyPack?: (pantry, descriptor, options: {expectUri: string, verifiedLayers?: Map<number, object>}) => unknown,
   *   verifyExecution?: (pantry, descriptor, options: {expectUri: string}) => unknown}} options
   *   verifyPack / verifyExecution run after the manifest is stored and before it is tagged; verifyPack is
   *   given the layers verified while streaming (`verifiedLayers`), which it need not read again
   */
  constructor(pantry, { label, verifyPack, verifyExecution }) {
    this.pantry = pantry;
    this.label = label;
    this.verifyPack = verifyPack;
    this.verifyExecution = verifyExecution;
  }

  describe() {
    return `${this.label} ${this.pantry.home}`;
  }

  /**
   * Run a copy into this store under a lease (the pantry's; other layouts have none): a failed copy leaves no
   * blob it wrote that nothing references.
   */
  withLease(command, fn) {
    return this.pantry.withLease(command, fn);
  }

  /** Keep blobs the copy relies on from gc before it checks which of them are here (see Pantry#protect). */
  protect(descriptors) {
    return this.pantry.protect(descriptors.map((descriptor) => descriptor.digest));
  }

  /** The manifest of a pack or an execution pack. */
  async resolve(uri) {
    return this.pantry.lookup(core.parseUri(uri))?.descriptor ?? null;
  }

  async fetchBytes(descriptor) {
    return this.pantry.fetch(descriptor);
  }

  async exists(descriptor) {
    return this.pantry.exists(descriptor);
  }

  /** Packs are verified before they are tagged (the pantry), so copies may verify layers as they stream. */
  get verifiesPacks() {
    return Boolean(this.verifyPack);
  }

  /**
   * @param {{hashed?: boolean}} [options] hashed: false when the writer already verified every byte
   *   against the descriptor (see Pantry#ingest)
   * @returns {import('./store.mjs').LocalSink}
   */
  openSink(descriptor, { hashed = true } = {}) {
    let writer = this.pantry.ingest({ hashed });
    return {
      write: (chunk) => writer.write(chunk),
      sync: () => writer.sync(),
      reset: () => {
        writer.abort();
        writer = this.pantry.ingest({ hashed });
      },
      commit: () => writer.commit(descriptor.mediaType, descriptor),
      abort: () => writer.abort(),
    };
  }

  /**
   * A sink for layer `layer` of the pack whose manifest.json is `manifest`: every chunk is written and also
   * verified in a worker thread (verify-pool.mjs); commit resolves to the layer's verification result, and
   * throws (leaving no blob) if it failed. write() returns a Promise while the verifier is behind.
   * @param {{hashed?: boolean, manifest: Uint8Array, layer: number, expectUri: string, limits?: object}} options
   * @returns {import('./store.mjs').VerifyingSink}
   */
  openVerifyingSink(descriptor, { hashed = true, ...verify }) {
    const sink = this.openSink(descriptor, { hashed });
    let verifier = openLayerVerifier(verify);
    return {
      write: (chunk) => {
        sink.write(chunk);
        return verifier.write(chunk);
      },
      reset: () => {
        sink.reset();
        verifier.abort();
        verifier = openLayerVerifier(verify);
      },
      commit: async () => {
        let verified;
        try {
          [verified] = await Promise.all([verifier.finish(), sink.sync()]);
        } catch (error) {
          sink.abort();
          throw error;
        }
        await sink.commit();
        return verified;
      },
      abort: () => {
        verifier.abort();
        sink.abort();
      },
    };
  }

  /**
   * A blob's bytes: only a regular file (in a layout being imported, one really inside it), so a FIFO or a
   * symlink out of the layout is an error, never a hang.
   * @param {{reuseBuffer?: boolean}} [options] reuseBuffer: every read returns a view of one buffer, for a
   *   consumer that is done with a chunk before it reads the next (an upload), so memory stays one chunk
   * @returns {import('./store.mjs').LocalSource}
   */
  openSource(descriptor, { reuseBuffer = false } = {}) {
    const filePath = this.pantry.blobPath(descriptor.digest);
    let fd;
    try {
      fd = this.pantry.openBlob(descriptor);
      if (fs.fstatSync(fd).size !== descriptor.size) throw damaged(this, descriptor);
    } catch (error) {
      if (fd !== undefined) fs.closeSync(fd);
      throw error.code === 'ENOENT' ? missing(this, descriptor) : toCtxpackError(error, filePath);
    }
    let shared = Buffer.alloc(0);
    return {
      read(offset, length) {
        const wanted = Math.min(length, descriptor.size - offset);
        if (!reuseBuffer || shared.length < wanted) shared = Buffer.allocUnsafe(wanted);
        const buffer = shared.subarray(0, wanted);
        let filled = 0;
        while (filled < buffer.length) {
          const read = fs.readSync(fd, buffer, filled, buffer.length - filled, offset + filled);
          if (read === 0) break;
          filled += read;
        }
        return new Uint8Array(buffer.buffer, buffer.byteOffset, filled);
      },
      close() {
        fs.closeSync(fd);
      },
    };
  }

  async fetchBlob(descriptor, sink, { onBytes } = {}) {
    const source = this.openSource(descriptor);
    const hash = createHash('sha256');
    try {
      for (let offset = 0; offset < descriptor.size; ) {
        const chunk = source.read(offset, READ_CHUNK_BYTES);
        if (chunk.length === 0) break;
        const { length } = chunk;
        hash.update(chunk);
        await sink.write(chunk); // which may take the chunk (see store.mjs)
        offset += length;
        onBytes?.(length);
      }
    } finally {
      source.close();
    }
    if (`sha256:${hash.digest('hex')}` !== descriptor.digest) throw damaged(this, descriptor);
  }

  async pushBlob(descriptor, source, { onBytes } = {}) {
    if (this.pantry.exists(descriptor)) return { uploaded: false };
    const sink = this.openSink(descriptor);
    try {
      if (source instanceof Uint8Array) {
        sink.write(source);
        onBytes?.(source.length);
      } else {
        for (let offset = 0; offset < descriptor.size; ) {
          const chunk = await source.read(offset, Math.min(READ_CHUNK_BYTES, descriptor.size - offset));
          if (chunk.length === 0) break;
          sink.write(chunk);
          offset += chunk.length;
          onBytes?.(chunk.length);
        }
      }
    } catch (error) {
      sink.abort();
      throw error;
    }
    await sink.commit();
    return { uploaded: true };
  }

  /**
   * Store a pack's or an execution pack's manifest, verify it (when this store verifies), then tag it.
   * @param {{verifiedLayers?: Map<number, {digest: string, files: number, bytes: number}>}} [options]
   */
  async pushManifest(uri, descriptor, bytes, { verifiedLayers } = {}) {
    const canonical = core.parseUri(uri);
    const { artifactType } = core.ociParseManifest(bytes);
    await this.pantry.push(bytes, descriptor.mediaType, descriptor);
    if (artifactType === ARTIFACT_TYPES.execution) {
      if (this.verifyExecution) await this.verifyExecution(this.pantry, descriptor, { expectUri: canonical });
    } else if (this.verifyPack) {
      await this.verifyPack(this.pantry, descriptor, { expectUri: canonical, verifiedLayers });
    }
    await this.pantry.tag(descriptor, canonical, { artifactType });
    return { descriptor, fallback: false };
  }
}

function missing(store, descriptor) {
  return new CtxpackError('CTX_NOT_FOUND', `blob ${descriptor.digest} is missing from the ${store.describe()}`, {
    subject: descriptor.digest,
    hint: 'the store is damaged; remove the pack and copy or seed it again',
  });
}

function damaged(store, descriptor) {
  return new CtxpackError('CTX_DIGEST_MISMATCH', `blob ${descriptor.digest} in the ${store.describe()} does not match its digest or size`, {
    subject: descriptor.digest,
    hint: 'the store is damaged; remove the pack (`ctxpack rm`), run `ctxpack gc` and copy or seed it again',
  });
}
