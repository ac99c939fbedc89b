// A Store that verifies what is copied into another (the pantry) before it is tagged: copy.mjs moves blobs
// without knowing what they make up, and this wrapper knows. The identity checks are the core's, in one call
// per artifact (ociVerifyPack / ociVerifyExecution, src/oci/verify.rs); the archive layers of a pack are read
// by the core's PackReader in worker threads (verify-pool.mjs) while they stream into the target, and a layer
// that fails leaves no blob. Layers the target already had are read from it before tagging. Every blob's own
// digest is checked as it is written: by the target, or for a downloading layer by its verifier's thread (the
// target compares that digest with the descriptor before the blob appears).
import * as core from '../core-node.mjs';
import { openLayerVerifier, startLayerVerifiers } from '../verify-pool.mjs';
import { ARTIFACT_TYPES, MEDIA_TYPES } from './layout-store.mjs';

/** @typedef {import('./store.mjs').Descriptor} Descriptor */

/**
 * @param {import('./layout-store.mjs').LayoutStore} target
 * @param {{limits?: object}} [options] limits: Partial<Limits> for the packs verified
 */
export function verifying(target, options) {
  return new VerifyingStore(target, options);
}

export class VerifyingStore {
  constructor(target, { limits } = {}) {
    this.target = target;
    this.limits = limits;
    /** The artifact being copied in (one copy at a time): set by prepare, used by push and pushManifest. */
    this.current = null;
  }

  describe() {
    return this.target.describe();
  }

  withLease(command, fn) {
    return this.target.withLease(command, fn);
  }

  protect(blobs) {
    return this.target.protect(blobs);
  }

  resolve(uri) {
    return this.target.resolve(uri);
  }

  exists(descriptor) {
    return this.target.exists(descriptor);
  }

  fetchBytes(descriptor) {
    return this.target.fetchBytes(descriptor);
  }

  fetch(descriptor, options) {
    return this.target.fetch(descriptor, options);
  }

  /**
   * Told by copy before any blob moves: the root it copies. A pack whose manifest.json the target already
   * has is verified now, before a layer is downloaded; otherwise once manifest.json has been pushed, which the
   * layers wait for: copy is told to push it first.
   * @param {{uri: string, descriptor: Descriptor, bytes: Uint8Array, parsed: {artifactType: string, config: Descriptor, layers: Descriptor[]}}} root
   * @returns {Promise<{first: Descriptor[]} | undefined>}
   */
  async prepare({ uri, descriptor, bytes, parsed }) {
    const root = { uri: core.parseUri(uri), descriptor, bytes, parsed, verifiedLayers: new Map() };
    this.current = root;
    if (parsed.artifactType !== ARTIFACT_TYPES.pack) return;
    startLayerVerifiers(parsed.layers.filter((blob) => blob.mediaType === MEDIA_TYPES.layer).length);
    root.manifestJson = [parsed.config, ...parsed.layers].find((blob) => blob.mediaType === MEDIA_TYPES.packManifest);
    if (await this.target.exists(root.manifestJson)) {
      root.pack = Promise.resolve(this.verifyPack(root, await this.target.fetchBytes(root.manifestJson)));
      return;
    }
    root.pack = new Promise((resolve, reject) => {
      root.manifestJsonPushed = { resolve, reject };
    });
    // Awaited by the layers and by pushManifest; a failure with no layer waiting is reported there.
    root.pack.catch(() => {});
    return { first: [root.manifestJson] };
  }

  /**
   * The target's push; a pack's manifest.json is verified once written, and each of its layers while it streams.
   * @param {Descriptor} descriptor
   * @param {import('./store.mjs').BlobStream} stream
   */
  async push(descriptor, stream, options) {
    const root = this.current;
    if (root?.pack === undefined) return this.target.push(descriptor, stream, options);
    if (root.manifestJsonPushed && descriptor.digest === root.manifestJson.digest) {
      try {
        const result = await this.target.push(descriptor, stream, options);
        root.manifestJsonPushed.resolve(this.verifyPack(root, await this.target.fetchBytes(descriptor)));
        return result;
      } catch (error) {
        root.manifestJsonPushed.reject(error);
        throw error;
      }
    }
    if (descriptor.mediaType !== MEDIA_TYPES.layer) return this.target.push(descriptor, stream, options);
    const verified = await root.pack;
    const index = verified.groups.findIndex((group) => group.layer.digest === descriptor.digest);
    if (index < 0) return this.target.push(descriptor, stream, options);
    // A download's digest is checked in the verifier's thread, which reads every byte anyway.
    const blob = stream.takeDigestCheck?.() ? { digest: descriptor.digest, size: descriptor.size } : undefined;
    const verifier = openLayerVerifier({ manifest: root.manifestJsonBytes, layer: index, expectUri: root.uri, limits: this.limits, blob }, { bytes: descriptor.size, fileBytes: verified.groups[index].bytes });
    const checked = verifyingStream(stream, verifier, { hashes: blob !== undefined });
    try {
      const result = await this.target.push(descriptor, checked, options);
      if (checked.result) root.verifiedLayers.set(index, { digest: descriptor.digest, ...checked.result });
      return result;
    } finally {
      verifier.abort(); // a no-op once it finished; a target that had the blob never read the stream
    }
  }

