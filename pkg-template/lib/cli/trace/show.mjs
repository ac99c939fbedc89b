import { formatBytes } from '../../format.mjs';
import { traceShow } from '../../trace/show.mjs';
import { REF_DETAILS } from './ref.mjs';

export default {
  name: 'trace show',
  synopsis: 'trace show <ref>',
  summary: 'show model, prompts, numbered steps, inputs and outputs',
  details: REF_DETAILS,
  options: {},
  positionals: [1, 1],
  async run({ positionals, home }) {
    const shown = traceShow(positionals[0], { home });
    return { text: describe(shown).join('\n'), json: shown };
  },
};

function describe(shown) {
  const { model, environment } = shown;
  const tools = Object.entries(environment.tool_versions ?? {}).map(([tool, version]) => `${tool} ${version}`);
  const lines = [
    `uri          ${shown.uri}`,
    `created      ${shown.created ?? '(not recorded)'}`,
    ...(shown.parent ? [`parent       ${shown.parent}`] : []),
    `model        ${model.identifier}${model.parameters ? `  ${JSON.stringify(model.parameters)}` : ''}`,
    `environment  ${environment.os}, ${environment.runtime}${tools.length > 0 ? `; ${tools.join(', ')}` : ''}`,
    `system       ${sized(shown.systemPrompt)}`,
  ];
  section(lines, 'prompts', shown.prompts, (prompt) => `${prompt.role.padEnd(10)} ${sized(prompt)}`);
  section(lines, 'inputs', shown.inputs, (input) => `${input.name}  ${formatBytes(input.size)}`);
  const width = String(Math.max(0, shown.steps.length - 1)).length;
  section(lines, 'steps', shown.steps, (step) =>
    [
      String(step.index).padStart(width),
      step.tool,
      step.params,
      step.outputSize === null ? 'no output' : formatBytes(step.outputSize),
      step.deterministic === null ? '' : step.deterministic ? 'deterministic' : 'non-deterministic',
    ].filter(Boolean).join('  '),
  );
  section(lines, 'outputs', shown.outputs, (output) => `${output.name}  ${output.size === null ? 'no content' : `${formatBytes(output.size)}  ${output.digest}`}`);
  return lines;
}

function section(lines, title, items, line) {
  if (items.length === 0) return;
  lines.push(title, ...items.map((item) => `  ${line(item)}`));
}

function sized({ size, preview }) {
  return preview === null ? `${formatBytes(size)} (bytes)` : `${formatBytes(size)}  ${JSON.stringify(preview)}`;
}
