// A registry repository as a Store, over the wasm RegistryClient (auth, retries, verified streaming).
// The host supplies what the wasm cannot: node:crypto for hashing and credentials from the environment.
import { createHash } from 'node:crypto';
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { ARTIFACT_TYPES, MEDIA_TYPES } from '../pantry.mjs';
import { credentialsFor } from '../registry/credentials.mjs';

/** Configs are read whole; a bigger "config" is not one of ours. */
const MAX_SMALL_BLOB_BYTES = 64 * 1024 * 1024;
/** How registries that accept only image configs (Quay, GitLab) refuse ours on manifest PUT. */
const CONFIG_TYPE_REFUSED = /MANIFEST_INVALID|UNSUPPORTED|unsupported media type|\b415\b/i;

function createHasher() {
  const hash = createHash('sha256');
  return {
    update: (chunk) => hash.update(chunk),
    digest: () => `sha256:${hash.digest('hex')}`,
  };
}

/**
 * @param {{registry: string, insecure?: boolean, env?: NodeJS.ProcessEnv,
 *   credentials?: (host: string) => unknown, onEvent?: (event: {kind: string, message: string}) => void}} options
 */
export function createRegistryClient({ registry, insecure, env, credentials, onEvent }) {
  return new core.RegistryClient({
    registry,
    insecure: Boolean(insecure),
    credentials: credentials ?? ((host) => credentialsFor(host, { env })),
    createHasher,
    onEvent,
  });
}

/** @param {Parameters<typeof createRegistryClient>[0]} options */
export function openRemoteStore(options) {
  return new RemoteStore(createRegistryClient(options));
}

export class RemoteStore {
  constructor(client) {
    this.client = client;
    const { host, repository } = client.registry;
    /** "<host>[:port]/<repository>" */
    this.name = `${host}/${repository}`;
  }

  /** The RegistryClient hashes every byte it streams and rejects a mismatch before fetchBlob resolves. */
  get hashesFetchedBlobs() {
    return true;
  }

  describe() {
    return `registry ${this.name}`;
  }

  /** "<host>/<repository>:ctx-<hex>", what `docker`/`oras` would call the pack. */
  reference(uri) {
    return `${this.name}:${core.uriTag(uri)}`;
  }

  async resolve(uri) {
    const head = await this.client.headManifest(core.uriTag(uri));
    if (head === null || head === undefined) return null;
    return { mediaType: head.mediaType || MEDIA_TYPES.ociManifest, digest: head.digest, size: head.size };
  }

  async fetchBytes(descriptor) {
    if (descriptor.mediaType === MEDIA_TYPES.ociManifest) {
      const manifest = await this.client.fetchManifest(descriptor.digest);
      if (manifest.size !== descriptor.size) {
        throw new CtxpackError('CTX_SIZE_MISMATCH', `manifest ${descriptor.digest} from ${this.describe()} has ${manifest.size} bytes, expected ${descriptor.size}`, {
          subject: descriptor.digest,
        });
      }
      return manifest.bytes;
    }
    if (descriptor.size > MAX_SMALL_BLOB_BYTES) {
      throw new CtxpackError('CTX_LIMIT_EXCEEDED', `blob ${descriptor.digest} is too big to be a ctxpack config (${descriptor.size} bytes)`, {
        subject: descriptor.digest,
        hint: 'the registry holds something that is not a ctxpack pack under this tag',
      });
    }
    const chunks = [];
    await this.client.fetchBlob(descriptor, {
      // The client hands over each chunk and never touches it again (store.mjs), so no copy is needed.
      write: (chunk) => void chunks.push(chunk),
      reset: () => void (chunks.length = 0),
    });
    return Buffer.concat(chunks);
  }

  exists(descriptor) {
    return this.client.blobExists(descriptor);
  }

  fetchBlob(descriptor, sink, { onBytes } = {}) {
    return this.client.fetchBlob(descriptor, sink, { onBytes });
  }

  async pushBlob(descriptor, source, { mountFrom, onBytes } = {}) {
    return this.client.pushBlob(descriptor, source, { mountFrom, onBytes });
  }

  async pushManifest(uri, descriptor, bytes) {
    const tag = core.uriTag(uri);
    try {
      await this.putManifest(tag, descriptor, bytes);
      return { descriptor, fallback: false };
    } catch (error) {
      if (!refusesConfigType(error)) throw error;
      return { descriptor: await this.pushFallbackManifest(tag, bytes, error), fallback: true };
    }
  }

  /**
   * The form registries that insist on image configs accept: the OCI empty config `{}`, and the pack's
   * manifest.json (already uploaded as the config) carried as the first layer. Readers recognise it.
   */
  async pushFallbackManifest(tag, bytes, refusal) {
    // Execution packs have no fallback form: their config is what makes them one.
    if (core.ociParseManifest(bytes).artifactType !== ARTIFACT_TYPES.pack) throw refusal;
    const parsed = core.ociParsePackManifest(bytes);
    if (parsed.fallback || parsed.created === undefined) throw refusal;
    const empty = core.ociEmptyConfig();
    const { mediaType, digest, size } = empty.descriptor;
    await this.client.pushBlob({ mediaType, digest, size }, empty.bytes);
    const fallback = core.ociPackManifest({
      config: parsed.manifestJson,
      layers: parsed.packLayers,
      uri: parsed.uri,
      created: parsed.created,
      fallback: true,
    });
    const descriptor = { mediaType: MEDIA_TYPES.ociManifest, digest: fallback.digest, size: fallback.size };
    await this.putManifest(tag, descriptor, fallback.bytes);
    return descriptor;
  }

  async putManifest(tag, descriptor, bytes) {
    const { digest } = await this.client.pushManifest(tag, bytes, descriptor.mediaType);
    if (digest !== undefined && digest !== descriptor.digest) {
      throw new CtxpackError('CTX_REGISTRY_PROTOCOL', `${this.describe()} stored the manifest of ${tag} as ${digest}, not ${descriptor.digest}`, {
        subject: tag,
        hint: 'the registry rewrote the manifest; ctxpack packs need a registry that stores manifests byte for byte',
      });
    }
  }
}

function refusesConfigType(error) {
  return error?.code === 'CTX_REGISTRY_REJECTED' && CONFIG_TYPE_REFUSED.test(`${error.subject ?? ''} ${error.message}`);
}