  /**
   * Verify the artifact the manifest describes, then store and tag it in the target.
   * @param {{artifactType?: string, blobs?: Descriptor[]}} [options] what copy parsed
   */
  async pushManifest(uri, descriptor, bytes, options = {}) {
    const canonical = core.parseUri(uri);
    const root = this.current?.descriptor.digest === descriptor.digest && this.current.uri === canonical ? this.current : null;
    this.current = null;
    const parsed = root?.parsed ?? core.ociParseManifest(bytes);
    let blobs;
    if (parsed.artifactType === ARTIFACT_TYPES.execution) {
      const verified = core.ociVerifyExecution(bytes, await this.target.fetchBytes(parsed.config), { expectUri: canonical });
      blobs = [verified.config, ...verified.layers];
    } else {
      const verified = root ? await root.pack : await this.verifyStored(canonical, bytes, parsed);
      await this.verifyStoredLayers(root ?? verified.root, verified);
      blobs = [verified.config, ...verified.layers];
    }
    return this.target.pushManifest(canonical, descriptor, bytes, { artifactType: parsed.artifactType, blobs });
  }

  /** The core's identity checks of a pack, with manifest.json's bytes kept for the layer verifiers. */
  verifyPack(root, manifestJsonBytes) {
    root.manifestJsonBytes = manifestJsonBytes;
    return core.ociVerifyPack(root.bytes, manifestJsonBytes, { expectUri: root.uri, limits: this.limits });
  }

  /** A pack whose blobs are all in the target already (no prepare): its identity, from the target. */
  async verifyStored(uri, bytes, parsed) {
    const root = { uri, bytes, parsed, verifiedLayers: new Map() };
    const manifestJson = [parsed.config, ...parsed.layers].find((blob) => blob.mediaType === MEDIA_TYPES.packManifest);
    const verified = this.verifyPack(root, await this.target.fetchBytes(manifestJson ?? parsed.config));
    return { ...verified, root };
  }

  /**
   * Read every layer not verified while it streamed in from the target, through the same verifiers.
   * @returns {Promise<{uri: string, files: number, bytes: number}>}
   */
  async verifyStoredLayers(root, verified) {
    const totals = { uri: verified.uri, files: 0, bytes: 0 };
    for (const group of verified.groups) {
      let result = root.verifiedLayers.get(group.index);
      if (result?.digest !== group.layer.digest) {
        const verifier = openLayerVerifier({ manifest: root.manifestJsonBytes, layer: group.index, expectUri: root.uri, limits: this.limits }, { bytes: group.layer.size, fileBytes: group.bytes });
        const checked = verifyingStream(this.target.fetch(group.layer), verifier);
        try {
          await drain(checked);
        } finally {
          verifier.abort();
        }
        result = checked.result;
      }
      totals.files += result.files;
      totals.bytes += result.bytes;
    }
    return totals;
  }
}

/**
 * A pack whose blobs are in `store` but which is not tagged yet, verified in full: its identity, and every
 * layer against its manifest.json.
 * @param {import('./layout-store.mjs').LayoutStore} store
 * @param {Descriptor} manifestDescriptor the image manifest
 * @param {{expectUri?: string, limits?: object}} [options]
 * @returns {Promise<{uri: string, files: number, bytes: number}>}
 */
export async function verifyStoredPack(store, manifestDescriptor, { expectUri, limits } = {}) {
  const bytes = store.fetchBytes(manifestDescriptor);
  const parsed = core.ociParseManifest(bytes);
  const verifier = new VerifyingStore(store, { limits });
  const verified = await verifier.verifyStored(core.parseUri(expectUri ?? parsed.uri), bytes, parsed);
  return verifier.verifyStoredLayers(verified.root, verified);
}

async function drain(stream) {
  for await (const chunk of stream) void chunk;
}

/**
 * The stream, with every chunk also fed to a layer verifier once the consumer asked for the next one (so the
 * consumer, which writes each chunk before it asks again, is done with it and the verifier may take it). The
 * stream ends only when the verifier has passed (`result`), so a target commits no layer that failed.
 * `hashes`: the verifier hashes the bytes (it was given the blob); their `digest` is there once the stream ended.
 */
function verifyingStream(stream, verifier, { hashes = false } = {}) {
  const checked = (async function* () {
    for await (const chunk of stream) {
      yield chunk;
      await verifier.write(chunk);
    }
    checked.result = await verifier.finish();
    checked.digest = checked.result.digest;
  })();
  Object.defineProperty(checked, 'verified', { get: () => stream.verified === true });
  checked.hashes = hashes;
  return checked;
}
