// An execution pack as the pantry holds it: the OCI manifest, its config (the execution manifest's JCS bytes,
// whose digest is the URI) and the content blobs it lists.
import * as core from '../core-node.mjs';
import { ARTIFACT_TYPES } from '../stores/layout-store.mjs';

/**
 * Load a stored execution pack (the URI must be canonical and in the pantry), its identity checked by the core
 * (ociVerifyExecution) on the way.
 * @param {import('../pantry.mjs').Pantry} pantry
 * @param {string} uri
 * @returns {{uri: string, descriptor: object, created?: string, config: object, blobs: object[],
 *   manifestBytes: Uint8Array, manifest: object}}
 */
export function loadExecution(pantry, uri) {
  const descriptor = pantry.manifestFor(uri, { artifactType: ARTIFACT_TYPES.execution });
  const ociBytes = pantry.fetchBytes(descriptor);
  const manifestBytes = pantry.fetchBytes(core.ociParseManifest(ociBytes).config);
  const verified = core.ociVerifyExecution(ociBytes, manifestBytes, { expectUri: uri });
  return { uri, descriptor, created: verified.created, config: verified.config, blobs: verified.layers, manifestBytes, manifest: verified.manifest };
}
