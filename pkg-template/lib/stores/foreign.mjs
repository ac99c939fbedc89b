// What a source store holds under a URI's tag when it is not a ctxpack pack: nothing (perhaps the Python
// CtxPack v0 tag instead), or something another tool wrote (a container image, an index, another artifact).
// The errors say which, instead of blaming the local layout.
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { MEDIA_TYPES } from './layout-store.mjs';

/** CTX_NOT_FOUND for a URI the store lacks; when a registry has its v0 tag, the hint is `pull --legacy`. */
export async function notFoundError(from, uri) {
  const legacy = await hasLegacyTag(from, uri);
  return new CtxpackError('CTX_NOT_FOUND', `${uri} is not in the ${from.describe()}${legacy ? ` (it has the Python CtxPack v0 tag ${legacyTag(uri)})` : ''}`, {
    subject: uri,
    hint: legacy
      ? `read the old pack with \`ctxpack pull ${uri} --legacy -o <dir>\``
      : 'check the URI and the registry or directory; `ctxpack resolve <uri>` says where a pack is',
  });
}

/**
 * The source's manifest under `uri`'s tag, parsed by the core (ociParseManifest); CTX_OCI_INVALID naming the
 * tag and what it holds when that is not a ctxpack artifact.
 */
export async function fetchSourceManifest(from, uri, descriptor) {
  if (descriptor.mediaType !== MEDIA_TYPES.ociManifest) throw foreignError(from, uri, `mediaType ${descriptor.mediaType}`);
  const bytes = await from.fetchBytes(descriptor);
  try {
    return { bytes, parsed: core.ociParseManifest(bytes) };
  } catch (error) {
    // The core reports a manifest it did not write at `artifactType`; a damaged ctxpack manifest elsewhere.
    if (error.code === 'CTX_OCI_INVALID' && error.subject === 'artifactType') throw foreignError(from, uri, describeArtifact(bytes), error);
    throw error;
  }
}

/** The tag Python CtxPack v0 gave a pack: the first 12 hex digits of its URI. */
function legacyTag(uri) {
  return uri.slice('ctx://sha256:'.length, 'ctx://sha256:'.length + 12);
}

/** Does a registry hold the v0 tag of `uri`? Only registries can: v0 never wrote OCI layouts. */
async function hasLegacyTag(from, uri) {
  if (!from.client) return false;
  try {
    return (await from.client.headManifest(legacyTag(uri))) != null;
  } catch {
    return false;
  }
}

/** What a manifest says it is: `artifactType X / mediaType Y`, and its config's type when it has no artifactType. */
function describeArtifact(bytes) {
  let manifest;
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return 'not JSON';
  }
  const parts = [`artifactType ${manifest?.artifactType ?? 'none'}`, `mediaType ${manifest?.mediaType ?? 'none'}`];
  if (manifest?.artifactType === undefined) parts.push(`config ${manifest?.config?.mediaType ?? 'none'}`);
  return parts.join(' / ');
}

function foreignError(from, uri, found, cause) {
  const where = from.reference ? `the registry's ${from.reference(uri)}` : `${core.uriTag(uri)} in the ${from.describe()}`;
  return new CtxpackError('CTX_OCI_INVALID', `${where} is not a ctxpack pack (${found})`, {
    subject: uri,
    hint: "something other than ctxpack wrote that tag (a container image, another tool's artifact); check the URI and the registry, or push the pack there again",
    cause,
  });
}
