import { traceFork } from '../../trace/export.mjs';
import { OUTPUT_HELP_LINES, OUTPUT_OPTIONS } from './export.mjs';
import { REF_DETAILS } from './ref.mjs';

export default {
  name: 'trace fork',
  synopsis: 'trace fork <ref> -o <draft.json>',
  summary: 'write an editable copy with `parent` set, to pack again',
  details: `Edit the draft, then \`ctxpack trace pack <draft.json>\`: the new pack names its parent, and
\`ctxpack trace log --graph\` shows it under the pack it came from.

${REF_DETAILS}`,
  options: OUTPUT_OPTIONS,
  optionLines: OUTPUT_HELP_LINES,
  positionals: [1, 1],
  async run({ values, positionals, home }) {
    const result = traceFork(positionals[0], values.output, { home, force: values.force });
    return { text: result.path, note: `forked ${result.parent}; edit it, then \`ctxpack trace pack ${values.output}\``, json: result };
  },
};
