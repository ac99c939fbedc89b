import { plural } from '../format.mjs';
import { importLayout } from '../import-layout.mjs';
import { CONCURRENCY_HELP_LINES, CONCURRENCY_OPTIONS, concurrencyFrom } from './shared.mjs';

const synopsis = 'import <dir> [<uri>…]';
const summary = 'read the packs and execution packs of an OCI image layout (from `export --oci`) into the pantry';
const details = 'Every pack is verified in full before the pantry records it. Without URIs, all packs of the layout are imported.';

export default {
  name: 'import',
  synopsis,
  summary,
  details,
  options: CONCURRENCY_OPTIONS,
  optionLines: [CONCURRENCY_HELP_LINES],
  positionals: [1, Infinity],
  async run({ values, positionals, home, onProgress }) {
    const [dir, ...uris] = positionals;
    const result = await importLayout(dir, { uris, home, concurrency: concurrencyFrom(values), onProgress });
    const fresh = result.packs.filter((pack) => !pack.alreadyPresent).length;
    return {
      text: result.packs.map((pack) => pack.uri).join('\n'),
      note: `imported ${plural(fresh, 'pack')} from ${result.path}${fresh < result.packs.length ? `, ${result.packs.length - fresh} already in the pantry` : ''}`,
      json: result,
    };
  },
};
