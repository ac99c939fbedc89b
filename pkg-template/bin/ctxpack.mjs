#!/usr/bin/env node
import { main } from '../lib/cli/main.mjs';
import { exitOnSignals } from '../lib/signal-cleanup.mjs';

const args = process.argv.slice(2);
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
process.exitCode = await main(args);
