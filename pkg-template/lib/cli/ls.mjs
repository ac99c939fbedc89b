import { formatBytes } from '../format.mjs';
import { list } from '../pantry-housekeeping.mjs';

const synopsis = 'ls';
const summary = 'list the packs in the pantry';

export default {
  name: 'ls',
  synopsis,
  summary,
  options: {},
  positionals: [0, 0],
  async run({ home }) {
    const packs = list({ home });
    const lines = packs.map((pack) =>
      pack.problem ? `${pack.uri}  DAMAGED: ${pack.problem}` : `${pack.uri}  ${pack.created}  ${formatBytes(pack.size)}`,
    );
    return { text: lines.join('\n'), json: { packs } };
  },
};
