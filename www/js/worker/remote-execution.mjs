// An execution pack from a registry-shaped source: the image manifest (digest checked), the execution manifest
// (its digest is the URI, execution/v1 checked by the core), then every content blob (digest and size).
import { Checks, isVerificationFailure, plainError } from './checks.mjs';
import { readBlob } from './registry.mjs';

/** @returns {Promise<{result: object, manifestBytes?: Uint8Array}>} */
export async function openRemoteExecution(core, client, uri, resolved, { onProgress } = {}) {
  const { parsed } = resolved;
  const checks = new Checks([
    { id: 'image', label: 'image manifest', detail: `${core.uriTag(uri)} → ${resolved.manifest.digest}: digest checked, an execution pack` },
    { id: 'manifest', label: 'execution manifest', detail: `${parsed.config.digest}: its digest is the URI, execution/v1 checked` },
    { id: 'blobs', label: 'content blobs', detail: `${parsed.layers.length} blobs: each digest and size checked` },
  ]);
  checks.pass('image');
  let manifestBytes;
  let stored;
  try {
    manifestBytes = await readBlob(client, parsed.config);
    stored = core.executionParseManifest(manifestBytes);
    if (stored.uri !== uri) {
      const error = new Error(`the execution manifest is ${stored.uri}, not ${uri}`);
      error.code = 'CTX_URI_MISMATCH';
      throw error;
    }
    checks.pass('manifest');
    let done = 0;
    const total = parsed.layers.reduce((sum, blob) => sum + blob.size, 0);
    for (const blob of parsed.layers) {
      await readBlob(client, blob);
      done += blob.size;
      onProgress?.({ done, total, files: 0 });
    }
    checks.pass('blobs');
  } catch (error) {
    if (!isVerificationFailure(error)) throw error;
    checks.fail(undefined, error);
    return { result: { kind: 'execution', ok: false, uri, checks: checks.list(), error: plainError(error), manifest: stored?.manifest } };
  }
  return {
    result: { kind: 'execution', ok: true, uri, created: parsed.created, manifest: stored.manifest, checks: checks.list() },
    manifestBytes,
  };
}
