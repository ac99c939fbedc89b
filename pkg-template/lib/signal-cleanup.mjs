// What a process must undo if it is stopped half-way: staging folders, `.ingest-*` files, held locks and its
// lease. Each piece of work registers a synchronous cleanup and unregisters it once it finished or undid
// itself. The CLI turns SIGINT and SIGTERM into "run every cleanup, then exit 130 / 143"; a library host keeps
// its own signal handling, and the cleanups still run if the process exits with work unfinished.
const cleanups = new Map();
let nextId = 0;
let exitHookInstalled = false;

/**
 * @param {() => void} cleanup synchronous (it may run inside a signal handler or at exit); errors are ignored
 * @returns {() => void} unregister: call it once the work no longer needs undoing
 */
export function registerCleanup(cleanup) {
  if (!exitHookInstalled) {
    process.once('exit', runCleanups);
    exitHookInstalled = true;
  }
  const id = nextId++;
  cleanups.set(id, cleanup);
  return () => cleanups.delete(id);
}

/** Run and forget every registered cleanup, newest first (a lease outlives the files it owns). */
export function runCleanups() {
  const pending = [...cleanups.values()].reverse();
  cleanups.clear();
  let ran = 0;
  for (const cleanup of pending) {
    try {
      cleanup();
      ran += 1;
    } catch {
      // Best effort: what could not be removed is a leftover that `ctxpack gc` or `fsck --repair` sweeps.
    }
  }
  return ran;
}

/** Exit codes of a process stopped by a signal, as shells report them. */
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 };

/**
 * On SIGINT or SIGTERM: run every cleanup, call `report(signal)` (one line or document for the user), and
 * exit with 130 or 143. The pending operation never resumes, so it reports no error of its own.
 * @param {{report?: (signal: string) => void}} [options]
 */
export function exitOnSignals({ report } = {}) {
  for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES)) {
    process.on(signal, () => {
      runCleanups();
      try {
        report?.(signal);
      } finally {
        process.exit(code);
      }
    });
  }
}

/** Let pending events (a signal among them) run: long synchronous work awaits this between chunks. */
export function yieldToEventLoop() {
  return new Promise((resolve) => setImmediate(resolve));
}
