// The pantry (or any OCI image layout directory) as a Store. Incoming blobs stream into `.ingest-*` temp
// files and become visible only when their size and digest match the descriptor.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import * as core from '../core-node.mjs';
import { CtxpackError, toCtxpackError } from '../errors.mjs';
import { openPantry } from '../pantry.mjs';
import { verifyStoredPack } from '../read.mjs';

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The local pantry: a pack is fully verified before its index entry is written.
 * @param {{home?: string, lockTimeoutMs?: number}} [options]
 */
export function openPantryStore(options = {}) {
  return new LayoutStore(openPantry(options), { label: 'pantry', verifyPack: verifyStoredPack });
}

export class LayoutStore {
  /**
   * @param {import('../pantry.mjs').Pantry} pantry the layout, through the pantry's code
   * @param {{label: string, verifyPack?: (pantry, descriptor, options: {expectUri: string}) => unknown}} options
   *   verifyPack runs after the manifest is stored and before the pack is tagged
   */
  constructor(pantry, { label, verifyPack }) {
    this.pantry = pantry;
    this.label = label;
    this.verifyPack = verifyPack;
  }

  describe() {
    return `${this.label} ${this.pantry.home}`;
  }

  async resolve(uri) {
    const canonical = core.parseUri(uri);
    return this.pantry.has(canonical) ? this.pantry.resolve(canonical) : null;
  }

  async fetchBytes(descriptor) {
    return this.pantry.fetch(descriptor);
  }

  async exists(descriptor) {
    return this.pantry.exists(descriptor);
  }

  /** @returns {import('./store.mjs').LocalSink} */
  openSink(descriptor) {
    let writer = this.pantry.ingest();
    return {
      write: (chunk) => writer.write(chunk),
      reset: () => {
        writer.abort();
        writer = this.pantry.ingest();
      },
      commit: () => writer.commit(descriptor.mediaType, descriptor),
      abort: () => writer.abort(),
    };
  }

  /** @returns {import('./store.mjs').LocalSource} */
  openSource(descriptor) {
    const filePath = this.pantry.blobPath(descriptor.digest);
    let fd;
    try {
      fd = fs.openSync(filePath, 'r');
      if (fs.fstatSync(fd).size !== descriptor.size) throw damaged(this, descriptor);
    } catch (error) {
      if (fd !== undefined) fs.closeSync(fd);
      throw error.code === 'ENOENT' ? missing(this, descriptor) : toCtxpackError(error, filePath);
    }
    return {
      read(offset, length) {
        const buffer = Buffer.allocUnsafe(Math.min(length, descriptor.size - offset));
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
        hash.update(chunk);
        await sink.write(chunk);
        offset += chunk.length;
        onBytes?.(chunk.length);
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
    sink.commit();
    return { uploaded: true };
  }

  async pushManifest(uri, descriptor, bytes) {
    const canonical = core.parseUri(uri);
    this.pantry.push(bytes, descriptor.mediaType, descriptor);
    if (this.verifyPack) await this.verifyPack(this.pantry, descriptor, { expectUri: canonical });
    await this.pantry.tag(descriptor, canonical);
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
