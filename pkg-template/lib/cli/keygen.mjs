import { keygen } from '../sign/index.mjs';

const synopsis = 'keygen -o <name>';
const summary = 'make an Ed25519 signing key pair: <name>.pem (private, 0600) and <name>.pub (public)';
const details = `The files are what \`openssl genpkey -algorithm ed25519\` writes (PKCS#8 and SPKI PEM); an existing file is
never overwritten. Sign with the .pem (\`ctxpack sign\`), give the .pub to those who verify (--trust-key).`;

export default {
  name: 'keygen',
  synopsis,
  summary,
  details,
  options: { output: { type: 'string', short: 'o', required: true } },
  optionLines: ['  -o, --output <name>  path of the key pair, without extension'],
  positionals: [0, 0],
  async run({ values }) {
    const result = keygen(values.output);
    return { text: result.keyid, note: `wrote ${result.privateKey} (keep it secret) and ${result.publicKey}`, json: result };
  },
};
