// An OCI layout folder the user chose (a FileSystemDirectoryHandle) seen as a read-only registry, so its packs
// and execution packs are read and verified by the same RegistryClient calls as a registry's: manifests by
// ref name or digest, blobs by digest.

// ctx-<hex>: a pack; sha256-<hex>: the referrers index of a manifest (its signatures).
const TAG = /^(ctx|sha256)-[0-9a-f]{64}$/;
const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** A `fetch` answering /v2/<repository>/manifests/<ref> and /blobs/<digest> from the folder. */
export function layoutFetch(directory) {
  return async (url, init = {}) => {
    const { pathname } = new URL(url);
    const match = /^\/v2\/[^/]+(?:\/[^/]+)*\/(manifests|blobs)\/([^/]+)$/.exec(pathname);
    if (!match) return notFound(`nothing at ${pathname}`);
    const [, kind, reference] = match;
    let digest = reference;
    if (kind === 'manifests' && TAG.test(reference)) {
      const entry = (await readIndex(directory)).manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === reference);
      if (!entry) return notFound(`the layout has no ${reference}`, 'MANIFEST_UNKNOWN');
      digest = entry.digest;
    }
    const hex = DIGEST.exec(digest)?.[1];
    if (!hex) return notFound(`not a sha256 digest: ${digest}`);
    let file;
    try {
      const blobs = await (await directory.getDirectoryHandle('blobs')).getDirectoryHandle('sha256');
      file = await (await blobs.getFileHandle(hex)).getFile();
    } catch {
      return notFound(`the layout has no blob ${digest}`, kind === 'manifests' ? 'MANIFEST_UNKNOWN' : 'BLOB_UNKNOWN');
    }
    const headers = {
      'content-type': kind === 'blobs' ? 'application/octet-stream' : `application/vnd.oci.image.${reference.startsWith('sha256-') ? 'index' : 'manifest'}.v1+json`,
      'content-length': String(file.size),
      'docker-content-digest': digest,
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(new Headers(init.headers ?? {}).get('range') ?? '');
    if (range && kind === 'blobs') {
      const start = Number(range[1]);
      const end = range[2] === '' ? file.size - 1 : Math.min(Number(range[2]), file.size - 1);
      headers['content-range'] = `bytes ${start}-${end}/${file.size}`;
      headers['content-length'] = String(end - start + 1);
      return new Response(init.method === 'HEAD' ? null : file.slice(start, end + 1).stream(), { status: 206, headers });
    }
    return new Response(init.method === 'HEAD' ? null : file.stream(), { status: 200, headers });
  };
}

/** index.json of the folder, parsed. */
export async function readIndex(directory) {
  const file = await (await directory.getFileHandle('index.json')).getFile();
  return JSON.parse(await file.text());
}

/** index.json's bytes (for the core's ociIndexList). */
export async function indexBytes(directory) {
  const file = await (await directory.getFileHandle('index.json')).getFile();
  return new Uint8Array(await file.arrayBuffer());
}

function notFound(message, code = 'NAME_UNKNOWN') {
  return new Response(JSON.stringify({ errors: [{ code, message }] }), { status: 404, headers: { 'content-type': 'application/json' } });
}
