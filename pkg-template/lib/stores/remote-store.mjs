// A registry repository as a Store, over the wasm RegistryClient (auth, redirects, retries, deadlines, verified
// streaming). The host supplies what the wasm cannot: HTTP with a connect timeout and a private CA
// (http-fetch.mjs), node:crypto for hashing, credentials from the environment, and hints in its own words.
import { createHash } from 'node:crypto';
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { registryHost } from '../registry/config.mjs';
import { credentialsFor } from '../registry/credentials.mjs';
import { createHttpFetch } from '../registry/http-fetch.mjs';
import { downloadStream, sequentialSource } from './blob-stream.mjs';
import { ARTIFACT_TYPES, MEDIA_TYPES } from './layout-store.mjs';

/** Configs are read whole; a bigger "config" is not one of ours. */
const MAX_SMALL_BLOB_BYTES = 64 * 1024 * 1024;
/** How registries that accept only image configs (Quay, GitLab) refuse ours on manifest PUT. */
const CONFIG_TYPE_REFUSED = /MANIFEST_INVALID|UNSUPPORTED|unsupported media type|\b415\b/i;

/** What to do next, in the words of this host (its options and environment), added to the core's hint. */
const HOST_HINTS = {
  CTX_AUTH_FAILED: 'run `ctxpack login <registry>`, or set CTXPACK_USER and CTXPACK_TOKEN for the registry in CTXPACK_REGISTRY',
  CTX_REGISTRY_TLS: 'for a private CA: --ca-file <pem> or CTXPACK_CA_FILE (or NODE_EXTRA_CA_CERTS)',
  CTX_REGISTRY_TIMEOUT: '--timeout <seconds> or CTXPACK_TIMEOUT sets the wait (default 30 s)',
  CTX_REGISTRY_INSECURE: '--insecure allows plain http:// to a registry that is not on this machine',
};

function createHasher() {
  const hash = createHash('sha256');
  return {
    update: (chunk) => hash.update(chunk),
    digest: () => `sha256:${hash.digest('hex')}`,
  };
}

/**
 * @param {{registry: string, insecure?: boolean, env?: NodeJS.ProcessEnv, timeout?: number, caFile?: string,
 *   envHost?: string, credentials?: (host: string) => unknown,
 *   onEvent?: (event: {kind: string, message: string}) => void}} options
 *   timeout: seconds to wait for an answer or the next byte (default $CTXPACK_TIMEOUT, else 30); caFile: PEM
 *   certificates to trust (default $CTXPACK_CA_FILE); envHost: the registry host CTXPACK_USER/CTXPACK_TOKEN
 *   belong to when CTXPACK_REGISTRY is not set (the one registry of push, pull, resolve, run)
 */
export function createRegistryClient({ registry, insecure, env = process.env, timeout, caFile, envHost, credentials, onEvent }) {
  return new core.RegistryClient({
    registry,
    insecure: Boolean(insecure),
    timeout: timeoutSeconds(timeout, env),
    fetch: createHttpFetch({ caFile, env }),
    credentials: credentials ?? ((host) => credentialsFor(host, { env, envHost })),
    createHasher,
    onEvent,
  });
}

/** --timeout / CTXPACK_TIMEOUT as whole seconds, or undefined for the core's default. */
export function timeoutSeconds(option, env = process.env) {
  const value = option ?? env.CTXPACK_TIMEOUT;
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 86_400) {
    throw new CtxpackError('CTX_USAGE', `the registry timeout must be a whole number of seconds from 1 to 86400, got ${JSON.stringify(String(value))}`, {
      hint: 'e.g. --timeout 60 or CTXPACK_TIMEOUT=60',
    });
  }
  return seconds;
}

/** The core's error with this host's way of doing what its hint says. */
export function withHostHint(error) {
  const extra = HOST_HINTS[error?.code];
  if (extra && typeof error.hint === 'string' && !error.hint.includes(extra)) error.hint = `${error.hint} (${extra})`;
  return error;
}

/** @param {Parameters<typeof createRegistryClient>[0]} options */
export function openRemoteStore(options) {
  return new RemoteStore(createRegistryClient(options));
}

/**
 * The store of a command's registry option. ownsEnvCredentials: the command's one registry, which
 * CTXPACK_USER/CTXPACK_TOKEN belong to unless CTXPACK_REGISTRY names another.
 * @param {string} registry
 * @param {{insecure?: boolean, env?: NodeJS.ProcessEnv, onEvent?: Function, timeout?: number, caFile?: string}} options
 */
export function openRemote(registry, options, { ownsEnvCredentials = false } = {}) {
  const { insecure, env, onEvent, timeout, caFile } = options;
  const envHost = ownsEnvCredentials ? registryHost(registry) : undefined;
  return openRemoteStore({ registry, insecure, env, onEvent, timeout, caFile, envHost });
}

export class RemoteStore {
  /** push takes a reader by offset (a layout's file) as well as a stream: the client uploads by offset. */
  acceptsReader = true;

  constructor(client) {
    this.client = hinted(client);
    const { host, repository } = client.registry;
    /** "<host>[:port]/<repository>" */
    this.name = `${host}/${repository}`;
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
    for await (const chunk of this.fetch(descriptor)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  exists(descriptor) {
    return this.client.blobExists(descriptor);
  }

  /**
   * The blob as a stream: the download starts on the first read, every byte is hashed by the client (unless
   * the consumer took that over, see downloadStream) and a mismatch ends the stream with an error; a cut
   * connection resumes where it stopped.
   * @returns {import('./store.mjs').BlobStream}
   */
  fetch(descriptor, { onBytes } = {}) {
    return downloadStream((sink, { checkDigest }) => this.client.fetchBlob(descriptor, sink, { checkDigest }), { onBytes });
  }

  /**
   * Upload a blob from a stream or a reader by offset (a Store's `reader`), read only as the upload needs it:
   * nothing when the registry has the blob or mounts it from `mountFrom`, another repository of the same registry.
   * @returns {Promise<{uploaded: boolean, mounted: boolean}>}
   */
  async push(descriptor, stream, { mountFrom } = {}) {
    const source = isReader(stream) ? stream : sequentialSource(stream);
    try {
      return await this.client.pushBlob(descriptor, source, { mountFrom });
    } finally {
      await source.close?.();
    }
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

/** A Store's reader ({read(offset, length), close()}), as opposed to a stream or bytes. */
function isReader(body) {
  return typeof body?.read === 'function' && typeof body[Symbol.asyncIterator] !== 'function';
}

function refusesConfigType(error) {
  return error?.code === 'CTX_REGISTRY_REJECTED' && CONFIG_TYPE_REFUSED.test(`${error.subject ?? ''} ${error.message}`);
}

/** The client with every operation's rejection given this host's hint. */
function hinted(client) {
  const wrap = (name) => (...args) => client[name](...args).catch((error) => { throw withHostHint(error); });
  return {
    registry: client.registry,
    fetchManifest: wrap('fetchManifest'),
    headManifest: wrap('headManifest'),
    pushManifest: wrap('pushManifest'),
    blobExists: wrap('blobExists'),
    fetchBlob: wrap('fetchBlob'),
    pushBlob: wrap('pushBlob'),
    checkLogin: wrap('checkLogin'),
    pushSignature: wrap('pushSignature'),
    fetchSignatures: wrap('fetchSignatures'),
  };
}
