import { plural } from '../../format.mjs';
import { replayExitCode, traceReplay } from '../../trace/replay.mjs';
import { REF_DETAILS } from './ref.mjs';

export default {
  name: 'trace replay',
  synopsis: 'trace replay <ref> [--cwd <dir>]',
  summary: 're-run the deterministic steps here; exit 0 exact, 2 degraded, 1 failed',
  details: `Each deterministic step is re-run by its tool's runner and its output
compared by digest with the recorded one; other steps are skipped. --cwd sets the directory the runners
work in (default: the current one).

${REF_DETAILS}`,
  options: { cwd: { type: 'string' } },
  optionLines: ['  --cwd <dir>   where the runners read files (default: the current directory)'],
  positionals: [1, 1],
  async run({ values, positionals, home }) {
    const report = await traceReplay(positionals[0], { home, cwd: values.cwd });
    const lines = [
      `${report.uri}  ${report.fidelity} (${plural(report.steps.length, 'step')} replayed, ${report.skipped} skipped)`,
      ...report.steps.map((step) => `  ${String(step.index).padStart(3)}  ${step.tool}  ${step.fidelity}${step.reason ? `: ${step.reason}` : ''}`),
    ];
    return { text: lines.join('\n'), json: report, exitCode: replayExitCode(report.fidelity) };
  },
};
