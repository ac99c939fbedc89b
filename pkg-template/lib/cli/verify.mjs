import { formatBytes, plural } from '../format.mjs';
import { verify } from '../read.mjs';
import { LIMIT_HELP_LINES, LIMIT_OPTIONS, limitsFrom } from './shared.mjs';

const synopsis = 'verify <uri|pack.tar.gz>';
const summary = 'check a whole pack: manifest, URI, every file, the tree digest, nothing missing or extra';

export default {
  name: 'verify',
  synopsis,
  summary,
  options: LIMIT_OPTIONS,
  optionLines: [LIMIT_HELP_LINES],
  positionals: [1, 1],
  async run({ values, positionals, home, onProgress }) {
    const result = verify(positionals[0], { home, limits: limitsFrom(values), onProgress });
    return {
      text: `ok ${result.uri}: ${plural(result.files, 'file')}, ${formatBytes(result.bytes)} (pack ${formatBytes(result.compressedBytes)}, ${result.layerDigest})`,
      json: { ok: true, ...result },
    };
  },
};
