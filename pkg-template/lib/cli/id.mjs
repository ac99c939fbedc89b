import { computeIdentity } from '../identity.mjs';
import { CONTRACT_HELP_LINES, CONTRACT_OPTIONS } from './shared.mjs';

const synopsis = 'id --contract <file>';
const summary = "print a contract's ctx:// URI (hashing its inputs) without packing anything";

export default {
  name: 'id',
  synopsis,
  summary,
  options: CONTRACT_OPTIONS,
  optionLines: [CONTRACT_HELP_LINES],
  positionals: [0, 0],
  // Identity needs only the identity core: the CLI compiles no other for `id` (bin/ctxpack.mjs, identity.mjs).
  core: 'id',
  async run({ values, home, onProgress }) {
    const identity = await computeIdentity({
      contractPath: values.contract,
      followLinks: values['follow-links'],
      cache: !values['no-cache'],
      home,
      onProgress,
    });
    return {
      text: identity.uri,
      warnings: identity.warnings,
      json: { uri: identity.uri, contract: identity.contract, warnings: identity.warnings },
    };
  },
};
