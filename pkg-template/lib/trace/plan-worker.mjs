// A thread of plan-pool.mjs: plans the logs it is sent and hands the new blobs' memory to the main thread. It runs
// the full core, compiled once by the main thread and shared (worker-core.mjs): the lean core is optimised for
// size and parses a log at about half the speed.
import '../worker-core.mjs';
import { parentPort } from 'node:worker_threads';
import * as core from '../core-node.mjs';
import { LogReader } from './log-reader.mjs';
import { planLog } from './plan.mjs';

/** Digests of the contents the main thread has: the core leaves out their bytes (plan-pool.mjs). */
const known = new Set();
const reader = new LogReader();

parentPort.on('message', ({ position, log, allowUnknown, known: { from, digests } }) => {
  if (from === 0) known.clear();
  for (const digest of digests) known.add(digest);
  try {
    const plan = planLog(core, log, allowUnknown, { reader, known });
    const moved = plan.blobs.filter((blob) => blob.bytes !== undefined).map((blob) => blob.bytes.buffer);
    parentPort.postMessage({ position, plan }, [plan.manifestBytes.buffer, ...moved]);
  } catch (error) {
    // An error's class does not cross threads: its fields do, the main thread makes the package's error again.
    const { code, message, hint, subject, problems } = error ?? {};
    const ours = typeof code === 'string' && code.startsWith('CTX_');
    parentPort.postMessage({ position, error: ours ? { code, message, hint, subject, problems } : { message: String(error?.stack ?? error) } });
  }
});
