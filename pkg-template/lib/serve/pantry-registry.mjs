// The local pantry as a read-only registry at /v2/pantry/…, so the inspector opens pantry packs and execution
// packs with the same RegistryClient (and the same checks) as packs in any registry: manifests by their
// ctx-<hex> tag or digest, blobs with Range, and the signatures beside a pack through the OCI 1.1 referrers API.
// `/api/pantry` lists what the pantry holds.
import fs from 'node:fs';
import * as core from '../core-node.mjs';
import { isCtxpackError } from '../errors.mjs';
// The public API's listings (ls, trace log), whichever module holds them.
import { list, openPantry, traceLog } from '../index.mjs';
import { parseRange, sendJson, sendRegistryError } from './http.mjs';

const REPOSITORY = 'pantry';
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const TAG = /^ctx-[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const EMPTY_REFERRERS = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [] }));

/** `/api/pantry`: `{ home, packs: [{uri, created, size, layers, problem?}], executions: [{uri, created, model, steps, parent?}] }`. */
export function listPantry(response, { home }) {
  const pantry = openPantry({ home });
  const packs = list({ home }).map(({ uri, created, size, layers, problem }) => ({ uri, created, size, layers, problem }));
  sendJson(response, 200, { home: pantry.home, packs, executions: traceLog({ home }) });
}

/**
 * Answers GET/HEAD `/v2/pantry/manifests/<ctx-hex | digest>`, `/v2/pantry/blobs/<digest>` and
 * `/v2/pantry/referrers/<digest>`; returns false for any other path.
 */
export function servePantryRegistry(request, response, pathname, { home }) {
  if (pathname === '/v2/' || pathname === '/v2') {
    sendJson(response, 200, {});
    return true;
  }
  const match = /^\/v2\/([^/]+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(pathname);
  if (!match || match[1] !== REPOSITORY) return false;
  const [, , kind, reference] = match;
  const pantry = openPantry({ home });
  if (kind === 'manifests') serveManifest(request, response, pantry, reference);
  else if (kind === 'referrers') serveReferrers(request, response, pantry, reference);
  else serveBlob(request, response, pantry, reference);
  return true;
}

/** The referrers index the pantry keeps for an image manifest (its signatures), or an empty one. */
function serveReferrers(request, response, pantry, digest) {
  if (!DIGEST.test(digest)) {
    sendRegistryError(response, 400, 'DIGEST_INVALID', `not a sha256 digest: ${digest}`);
    return;
  }
  const entry = referrersEntry(pantry, digest);
  const bytes = entry ? Buffer.from(pantry.fetchBytes(entry.descriptor)) : EMPTY_REFERRERS;
  response.writeHead(200, { 'content-type': INDEX_TYPE, 'content-length': bytes.length });
  response.end(request.method === 'HEAD' ? undefined : bytes);
}

function referrersEntry(pantry, subject) {
  const index = pantry.readIndex();
  return index === null ? undefined : core.ociIndexReferrers(index).find((entry) => entry.subject === subject);
}

/** A manifest the pantry holds besides its packs: a signature artifact some referrers index lists. */
function referrerManifest(pantry, digest) {
  const index = pantry.readIndex();
  if (index === null || !DIGEST.test(digest)) return undefined;
  for (const { descriptor } of core.ociIndexReferrers(index)) {
    try {
      const found = core.referrersList(pantry.fetchBytes(descriptor)).find((referrer) => referrer.descriptor.digest === digest);
      if (found) return found.descriptor;
    } catch (error) {
      // A damaged referrers index hides nothing else (fsck reports it).
      if (!isCtxpackError(error)) throw error;
    }
  }
  return undefined;
}

function serveManifest(request, response, pantry, reference) {
  const entry = pantry.entries().find((candidate) => (TAG.test(reference) ? candidate.tag === reference : candidate.digest === reference)) ?? referrerManifest(pantry, reference);
  if (!entry) {
    sendRegistryError(response, 404, 'MANIFEST_UNKNOWN', `the pantry at ${pantry.home} has no ${reference}`);
    return;
  }
  if (entry.size > MAX_MANIFEST_BYTES) {
    sendRegistryError(response, 500, 'MANIFEST_INVALID', `${entry.digest} is too large to be a manifest`);
    return;
  }
  const fd = pantry.openBlob({ digest: entry.digest, size: entry.size });
  let bytes;
  try {
    bytes = Buffer.alloc(entry.size);
    const read = fs.readSync(fd, bytes, 0, entry.size, 0);
    bytes = bytes.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
  // The bytes as stored; the browser's client hashes them against the digest.
  response.writeHead(200, {
    'content-type': 'application/vnd.oci.image.manifest.v1+json',
    'content-length': bytes.length,
    'docker-content-digest': entry.digest,
  });
  response.end(request.method === 'HEAD' ? undefined : bytes);
}

function serveBlob(request, response, pantry, digest) {
  if (!DIGEST.test(digest)) {
    sendRegistryError(response, 400, 'DIGEST_INVALID', `not a sha256 digest: ${digest}`);
    return;
  }
  let fd;
  try {
    fd = pantry.openBlob({ digest, size: 0 });
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    sendRegistryError(response, 404, 'BLOB_UNKNOWN', `the pantry at ${pantry.home} has no blob ${digest}`);
    return;
  }
  const { size } = fs.fstatSync(fd);
  const range = parseRange(request.headers.range, size);
  if (range === null) {
    fs.closeSync(fd);
    response.writeHead(416, { 'content-range': `bytes */${size}` });
    response.end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const headers = {
    'content-type': 'application/octet-stream',
    'content-length': Math.max(0, end - start + 1),
    'docker-content-digest': digest,
    'accept-ranges': 'bytes',
    ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
  };
  response.writeHead(range ? 206 : 200, headers);
  if (request.method === 'HEAD' || size === 0) {
    fs.closeSync(fd);
    response.end();
    return;
  }
  fs.createReadStream(null, { fd, start, end, autoClose: true }).pipe(response);
}
