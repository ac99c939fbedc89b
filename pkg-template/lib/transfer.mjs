// Registries: push, pull, copy, resolve, for packs and execution packs alike. Each is one graph copy between
// two stores (stores/copy.mjs); into the pantry, through a verifying store, so a pack or an execution pack is
// fully verified before it is indexed. OCI layout directories are export-layout.mjs and import-layout.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as core from './core-node.mjs';
import { CtxpackError } from './errors.mjs';
import { openPantry } from './pantry.mjs';
import { phaseReporter } from './progress.mjs';
import { unpack } from './read.mjs';
import { configuredRegistry, requireRegistry } from './registry/config.mjs';
import { registerCleanup } from './signal-cleanup.mjs';
import { copyArtifact, describeCopy, transferOptions } from './stores/copy.mjs';
import { ARTIFACT_TYPES, LayoutStore } from './stores/layout-store.mjs';
import { openRemote } from './stores/remote-store.mjs';
import { verifying } from './stores/verifying-store.mjs';
import { keepSignatures, signatureGate } from './sign/index.mjs';
import { copySignatures } from './sign/store.mjs';

/** Python CtxPack v0 tagged a pack with the first 12 hex digits of its hash. */
const LEGACY_TAG_HEX = 12;
const LEGACY_MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];

/**
 * @typedef {object} RegistryOptions
 * @property {string} [registry]     "<host>[:port]/<repository>"; default $CTXPACK_REGISTRY, then the config file
 * @property {boolean} [insecure]    allow http:// to a host that is not loopback
 * @property {number} [timeout]      seconds to wait for an answer or the next byte (default $CTXPACK_TIMEOUT, else
 *                                   30); an operation without progress for four times that fails with CTX_REGISTRY_TIMEOUT
 * @property {string} [caFile]       PEM certificates to trust besides the default roots (default $CTXPACK_CA_FILE)
 * @property {string} [home]         pantry location
 * @property {number} [concurrency]  blobs transferred at once (default 4)
 * @property {NodeJS.ProcessEnv} [env] where credentials and the registry come from (default process.env)
 * @property {(event: {phase: string, bytes: number, totalBytes: number}) => void} [onProgress]
 * @property {(event: {kind: string, message: string}) => void} [onEvent]  retries, auth, resumes, mounts
 */

/**
 * @typedef {object} TrustOptions
 * @property {boolean} [requireSignature] refuse a pack without a valid signature from a trusted key, before
 *                                        anything is stored (CTX_SIGNATURE_REQUIRED / _INVALID / CTX_KEY_UNTRUSTED)
 * @property {string[]} [trustKeys]       public key files (SPKI PEM) to trust; giving any implies requireSignature
 * @property {string} [trustPolicy]       trust policy file (default $CTXPACK_TRUST_POLICY, else
 *                                        ~/.config/ctxpack/trust.json when it exists); its rule for the registry
 *                                        scope may require signatures and adds trusted keys
 */

/**
 * Upload a pantry pack or execution pack to a registry, tagged ctx-<hex>. Blobs the registry has are skipped; the manifest goes last.
 * @param {string} uri
 * @param {RegistryOptions & {mountFrom?: string}} [options] mountFrom: another repository of the same registry
 */
export async function push(uri, options = {}) {
  const canonical = core.parseUri(uri);
  const source = openPantry(options);
  if (!source.resolve(canonical)) {
    throw new CtxpackError('CTX_NOT_FOUND', `${canonical} is not in the pantry at ${source.home}`, {
      subject: canonical,
      hint: 'seed, trace pack or pull it first; `ctxpack ls` lists the packs, `ctxpack trace log` the execution packs',
    });
  }
  const remote = openRemote(requireRegistry(options.registry, options), options, { ownsEnvCredentials: true });
  const copied = await copyArtifact(source, remote, canonical, { ...transferOptions(options, 'push'), mountFrom: options.mountFrom });
  // A registry that got the fallback form holds another manifest, which the pantry's signatures do not sign.
  const signatures = copied.fallback ? 0 : await copySignatures(source, remote, copied.manifest.digest);
  return { ...describeCopy(copied, { registry: remote.name, reference: remote.reference(canonical) }), signatures };
}

