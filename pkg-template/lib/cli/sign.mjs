import { sign } from '../sign/index.mjs';
import { AUTH_DETAILS, CONNECTION_HELP_LINES, CONNECTION_OPTIONS, connectionFrom } from './shared.mjs';

const synopsis = 'sign <uri> --key <pem> [--registry <ref>]';
const summary = 'sign a pantry pack (Ed25519); keep the signature beside it, and push it beside it in a registry';
const details = `The signature is a DSSE envelope over an in-toto statement naming the pack's URI and the digest of its
image manifest (so every byte of the pack), the key id, the time and the provenance. It is stored as an OCI
artifact referring to the pack: in the pantry, and with --registry in that registry (through its referrers API,
or the sha256-<hex> referrers tag), where the pack must already be. \`push\`, \`copy\`, \`export --oci\` and
\`import\` carry signatures along.

${AUTH_DETAILS}`;

export default {
  name: 'sign',
  synopsis,
  summary,
  details,
  options: { key: { type: 'string', required: true }, registry: { type: 'string' }, ...CONNECTION_OPTIONS },
  optionLines: [
    '  --key <pem>        the private key (PKCS#8 PEM, from `ctxpack keygen` or openssl)',
    '  --registry <ref>   also push the signature beside the pack in <host>[:port]/<repository>',
    CONNECTION_HELP_LINES,
  ],
  positionals: [1, 1],
  async run({ values, positionals, home, onEvent }) {
    const result = await sign(positionals[0], { key: values.key, registry: values.registry, ...connectionFrom(values), home, onEvent });
    const where = result.registry ? `; pushed to ${result.registry}` : '';
    return { text: result.signature, note: `signed ${result.uri} with key ${result.keyid}${where}`, json: result };
  },
};
