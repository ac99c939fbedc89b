import { remove } from '../pantry-housekeeping.mjs';

const synopsis = 'rm <uri>';
const summary = 'remove a pack from the pantry (its blobs go at the next gc)';

export default {
  name: 'rm',
  synopsis,
  summary,
  options: {},
  positionals: [1, 1],
  async run({ positionals, home }) {
    const result = await remove(positionals[0], { home });
    return { text: `removed ${result.uri}`, json: result };
  },
};
