// A pack's signatures, as the core finds and judges them: the signature artifacts beside its image manifest
// (a registry's referrers API or `sha256-<hex>` tag, the pantry behind `ctxpack serve`, an OCI layout folder),
// each envelope inspected against the keys the user trusts. A .tar.gz alone has none: signatures live beside
// a pack's image manifest, which a pack file does not carry.
import { clientFor, resolveArtifact } from './registry.mjs';

/** Per source: the image manifest's digest and the signatures found, so changing the trusted keys fetches nothing. */
const found = new Map();

/**
 * @param {object} core the lean core
 * @param {{source: object, origin: string, uri: string, trustedKeys: string[]}} args trustedKeys: PEM texts
 * @returns {Promise<{carried: false, reason: string} | {carried: true, manifestDigest: string, signatures: object[], keys: object[]}>}
 */
export async function packSignatures(core, { source, origin, uri, trustedKeys }) {
  if (!['registry', 'pantry', 'layout'].includes(source.kind)) {
    return { carried: false, reason: 'A pack file (.tar.gz) carries no signatures: they are kept beside the pack in a registry, the pantry or an OCI layout. Open the pack from there to see them.' };
  }
  const key = JSON.stringify([source.kind, source.registry, source.index, uri]);
  let entry = found.get(key);
  if (!entry) {
    const client = clientFor(core, source, origin);
    const { manifest } = await resolveArtifact(core, client, uri);
    entry = { manifestDigest: manifest.digest, artifacts: await client.fetchSignatures(manifest.digest) };
    found.set(key, entry);
  }
  // A key the core cannot read is reported, not used: the others still apply.
  const keys = trustedKeys.map((pem) => {
    try {
      return { pem, ...core.publicKeyInfo(pem) };
    } catch (error) {
      return { pem, error: error.message };
    }
  });
  const usable = keys.filter((k) => !k.error).map((k) => k.pem);
  const envelopes = entry.artifacts.map((artifact) => artifact.envelope);
  const signatures = core.inspectSignatures(envelopes, entry.manifestDigest, uri, usable).map((report) => {
    const artifact = entry.artifacts[report.envelope];
    // An envelope too damaged to name its key: the key id its artifact's annotation claims.
    return { ...report, keyid: report.keyid || artifact.keyid || '', artifact: artifact.digest };
  });
  return { carried: true, manifestDigest: entry.manifestDigest, signatures, keys: keys.map(({ keyid, error }) => ({ keyid, error })) };
}
