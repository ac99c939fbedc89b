// trace verify: every blob of an execution pack is present with its digest and size, and its identity holds
// (the core's ociVerifyExecution: the URI re-derives from the stored execution manifest, which the image manifest
// carries with every blob it names and nothing else). With an artifact: does that file hold exactly the
// named output? Problems are collected (each with a stable code), not thrown, so one run reports them all.
import { CtxpackError, isCtxpackError, toCtxpackError } from '../errors.mjs';
import { READ_CHUNK_BYTES, hashFileSync } from '../hash-file.mjs';
import { openPantry } from '../pantry.mjs';
import { resolveExecutionRef } from './resolve.mjs';
import { loadExecution } from './stored.mjs';

/**
 * @param {string} ref
 * @param {{home?: string, artifact?: string, output?: string}} [options] artifact and output go together
 * @returns {{uri: string, ok: boolean, blobs: {total: number, ok: number},
 *   artifact?: {path: string, output: string, digest: string, size: number, expected: {digest: string, size: number}, match: boolean},
 *   problems: Array<{code: string, message: string, subject?: string}>}}
 */
export function traceVerify(ref, options = {}) {
  if ((options.artifact === undefined) !== (options.output === undefined)) {
    throw new CtxpackError('CTX_USAGE', '--artifact and --output go together: the file, and the output it should match', {
      hint: 'ctxpack trace verify <ref> --artifact <file> --output <name>',
    });
  }
  const pantry = openPantry(options);
  const uri = resolveExecutionRef(pantry, ref);
  const problems = [];
  const result = { uri, ok: false, blobs: { total: 0, ok: 0 }, problems };
  const manifest = collect(problems, () => verifyManifests(pantry, uri));
  if (manifest) {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    result.blobs.total = manifest.blobs.length;
    result.blobs.ok = manifest.blobs.filter((blob) => collect(problems, () => verifyBlob(pantry, blob, buffer))).length;
    if (options.artifact !== undefined) {
      result.artifact = compareArtifact(manifest.execution, { path: options.artifact, output: options.output, buffer }, problems);
    }
  }
  result.ok = problems.length === 0;
  return result;
}

/**
 * The identity of the stored execution pack, checked by the core (ociVerifyExecution, the same checks as a
 * pull's); returns the blobs to check and the manifest.
 */
function verifyManifests(pantry, uri) {
  const { blobs, manifest } = loadExecution(pantry, uri);
  return { blobs, execution: manifest };
}

/** The blob on disk, hashed whole. */
function verifyBlob(pantry, blob, buffer) {
  const actual = hashOrMissing(pantry.blobPath(blob.digest), buffer, () => new CtxpackError('CTX_NOT_FOUND', `blob ${blob.digest} is missing from the pantry`, { subject: blob.digest }));
  if (actual.size !== blob.size) {
    throw new CtxpackError('CTX_SIZE_MISMATCH', `blob ${blob.digest} holds ${actual.size} bytes, not ${blob.size}`, { subject: blob.digest });
  }
  if (actual.digest !== blob.digest) {
    throw new CtxpackError('CTX_DIGEST_MISMATCH', `blob ${blob.digest} hashes to ${actual.digest}`, { subject: blob.digest });
  }
  return true;
}

function compareArtifact(execution, { path: artifactPath, output: outputName, buffer }, problems) {
  const outputs = execution.outputs ?? [];
  const output = outputs.find((candidate) => candidate.name === outputName);
  if (!output?.content) {
    throw new CtxpackError('CTX_NOT_FOUND', `the execution pack has no output named ${JSON.stringify(outputName)}`, {
      subject: outputName,
      hint: outputs.length > 0 ? `its outputs: ${outputs.map((candidate) => JSON.stringify(candidate.name)).join(', ')}` : 'it records no outputs',
    });
  }
  const actual = hashOrMissing(artifactPath, buffer, (error) => toCtxpackError(error, artifactPath));
  const expected = { digest: output.content.digest, size: output.content.size };
  const match = actual.digest === expected.digest && actual.size === expected.size;
  if (!match) {
    problems.push({
      code: 'CTX_DIGEST_MISMATCH',
      message: `${artifactPath} (${actual.digest}, ${actual.size} bytes) does not match output ${JSON.stringify(outputName)} (${expected.digest}, ${expected.size} bytes)`,
      subject: artifactPath,
    });
  }
  return { path: artifactPath, output: outputName, ...actual, expected, match };
}

/** hashFileSync; a missing file becomes onError's error. */
function hashOrMissing(filePath, buffer, onError) {
  try {
    return hashFileSync(filePath, buffer);
  } catch (error) {
    throw error.code === 'ENOENT' ? onError(error) : toCtxpackError(error, filePath);
  }
}

/** Run a check; a CtxpackError becomes a problem (and the result undefined), anything else is a bug. */
function collect(problems, check) {
  try {
    return check();
  } catch (error) {
    if (!isCtxpackError(error)) throw error;
    problems.push({ code: error.code, message: error.message, ...(error.subject === undefined ? {} : { subject: error.subject }) });
    return undefined;
  }
}
