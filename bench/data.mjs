// Bench data shared by bench/run.mjs and bench/perf.mjs: text that compresses like JSON or source code, random
// files, and the 1 GiB tree both measure.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const MiB = 1024 * 1024;

/** Text-like content that compresses about as well as JSON or source code. */
export function textPool(bytes) {
  const words = Array.from({ length: 4096 }, () => crypto.randomBytes(1 + crypto.randomInt(10)).toString('base64url'));
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const line = `{"id":${size},"text":"${Array.from({ length: 12 }, () => words[crypto.randomInt(words.length)]).join(' ')}","score":${Math.random().toFixed(6)}}\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

export function writeRandomFile(file, bytes) {
  const fd = fs.openSync(file, 'w');
  for (let done = 0; done < bytes; done += 16 * MiB) fs.writeSync(fd, crypto.randomBytes(Math.min(16 * MiB, bytes - done)));
  fs.closeSync(fd);
}

/**
 * 10,000 text files (512 MiB together) in 100 folders, plus one 512 MiB file of random bytes; made once, then
 * `stamp` (a file path) says it is complete.
 */
export function ensureTree(dir, stamp) {
  if (fs.existsSync(stamp)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  const pool = textPool(16 * MiB);
  const fileBytes = Math.floor((512 * MiB) / 10_000);
  for (let i = 0; i < 10_000; i++) {
    const sub = path.join(dir, 'chunks', `d${String(i % 100).padStart(2, '0')}`);
    if (i < 100) fs.mkdirSync(sub, { recursive: true });
    const offset = (i * 7919 * 13) % (pool.length - fileBytes);
    fs.writeFileSync(path.join(sub, `chunk-${i}.jsonl`), pool.subarray(offset, offset + fileBytes));
  }
  writeRandomFile(path.join(dir, 'index.bin'), 512 * MiB);
  fs.writeFileSync(stamp, '');
}
