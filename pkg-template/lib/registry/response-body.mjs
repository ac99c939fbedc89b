// The body of a node:http response as the WHATWG ReadableStream a `fetch` Response carries, giving the socket's
// own buffers. Readable.toWeb copies every chunk into a new Uint8Array and pauses the socket at 16 KiB queued: a
// pull then allocates each byte twice, and the garbage collector of the main thread works as long as the
// download. Here the socket runs until 1 MiB waits for the reader.
import { finished } from 'node:stream';

/** Bytes held before the socket is paused (the reader is behind). */
const BUFFERED_BYTES = 1024 * 1024;

/** @param {import('node:http').IncomingMessage} incoming */
export function responseBody(incoming) {
  const pending = [];
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
        while (pending.length === 0 && !done) {
          await new Promise((resolve) => {
            wake = resolve;
          });
        }
        if (pending.length > 0) {
          const chunk = pending.shift();
          pendingBytes -= chunk.length;
          if (pendingBytes < BUFFERED_BYTES && !done) incoming.resume();
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
