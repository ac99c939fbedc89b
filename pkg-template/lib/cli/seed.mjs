import { formatBytes, plural } from '../format.mjs';
import { seed } from '../seed.mjs';
import { CONTRACT_HELP_LINES, CONTRACT_OPTIONS } from './shared.mjs';

const synopsis = 'seed <dir> --contract <file>';
const summary = 'pack <dir> under the contract into the pantry and print its URI';
const details = `The pack is byte-reproducible: set SOURCE_DATE_EPOCH to fix its timestamps.
Seeding a URI the pantry already holds changes nothing.`;

export default {
  name: 'seed',
  synopsis,
  summary,
  details,
  options: CONTRACT_OPTIONS,
  optionLines: [CONTRACT_HELP_LINES],
  positionals: [1, 1],
  async run({ values, positionals, home, onProgress, warn }) {
    const result = await seed(positionals[0], {
      contractPath: values.contract,
      followLinks: values['follow-links'],
      cache: !values['no-cache'],
      home,
      onProgress,
      onWarning: warn,
    });
    const note = result.alreadyPresent
      ? 'already in the pantry; nothing changed'
      : `seeded ${plural(result.files, 'file')} (${formatBytes(result.bytes)}), pack ${formatBytes(packBytes(result.layers))}${
          result.layers.length > 1 ? ` in ${result.layers.length} layers` : ''
        }`;
    return { text: result.uri, note, json: result };
  },
};

function packBytes(layers) {
  return layers.reduce((sum, layer) => sum + layer.size, 0);
}
