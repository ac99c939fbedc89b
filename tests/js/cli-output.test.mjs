// The CLI's stdout and stderr without Node's stream objects (lib/cli/output.mjs): text written to the descriptor
// and text written through the stream once a command asked for it come out in order.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PACKAGE_DIR } from './helpers.mjs';

const OUTPUT_MODULE = pathToFileURL(path.join(PACKAGE_DIR, 'lib', 'cli', 'output.mjs')).href;

function runScript(body) {
  const script = `import { ProcessOutput, streamOf } from ${JSON.stringify(OUTPUT_MODULE)};\n${body}`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

test('descriptor writes and stream writes keep their order, on stdout and stderr', () => {
  const result = runScript(`
for (const fd of [1, 2]) {
  const output = new ProcessOutput(fd);
  output.write('one\\n');
  streamOf(output).write('two\\n');
  output.write('three\\n');
}
`);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'one\ntwo\nthree\n');
  assert.equal(result.stderr, 'one\ntwo\nthree\n');
});

test('a pipe is no terminal; any other stream is its own stream', () => {
  const result = runScript(`
const output = new ProcessOutput(1);
const other = { write() {} };
output.write(JSON.stringify({ isTTY: output.isTTY, same: streamOf(other) === other }));
`);
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { isTTY: false, same: true });
});
