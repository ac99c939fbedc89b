import { formatBytes, plural } from '../format.mjs';
import { verify } from '../read.mjs';
import { verifySignatures } from '../sign/index.mjs';
import { LIMIT_HELP_LINES, LIMIT_OPTIONS, limitsFrom } from './shared.mjs';

const synopsis = 'verify <uri|pack.tar.gz> [--trust-key <pub>…]';
const summary = 'check a whole pack: manifest, URI, every file, the tree digest, nothing missing or extra';
const details = `With --trust-key (or --trust-policy), a pantry pack's signatures are checked too: it must carry a valid
signature from one of the trusted keys (CTX_SIGNATURE_REQUIRED, CTX_SIGNATURE_INVALID, CTX_KEY_UNTRUSTED).`;

export default {
  name: 'verify',
  synopsis,
  summary,
  details,
  options: { ...LIMIT_OPTIONS, 'trust-key': { type: 'string', multiple: true }, 'trust-policy': { type: 'string' } },
  optionLines: [
    LIMIT_HELP_LINES,
    '  --trust-key <pub>           require a valid signature from this public key (SPKI PEM); repeatable',
    '  --trust-policy <file>       trust the keys its "pantry" scope names, and require their signature',
  ],
  positionals: [1, 1],
  async run({ values, positionals, home, onProgress }) {
    const result = verify(positionals[0], { home, limits: limitsFrom(values), onProgress });
    const checkSignatures = values['trust-key'] !== undefined || values['trust-policy'] !== undefined;
    const signed = checkSignatures
      ? await verifySignatures(result.uri, { home, trustKeys: values['trust-key'], trustPolicy: values['trust-policy'] })
      : undefined;
    const by = signed ? `; signed by ${signed.signers.map((s) => s.keyid).join(', ')}` : '';
    return {
      text: `ok ${result.uri}: ${plural(result.files, 'file')}, ${formatBytes(result.bytes)} (pack ${formatBytes(result.compressedBytes)}, ${result.layerDigest})${by}`,
      json: { ok: true, ...result, ...(signed ? { signers: signed.signers } : {}) },
    };
  },
};
