// The inspector's Web Worker: it loads the wasm core and does every check, so the page stays responsive while
// a pack of any size streams through. Messages: {id, op, args} in; {id, kind: 'progress' | 'manifest' | 'done'
// | 'error', …} out. Packs never come to the page whole: only manifests, check lists and the bytes of the one
// file being previewed or saved. What a pack from a registry or the pantry does not need (pack files, logs,
// packets, layouts, executions) is imported when first used, so a pack view downloads less.
import { fullCore, loadedCores, packCore } from './worker/core.mjs';
import { plainError } from './worker/checks.mjs';
import { blobUrl, clientFor, readBlob, readRemoteFile, resolveArtifact, verifyRemotePack } from './worker/registry.mjs';
import { packSignatures } from './worker/signatures.mjs';

const documents = () => import('./worker/documents.mjs');
const packStream = () => import('./worker/pack-stream.mjs');
const decoder = new TextDecoder();

const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
/** Per source: an opened execution's manifest bytes and (for logs) its blobs, for diffs and previews. */
const executions = new Map();

const operations = { open, readFile, blob, diffExecutions, listLayout, signatures, keyInfo };

self.onmessage = async ({ data: { id, op, args } }) => {
  const post = (kind, payload) => self.postMessage({ id, kind, ...payload });
  try {
    const result = await operations[op](args, post);
    post('done', { result: { ...result, cores: loadedCores() } });
  } catch (error) {
    post('error', { error: plainError(error) });
  }
};

const isRemote = (source) => ['registry', 'pantry', 'layout'].includes(source.kind);
const keyOf = (source) => JSON.stringify({ ...source, file: source.file?.name, handle: source.handle?.name });

/** Opens what a source holds: a pack (verified whole, or one file of it with `path`), an execution, a packet. */
async function open({ source, origin, coreBase, path }, post) {
  const core = await packCore(coreBase);
  if (isRemote(source)) {
    const client = clientFor(core, source, origin);
    const resolved = await resolveArtifact(core, client, source.uri);
    if (resolved.parsed.artifactType === 'execution') {
      const { openRemoteExecution } = await import('./worker/remote-execution.mjs');
      const { result, manifestBytes } = await openRemoteExecution(core, client, source.uri, resolved, { onProgress: (p) => post('progress', { progress: p }) });
      if (manifestBytes) executions.set(keyOf(source), { manifestBytes });
      return result;
    }
    const pack = core.ociParsePackManifest(resolved.manifest.bytes);
    const downloads = {
      layers: pack.packLayers.map((layer, index) => ({ ...layer, name: pack.packLayers.length === 1 ? 'pack.tar.gz' : `pack.${index}.tar.gz`, url: blobUrl(source, origin, layer.digest) })),
    };
    if (path !== undefined) {
      const file = await readRemoteFile(client, source.uri, path);
      const manifest = file.manifest ?? JSON.parse(decoder.decode(await readBlob(client, pack.manifestJson)));
      return { kind: 'pack', mode: 'file', uri: source.uri, manifest, created: resolved.parsed.created, file: { path, ...file }, downloads };
    }
    const verified = await verifyRemotePack(core, client, source.uri, resolved, {
      onManifest: (manifest, info) => post('manifest', { manifest, info: { created: info.created, digest: info.digest } }),
      onProgress: (progress) => post('progress', { progress }),
    });
    return { kind: 'pack', mode: 'whole', created: resolved.parsed.created, downloads, ...verified };
  }
  const { stream, total, head } = await openStream(source);
  const { sniff } = await documents();
  if (sniff(head) === 'pack') {
    const { extractFile, streamChecks, verifyStream } = await packStream();
    if (path !== undefined) {
      const file = await extractFile(core, stream, path);
      return { kind: 'pack', mode: 'file', file: { path, ...file } };
    }
    const checks = streamChecks();
    let manifest;
    const verified = await verifyStream(core, stream, {
      total,
      checks,
      onManifest: (value) => {
        manifest = value;
        post('manifest', { manifest: value, info: {} });
      },
      onProgress: (progress) => post('progress', { progress }),
    });
    return { kind: 'pack', mode: 'whole', ...verified, uri: manifest?.uri, manifest, checks: checks.list() };
  }
  return openDocument(core, source, coreBase, await readWhole(stream, total));
}

async function openDocument(core, source, coreBase, bytes) {
  const { decode, documentKind, openContextPacket, openExecutionLog } = await documents();
  const text = decode(bytes);
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (documentKind(value) === 'execution') {
    const { result, blobs, manifestBytes } = openExecutionLog(core, text);
    if (manifestBytes) executions.set(keyOf(source), { manifestBytes, blobs });
    return result;
  }
  const full = await fullCore(coreBase);
  const document = value ?? full.contextParseDocument(text);
  if (documentKind(document) !== 'context') {
    const error = new Error('this file is not a pack (.tar.gz), an execution log or a context packet');
    error.code = 'CTX_USAGE';
    error.hint = 'open a .tar.gz pack, the JSON log `ctxpack trace pack` takes, or a context packet (YAML or JSON)';
    throw error;
  }
  return openContextPacket(full, text);
}

