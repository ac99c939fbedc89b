// Packs and execution packs in anything that speaks the registry protocol — a registry (straight, when it
// sends CORS headers, or through `ctxpack serve`'s proxy), the pantry behind `ctxpack serve`, an OCI layout
// folder — read with the core's RegistryClient: the image manifest's digest, manifest.json, the URI
// re-derived, every layer's digest and every file's, as they stream.
import { Checks, isVerificationFailure, plainError, registryCheckFor } from './checks.mjs';

const LAYOUT_REGISTRY = 'oci-layout.local/layout';

/**
 * @param {object} core ctxpack/core
 * @param {object} source {kind: 'registry', registry, via: 'proxy' | 'direct'} | {kind: 'pantry'} | {kind: 'layout', handle}
 * @param {string} origin the page's origin (the proxy and the pantry are there)
 */
export function clientFor(core, source, origin) {
  if (source.kind === 'pantry') {
    return new core.RegistryClient({ registry: `${origin}/pantry`, insecure: origin.startsWith('http:') });
  }
  if (source.kind === 'layout') {
    // The folder's reader is loaded with the first request (a registry's pack view never needs it).
    const reader = import('./layout.mjs').then(({ layoutFetch }) => layoutFetch(source.handle));
    return new core.RegistryClient({ registry: LAYOUT_REGISTRY, fetch: async (url, init) => (await reader)(url, init) });
  }
  if (source.via === 'proxy') {
    return new core.RegistryClient({
      registry: source.registry,
      // The engine speaks to the registry; the bytes go through the same-origin proxy, which adds the user's
      // credentials for that host.
      fetch: (url, init) => {
        const target = new URL(url);
        return fetch(`${origin}/registry/${target.host}${target.pathname}${target.search}`, init);
      },
    });
  }
  return new core.RegistryClient({ registry: source.registry });
}

