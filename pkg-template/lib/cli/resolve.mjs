import { resolve } from '../transfer.mjs';
import { AUTH_DETAILS, REGISTRY_HELP_LINES, REGISTRY_OPTIONS, connectionFrom } from './shared.mjs';

const synopsis = 'resolve <uri> [--registry <ref>]';
const summary = 'say whether a pack is in the pantry and in the registry';
const details = `The registry is asked only when one is configured. Not finding the pack is not an error:
the answer says where it is ("found" in --json).

${AUTH_DETAILS}`;

export default {
  name: 'resolve',
  synopsis,
  summary,
  details,
  options: REGISTRY_OPTIONS,
  optionLines: [REGISTRY_HELP_LINES],
  positionals: [1, 1],
  async run({ values, positionals, home, onEvent }) {
    const result = await resolve(positionals[0], { registry: values.registry, ...connectionFrom(values), home, onEvent });
    const lines = [`pantry    ${result.pantry.found ? `yes  ${result.pantry.digest}` : 'no'}`];
    if (result.registry) lines.push(`registry  ${result.registry.found ? `yes  ${result.registry.reference}` : `no   (${result.registry.name})`}`);
    return { text: lines.join('\n'), json: result };
  },
};
