// A thread of plan-pool.mjs: plans the logs it is sent with the lean core (it has executionPlan and compiles in a
// third of the full core's time) and hands the blobs' memory back to the main thread.
import { parentPort } from 'node:worker_threads';
import * as core from '../core-lean-node.mjs';
import { planLog } from './plan.mjs';

parentPort.on('message', ({ position, log, allowUnknown }) => {
  try {
    const plan = planLog(core, log, allowUnknown);
    parentPort.postMessage({ position, plan }, [plan.manifestBytes.buffer, ...plan.blobs.map((blob) => blob.bytes.buffer)]);
  } catch (error) {
    // The lean core's error class is its own: its fields cross, the main thread makes the package's error again.
    const { code, message, hint, subject, problems } = error ?? {};
    const known = typeof code === 'string' && code.startsWith('CTX_');
    parentPort.postMessage({ position, error: known ? { code, message, hint, subject, problems } : { message: String(error?.stack ?? error) } });
  }
});
