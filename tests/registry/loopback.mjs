// What the loopback servers of the tests share (the registries, the token server and the fault proxy): the set of
// live servers, killed at exit even when a test forgot to close one (or crashed), and listening on 127.0.0.1.

export const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';

/** Every live server of this process, closed at exit even when a test forgot to (or crashed). */
export const live = new Set();
process.once('exit', () => {
  for (const server of live) server.killSync?.();
});

/** Listen on a free port of 127.0.0.1; resolves with the port. */
export async function listenOnLoopback(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server.address().port;
}

export async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
