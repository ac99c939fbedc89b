// Writes src/context/o200k/o200k_base.bin: o200k_base's vocabulary (js-tiktoken's ranks), the core's exact token
// counter reads it. Layout, raw deflate (level 9) of: the token count (u32, little-endian), then each token's length
// in bytes (one byte each, rank order; the longest is 128), then every token's bytes, in rank order. Lengths apart
// from bytes compress best (0.99 MB against 1.05 MB interleaved), and the ranks are implicit.
// tests/js/tokens-exact.test.mjs checks the committed file holds what layout() makes.
//
// Usage: node bench/tokens-vocabulary.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import ranks from 'js-tiktoken/ranks/o200k_base';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const VOCABULARY_FILE = path.join(root, 'src', 'context', 'o200k', 'o200k_base.bin');

/** The uncompressed layout. */
export function layout() {
  const tokens = [];
  for (const line of ranks.bpe_ranks.split('\n').filter(Boolean)) {
    const [, offset, ...encoded] = line.split(' ');
    encoded.forEach((token, i) => (tokens[Number(offset) + i] = Buffer.from(token, 'base64')));
  }
  for (let rank = 0; rank < tokens.length; rank++) {
    if (!tokens[rank] || tokens[rank].length === 0 || tokens[rank].length > 255) throw new Error(`rank ${rank}: no token, or too long`);
  }
  const count = Buffer.alloc(4);
  count.writeUInt32LE(tokens.length);
  return Buffer.concat([count, Buffer.from(tokens.map((t) => t.length)), ...tokens]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const raw = layout();
  const packed = zlib.deflateRawSync(raw, { level: 9 });
  fs.writeFileSync(VOCABULARY_FILE, packed);
  console.log(`wrote ${path.relative(root, VOCABULARY_FILE)}: ${raw.readUInt32LE(0)} tokens, ${raw.length} bytes, ${packed.length} deflated`);
}
