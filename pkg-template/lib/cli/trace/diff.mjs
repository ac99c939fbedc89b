import { traceDiff } from '../../trace/diff.mjs';
import { REF_DETAILS } from './ref.mjs';

const ANSI = { green: 32, red: 31, yellow: 33 };
const STEP_STYLE = {
  added: { mark: '+', color: 'green' },
  removed: { mark: '-', color: 'red' },
  changed: { mark: '~', color: 'yellow' },
};

export default {
  name: 'trace diff',
  synopsis: 'trace diff <a> <b>',
  summary: 'compare two execution packs; exit 0 same, 1 differ',
  details: `Compares the model and its parameters, the environment and tool versions, the prompts, inputs and
outputs, and the steps, aligned by a sequence alignment (one inserted step is one "added" step;
the steps after it still match). Colour on a terminal (NO_COLOR turns it off).

${REF_DETAILS}`,
  options: {},
  positionals: [2, 2],
  async run({ positionals, home, streams }) {
    const compared = traceDiff(positionals[0], positionals[1], { home });
    const paint = painter(Boolean(streams.stdout.isTTY) && !process.env.NO_COLOR);
    return { text: describe(compared, paint).join('\n'), json: compared, exitCode: compared.differs ? 1 : 0 };
  },
};

function describe(compared, paint) {
  const lines = [`a  ${compared.a}`, `b  ${compared.b}`];
  if (!compared.differs) return [...lines, 'same'];
  for (const field of compared.fields) {
    lines.push(paint('yellow', `~ ${field.path}: ${show(field.before)} -> ${show(field.after)}`));
  }
  const counts = { same: 0, added: 0, removed: 0, changed: 0 };
  for (const step of compared.steps) {
    counts[step.op] += 1;
    const style = STEP_STYLE[step.op];
    if (!style) continue;
    const where = step.op === 'added' ? `b[${step.b}]` : step.op === 'removed' ? `a[${step.a}]` : `a[${step.a}] b[${step.b}]`;
    const fields = step.fields?.length ? `: ${step.fields.join(', ')}` : '';
    lines.push(paint(style.color, `${style.mark} step ${where} ${step.tool}${fields}`));
  }
  lines.push(`steps: ${counts.same} same, ${counts.added} added, ${counts.removed} removed, ${counts.changed} changed`);
  return lines;
}

function show(value) {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

function painter(enabled) {
  return (color, text) => (enabled ? `\u001b[${ANSI[color]}m${text}\u001b[0m` : text);
}
