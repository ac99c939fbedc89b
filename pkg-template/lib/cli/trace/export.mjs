import { traceExport } from '../../trace/export.mjs';
import { REF_DETAILS } from './ref.mjs';

export const OUTPUT_OPTIONS = { output: { type: 'string', short: 'o', required: true }, force: { type: 'boolean' } };
export const OUTPUT_HELP_LINES = ['  -o, --output <file>  where to write the log (JSON)', '  --force              overwrite an existing file'];

export default {
  name: 'trace export',
  synopsis: 'trace export <ref> -o <log.json>',
  summary: 'write the packed log back, exactly',
  details: REF_DETAILS,
  options: OUTPUT_OPTIONS,
  optionLines: OUTPUT_HELP_LINES,
  positionals: [1, 1],
  async run({ values, positionals, home }) {
    const result = traceExport(positionals[0], values.output, { home, force: values.force });
    return { text: result.path, note: `exported ${result.uri}`, json: result };
  },
};
