import { serve } from '../serve.mjs';
import { CONNECTION_HELP_LINES, usageError } from './shared.mjs';

const synopsis = 'serve [--port <n>] [--host <addr>] [--trust-key <pub>…]';
const summary = 'open packs in the browser: the inspector, a registry proxy with your credentials, the pantry';
const details = `Serves the pack inspector and prints its URL; Ctrl-C stops it. Open a pack by deep link
(http://127.0.0.1:<port>/#/<registry host[:port]>/<repository>/ctx-<hex>), from the pantry list, a URL, a
dropped file or an OCI layout folder; every byte is verified in the browser by the same core as the CLI.
Registries are reached through /registry/<host>/v2/…: registries without CORS headers work, and the
credentials \`pull\` would use for a host (Docker config, credential helpers, CTXPACK_USER and CTXPACK_TOKEN
for the registry CTXPACK_REGISTRY names) are added for that host only. The pantry is served read-only.
The pantry's signatures are listed with each pack; --trust-key offers those public keys to the inspector as
trusted (the page also keeps keys the user adds). It listens on 127.0.0.1 unless --host says otherwise: anyone who can reach the port can read what your
credentials open, so another address gets a warning.`;

export default {
  name: 'serve',
  synopsis,
  summary,
  details,
  options: { port: { type: 'string', short: 'p' }, host: { type: 'string' }, timeout: { type: 'string' }, 'ca-file': { type: 'string' }, 'trust-key': { type: 'string', multiple: true } },
  optionLines: [
    '  -p, --port <n>     port to listen on (default 8371; 0 for any free port)',
    '  --host <addr>      address to listen on (default 127.0.0.1, this machine only)',
    '  --trust-key <pub>  a public key (SPKI PEM) the inspector trusts for signatures; repeatable',
    CONNECTION_HELP_LINES.split('\n').filter((line) => !line.includes('--insecure')).join('\n'),
  ],
  positionals: [0, 0],
  async run({ values, home, json, warn, streams }) {
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || values.port.trim() === '')) {
      throw usageError(`--port must be a whole number, got ${JSON.stringify(values.port)}`, 'e.g. --port 8371, or --port 0 for any free port');
    }
    const server = await serve({ port, host: values.host, home, timeout: values.timeout, caFile: values['ca-file'], trustKeys: values['trust-key'] });
    if (!server.loopback) {
      warn(`listening on ${server.host}: anyone who can reach port ${server.port} can use the registry credentials of this user and read the pantry`);
    }
    streams.stdout.write(json ? `${JSON.stringify({ url: server.url, host: server.host, port: server.port })}\n` : `${server.url}\n`);
    if (!json) streams.stderr.write(`ctxpack serve: the inspector at ${server.url} (Ctrl-C stops it)\n`);
    // Ctrl-C is how a server ends: close it and exit 0, before the CLI's interrupt handler reports an error.
    await new Promise(() => {
      for (const signal of ['SIGINT', 'SIGTERM']) {
        process.prependOnceListener(signal, () => {
          server.close();
          if (!json) streams.stderr.write('ctxpack serve: stopped\n');
          process.exit(0);
        });
      }
    });
    return { text: '' };
  },
};
