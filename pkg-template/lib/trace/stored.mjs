// An execution pack as the pantry holds it: the OCI manifest, its config (the execution manifest's JCS bytes,
// whose digest is the URI) and the content blobs it lists.
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { ARTIFACT_TYPES } from '../pantry.mjs';

/**
 * Load and parse a stored execution pack (the URI must be canonical and in the pantry).
 * @param {import('../pantry.mjs').Pantry} pantry
 * @param {string} uri
 * @returns {{uri: string, descriptor: object, created?: string, config: object, blobs: object[],
 *   manifestBytes: Uint8Array, manifest: object}}
 */
export function loadExecution(pantry, uri) {
  const descriptor = pantry.resolve(uri, { artifactType: ARTIFACT_TYPES.execution });
  const parsed = core.ociParseExecutionManifest(pantry.fetch(descriptor));
  if (parsed.uri !== uri) {
    throw new CtxpackError('CTX_OCI_INVALID', `the pantry's manifest for ${uri} describes ${parsed.uri}`, { subject: uri });
  }
  const manifestBytes = pantry.fetch(parsed.config);
  const { manifest } = core.executionParseManifest(manifestBytes);
  return { uri, descriptor, created: parsed.created, config: parsed.config, blobs: parsed.blobs, manifestBytes, manifest };
}
