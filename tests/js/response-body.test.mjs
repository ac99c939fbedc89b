// The Node host's response bodies (registry/response-body.mjs, through http-fetch.mjs) against a loopback
// server: bytes intact and handed on in batches, not piece by piece; a slow server read as it sends, a cut
// connection an error after the bytes that came, a cancelled body closing the response.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_DIR } from './helpers.mjs';

const { createHttpFetch } = await import(path.join(PACKAGE_DIR, 'lib', 'registry', 'http-fetch.mjs'));

const PIECE = 16 * 1024;
const body = crypto.randomBytes(64 * PIECE);
let server;
let base;
const closed = [];

before(async () => {
  server = http.createServer(async (request, response) => {
    response.on('close', () => closed.push(request.url));
    if (request.url === '/slow') {
      response.write(body.subarray(0, PIECE));
      await sleep(1000);
      response.end(body.subarray(PIECE, 2 * PIECE));
    } else if (request.url === '/cut') {
      response.writeHead(200, { 'content-length': String(body.length) });
      response.write(body.subarray(0, PIECE), () => setTimeout(() => response.destroy(), 50));
    } else {
      response.writeHead(200, { 'content-length': String(body.length) });
      for (let offset = 0; offset < body.length; offset += PIECE) response.write(body.subarray(offset, offset + PIECE));
      response.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => server.close(resolve)));

const fetch = createHttpFetch();

test('a body comes intact, in batches: 64 pieces written are read in a few reads, not one each', async () => {
  const response = await fetch(`${base}/whole`);
  const reader = response.body.getReader();
  await sleep(300);
  const chunks = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
  assert.deepEqual(Buffer.concat(chunks), body);
  // The server wrote 64 pieces of 16 KiB; the socket gave them in up to 64 KiB; the reader gets 256 KiB batches.
  assert.ok(chunks.length <= 8, `the body came in ${chunks.length} reads`);
});

test('a slow server is read as it sends: the first bytes do not wait for the rest', async () => {
  const response = await fetch(`${base}/slow`);
  const reader = response.body.getReader();
  const started = Date.now();
  const first = await reader.read();
  assert.ok(Date.now() - started < 800, `the first chunk took ${Date.now() - started} ms`);
  assert.deepEqual(Buffer.from(first.value), body.subarray(0, PIECE));
  const rest = await reader.read();
  assert.deepEqual(Buffer.from(rest.value), body.subarray(PIECE, 2 * PIECE));
  assert.equal((await reader.read()).done, true);
});

test('a connection cut before the end is an error after the bytes that came', async () => {
  const response = await fetch(`${base}/cut`);
  const reader = response.body.getReader();
  const received = [];
  await assert.rejects(async () => {
    for (let next = await reader.read(); !next.done; next = await reader.read()) received.push(next.value);
  });
  assert.deepEqual(Buffer.concat(received), body.subarray(0, PIECE));
});

test('cancelling a body closes the response', async () => {
  const response = await fetch(`${base}/whole?cancel`);
  await response.body.cancel();
  for (let waited = 0; !closed.includes('/whole?cancel') && waited < 2000; waited += 20) await sleep(20);
  assert.ok(closed.includes('/whole?cancel'));
});
