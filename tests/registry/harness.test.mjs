// The registry harness itself: a test process that dies of an uncaught exception, before it could close its
// registry, leaves no registry behind (its exit hook kills the registry with its watchdog).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';

const HARNESS = new URL('./harness.mjs', import.meta.url).href;

/** Whether something still accepts connections on the port of 127.0.0.1. */
function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('a test process that throws before closing its registry leaves no registry running', async () => {
  const script = `
    const { startRegistry } = await import(${JSON.stringify(HARNESS)});
    const registry = await startRegistry({ auth: 'none' });
    console.log(registry.port);
    setImmediate(() => { throw new Error('the test failed before close()'); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => (stdout += data));
  child.stderr.on('data', (data) => (stderr += data));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /the test failed before close\(\)/);
  const port = Number(stdout.trim());
  assert.ok(port > 0, stdout);
  // The kill is synchronous, but the kernel may take a moment to release the socket.
  let open = true;
  for (let tries = 0; open && tries < 20; tries++) {
    open = await listening(port);
    if (open) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(open, false, `a registry still listens on 127.0.0.1:${port}`);
});
