// The planning threads' log reader (lib/trace/log-reader.mjs): each file's exact bytes through one kept buffer,
// a log larger than the buffer may keep read into one of its own, a missing file CTX_IO (as readFileSync gave).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, tempDir } from './helpers.mjs';

const { KEPT_BYTES, LogReader } = await import(path.join(PACKAGE_DIR, 'lib', 'trace', 'log-reader.mjs'));

test('log reader: each file exactly, in one kept buffer; a log over the kept size in its own; a missing file named', (t) => {
  const folder = tempDir(t);
  const write = (name, text) => {
    fs.writeFileSync(path.join(folder, name), text);
    return path.join(folder, name);
  };
  const reader = new LogReader();
  const large = write('large.json', `{"a": "${'x'.repeat(5000)}"}`);
  const small = write('small.json', '{"b": 1}');
  assert.equal(Buffer.from(reader.read(large)).toString(), fs.readFileSync(large, 'utf8'));
  const kept = reader.buffer;
  assert.equal(Buffer.from(reader.read(small)).toString(), '{"b": 1}');
  assert.equal(reader.buffer, kept, 'a smaller log reuses the buffer');
  const huge = write('huge.json', Buffer.alloc(KEPT_BYTES + 1, 0x20));
  assert.equal(reader.read(huge).length, KEPT_BYTES + 1);
  assert.equal(reader.buffer, kept, 'a log over the kept size is not kept');
  assert.throws(() => reader.read(path.join(folder, 'missing.json')), (error) => {
    assert.equal(error.code, 'CTX_IO');
    assert.match(error.message, /missing\.json/);
    return true;
  });
});
