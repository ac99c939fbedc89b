import { formatBytes, plural } from '../format.mjs';
import { gc } from '../store-ops.mjs';

const synopsis = 'gc';
const summary = 'delete blobs and unpacked copies no pack in the pantry refers to';

export default {
  name: 'gc',
  synopsis,
  summary,
  options: {},
  positionals: [0, 0],
  async run({ home }) {
    const result = await gc({ home });
    return {
      text: `removed ${plural(result.blobsRemoved, 'blob')} (${formatBytes(result.bytesRemoved)}) and ${plural(result.unpackedRemoved, 'unpacked copy', 'unpacked copies')}`,
      json: result,
    };
  },
};
