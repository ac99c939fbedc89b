#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { exitOnSignals } from '../lib/signal-cleanup.mjs';

const args = process.argv.slice(2);
// Every command but the version and help ones uses the wasm core: compile it on V8's background threads while
// the command's modules load (lib/core-node.mjs picks the compile up).
if (!['--version', '-V', 'version', 'help', '--help', '-h', undefined].includes(args[0])) {
  const compile = WebAssembly.compile(readFileSync(new URL('../core/ctxpack_core_bg.wasm', import.meta.url)));
  compile.catch(() => {}); // a failure is reported where the core is loaded
  globalThis[Symbol.for('ctxpack.core.compile')] = compile;
}
// Ctrl-C or SIGTERM: the command's staging folders, .ingest-* files, locks and lease are removed, then exit
// 130 / 143 with the error reported like any other (one JSON document on stdout with --json).
exitOnSignals({
  report(signal) {
    const error = {
      code: 'CTX_INTERRUPTED',
      message: `interrupted by ${signal}; the command's temporary files were removed`,
      hint: 'run the command again; nothing half-written was recorded',
    };
    const terminator = args.indexOf('--');
    if ((terminator === -1 ? args : args.slice(0, terminator)).includes('--json')) {
      process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
    } else {
      process.stderr.write(`\nerror[${error.code}]: ${error.message}\n  hint: ${error.hint}\n`);
    }
  },
});
const { main } = await import('../lib/cli/main.mjs');
process.exitCode = await main(args);
