// The wasm RegistryClient against a real registry: CNCF Distribution (Debian's /usr/bin/docker-registry) on
// 127.0.0.1, anonymous, plus a small proxy in front of it that cuts a blob download or answers 503 once,
// to drive the resume and retry paths. Skipped when the registry binary is not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PACKAGE_DIR, rejectsWithCode, removeAll } from './helpers.mjs';

const REGISTRY_BIN = process.env.CTXPACK_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';
const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (bytes) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
const descriptorOf = (bytes, mediaType = 'application/octet-stream') => ({ mediaType, digest: sha256(bytes), size: bytes.length });
const randomBytes = (n) => new Uint8Array(crypto.randomBytes(n));

function nodeHasher() {
  const hash = crypto.createHash('sha256');
  return { update: (chunk) => hash.update(chunk), digest: () => `sha256:${hash.digest('hex')}` };
}

/** A sink that keeps what it is given (copies: the chunk belongs to the stream). */
function memorySink() {
  const chunks = [];
  return {
    chunks,
    resets: 0,
    write(chunk) {
      chunks.push(Buffer.from(chunk));
    },
    reset() {
      chunks.length = 0;
      this.resets += 1;
    },
    bytes: () => Buffer.concat(chunks),
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url, deadlineMs = 15_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A registry on a free port with its own storage; `close()` stops it and removes the storage. */
async function startRegistry() {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxpack-registry-')));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log: {level: error}',
      `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}"}`,
      '',
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  try {
    await waitFor(`http://127.0.0.1:${port}/v2/`);
  } catch (error) {
    child.kill();
    throw new Error(`registry did not start: ${error.message}\n${stderr}`);
  }
  return {
    host: `127.0.0.1:${port}`,
    ref: (repository) => `127.0.0.1:${port}/${repository}`,
    blobPath: (digest) => path.join(dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7), 'data'),
    close: async () => {
      child.kill();
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
      removeAll(dir);
    },
  };
}

/**
 * A proxy to `target` (host:port) that misbehaves on request: `cutBlobAfter` bytes into the next blob GET
 * it closes the connection; `fail503` times it answers 503 before forwarding.
 */
async function startProxy(target) {
  const faults = { cutBlobAfter: null, fail503: 0, ignoreRange: false };
  const seen = [];
  const server = http.createServer((request, response) => {
    seen.push({ method: request.method, url: request.url, range: request.headers.range });
    if (faults.fail503 > 0) {
      faults.fail503 -= 1;
      response.writeHead(503, { 'Retry-After': '0', 'Content-Type': 'application/json' });
      response.end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      return;
    }
    const headers = { ...request.headers };
    if (faults.ignoreRange) delete headers.range;
    const upstream = http.request({ host: '127.0.0.1', port: target.split(':')[1], method: request.method, path: request.url, headers }, (answer) => {
      const cut = request.method === 'GET' && request.url.includes('/blobs/sha256:') ? faults.cutBlobAfter : null;
      response.writeHead(answer.statusCode, answer.headers);
      if (cut === null) {
        answer.pipe(response);
        return;
      }
      faults.cutBlobAfter = null;
      let sent = 0;
      answer.on('data', (chunk) => {
        if (sent >= cut) return;
        const part = chunk.subarray(0, cut - sent);
        sent += part.length;
        response.write(part, () => {
          if (sent >= cut) response.socket.destroy();
        });
      });
    });
    request.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${server.address().port}`;
  return {
    faults,
    seen,
    ref: (repository) => `${host}/${repository}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('RegistryClient against Distribution', { skip: !fs.existsSync(REGISTRY_BIN) && `${REGISTRY_BIN} is not installed` }, () => {
  let registry;
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.close();
  });

  const client = (repository, options = {}) => new core.RegistryClient({ registry: registry.ref(repository), ...options });

  test('describes the registry it talks to', () => {
    assert.deepEqual(client('acme/packs').registry, { scheme: 'http', host: registry.host, repository: 'acme/packs' });
  });

  test('pushes a blob in one PUT, then finds it there and skips it', async () => {
    const bytes = randomBytes(5000);
    const descriptor = descriptorOf(bytes);
    const c = client('mono');
    assert.equal(await c.blobExists(descriptor), false);
    assert.deepEqual(await c.pushBlob(descriptor, bytes), { uploaded: true, mounted: false });
    assert.equal(await c.blobExists(descriptor), true);
    assert.deepEqual(await c.pushBlob(descriptor, bytes), { uploaded: false, mounted: false });
    await rejectsWithCode(c.blobExists({ ...descriptor, size: 4999 }), 'CTX_SIZE_MISMATCH');
  });

  test('pushes a blob in chunks from a reader, following every Location', async () => {
    const bytes = randomBytes(3500);
    const descriptor = descriptorOf(bytes);
    const reads = [];
    const progress = [];
    const source = {
      read: async (offset, length) => {
        reads.push([offset, length]);
        return bytes.subarray(offset, offset + length);
      },
    };
    const c = client('chunked', { chunkBytes: 1000, monolithicMaxBytes: 1000 });
    const result = await c.pushBlob(descriptor, source, { onBytes: (n) => progress.push(n) });
    assert.deepEqual(result, { uploaded: true, mounted: false });
    assert.deepEqual(reads, [[0, 1000], [1000, 1000], [2000, 1000], [3000, 500]]);
    assert.deepEqual(progress, [1000, 2000, 3000, 3500]);
    const sink = memorySink();
    await c.fetchBlob(descriptor, sink);
    assert.deepEqual(new Uint8Array(sink.bytes()), bytes);
  });

  test('rejects a source that does not match its descriptor', async () => {
    const bytes = randomBytes(100);
    await rejectsWithCode(client('bad-source').pushBlob({ ...descriptorOf(bytes), size: 101 }, bytes), 'CTX_SIZE_MISMATCH');
    const short = { read: () => new Uint8Array(10) };
    await rejectsWithCode(client('bad-source').pushBlob(descriptorOf(bytes), short), 'CTX_SIZE_MISMATCH');
    const other = randomBytes(100);
    await rejectsWithCode(client('bad-source').pushBlob(descriptorOf(bytes), other), 'CTX_REGISTRY_REJECTED');
  });

  test('mounts a blob from another repository of the registry', async () => {
    const bytes = randomBytes(2048);
    const descriptor = descriptorOf(bytes);
    await client('mount/source').pushBlob(descriptor, bytes);
    const events = [];
    const target = client('mount/target', { onEvent: (event) => events.push(event) });
    assert.deepEqual(await target.pushBlob(descriptor, bytes, { mountFrom: 'mount/source' }), { uploaded: false, mounted: true });
    assert.equal(await target.blobExists(descriptor), true);
    assert.deepEqual(events.map((e) => e.kind), ['mount']);
  });

  test('round-trips a manifest by tag and by digest', async () => {
    const c = client('manifests');
    const config = new TextEncoder().encode('{"pack":"config"}');
    const layer = randomBytes(1234);
    const configDescriptor = descriptorOf(config, 'application/vnd.ctxpack.manifest.v1+json');
    const layerDescriptor = descriptorOf(layer, 'application/vnd.oci.image.layer.v1.tar+gzip');
    await c.pushBlob(configDescriptor, config);
    await c.pushBlob(layerDescriptor, layer);
    const manifest = new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: [layerDescriptor] }),
    );
    const { digest } = await c.pushManifest('v1', manifest, OCI_MANIFEST);
    assert.equal(digest, sha256(manifest));

    for (const reference of ['v1', digest]) {
      const fetched = await c.fetchManifest(reference);
      assert.deepEqual(fetched.bytes, manifest);
      assert.equal(fetched.digest, digest);
      assert.equal(fetched.size, manifest.length);
      assert.equal(fetched.mediaType, OCI_MANIFEST);
    }
    assert.deepEqual(await c.headManifest('v1'), { digest, size: manifest.length, mediaType: OCI_MANIFEST });
    assert.equal(await c.headManifest('v2'), null);
    assert.equal((await c.fetchManifest('v1', { accept: [OCI_MANIFEST] })).digest, digest);
    await rejectsWithCode(client('manifests', { maxManifestBytes: 10 }).fetchManifest('v1'), 'CTX_LIMIT_EXCEEDED');
    await rejectsWithCode(c.pushManifest(sha256(config), manifest, OCI_MANIFEST), 'CTX_DIGEST_MISMATCH');
    const dangling = new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf(randomBytes(3)), layers: [] }),
    );
    const rejected = await rejectsWithCode(c.pushManifest('v3', dangling, OCI_MANIFEST), 'CTX_REGISTRY_REJECTED');
    assert.match(rejected.message, /MANIFEST_BLOB_UNKNOWN/);
  });

  test('streams a blob into a sink through the host hasher', async () => {
    const bytes = randomBytes(300_000);
    const descriptor = descriptorOf(bytes);
    await client('stream').pushBlob(descriptor, bytes);
    let hashers = 0;
    const c = client('stream', {
      createHasher: () => {
        hashers += 1;
        return nodeHasher();
      },
    });
    const sink = memorySink();
    let last = 0;
    await c.fetchBlob(descriptor, sink, { onBytes: (n) => (last = n) });
    assert.equal(hashers, 1);
    assert.equal(last, bytes.length);
    assert.equal(sha256(sink.bytes()), descriptor.digest);
    // Async sinks are awaited.
    const written = [];
    await c.fetchBlob(descriptor, { write: async (chunk) => written.push(Buffer.from(chunk)), reset: async () => {} });
    assert.equal(sha256(Buffer.concat(written)), descriptor.digest);
  });

  test('detects corrupt content and wrong descriptors', async () => {
    const bytes = randomBytes(4096);
    const descriptor = descriptorOf(bytes);
    const c = client('corrupt');
    await c.pushBlob(descriptor, bytes);
    await rejectsWithCode(c.fetchBlob({ ...descriptor, size: 4000 }, memorySink()), 'CTX_SIZE_MISMATCH');
    const tampered = Buffer.from(bytes);
    tampered[100] ^= 0xff;
    fs.writeFileSync(registry.blobPath(descriptor.digest), tampered);
    for (const options of [{}, { createHasher: nodeHasher }]) {
      const error = await rejectsWithCode(client('corrupt', options).fetchBlob(descriptor, memorySink()), 'CTX_DIGEST_MISMATCH');
      assert.equal(error.subject, `blob ${descriptor.digest}`);
    }
  });

  test('reports what is missing as CTX_NOT_FOUND', async () => {
    const c = client('missing');
    const error = await rejectsWithCode(c.fetchManifest('nope'), 'CTX_NOT_FOUND');
    assert.match(error.message, /MANIFEST_UNKNOWN|NAME_UNKNOWN/);
    await rejectsWithCode(c.fetchBlob(descriptorOf(randomBytes(8)), memorySink()), 'CTX_NOT_FOUND');
  });

  test('resumes a cut download with Range, or starts over when the registry ignores it', async () => {
    const bytes = randomBytes(200_000);
    const descriptor = descriptorOf(bytes);
    await client('resume').pushBlob(descriptor, bytes);
    const proxy = await startProxy(registry.host);
    try {
      const events = [];
      const c = new core.RegistryClient({ registry: proxy.ref('resume'), createHasher: nodeHasher, onEvent: (e) => events.push(e) });
      proxy.faults.cutBlobAfter = 70_000;
      const sink = memorySink();
      await c.fetchBlob(descriptor, sink);
      assert.equal(sha256(sink.bytes()), descriptor.digest);
      assert.equal(sink.resets, 0);
      const ranges = proxy.seen.filter((r) => r.method === 'GET').map((r) => r.range);
      assert.deepEqual(ranges, [undefined, 'bytes=70000-']);
      assert.deepEqual(events.map((e) => e.kind), ['resume']);

      proxy.faults.cutBlobAfter = 50_000;
      proxy.faults.ignoreRange = true;
      const restarted = memorySink();
      await new core.RegistryClient({ registry: proxy.ref('resume') }).fetchBlob(descriptor, restarted);
      assert.equal(restarted.resets, 1);
      assert.equal(sha256(restarted.bytes()), descriptor.digest);
    } finally {
      await proxy.close();
    }
  });

  test('retries 503 answers, then gives up with CTX_REGISTRY_UNAVAILABLE', async () => {
    const proxy = await startProxy(registry.host);
    try {
      const events = [];
      const retry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
      const c = new core.RegistryClient({ registry: proxy.ref('retry'), retry, onEvent: (e) => events.push(e) });
      proxy.faults.fail503 = 2;
      assert.equal(await c.headManifest('absent'), null);
      assert.deepEqual(events.map((e) => e.kind), ['retry', 'retry']);
      proxy.faults.fail503 = 3;
      const error = await rejectsWithCode(c.headManifest('absent'), 'CTX_REGISTRY_UNAVAILABLE');
      assert.match(error.message, /after 3 attempts/);
    } finally {
      await proxy.close();
    }
  });
});

test('refuses plain http to a host that is not loopback', () => {
  assert.throws(() => new core.RegistryClient({ registry: 'http://registry.example.com/packs' }), (error) => {
    assert.equal(error.name, 'CtxpackError');
    assert.equal(error.code, 'CTX_REGISTRY_INSECURE');
    return true;
  });
  const allowed = new core.RegistryClient({ registry: 'http://registry.example.com/packs', insecure: true });
  assert.equal(allowed.registry.scheme, 'http');
  assert.throws(() => new core.RegistryClient({ registry: 'ghcr.io/Acme' }), { code: 'CTX_REGISTRY_INVALID' });
});

test('reports an unreachable registry after retrying', async () => {
  const port = await freePort();
  const events = [];
  const c = new core.RegistryClient({
    registry: `127.0.0.1:${port}/packs`,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    onEvent: (event) => events.push(event),
  });
  const error = await rejectsWithCode(c.headManifest('x'), 'CTX_REGISTRY_UNREACHABLE');
  assert.match(error.message, /ECONNREFUSED/);
  assert.deepEqual(events.map((e) => e.kind), ['retry']);
});
