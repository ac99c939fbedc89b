import { formatBytes, plural } from '../format.mjs';
import { inspect } from '../read.mjs';
import { LIMIT_HELP_LINES, LIMIT_OPTIONS, limitsFrom } from './shared.mjs';

const synopsis = 'inspect <uri|pack.tar.gz>';
const summary = "show a pack's contract, outputs summary, provenance and sizes";

export default {
  name: 'inspect',
  synopsis,
  summary,
  details: 'A .tar.gz is read only up to its manifest; use `ctxpack verify` to check the whole pack.',
  options: LIMIT_OPTIONS,
  optionLines: [LIMIT_HELP_LINES],
  positionals: [1, 1],
  async run({ values, positionals, home }) {
    const info = inspect(positionals[0], { home, limits: limitsFrom(values) });
    const { outputs, sizes } = info;
    const lines = [
      `uri         ${info.uri}`,
      `source      ${info.source}`,
      `outputs     ${plural(outputs.files, 'file')}, ${plural(outputs.symlinks, 'symlink')}, ${formatBytes(outputs.bytes)}`,
      `tree        ${outputs.digest}`,
      ...layerLines(info, sizes),
      `manifest    ${formatBytes(sizes.config)}`,
      'provenance',
      ...Object.entries(info.provenance ?? {}).map(([key, value]) => `  ${key.padEnd(18)}${typeof value === 'string' ? value : JSON.stringify(value)}`),
      'contract',
      ...JSON.stringify(info.contract, null, 2).split('\n').map((line) => `  ${line}`),
    ];
    return { text: lines.join('\n'), json: info };
  },
};

/** One line for a single-layer pack (or a .tar.gz); a total and one line per layer for several. */
function layerLines(info, sizes) {
  const digests = info.layerDigests ?? [];
  if (digests.length <= 1) return [`layer       ${formatBytes(sizes.layer)}${info.layerDigest ? ` (${info.layerDigest})` : ''}`];
  return [`layers      ${digests.length}, ${formatBytes(sizes.layer)}`, ...digests.map((digest) => `  ${digest}`)];
}
