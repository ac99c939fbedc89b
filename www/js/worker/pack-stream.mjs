// A whole pack (.tar.gz) read as a stream — a File, a fetch() body — through the core's PackReader, one piece
// at a time: nothing but the manifest and the current piece is held, whatever the pack's size.
import { Checks, streamCheckFor } from './checks.mjs';

const PIECE = 1024 * 1024;
const decoder = new TextDecoder();

export function streamChecks(expectUri) {
  return new Checks([
    { id: 'manifest', label: 'manifest.json', detail: 'first in the archive, pack/v1, parsed strictly' },
    { id: 'uri', label: 'URI', detail: expectUri ? `re-derived from the contract and equal to ${expectUri}` : 're-derived from the contract' },
    { id: 'tree', label: 'tree digest', detail: 'outputs.digest re-derived from the entries' },
    { id: 'limits', label: 'limits', detail: 'declared sizes and entry count within the reader limits' },
    { id: 'files', label: 'files', detail: "every file's size and digest" },
    { id: 'complete', label: 'nothing missing or extra', detail: 'every entry of the manifest present once, no other' },
    { id: 'archive', label: 'gzip and tar', detail: 'CRC-32 and length of every gzip member, tar structure, end marker' },
  ]);
}

/**
 * Verifies the pack `stream` holds.
 * @param {object} core ctxpack/core
 * @param {ReadableStream<Uint8Array>} stream
 * @param {{expectUri?: string, total?: number, onManifest?: (manifest: object) => void,
 *   onProgress?: (progress: {done: number, total?: number, files: number}) => void, checks: Checks}} options
 * @returns {Promise<{ok: boolean, summary?: object, packDigest?: string}>}
 */
export async function verifyStream(core, stream, { expectUri, total, onManifest, onProgress, checks }) {
  const reader = new core.PackReader(expectUri ? { expectUri } : {});
  const packHash = new core.Sha256();
  const source = stream.getReader();
  const state = { manifestSeen: false, files: 0 };
  let read = 0;
  let told = 0;
  try {
    for (;;) {
      const { done, value } = await source.read();
      if (done) break;
      packHash.update(value);
      for (let offset = 0; offset < value.length; offset += PIECE) {
        reader.push(value.subarray(offset, offset + PIECE));
        drain(reader, state, checks, onManifest);
      }
      read += value.length;
      if (read - told >= PIECE || read === total) {
        told = read;
        onProgress?.({ done: read, total, files: state.files });
      }
    }
    const summary = reader.finish();
    for (const id of ['files', 'complete', 'archive']) checks.pass(id);
    checks.pass('files', `${summary.files} files, ${summary.bytes} bytes: each size and digest checked`);
    return { ok: true, summary, packDigest: packHash.digest() };
  } catch (error) {
    await source.cancel().catch(() => {});
    checks.fail(streamCheckFor(error, state), error);
    return { ok: false };
  } finally {
    reader.free?.();
    packHash.free?.();
  }
}

function drain(reader, state, checks, onManifest) {
  for (let event = reader.next(); event !== undefined; event = reader.next()) {
    if (event.kind === 'manifest') {
      state.manifestSeen = true;
      for (const id of ['manifest', 'uri', 'tree', 'limits']) checks.pass(id);
      onManifest?.(JSON.parse(decoder.decode(reader.manifestBytes())));
    } else if (event.kind === 'end') {
      state.files += 1;
    }
  }
}

/**
 * The bytes of one file of a whole pack: the stream is read up to that file's end (its digest checked) and
 * no further; at most `maxBytes` are kept.
 * @returns {Promise<{bytes: Uint8Array, size: number, verified: boolean, chunks?: Uint8Array[]}>}
 */
export async function extractFile(core, stream, path, { maxBytes = Infinity, expectUri } = {}) {
  const reader = new core.PackReader(expectUri ? { expectUri } : {});
  const source = stream.getReader();
  const wanted = `artifacts/${path}`;
  const chunks = [];
  let kept = 0;
  let size = 0;
  let inside = false;
  try {
    for (;;) {
      const { done, value } = await source.read();
      if (done) break;
      for (let offset = 0; offset < value.length; offset += PIECE) {
        reader.push(value.subarray(offset, offset + PIECE));
        for (let event = reader.next(); event !== undefined; event = reader.next()) {
          if (event.kind === 'entry') {
            inside = event.path === path || event.path === wanted;
            if (inside) size = event.size;
          } else if (event.kind === 'data' && inside && kept < maxBytes) {
            const piece = event.bytes.subarray(0, Math.min(event.bytes.length, maxBytes - kept));
            chunks.push(piece.slice());
            kept += piece.length;
          } else if (event.kind === 'end' && inside) {
            // The reader checked the file's size and digest before this event.
            await source.cancel().catch(() => {});
            return { bytes: concat(chunks, kept), size, verified: true };
          }
        }
      }
    }
    reader.finish();
    const error = new Error(`the pack has no file ${path}`);
    error.code = 'CTX_NOT_FOUND';
    throw error;
  } finally {
    reader.free?.();
  }
}

export function concat(chunks, length = chunks.reduce((sum, chunk) => sum + chunk.length, 0)) {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
