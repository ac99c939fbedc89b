import { formatBytes, plural } from '../format.mjs';
import { unpack } from '../read.mjs';
import { materialize } from '../unpacked.mjs';
import { LIMIT_HELP_LINES, LIMIT_OPTIONS, limitsFrom, usageError } from './shared.mjs';

const synopsis = 'unpack <pack.tar.gz|uri> -o <dir>';
const summary = 'verify a pack and extract its outputs into <dir> (absent or empty)';
const details = `Nothing is written outside <dir>, and <dir> appears only once the whole pack verified.
For a URI without -o, prints the pantry's read-only unpacked copy instead (created on first use).`;

export default {
  name: 'unpack',
  synopsis,
  summary,
  details,
  options: { output: { type: 'string', short: 'o' }, 'full-check': { type: 'boolean' }, ...LIMIT_OPTIONS },
  optionLines: [
    '  -o, --output <dir>  where to extract',
    "  --full-check        without -o: re-hash the pantry's copy instead of comparing file stats",
    LIMIT_HELP_LINES,
  ],
  positionals: [1, 1],
  async run({ values, positionals, home, onProgress }) {
    const [ref] = positionals;
    const limits = limitsFrom(values);
    if (values.output === undefined) {
      if (!ref.startsWith('ctx:')) {
        throw usageError('unpacking a .tar.gz needs -o <dir>', 'ctxpack unpack pack.tar.gz -o out');
      }
      const copy = await materialize(ref, { home, limits, fullCheck: values['full-check'], onProgress });
      return { text: copy.path, json: { uri: copy.uri, path: copy.path, reused: copy.reused } };
    }
    const result = await unpack(ref, values.output, { home, limits, onProgress });
    return { text: `unpacked ${result.uri} to ${result.path}: ${plural(result.files, 'file')}, ${formatBytes(result.bytes)}`, json: result };
  },
};
