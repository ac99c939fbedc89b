import { formatDuration } from '../format.mjs';
import { run } from '../run.mjs';
import { CONTRACT_HELP_LINES, CONTRACT_OPTIONS, commandHelp, usageError } from './shared.mjs';

const synopsis = 'run --contract <file> -- <command…>';
const summary = 'on a pantry hit put the outputs in place and skip the command; on a miss run it and seed';
const details = `The outputs go to the contract's outputs[0].path (relative to the contract file).
The command runs without a shell; with --json its stdout is sent to stderr.`;

export default {
  name: 'run',
  synopsis,
  summary,
  options: CONTRACT_OPTIONS,
  positionals: [0, 0],
  acceptsCommand: true,
  help: commandHelp({ synopsis, summary, details, optionLines: [CONTRACT_HELP_LINES] }),
  async run({ values, afterTerminator, home, json, onProgress }) {
    if (afterTerminator.length === 0) throw usageError('run needs a command after --', 'ctxpack run --contract c.json -- make all');
    const result = await run({
      contractPath: values.contract,
      followLinks: values['follow-links'],
      command: afterTerminator,
      home,
      // stdout must hold only our JSON document, so the command's output goes to stderr.
      stdio: json ? ['inherit', 2, 'inherit'] : 'inherit',
      onProgress,
    });
    const what = result.hit ? 'hit: outputs restored from the pantry, command skipped' : 'miss: ran the command and seeded its outputs';
    return { note: `${what} in ${formatDuration(result.durationMs)}\n${result.uri}`, json: result };
  },
};