/**
 * Download a pack or an execution pack into the pantry (verified in full before it is indexed); with
 * `output`, also put a pack's outputs in that directory (absent or empty; an execution pack has none, so it
 * is CTX_USAGE before anything is downloaded). With `legacy`, read a Python CtxPack v0 pack into `output`.
 * @param {string} uri
 * @param {RegistryOptions & TrustOptions & {output?: string, legacy?: boolean}} [options]
 */
export async function pull(uri, options = {}) {
  const canonical = core.parseUri(uri);
  const registry = requireRegistry(options.registry, options);
  if (options.legacy) return pullLegacy(canonical, registry, options);
  const remote = openRemote(registry, options, { ownsEnvCredentials: true });
  const gate = signatureGate(remote, canonical, options);
  // copyArtifact looks in the pantry first: a pack already there needs no request to the registry, unless its
  // signature must be checked.
  const accept = async (kind, manifest) => {
    if (options.output !== undefined) refuseOutputOfExecution(canonical, kind);
    await gate?.check(manifest);
  };
  const pantry = openPantry(options);
  const copied = await copyArtifact(remote, verifying(pantry), canonical, { ...transferOptions(options, 'pull'), accept });
  await keepSignatures(gate, pantry);
  const result = {
    ...describeCopy(copied, { registry: remote.name, reference: remote.reference(canonical) }),
    ...(gate ? { signers: gate.signers } : {}),
  };
  if (options.output === undefined) return result;
  const unpacked = await unpack(canonical, options.output, { home: options.home, onProgress: options.onProgress });
  return { ...result, path: unpacked.path };
}

/** `pull -o` puts a pack's outputs in a directory; an execution pack is exported as its log instead. */
function refuseOutputOfExecution(uri, kind) {
  if (kind !== ARTIFACT_TYPES.execution) return;
  throw new CtxpackError('CTX_USAGE', `${uri} is an execution pack: it has no outputs to put in a directory`, {
    subject: uri,
    hint: `pull it without -o, then \`ctxpack trace export ${uri} -o log.json\` writes its log`,
  });
}

/**
 * Copy a pack or an execution pack from one registry to another (or to another repository), without the pantry.
 * CTXPACK_USER/CTXPACK_TOKEN go only to the registry CTXPACK_REGISTRY names (one of the two, or neither); the
 * other side's credentials come from the Docker config.
 * @param {string} uri
 * @param {Omit<RegistryOptions, 'registry' | 'home'> & TrustOptions & {from: string, to: string, mountFrom?: string}} options
 */
export async function copy(uri, options) {
  const canonical = core.parseUri(uri);
  if (!options?.from || !options?.to) {
    throw new CtxpackError('CTX_USAGE', 'copy needs a source and a target registry', { hint: 'ctxpack copy <uri> --from host/repo --to host/repo' });
  }
  const from = openRemote(options.from, options);
  const to = openRemote(options.to, options);
  // Two repositories of one registry: blobs are mounted, not downloaded and uploaded again.
  const mountFrom = options.mountFrom ?? (from.client.registry.host === to.client.registry.host ? from.client.registry.repository : undefined);
  const gate = signatureGate(from, canonical, options);
  const accept = gate ? (kind, manifest) => gate.check(manifest) : undefined;
  const copied = await copyArtifact(from, to, canonical, { ...transferOptions(options, 'copy'), mountFrom, accept });
  const signatures = copied.fallback ? 0 : await copySignatures(from, to, copied.manifest.digest);
  const env = options.env ?? process.env;
  const unusedEnvCredentials = env.CTXPACK_USER && !env.CTXPACK_REGISTRY;
  return {
    ...describeCopy(copied, { from: from.name, to: to.name, reference: to.reference(canonical) }),
    signatures,
    ...(gate ? { signers: gate.signers } : {}),
    ...(unusedEnvCredentials
      ? { warnings: ['CTXPACK_USER/CTXPACK_TOKEN were not sent to either registry: set CTXPACK_REGISTRY to the one they belong to'] }
      : {}),
  };
}

