#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { exitOnSignals } from '../lib/signal-cleanup.mjs';

const args = process.argv.slice(2);
/** V8's --wasm-tiering-budget for the CLI (default 1,800,000; see below). */
const WASM_TIERING_BUDGET = 600_000_000;
// The wasm core a command uses is compiled on V8's background threads while the command's modules load (lib/core-
// node.mjs and lib/core-id-node.mjs pick the compile up): `id` needs only the identity core (the least wasm),
// `version` and help none, every other command the full core. Node 20's V8 compiles wasm functions lazily, at
// their first call on this thread: what runs in the background is decoding and validation, which grows with the
// module's size (for the identity core about half the lean core's time). Compiling eagerly
// (--no-wasm-lazy-compilation) makes `id` wait for all of the core's functions: slower.
const command = commandOf(args);
if (!['version', 'help', undefined].includes(command)) {
  const identity = command === 'id';
  const bytes = readFileSync(new URL(identity ? '../core/id/ctxpack_core_bg.wasm' : '../core/ctxpack_core_bg.wasm', import.meta.url));
  // V8's default tier-up budget sends the full core's largest functions (policy, schema and YAML readers that run
  // once) to TurboFan after a few calls: ~1 s of background compile a short command then waits for at exit, on a
  // 2-core machine a core's worth taken from the work. With a budget 333 times larger the hot loops (detection,
  // inflate, hashing) still reach TurboFan early: a 750 MB verify takes the same CPU, a 54 MB redact 15 % less
  // than at 33 times. V8 flags are process-wide: the CLI sets it, the library (inside a user's process) does not.
  // The identity core (`id`) does not reach TurboFan.
  const compile = identity ? WebAssembly.compile(bytes) : import('node:v8').then((v8) => {
    v8.setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
    return WebAssembly.compile(bytes);
  });
  compile.catch(() => {}); // a failure is reported where the core is loaded
  globalThis[Symbol.for(identity ? 'ctxpack.core.id.compile' : 'ctxpack.core.compile')] = compile;
}
// Ctrl-C or SIGTERM: the command's staging folders, .ingest-* files, locks and lease are removed, then exit
// 130 / 143 with the error reported like any other (one JSON document on stdout with --json).
exitOnSignals({
  report(signal) {
    reportError({
      code: 'CTX_INTERRUPTED',
      message: `interrupted by ${signal}; the command's temporary files were removed`,
      hint: 'run the command again; nothing half-written was recorded',
    });
  },
});
// No top-level await: the package's bin is this module bundled as CommonJS with what start-up needs
// (bin/ctxpack.cjs, scripts/bundle-cli.mjs), and the command chunks it requires require it in turn.
let finished = false;
import('../lib/cli/main.mjs')
  .then(({ main }) => main(args))
  .then((code) => {
    finished = true;
    process.exitCode = code;
  });
// A command whose promises all wait on one another leaves Node nothing to run, and Node then exits with status 0
// and no output, as if it had succeeded: say it stalled, and fail (the temporary files' cleanups run on exit).
// 'beforeExit' comes only when nothing is left to run, not on process.exit (serve's Ctrl-C).
process.on('beforeExit', () => {
  if (finished) return;
  finished = true;
  reportError({
    code: 'CTX_INTERNAL',
    message: 'the command stalled before it finished (its work was left waiting on itself); its temporary files were removed',
    hint: 'this is a bug in ctxpack; please report it with the command line',
  });
  process.exitCode = 1;
});

/** An error the CLI could not report through main(): as main() reports them. */
function reportError(error) {
  const terminator = args.indexOf('--');
  if ((terminator === -1 ? args : args.slice(0, terminator)).includes('--json')) {
    process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
  } else {
    process.stderr.write(`\nerror[${error.code}]: ${error.message}\n  hint: ${error.hint}\n`);
  }
}

/** The command word: the first argument that is neither an option nor --home's value; `--version` is `version`. */
function commandOf(words) {
  for (let at = 0; at < words.length; at++) {
    const word = words[at];
    if (word === '--version' || word === '-V') return 'version';
    if (word === '--home') at += 1;
    else if (word === '--') return undefined;
    else if (!word.startsWith('-')) return word;
  }
  return undefined;
}