/** A URL's or a File's bytes as a stream, its size when known, and its first bytes (to tell what it is). */
async function openStream(source) {
  let stream;
  let total;
  if (source.kind === 'file') {
    stream = source.file.stream();
    total = source.file.size;
  } else {
    const response = await fetch(source.url);
    if (!response.ok || !response.body) {
      const error = new Error(`${source.url} answered ${response.status} ${response.statusText}`.trim());
      error.code = response.status === 404 ? 'CTX_NOT_FOUND' : 'CTX_IO';
      throw error;
    }
    stream = response.body;
    const length = Number(response.headers.get('content-length'));
    total = Number.isFinite(length) && length > 0 ? length : undefined;
  }
  const [peek, rest] = stream.tee();
  const reader = peek.getReader();
  const { value } = await reader.read();
  reader.cancel().catch(() => {});
  return { stream: rest, total, head: value ?? new Uint8Array() };
}

async function readWhole(stream, total) {
  if (total !== undefined && total > MAX_DOCUMENT_BYTES) {
    const error = new Error(`the file holds ${total} bytes: too large for an execution log or a context packet`);
    error.code = 'CTX_LIMIT_EXCEEDED';
    throw error;
  }
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    const error = new Error('the file is too large for an execution log or a context packet');
    error.code = 'CTX_LIMIT_EXCEEDED';
    throw error;
  }
  return bytes;
}

/** One file of a pack, verified; at most maxBytes of it are sent (previews), all of it for a download. */
async function readFile({ source, origin, coreBase, path, maxBytes }) {
  const core = await packCore(coreBase);
  if (isRemote(source)) {
    const file = await readRemoteFile(clientFor(core, source, origin), source.uri, path, { maxBytes });
    return { path, bytes: file.bytes, size: file.size, verified: file.verified, fetchedBytes: file.fetchedBytes };
  }
  const { stream } = await openStream(source);
  const { extractFile } = await packStream();
  return { path, ...(await extractFile(core, stream, path, { maxBytes })) };
}

/** A content blob of an execution: from a log's memory, or fetched and checked. */
async function blob({ source, origin, coreBase, digest, size, maxBytes = Infinity }) {
  const stored = executions.get(keyOf(source))?.blobs?.get(digest);
  let bytes = stored;
  if (!bytes) {
    if (!isRemote(source)) throw Object.assign(new Error('open the execution again to preview its contents'), { code: 'CTX_INVALID_STATE' });
    const core = await packCore(coreBase);
    bytes = await readBlob(clientFor(core, source, origin), { mediaType: 'application/vnd.ctxpack.blob.v1', digest, size });
  }
  return { digest, size: bytes.length, bytes: bytes.subarray(0, maxBytes), verified: true };
}

/** Two executions aligned step by step by the core (both are opened first when needed). */
async function diffExecutions({ a, b, origin, coreBase }, post) {
  const core = await packCore(coreBase);
  const sides = [];
  for (const source of [a, b]) {
    if (!executions.has(keyOf(source))) {
      const opened = await open({ source, origin, coreBase }, post);
      if (opened.kind !== 'execution' || !opened.ok) {
        throw Object.assign(new Error(`${source.uri ?? source.url ?? 'the file'} is not an execution that verified`), { code: 'CTX_INVALID_STATE' });
      }
    }
    const bytes = executions.get(keyOf(source)).manifestBytes;
    sides.push({ bytes, ...core.executionParseManifest(bytes) });
  }
  const diff = core.executionDiff(sides[0].bytes, sides[1].bytes);
  return { a: { uri: sides[0].uri, manifest: sides[0].manifest }, b: { uri: sides[1].uri, manifest: sides[1].manifest }, diff };
}

/** The packs and execution packs an OCI layout folder's index.json names. */
async function listLayout({ source, coreBase }) {
  const core = await packCore(coreBase);
  const { indexBytes } = await import('./worker/layout.mjs');
  return { entries: core.ociIndexList(await indexBytes(source.handle)) };
}

/** A pack's signatures, each judged by the core against the trusted keys (PEM texts) the page holds. */
async function signatures({ source, origin, coreBase, uri, trustedKeys }) {
  return packSignatures(await packCore(coreBase), { source, origin, uri, trustedKeys });
}

/** A public key's id, read by the core (CTX_KEY_INVALID for anything but an Ed25519 PUBLIC KEY PEM). */
async function keyInfo({ coreBase, pem }) {
  return (await packCore(coreBase)).publicKeyInfo(pem);
}