/** Where a layer blob can be downloaded from, for the page's links (undefined for a layout: read locally). */
export function blobUrl(source, origin, digest) {
  if (source.kind === 'pantry') return `${origin}/v2/pantry/blobs/${digest}`;
  if (source.kind !== 'registry') return undefined;
  const [host, ...repository] = source.registry.replace(/^https?:\/\//, '').split('/');
  if (source.via === 'proxy') return `${origin}/registry/${host}/v2/${repository.join('/')}/blobs/${digest}`;
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
  return `${loopback ? 'http' : 'https'}://${host}/v2/${repository.join('/')}/blobs/${digest}`;
}

/**
 * The image manifest the URI's tag names, checked (digest) and parsed (which kind of artifact).
 * @returns {Promise<{manifest: {bytes, digest, size, mediaType}, parsed: {artifactType, uri, created?, config, layers}}>}
 */
export async function resolveArtifact(core, client, uri) {
  const manifest = await client.fetchManifest(core.uriTag(uri));
  const parsed = core.ociParseManifest(manifest.bytes);
  return { manifest, parsed };
}

/**
 * Verifies a whole pack from a registry-shaped source, posting what it learns as it goes.
 * @param {{onManifest, onProgress, onLayer}} hooks
 * @returns {Promise<{ok: boolean, checks: object[], summary?: object, error?: object}>}
 */
export async function verifyRemotePack(core, client, uri, resolved, { onManifest, onProgress }) {
  const pack = core.ociParsePackManifest(resolved.manifest.bytes);
  const layers = pack.packLayers;
  const checks = new Checks([
    { id: 'image', label: 'image manifest', detail: `${core.uriTag(uri)} → ${resolved.manifest.digest}: digest checked, a ctxpack pack` },
    { id: 'manifest', label: 'manifest.json', detail: `${pack.manifestJson.digest}: digest and size checked, pack/v1 parsed strictly` },
    { id: 'uri', label: 'URI', detail: `re-derived from the contract: ${uri}` },
    { id: 'tree', label: 'tree digest', detail: 'outputs.digest re-derived from the entries' },
    ...layers.map((layer, index) => ({
      id: `layer-${index}`,
      label: layers.length === 1 ? 'layer' : `layer ${index + 1} of ${layers.length}`,
      detail: `${layer.digest} (${layer.size} bytes): digest, gzip and tar checked`,
    })),
    { id: 'files', label: 'files', detail: "every file's size and digest" },
  ]);
  checks.pass('image');
  const state = { stage: 'open', layer: 0, layers, manifestJson: pack.manifestJson };
  let pulled;
  try {
    pulled = await client.pullPack(uri);
  } catch (error) {
    return failure(checks, error, state);
  }
  for (const id of ['manifest', 'uri', 'tree']) checks.pass(id);
  onManifest?.(pulled.manifest, { layers, digest: pulled.digest, created: resolved.parsed.created });
  state.stage = 'layers';
  const entries = pulled.manifest.outputs.entries;
  const total = entries.reduce((sum, entry) => sum + (entry.size ?? 0), 0);
  let bounds = [entries.length];
  let files = 0;
  let seen = 0;
  let current;
  let done = 0;
  let told = 0;
  const reader = pulled.events.getReader();
  try {
    if (layers.length > 1) bounds = await layerBounds(core, client, pack.manifestJson);
    for (;;) {
      const { done: finished, value: event } = await reader.read();
      if (finished) break;
      if (event.kind === 'entry') {
        // The first entry of the next layer comes only after the previous layer's digest was checked.
        while (state.layer < bounds.length - 1 && seen >= bounds[state.layer]) checks.pass(`layer-${state.layer++}`);
        seen += 1;
        current = event.type;
      } else if (event.kind === 'data') done += event.bytes.length;
      else if (event.kind === 'end' && current !== 'symlink') files += 1;
      if (done - told >= 1024 * 1024 || event.kind === 'end') {
        told = done;
        onProgress?.({ done, total, files });
      }
    }
  } catch (error) {
    return failure(checks, error, state);
  }
  for (const id of layers.map((_, index) => `layer-${index}`)) checks.pass(id);
  checks.pass('files', `${files} files, ${total} bytes: each size and digest checked`);
  onProgress?.({ done: total, total, files });
  return { ok: true, checks: checks.list(), summary: { uri, files, bytes: total, compressedBytes: layers.reduce((s, l) => s + l.size, 0) } };
}

function failure(checks, error, state) {
  if (!isVerificationFailure(error)) throw error;
  checks.fail(registryCheckFor(error, state), error);
  return { ok: false, checks: checks.list(), error: plainError(error) };
}

/** The number of entries up to the end of each layer, from the core's layout of the exact manifest.json. */
async function layerBounds(core, client, manifestJson) {
  const bytes = await readBlob(client, manifestJson);
  return core.packLayout(bytes).layers.map((layer) => layer.start + layer.entries);
}

/**
 * One file of a pack: only the layer holding it is fetched (with readFile, when the core has it, only the
 * blocks holding it); its digest is checked before it is returned whole.
 * @returns {Promise<{bytes: Uint8Array, size: number, digest: string, verified: true, fetchedBytes?: number}>}
 */
export async function readRemoteFile(client, uri, path, { maxBytes = Infinity } = {}) {
  if (typeof client.readFile === 'function') {
    const read = await client.readFile(uri, path);
    return { bytes: read.bytes.subarray(0, maxBytes), size: read.file.size, digest: read.file.digest, verified: true, fetchedBytes: read.fetchedBytes };
  }
  const pulled = await client.pullPack(uri, { path });
  const chunks = [];
  let kept = 0;
  for await (const chunk of pulled.body) {
    if (kept >= maxBytes) continue;
    const piece = chunk.subarray(0, Math.min(chunk.length, maxBytes - kept));
    chunks.push(piece);
    kept += piece.length;
  }
  const bytes = new Uint8Array(kept);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes, size: pulled.file.size, digest: pulled.file.digest, verified: true, manifest: pulled.manifest };
}

/** A blob's bytes, streamed and checked against its digest and size by the client. */
export async function readBlob(client, descriptor) {
  const chunks = [];
  await client.fetchBlob(descriptor, { write: (chunk) => chunks.push(chunk), reset: () => chunks.splice(0) });
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
