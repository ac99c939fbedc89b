import { push } from '../transfer.mjs';
import {
  AUTH_DETAILS,
  CONCURRENCY_HELP_LINES,
  CONCURRENCY_OPTIONS,
  REGISTRY_HELP_LINES,
  REGISTRY_OPTIONS,
  commandHelp,
  concurrencyFrom,
  describeTransfer,
  fallbackWarning,
} from './shared.mjs';

const synopsis = 'push <uri> [--registry <ref>]';
const summary = 'upload a pantry pack to a registry, tagged ctx-<hex>';
const details = `Blobs the registry already has are skipped and the manifest goes last, so pushing again is
cheap and a half-finished push is never visible. A registry that refuses ctxpack's config type (Quay,
GitLab) gets the fallback form instead, with a warning.

${AUTH_DETAILS}`;

export default {
  name: 'push',
  synopsis,
  summary,
  options: { ...REGISTRY_OPTIONS, ...CONCURRENCY_OPTIONS, 'mount-from': { type: 'string' } },
  positionals: [1, 1],
  help: commandHelp({
    synopsis,
    summary,
    details,
    optionLines: [REGISTRY_HELP_LINES, CONCURRENCY_HELP_LINES, '  --mount-from <repo> mount blobs from this repository of the same registry instead of uploading'],
  }),
  async run({ values, positionals, home, onProgress, onEvent }) {
    const result = await push(positionals[0], {
      registry: values.registry,
      insecure: values.insecure,
      concurrency: concurrencyFrom(values),
      mountFrom: values['mount-from'],
      home,
      onProgress,
      onEvent,
    });
    return {
      text: result.reference,
      note: `pushed: ${describeTransfer(result, 'uploaded')}`,
      warnings: fallbackWarning(result, result.registry),
      json: result,
    };
  },
};
