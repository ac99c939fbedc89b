// Imported first by each worker thread that runs the core (verify-worker.mjs, layer-worker.mjs,
// trace/plan-worker.mjs): core-node.mjs then instantiates the module the main thread compiled, which the pool
// passes as workerData.coreModule, instead of compiling the core again. No thread decodes the 4 MB core a
// second time, and V8 tiers its hot functions (inflate, deflate, log parsing) up once for every thread.
import { workerData } from 'node:worker_threads';

globalThis[Symbol.for('ctxpack.core.compile')] = Promise.resolve(workerData.coreModule);
