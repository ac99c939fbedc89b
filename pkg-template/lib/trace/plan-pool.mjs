// Plans of a batch of execution logs, in log order. A batch of a few logs is planned on the main thread; a larger
// one on worker threads (plan-worker.mjs), one per core, while the main thread stores what they planned. The
// workers run at most AHEAD logs ahead of the consumer, so memory holds a few logs' blobs, not the batch's; idle
// workers are kept for the next batch. A plan carries the bytes only of contents the consumer does not have yet
// (`known`): in a fleet's logs most contents repeat, and each log's copies of them, made only to be dropped, kept
// the workers' malloc arenas full (~50 MB each) until a GC got to them.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import * as core from '../core-node.mjs';
import { CtxpackError } from '../errors.mjs';
import { planLog } from './plan.mjs';

/** Below this many logs, starting workers (each instantiates the core) costs more than it saves. */
export const WORKERS_FROM_LOGS = 8;
/** How far the workers may run ahead of the consumer, in logs. */
const AHEAD = 4;

/**
 * The plans of `logs`, in order; a log that fails its checks throws when its turn comes (named by its path).
 * @param {Array<string | object>} logs
 * @param {boolean} allowUnknown
 * @param {string[]} [known] digests of the contents the consumer has (stored, or held to store), appended to as
 *   it learns them: a plan from a worker leaves out those blobs' `bytes`. Plans made on this thread have them all.
 * @returns {AsyncGenerator<ReturnType<typeof planLog>>}
 */
export async function* planLogs(logs, allowUnknown, known = []) {
  const threads = logs.length < WORKERS_FROM_LOGS ? 1 : Math.min(os.availableParallelism(), logs.length);
  if (threads < 2) {
    for (const log of logs) {
      let plan;
      try {
        plan = planLog(core, log, allowUnknown);
      } catch (error) {
        throw named(error, log);
      }
      yield plan;
    }
    return;
  }
  const pool = new PlanPool(logs, allowUnknown, threads, known);
  try {
    for (let position = 0; position < logs.length; position += 1) yield await pool.take(position);
  } finally {
    await pool.close();
  }
}

/**
 * Planning threads kept between calls, unreferenced (they never keep the process alive): a caller packing batch
 * after batch starts each thread once, not once per call.
 */
const spare = [];

class PlanPool {
  constructor(logs, allowUnknown, threads, known) {
    this.logs = logs;
    this.allowUnknown = allowUnknown;
    this.known = known;
    this.next = 0;
    this.taken = 0;
    this.done = new Map();
    this.waiting = undefined;
    this.workers = Array.from({ length: threads }, () => {
      const worker = spare.pop() ?? startWorker();
      worker.removeAllListeners();
      worker.ref();
      worker.outstanding = 0;
      worker.told = 0; // how many of `known` the worker has been sent
      worker.on('message', (message) => this.receive(worker, message));
      worker.on('error', (error) => this.lost(error));
      worker.on('exit', (code) => this.lost(new Error(`a planning thread exited with code ${code}`)));
      return worker;
    });
    for (const worker of this.workers) this.send(worker);
  }

  send(worker) {
    if (this.next >= this.logs.length || this.next >= this.taken + AHEAD) {
      worker.idle = true;
      return;
    }
    worker.idle = false;
    worker.outstanding += 1;
    const position = this.next++;
    const log = this.logs[position];
    // `from` 0 starts the worker's known digests afresh: a spare worker's are another call's.
    const known = { from: worker.told, digests: this.known.slice(worker.told) };
    worker.told = this.known.length;
    worker.postMessage({ position, log: typeof log === 'string' ? log : JSON.stringify(log), allowUnknown: this.allowUnknown, known });
  }

  receive(worker, { position, plan, error }) {
    worker.outstanding -= 1;
    this.done.set(position, { plan, error });
    this.send(worker);
    this.wake();
  }

  lost(error) {
    if (this.closing) return;
    this.failure = new CtxpackError('CTX_INVALID_STATE', `planning logs failed: ${error.message}`);
    this.wake();
  }

  wake() {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  async take(position) {
    while (!this.done.has(position)) {
      if (this.failure) throw this.failure;
      await new Promise((resolve) => (this.waiting = resolve));
    }
    const { plan, error } = this.done.get(position);
    this.done.delete(position);
    this.taken = position + 1;
    for (const worker of this.workers) if (worker.idle) this.send(worker);
    if (error) throw named(rebuilt(error), this.logs[position]);
    return plan;
  }

  /** Idle threads are kept for the next batch; one still busy (the consumer stopped early) or broken ends. */
  async close() {
    this.closing = true;
    const ending = [];
    for (const worker of this.workers) {
      worker.removeAllListeners();
      if (this.failure || worker.outstanding > 0 || spare.length >= os.availableParallelism()) {
        ending.push(worker.terminate());
        continue;
      }
      worker.unref();
      worker.on('error', () => {});
      worker.once('exit', () => {
        const at = spare.indexOf(worker);
        if (at >= 0) spare.splice(at, 1);
      });
      spare.push(worker);
    }
    await Promise.all(ending);
  }
}

/**
 * A planning thread. It runs only this package's code, so it takes none of the host process's Node options
 * (inherited by default): `--input-type` or `-e` made every thread fail at start, and a host's `--import` hooks
 * would run again in each thread. (V8 flags are the process's, whatever a thread is given.)
 */
function startWorker() {
  return new Worker(new URL('./plan-worker.mjs', import.meta.url), { workerData: { coreModule: core.coreModule }, execArgv: [] });
}

/** An error a worker reported, as the package's own error class. */
function rebuilt({ code, message, hint, subject, problems }) {
  if (code === undefined) return new CtxpackError('CTX_INVALID_STATE', message);
  const error = new CtxpackError(code, message, { hint, subject });
  if (problems !== undefined) error.problems = problems;
  return error;
}

/** An error of a log given by path, naming the path. */
function named(error, log) {
  if (typeof log === 'string' && error instanceof CtxpackError) {
    error.subject ??= log;
    if (!error.message.startsWith(`${log}: `)) error.message = `${log}: ${error.message}`;
  }
  return error;
}
