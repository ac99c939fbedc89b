// Verification of an execution pack copied into the pantry, before its index entry is written. Every blob
// was checked against its digest as it streamed in (or was already a content-addressed pantry blob); what is
// left is the identity rule: the config is the execution manifest, it re-derives the URI, and the OCI
// manifest carries every blob the execution manifest refers to.
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';

/**
 * @param {import('../pantry.mjs').Pantry} pantry
 * @param {import('./store.mjs').Descriptor} descriptor the OCI manifest, already stored
 * @param {{expectUri: string}} options
 * @returns {{uri: string, blobs: number}}
 */
export function verifyStoredExecution(pantry, descriptor, { expectUri }) {
  const oci = core.ociParseExecutionManifest(pantry.fetch(descriptor)); // its config digest is its URI
  const execution = core.executionParseManifest(pantry.fetch(oci.config));
  for (const uri of [oci.uri, execution.uri]) {
    if (uri !== expectUri) {
      throw new CtxpackError('CTX_URI_MISMATCH', `the execution pack stored for ${expectUri} describes ${uri}`, {
        subject: expectUri,
        hint: 'the source holds other content under this tag; push the right execution pack again',
      });
    }
  }
  const carried = new Map(oci.blobs.map((blob) => [blob.digest, blob.size]));
  const absent = execution.blobs.filter((blob) => carried.get(blob.digest) !== blob.size);
  if (absent.length > 0) {
    throw new CtxpackError('CTX_OCI_INVALID', `the OCI manifest of ${expectUri} lacks ${absent.length} blob(s) its execution manifest refers to: ${absent.map((blob) => blob.digest).join(', ')}`, {
      subject: expectUri,
      hint: 'the execution pack was assembled wrongly; pack the log again with `ctxpack trace pack` and push it',
    });
  }
  return { uri: expectUri, blobs: oci.blobs.length };
}
