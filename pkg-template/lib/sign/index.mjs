// Signed packs, the Node host's part: `sign` (a pantry pack, and beside it in a registry), `verifySignatures`
// (the pantry's or a registry's signatures against trusted keys) and the gate that pull, run and copy put in
// front of the pantry or the target: the signature is checked against the exact image manifest about to be
// copied, before its first blob moves. Formats, signing and verification are the core's.
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { openPantry } from '../pantry.mjs';
import { requireRegistry } from '../registry/config.mjs';
import { openRemote } from '../stores/remote-store.mjs';
import { readKeyFile } from './keys.mjs';
import { fetchSignatures, storeSignature } from './store.mjs';
import { trustFor } from './trust.mjs';

export { generateKeyPair as keygen } from './keys.mjs';

/**
 * Sign a pantry pack with an Ed25519 private key (PKCS#8 PEM file): the signature is kept in the pantry beside
 * the pack, and pushed beside it in `registry` when one is given (the registry must hold the same manifest).
 * @param {string} uri
 * @param {{key: string, home?: string, registry?: string, signedAt?: string, insecure?: boolean, timeout?: number,
 *   caFile?: string, env?: NodeJS.ProcessEnv, onEvent?: Function}} options
 */
export async function sign(uri, options) {
  if (!options?.key) throw new CtxpackError('CTX_USAGE', 'sign needs a private key', { hint: 'ctxpack sign <uri> --key <name>.pem (ctxpack keygen -o <name> makes one)' });
  const pantry = openPantry(options);
  const pack = pantry.loadPack(uri);
  const signedAt = options.signedAt ?? new Date().toISOString();
  const signature = core.signPack(pantry.fetchBytes(pack.manifest), pantry.fetchBytes(pack.config), readKeyFile(options.key), signedAt);
  const artifact = core.signatureManifest(pack.manifest, signature.envelope, signature.keyid, signedAt);
  await storeSignature(pantry, artifact.bytes, signature.envelope);
  const result = { uri: pack.uri, keyid: signature.keyid, manifest: pack.manifest.digest, signature: artifact.digest, signedAt };
  if (options.registry === undefined) return result;
  const remote = openRemote(requireRegistry(options.registry, options), options, { ownsEnvCredentials: true });
  const there = await remote.resolve(pack.uri);
  if (there?.digest !== pack.manifest.digest) {
    throw new CtxpackError('CTX_NOT_FOUND', `${remote.reference(pack.uri)} ${there ? `is another manifest (${there.digest})` : 'does not exist'}: the signature would sign nothing there`, {
      subject: pack.uri,
      hint: 'push the pack first (`ctxpack push`, which also carries its signatures), then sign or push again',
    });
  }
  const pushed = await storeSignature(remote, artifact.bytes, signature.envelope);
  return { ...result, registry: remote.name, pushed };
}

/**
 * Which trusted keys validly signed a pack: its signatures in the pantry, or in `registry` when given.
 * @param {string} uri
 * @param {{trustKeys?: string[], trustPolicy?: string, home?: string, registry?: string, env?: NodeJS.ProcessEnv}} options
 * @returns {Promise<{uri: string, manifest: string, signatures: number, signers: Array<{keyid: string, signedAt: string}>}>}
 */
export async function verifySignatures(uri, options = {}) {
  const canonical = core.parseUri(uri);
  let store;
  let manifest;
  let scope = 'pantry';
  if (options.registry !== undefined) {
    store = openRemote(requireRegistry(options.registry, options), options, { ownsEnvCredentials: true });
    manifest = await store.resolve(canonical);
    if (!manifest) throw new CtxpackError('CTX_NOT_FOUND', `${store.reference(canonical)} does not exist`, { subject: canonical });
    scope = store.name;
  } else {
    store = openPantry(options);
    manifest = store.manifestFor(canonical);
  }
  const trust = trustFor({ ...options, requireSignature: true }, scope);
  const signatures = await fetchSignatures(store, manifest.digest);
  const signers = core.verifySignatures(signatures.map((s) => s.envelope), manifest.digest, canonical, trust.keys);
  return { uri: canonical, manifest: manifest.digest, signatures: signatures.length, signers };
}

/**
 * The check pull, run and copy make before a pack from `source` reaches its target, when the trust options
 * (or the policy for the source's scope) require a signature; undefined when none is required. Call `check`
 * with the manifest about to be copied; `verified` then holds the signatures it accepted (to keep with the pack).
 * @param {{name: string}} source a RemoteStore
 * @param {{requireSignature?: boolean, trustKeys?: string[], trustPolicy?: string, env?: NodeJS.ProcessEnv}} options
 */
export function signatureGate(source, uri, options) {
  const trust = trustFor(options, source.name);
  if (!trust.required) return undefined;
  const gate = {
    signers: [],
    signatures: [],
    async check(manifest) {
      const signatures = await fetchSignatures(source, manifest.digest);
      gate.signers = core.verifySignatures(signatures.map((s) => s.envelope), manifest.digest, uri, trust.keys);
      gate.signatures = signatures;
    },
  };
  return gate;
}

/** Keep the signatures a gate accepted beside the pack in `target`. */
export async function keepSignatures(gate, target) {
  for (const signature of gate?.signatures ?? []) await storeSignature(target, signature.manifest, signature.envelope);
}
