// A pack's signatures in any store, beside the pack (OCI 1.1 referrers). A registry keeps them through its
// referrers API or the `sha256-<hex>` referrers tag (the core's RegistryClient does both); an OCI layout (the
// pantry, an export directory) keeps the same documents: the signature artifacts as blobs and their referrers
// index under the index.json ref name `sha256-<hex>`, so gc keeps them and skopeo/oras see them.
import * as core from '../core-node.mjs';
import { isCtxpackError } from '../errors.mjs';
import { writeFileAtomic } from '../stores/blob-writer.mjs';

export const SIGNATURE_TYPE = 'application/vnd.dsse.envelope.v1+json';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';

/**
 * The signatures stored beside the image manifest `subjectDigest`, envelopes unverified.
 * @returns {Promise<Array<{digest: string, manifest: Uint8Array, keyid?: string, envelope: Uint8Array}>>}
 */
export async function fetchSignatures(store, subjectDigest) {
  if (store.client) return store.client.fetchSignatures(subjectDigest);
  const layout = layoutOf(store);
  const referrers = layoutReferrers(layout, subjectDigest);
  if (referrers === null) return [];
  const found = [];
  for (const { descriptor, artifactType } of core.referrersList(referrers.bytes)) {
    // An entry without artifactType (an index another tool rewrote) is read to find out what it is.
    if (artifactType !== undefined && artifactType !== SIGNATURE_TYPE) continue;
    try {
      const manifest = layout.fetchBytes(descriptor);
      const parsed = core.parseSignatureManifest(manifest);
      if (parsed.subject.digest !== subjectDigest) continue;
      found.push({ digest: descriptor.digest, manifest, keyid: parsed.keyid, envelope: layout.fetchBytes(parsed.envelope) });
    } catch (error) {
      // A missing or damaged signature is skipped: it must not hide the others (fsck reports damage).
      if (!isCtxpackError(error)) throw error;
    }
  }
  return found;
}

/**
 * Store a signature artifact (its manifest from the core's signatureManifest, and its envelope) beside its pack.
 * @returns {Promise<{digest: string}>}
 */
export async function storeSignature(store, manifestBytes, envelope) {
  if (store.client) return store.client.pushSignature(manifestBytes, envelope);
  const layout = layoutOf(store);
  const parsed = core.parseSignatureManifest(manifestBytes);
  const descriptor = { mediaType: MANIFEST_TYPE, digest: core.sha256(manifestBytes), size: manifestBytes.length };
  const write = async () => {
    const empty = core.ociEmptyConfig();
    await layout.pushBytes(empty.bytes, empty.descriptor.mediaType);
    await layout.pushBytes(envelope, SIGNATURE_TYPE, parsed.envelope);
    await layout.pushBytes(manifestBytes, MANIFEST_TYPE, descriptor);
    await layout.withLock('index', async () => {
      const existing = layoutReferrers(layout, parsed.subject.digest);
      const next = core.referrersIndexAdd(existing?.bytes ?? null, descriptor, SIGNATURE_TYPE);
      const indexDescriptor = await layout.pushBytes(next, INDEX_TYPE);
      writeFileAtomic(layout.indexPath, core.ociIndexSetReferrers(layout.readIndex(), { ...indexDescriptor, mediaType: INDEX_TYPE }, parsed.subject.digest));
    });
  };
  await (layout.withLease ? layout.withLease('sign', write) : write());
  return { digest: descriptor.digest };
}

/**
 * Copy every signature of `subject` from one store to another, unchanged (push, pull, copy, export, import).
 * @returns {Promise<number>} how many were copied
 */
export async function copySignatures(from, to, subjectDigest) {
  const signatures = await fetchSignatures(from, subjectDigest);
  for (const signature of signatures) await storeSignature(to, signature.manifest, signature.envelope);
  return signatures.length;
}

/** The layout behind a store (a verifying store wraps the pantry). */
function layoutOf(store) {
  return store.target ?? store;
}

/** The referrers index of `subjectDigest` in a layout's index.json, or null. */
function layoutReferrers(layout, subjectDigest) {
  const index = layout.readIndex();
  if (index === null) return null;
  const entry = core.ociIndexReferrers(index).find((candidate) => candidate.subject === subjectDigest);
  return entry ? { descriptor: entry.descriptor, bytes: layout.fetchBytes(entry.descriptor) } : null;
}
