import { formatBytes, plural } from '../format.mjs';
import { gc } from '../pantry-housekeeping.mjs';

const synopsis = 'gc';
const summary = 'delete blobs and unpacked copies no pack in the pantry refers to, and what stopped commands left';
const details = `Blobs that a running seed, pull, import, copy or trace pack has written or relies on are kept: that
command holds a lease (<home>/leases/). Files left by a command that was interrupted or killed (.ingest-*,
staging folders, temp files, its lease and locks) are removed at once.`;

export default {
  name: 'gc',
  synopsis,
  summary,
  details,
  options: {},
  positionals: [0, 0],
  async run({ home }) {
    const result = await gc({ home });
    const leftovers = result.leftoversRemoved > 0 ? `, and ${plural(result.leftoversRemoved, 'leftover')} of stopped commands` : '';
    return {
      text: `removed ${plural(result.blobsRemoved, 'blob')} and ${plural(result.unpackedRemoved, 'unpacked copy', 'unpacked copies')}${leftovers} (${formatBytes(result.bytesRemoved)})`,
      json: result,
    };
  },
};