/**
 * Where a pack or an execution pack is: the pantry (with its kind), and the registry when one is configured
 * (none is not an error here).
 * @param {string} uri
 * @param {RegistryOptions} [options]
 */
export async function resolve(uri, options = {}) {
  const canonical = core.parseUri(uri);
  const pantry = openPantry(options);
  const local = pantry.lookup(canonical);
  const registry = configuredRegistry(options.registry, options);
  let remote = null;
  if (registry !== undefined) {
    const store = openRemote(registry, options, { ownsEnvCredentials: true });
    const found = await store.resolve(canonical);
    remote = { name: store.name, reference: store.reference(canonical), found: found !== null, ...(found ? { digest: found.digest } : {}) };
  }
  return {
    uri: canonical,
    pantry: { home: pantry.home, found: local !== null, ...(local ? { digest: local.descriptor.digest, kind: local.artifactType } : {}) },
    registry: remote,
  };
}

/**
 * A Python CtxPack v0 pack: tagged with 12 hex digits, `{}` config, one layer with the files at the tar
 * root. The layer is downloaded (digest-checked) to a spool, then read by the legacy reader into `output`,
 * which says what it could not verify. Nothing goes into the pantry.
 */
async function pullLegacy(canonical, registry, options) {
  if (options.output === undefined) {
    throw new CtxpackError('CTX_USAGE', 'pull --legacy needs -o <dir>: an old pack cannot go into the pantry', { hint: 'ctxpack pull <uri> --legacy -o out/' });
  }
  // Loaded only here: most installations never read an old pack.
  const { extractLegacyLayer } = await import('./legacy.mjs');
  const remote = openRemote(registry, options, { ownsEnvCredentials: true });
  const tag = canonical.slice('ctx://sha256:'.length, 'ctx://sha256:'.length + LEGACY_TAG_HEX);
  const reference = `${remote.name}:${tag}`;
  const manifest = await remote.client.fetchManifest(tag, { accept: LEGACY_MANIFEST_TYPES });
  const layer = legacyLayer(manifest.bytes, reference);
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-legacy-'));
  const unregister = registerCleanup(() => fs.rmSync(spoolDir, { recursive: true, force: true }));
  try {
    const spool = new LayoutStore(spoolDir, { label: 'spool' });
    const onBytes = phaseReporter(options.onProgress, 'pull', layer.size);
    await spool.push(layer, remote.fetch(layer, { onBytes }));
    const extracted = await extractLegacyLayer(spool.blobPath(layer.digest), options.output, { expectUri: canonical });
    return {
      uri: extracted.uri,
      registry: remote.name,
      reference,
      legacy: true,
      manifest: { digest: manifest.digest, size: manifest.size },
      path: extracted.path,
      files: extracted.files,
      bytes: extracted.bytes,
      verified: [
        `the image manifest matches its digest ${manifest.digest}`,
        `the layer matches its digest ${layer.digest}`,
        `the manifest in the layer names ${canonical}`,
        'every path, type and size is within the limits; nothing escapes the directory',
      ],
      unverified: extracted.unverified,
    };
  } finally {
    fs.rmSync(spoolDir, { recursive: true, force: true });
    unregister();
  }
}

function legacyLayer(bytes, reference) {
  let manifest;
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    manifest = undefined;
  }
  const layers = manifest?.layers;
  const layer = Array.isArray(layers) && layers.length === 1 ? layers[0] : undefined;
  const valid =
    typeof layer?.mediaType === 'string' && /^sha256:[0-9a-f]{64}$/.test(layer.digest) && Number.isSafeInteger(layer.size) && layer.size >= 0;
  if (!valid) {
    throw new CtxpackError('CTX_OCI_INVALID', `${reference} is not an image manifest with one layer, as Python CtxPack v0 wrote`, {
      subject: reference,
      hint: 'check that the URI names a Python CtxPack v0 pack, or pull it without --legacy',
    });
  }
  return { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
}
