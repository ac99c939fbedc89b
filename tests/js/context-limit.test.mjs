// A context packet over the core's 16 MiB document limit is refused before it is read, with an error that
// names the limit and the option that keeps packets small (not a YAML syntax hint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cli, tempDir } from './helpers.mjs';

test('a packet over 16 MiB is CTX_LIMIT_EXCEEDED naming the limit and --max-file-bytes', (t) => {
  const dir = tempDir(t);
  const big = path.join(dir, 'big.json');
  const fd = fs.openSync(big, 'w');
  fs.writeSync(fd, '{');
  fs.ftruncateSync(fd, 16 * 1024 * 1024 + 1);
  fs.closeSync(fd);
  for (const command of ['redact', 'validate', 'hash']) {
    const result = cli(['context', command, big, '--json'], { home: path.join(dir, 'home') });
    assert.equal(result.code, 1, result.stderr);
    const { error } = result.json();
    assert.equal(error.code, 'CTX_LIMIT_EXCEEDED', command);
    assert.match(error.message, /16,777,217 bytes; context documents are read up to 16,777,216 bytes/);
    assert.match(error.hint, /--max-file-bytes/);
  }
});
