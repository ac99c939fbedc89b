import { push } from '../transfer.mjs';
import { AUTH_DETAILS, REGISTRY_TRANSFER_HELP_LINES, REGISTRY_TRANSFER_OPTIONS, registryTransferFrom, uploadOutput } from './shared.mjs';

const synopsis = 'push <uri> [--registry <ref>]';
const summary = 'upload a pantry pack or execution pack to a registry, tagged ctx-<hex>';
const details = `Blobs the registry already has are skipped and the manifest goes last, so pushing again is
cheap and a half-finished push is never visible. A registry that refuses ctxpack's config type (Quay,
GitLab) gets the fallback form instead, with a warning.

${AUTH_DETAILS}`;

export default {
  name: 'push',
  synopsis,
  summary,
  details,
  options: { ...REGISTRY_TRANSFER_OPTIONS, 'mount-from': { type: 'string' } },
  optionLines: [REGISTRY_TRANSFER_HELP_LINES, '  --mount-from <repo> mount blobs from this repository of the same registry instead of uploading'],
  positionals: [1, 1],
  async run({ values, positionals, home, onProgress, onEvent }) {
    const result = await push(positionals[0], { ...registryTransferFrom(values), mountFrom: values['mount-from'], home, onProgress, onEvent });
    return uploadOutput(result, { done: 'pushed', verb: 'uploaded', registry: result.registry });
  },
};
