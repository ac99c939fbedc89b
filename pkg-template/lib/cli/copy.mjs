import { copy } from '../transfer.mjs';
import {
  AUTH_DETAILS,
  CONCURRENCY_HELP_LINES,
  CONCURRENCY_OPTIONS,
  CONNECTION_HELP_LINES,
  CONNECTION_OPTIONS,
  TRUST_HELP_LINES,
  TRUST_OPTIONS,
  concurrencyFrom,
  connectionFrom,
  trustFrom,
  uploadOutput,
} from './shared.mjs';

const synopsis = 'copy <uri> --from <ref> --to <ref>';
const summary = 'copy a pack between registries or repositories, without the pantry';
const details = `Blobs are checked against their digests on the way; those the target has are skipped. The pack's
signatures are copied with it.

${AUTH_DETAILS} With two registries, CTXPACK_USER/CTXPACK_TOKEN go only to the one CTXPACK_REGISTRY names.`;

export default {
  name: 'copy',
  synopsis,
  summary,
  details,
  options: {
    from: { type: 'string', required: true },
    to: { type: 'string', required: true },
    ...CONNECTION_OPTIONS,
    'mount-from': { type: 'string' },
    ...CONCURRENCY_OPTIONS,
    ...TRUST_OPTIONS,
  },
  optionLines: [
    '  --from <ref>        source <host>[:port]/<repository>',
    '  --to <ref>          target <host>[:port]/<repository>',
    '  --mount-from <repo> mount blobs from this repository of the target registry',
    CONNECTION_HELP_LINES,
    CONCURRENCY_HELP_LINES,
    TRUST_HELP_LINES,
  ],
  positionals: [1, 1],
  async run({ values, positionals, onProgress, onEvent }) {
    const result = await copy(positionals[0], {
      from: values.from,
      to: values.to,
      ...connectionFrom(values),
      mountFrom: values['mount-from'],
      concurrency: concurrencyFrom(values),
      ...trustFrom(values),
      onProgress,
      onEvent,
    });
    return uploadOutput(result, { done: 'copied', verb: 'copied', registry: result.to });
  },
};
