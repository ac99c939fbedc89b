// The Node host's fetch (registry/http-fetch.mjs) sending a streamed body to a loopback server that reads it
// slowly: every byte arrives, and the many waits for the socket to drain leave no listeners behind (they once
// piled up on the request until Node warned of a leak on every large push).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_DIR } from './helpers.mjs';

const { createHttpFetch } = await import(path.join(PACKAGE_DIR, 'lib', 'registry', 'http-fetch.mjs'));

const PIECE = 64 * 1024;
const payload = crypto.randomBytes(512 * PIECE);
let server;
let base;

before(async () => {
  server = http.createServer(async (request, response) => {
    const hash = crypto.createHash('sha256');
    for await (const chunk of request) {
      hash.update(chunk);
      await sleep(1);
    }
    response.end(hash.digest('hex'));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => server.close(resolve)));

test('a streamed body to a slow reader arrives whole, and waiting for the socket leaves no listener behind', async () => {
  const warnings = [];
  const onWarning = (warning) => warnings.push(warning);
  process.on('warning', onWarning);
  let waits = 0;
  const body = {
    byteLength: payload.length,
    async *[Symbol.asyncIterator]() {
      for (let offset = 0; offset < payload.length; offset += PIECE) {
        const started = Date.now();
        yield payload.subarray(offset, offset + PIECE);
        // The sender asked for the next piece only after a wait: the socket was full.
        if (Date.now() - started >= 1) waits++;
      }
    },
  };
  try {
    const response = await createHttpFetch()(`${base}/upload`, { method: 'PUT', body });
    assert.equal(await response.text(), crypto.createHash('sha256').update(payload).digest('hex'));
    await sleep(50);
  } finally {
    process.off('warning', onWarning);
  }
  assert.ok(waits > 10, `the upload waited for the socket ${waits} times; the test needs more than 10`);
  assert.deepEqual(warnings.map((warning) => warning.name), []);
});
