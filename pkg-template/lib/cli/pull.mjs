import { pull } from '../transfer.mjs';
import {
  AUTH_DETAILS,
  REGISTRY_TRANSFER_HELP_LINES,
  REGISTRY_TRANSFER_OPTIONS,
  TRUST_HELP_LINES,
  TRUST_OPTIONS,
  describeTransfer,
  registryTransferFrom,
  trustFrom,
  usageError,
} from './shared.mjs';

const synopsis = 'pull <uri> [--registry <ref>] [-o <dir>]';
const summary = 'download a pack or execution pack into the pantry (verified); a pack optionally into <dir>';
const details = `Every blob is checked against its digest while it streams, the URI is re-derived from the
contract in the manifest, and the whole pack is verified before the pantry records it. A pack the pantry
already holds is not downloaded again.
With --legacy, reads an old Python CtxPack v0 pack (tagged with 12 hex digits) into -o <dir> and prints
what could and could not be verified; it does not go into the pantry.

${AUTH_DETAILS}`;

export default {
  name: 'pull',
  synopsis,
  summary,
  details,
  options: { ...REGISTRY_TRANSFER_OPTIONS, ...TRUST_OPTIONS, output: { type: 'string', short: 'o' }, legacy: { type: 'boolean' } },
  optionLines: [
    REGISTRY_TRANSFER_HELP_LINES,
    '  -o, --output <dir>  also put the outputs in <dir> (absent or empty)',
    '  --legacy            read a Python CtxPack v0 pack into -o <dir>',
    TRUST_HELP_LINES,
  ],
  positionals: [1, 1],
  async run({ values, positionals, home, onProgress, onEvent }) {
    if (values.legacy && values.output === undefined) throw usageError('pull --legacy needs -o <dir>', 'ctxpack pull <uri> --legacy -o out/');
    const result = await pull(positionals[0], {
      ...registryTransferFrom(values),
      ...trustFrom(values),
      output: values.output,
      legacy: values.legacy,
      home,
      onProgress,
      onEvent,
    });
    if (result.legacy) return { text: result.path, note: legacyNote(result), json: result };
    const signed = result.signers ? `; signed by ${result.signers.map((s) => s.keyid).join(', ')}` : '';
    const where = `${signed}${result.path ? `; outputs in ${result.path}` : ''}`;
    return { text: result.uri, note: `pulled: ${describeTransfer(result, 'downloaded')}${where}`, json: result };
  },
};

/** What could and could not be checked, one line each. */
function legacyNote(result) {
  const lines = [`read the Python CtxPack v0 pack ${result.reference} into ${result.path}`];
  for (const check of result.verified) lines.push(`  verified:     ${check}`);
  for (const reason of result.unverified) lines.push(`  not verified: ${reason}`);
  return lines.join('\n');
}
