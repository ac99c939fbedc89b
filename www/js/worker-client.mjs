// The page's side of the worker: one call per operation, progress and the manifest reported as they come.
// Navigating away ends the worker (and so whatever it was reading); the next call starts a fresh one.

let worker;
let nextId = 0;
const pending = new Map();

function start() {
  worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => {
    const call = pending.get(data.id);
    if (!call) return;
    if (data.kind === 'progress') call.onProgress?.(data.progress);
    else if (data.kind === 'manifest') call.onManifest?.(data.manifest, data.info);
    else {
      pending.delete(data.id);
      if (data.kind === 'done') call.resolve(data.result);
      else call.reject(Object.assign(new Error(data.error.message), data.error));
    }
  };
  worker.onerror = (event) => {
    event.preventDefault?.();
    for (const call of pending.values()) call.reject(Object.assign(new Error(event.message || 'the worker failed to start'), { code: 'CTX_INTERNAL' }));
    pending.clear();
  };
}

/** The package's core/ folder: beside www/ (static hosting of the package) or at /core/ (`ctxpack serve`). */
export const coreBase = new URL('../core/', document.baseURI).href;

/**
 * @param {string} op open | readFile | blob | diffExecutions | listLayout
 * @param {object} args (source, path, …); origin and coreBase are added
 * @param {{onProgress?: Function, onManifest?: Function}} [hooks]
 */
export function call(op, args, hooks = {}) {
  if (!worker) start();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, ...hooks });
    worker.postMessage({ id, op, args: { ...args, origin: location.origin, coreBase } });
  });
}

/** Stops the worker and everything it was doing (a new page was opened). */
export function stopAll() {
  if (!worker) return;
  worker.terminate();
  worker = undefined;
  for (const call of pending.values()) call.reject(Object.assign(new Error('cancelled'), { code: 'CTX_CANCELLED', cancelled: true }));
  pending.clear();
}
