import { formatBytes } from '../format.mjs';
import { exportPack } from '../store-ops.mjs';
import { commandHelp } from './shared.mjs';

const synopsis = 'export <uri> -o <pack.tar.gz>';
const summary = "write a pantry pack's .tar.gz to a file (checked against its digest)";

export default {
  name: 'export',
  synopsis,
  summary,
  options: { output: { type: 'string', short: 'o', required: true }, force: { type: 'boolean' } },
  positionals: [1, 1],
  help: commandHelp({
    synopsis,
    summary,
    optionLines: ['  -o, --output <file>  where to write the pack', '  --force              overwrite an existing file'],
  }),
  async run({ values, positionals, home, onProgress }) {
    const result = exportPack(positionals[0], values.output, { home, force: values.force, onProgress });
    return { text: `exported ${result.uri} to ${result.path} (${formatBytes(result.size)})`, json: result };
  },
};
