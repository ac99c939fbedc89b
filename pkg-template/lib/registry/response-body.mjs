// The body of a node:http response as the WHATWG ReadableStream a `fetch` Response carries. The socket gives
// 64 KiB at a time, and each chunk handed to the reader crosses the whole download path (the stream, the wasm
// registry client, the store, the verifier): a pull spent more time on those handoffs than on its bytes. So the
// chunks that came are handed on together, as one buffer, once they reach 256 KiB (the socket is paused until
// the reader takes them), or once the first of them has waited a few milliseconds (a slow server is still read
// as it sends). Batches of 512 KiB or 1 MiB saved little more time on the bench pull and raised its peak RSS by
// 20-30 MiB (the main thread's malloc heap grew). Readable.toWeb would copy every chunk too, and pause the socket
// at 16 KiB.
import { finished } from 'node:stream';

/** The bytes handed on at once... */
const BATCH_BYTES = 256 * 1024;
/** ...or fewer, once the first of them has waited this long. */
const BATCH_WAIT_MS = 25;

/** @param {import('node:http').IncomingMessage} incoming */
export function responseBody(incoming) {
  const pending = [];
  let pendingBytes = 0;
  /** The first pending chunk has waited BATCH_WAIT_MS. */
  let due = false;
  let batchTimer = null;
  let done = false;
  let failure;
  let wake = null;
  const wakeReader = () => {
    wake?.();
    wake = null;
  };
  const overdue = () => {
    batchTimer = null;
    due = true;
    wakeReader();
  };
  incoming.on('data', (chunk) => {
    if (pending.length === 0) batchTimer = setTimeout(overdue, BATCH_WAIT_MS);
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= BATCH_BYTES) {
      incoming.pause();
      wakeReader();
    }
  });
  finished(incoming, (error) => {
    done = true;
    failure = error;
    clearTimeout(batchTimer);
    wakeReader();
  });
  /** Everything that came, as one buffer. */
  const takeBatch = () => {
    const batch = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending.length = 0;
    pendingBytes = 0;
    due = false;
    clearTimeout(batchTimer);
    batchTimer = null;
    if (!done) incoming.resume();
    return batch;
  };
  return new ReadableStream(
    {
      async pull(controller) {
        while (!done && !due && pendingBytes < BATCH_BYTES) {
          await new Promise((resolve) => {
            wake = resolve;
          });
        }
        if (pending.length > 0) controller.enqueue(takeBatch());
        else if (failure) controller.error(failure);
        else controller.close();
      },
      cancel() {
        clearTimeout(batchTimer);
        incoming.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
