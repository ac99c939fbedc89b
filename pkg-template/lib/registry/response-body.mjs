// The body of a node:http response as the WHATWG ReadableStream a `fetch` Response carries. Each read gives
// everything that arrived since the last one, in one chunk: a download whose reader is busy (hashing, writing,
// verifying) then takes a few large chunks instead of one per socket read, each of which costs the registry
// client a timer, a promise and a call into wasm. Nothing waits for more bytes than have arrived, so a slow
// registry is read as it sends.
import { finished } from 'node:stream';

/** Bytes held before the socket is paused (the reader is behind): one read then takes them all. */
const BUFFERED_BYTES = 1024 * 1024;

/** @param {import('node:http').IncomingMessage} incoming */
export function responseBody(incoming) {
  let pending = [];
  let pendingBytes = 0;
  let done = false;
  let failure;
  let wake = null;
  const wakeReader = () => {
    wake?.();
    wake = null;
  };
  incoming.on('data', (chunk) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= BUFFERED_BYTES) incoming.pause();
    wakeReader();
  });
  finished(incoming, (error) => {
    done = true;
    failure = error;
    wakeReader();
  });
  return new ReadableStream(
    {
      async pull(controller) {
        while (pendingBytes === 0 && !done) {
          await new Promise((resolve) => {
            wake = resolve;
          });
        }
        if (pendingBytes > 0) {
          const chunk = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
          if (!done) incoming.resume();
          controller.enqueue(chunk);
        } else if (failure) {
          controller.error(failure);
        } else {
          controller.close();
        }
      },
      cancel() {
        incoming.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
