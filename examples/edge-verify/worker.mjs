// An edge function that serves packs only when they verify. It fetches a pack from an origin URL or a registry
// (through the ctxpack core), checks it in one streaming pass, and answers with the pack, one file of it, or a
// JSON summary — or, when any check fails, a JSON error with status 422. Nothing unverified is ever sent: a
// response body is held until its verification has passed (up to MAX_BODY_BYTES; larger answers are refused
// with 413 rather than streamed unverified).
//
//   GET /verify?url=<pack .tar.gz URL>&uri=<ctx://…>                    → 200 {uri, files, bytes, …} | 422
//   GET /pack?url=<pack .tar.gz URL>&uri=<ctx://…>                      → 200 the pack | 422
//   GET /file?registry=<host[:port]/repo>&uri=<ctx://…>&path=<file>    → 200 the file | 422
//   GET /file?url=<pack .tar.gz URL>&uri=<ctx://…>&path=<file>         → 200 the file | 422
//
// Bindings (wrangler.toml / config.capnp): REGISTRY_USER and REGISTRY_TOKEN, optional, for a private registry;
// TRUSTED_KEYS, optional: Ed25519 public keys (SPKI PEM, one after the other). When set, a registry pack is served
// only with a valid signature from one of them (CTX_SIGNATURE_REQUIRED / _INVALID / CTX_KEY_UNTRUSTED → 422),
// checked by the core against the image manifest being streamed, before any byte of the file is sent.
import wasmModule from './ctxpack_core_bg.wasm';
import { initSync, PackReader, RegistryClient, parseUri, verifyPack, verifySignatures } from './web.js';

initSync({ module: wasmModule });

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const TYPES = { json: 'application/json', jsonl: 'application/x-ndjson', md: 'text/markdown', txt: 'text/plain', csv: 'text/csv', png: 'image/png', jpg: 'image/jpeg', gz: 'application/gzip' };

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      const uri = parseUri(required(url, 'uri'));
      switch (url.pathname) {
        case '/verify': {
          const summary = await verifyPack(await origin(required(url, 'url')), { expectUri: uri });
          const { manifest, ...rest } = summary;
          return Response.json({ ...rest, verified: true, contract: manifest.contract });
        }
        case '/pack':
          return await servePack(required(url, 'url'), uri);
        case '/file':
          return url.searchParams.has('registry')
            ? await fileFromRegistry(url.searchParams.get('registry'), uri, required(url, 'path'), env)
            : await fileFromPack(required(url, 'url'), uri, required(url, 'path'));
        default:
          return Response.json({ error: { code: 'CTX_USAGE', message: 'routes: /verify, /pack, /file' } }, { status: 404 });
      }
    } catch (error) {
      return refusal(error);
    }
  },
};

/** The pack's bytes, held while they are verified in the same pass, then served. */
async function servePack(packUrl, uri) {
  const [forVerify, forBody] = (await origin(packUrl)).tee();
  const [summary, bytes] = await Promise.all([verifyPack(forVerify, { expectUri: uri }), collect(forBody, MAX_BODY_BYTES)]);
  return new Response(bytes, {
    headers: { 'content-type': TYPES.gz, 'x-ctxpack-uri': summary.uri, 'x-ctxpack-verified': 'true' },
  });
}

/** One file, from the one layer of a registry's pack that holds it; served once its digest has been checked. */
async function fileFromRegistry(registry, uri, path, env) {
  const credentials = env?.REGISTRY_USER ? () => ({ username: env.REGISTRY_USER, password: env.REGISTRY_TOKEN }) : undefined;
  const client = new RegistryClient({ registry, credentials, timeout: 20 });
  const pulled = await client.pullPack(uri, { path });
  const { file, body } = pulled;
  if (env?.TRUSTED_KEYS) await requireTrustedSignature(client, pulled, uri, env.TRUSTED_KEYS);
  if (file.size > MAX_BODY_BYTES) throw tooLarge(file.size);
  // The stream errors (and collect rejects) if the file's size or digest is wrong.
  return fileResponse(path, await collect(body, MAX_BODY_BYTES), uri);
}

/** The pack's signatures (beside it in the registry) must include a trusted key's valid one. */
async function requireTrustedSignature(client, pulled, uri, keysText) {
  const keys = keysText.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
  try {
    const signatures = await client.fetchSignatures(pulled.digest);
    verifySignatures(signatures.map((signature) => signature.envelope), pulled.digest, uri, keys);
  } catch (error) {
    await pulled.body.cancel();
    throw error;
  }
}

/** One file out of a pack at an origin: read up to it through the verifying reader. */
async function fileFromPack(packUrl, uri, path) {
  const reader = new PackReader({ expectUri: uri });
  const source = (await origin(packUrl)).getReader();
  const parts = [];
  let inside = false;
  let size = 0;
  for (;;) {
    let event;
    while ((event = reader.next()) !== undefined) {
      if (event.kind === 'entry') inside = event.path === path;
      else if (event.kind === 'data' && inside) {
        size += event.bytes.length;
        if (size > MAX_BODY_BYTES) throw tooLarge(size);
        parts.push(event.bytes);
      } else if (event.kind === 'end' && inside) {
        // The core checked the file's size and digest against the verified manifest before this event.
        await source.cancel();
        return fileResponse(path, concat(parts, size), uri);
      }
    }
    const { done, value } = await source.read();
    if (done) break;
    reader.push(value);
  }
  reader.finish();
  return Response.json({ error: { code: 'CTX_NOT_FOUND', message: `${uri} has no file ${JSON.stringify(path)}` } }, { status: 404 });
}

async function origin(packUrl) {
  const response = await fetch(packUrl);
  if (!response.ok || !response.body) {
    throw Object.assign(new Error(`the origin answered ${response.status} for ${packUrl}`), { code: 'CTX_NOT_FOUND' });
  }
  return response.body;
}

async function collect(stream, limit) {
  const parts = [];
  let size = 0;
  for await (const part of stream) {
    size += part.length;
    if (size > limit) throw tooLarge(size);
    parts.push(part);
  }
  return concat(parts, size);
}

function concat(parts, size) {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function fileResponse(path, bytes, uri) {
  const type = TYPES[path.split('.').pop()?.toLowerCase()] ?? 'application/octet-stream';
  return new Response(bytes, { headers: { 'content-type': type, 'x-ctxpack-uri': uri, 'x-ctxpack-verified': 'true' } });
}

function required(url, name) {
  const value = url.searchParams.get(name);
  if (!value) throw Object.assign(new Error(`the query parameter ${name} is missing`), { code: 'CTX_USAGE' });
  return value;
}

/** This worker's own limit (not the pack's fault, so not a 422). */
function tooLarge(size) {
  const message = `the answer would hold ${size} bytes, above this worker's ${MAX_BODY_BYTES}-byte limit for verified bodies`;
  return Object.assign(new Error(message), { code: 'CTX_LIMIT_EXCEEDED', status: 413 });
}

/** Statuses for what is not the pack's fault; everything else is a pack that did not verify: 422. */
const STATUS = { CTX_USAGE: 400, CTX_URI_INVALID: 400, CTX_NOT_FOUND: 404, CTX_REGISTRY_UNREACHABLE: 502, CTX_REGISTRY_TIMEOUT: 504, CTX_AUTH_FAILED: 502, CTX_AUTH_DENIED: 502 };

function refusal(error) {
  const code = typeof error?.code === 'string' ? error.code : 'CTX_INTERNAL';
  const status = error?.status ?? STATUS[code] ?? 422;
  return Response.json({ error: { code, message: String(error?.message ?? error), hint: error?.hint } }, { status });
}
