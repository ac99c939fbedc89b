// A thread of plan-pool.mjs: plans the logs it is sent and hands the blobs' memory back to the main thread. It runs
// the full core, compiled once by the main thread and shared: the lean core is optimised for size and parses a log
// at about half the speed.
import { parentPort, workerData } from 'node:worker_threads';
import { planLog } from './plan.mjs';

globalThis[Symbol.for('ctxpack.core.compile')] = Promise.resolve(workerData.coreModule);
const core = await import('../core-node.mjs');

parentPort.on('message', ({ position, log, allowUnknown }) => {
  try {
    const plan = planLog(core, log, allowUnknown);
    parentPort.postMessage({ position, plan }, [plan.manifestBytes.buffer, ...plan.blobs.map((blob) => blob.bytes.buffer)]);
  } catch (error) {
    // An error's class does not cross threads: its fields do, the main thread makes the package's error again.
    const { code, message, hint, subject, problems } = error ?? {};
    const known = typeof code === 'string' && code.startsWith('CTX_');
    parentPort.postMessage({ position, error: known ? { code, message, hint, subject, problems } : { message: String(error?.stack ?? error) } });
  }
});
