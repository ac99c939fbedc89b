import { login } from '../registry/login.mjs';
import { ask, readAll } from './prompt.mjs';
import { CONNECTION_HELP_LINES, CONNECTION_OPTIONS, connectionFrom, usageError } from './shared.mjs';

const synopsis = 'login <registry> [-u <user>] [--password-stdin]';
const summary = 'check credentials against a registry and store them the way `docker login` does';
const details = `<registry> is <host>[:port] (a repository after it is ignored). The credentials are checked with the
registry first (GET /v2/, as docker login does); nothing is stored when it refuses them. They go to the credential
helper the Docker config names (credHelpers, credsStore), else to "auths" in $DOCKER_CONFIG/config.json or
~/.docker/config.json (mode 0600, base64: not encrypted, so a warning says so). Docker Hub's key is
https://index.docker.io/v1/. The password is never shown or logged. \`ctxpack logout <registry>\` removes them.`;

export default {
  name: 'login',
  synopsis,
  summary,
  details,
  options: { username: { type: 'string', short: 'u' }, 'password-stdin': { type: 'boolean' }, ...CONNECTION_OPTIONS },
  optionLines: [
    '  -u, --username <user>  the user name (asked when not given)',
    '  --password-stdin       read the password or token from stdin',
    CONNECTION_HELP_LINES,
  ],
  positionals: [1, 1],
  async run({ values, positionals, streams }) {
    const { stdin, stderr } = streams;
    if (values['password-stdin'] && values.username === undefined) {
      throw usageError('--password-stdin needs --username', 'ctxpack login <registry> -u <user> --password-stdin');
    }
    const username = values.username ?? (await ask('Username: ', { input: stdin, output: stderr }));
    const password = values['password-stdin'] ? await readAll(stdin) : await ask('Password: ', { input: stdin, output: stderr, secret: true });
    const result = await login(positionals[0], { username, password, ...connectionFrom(values) });
    return { text: `login succeeded: checked against ${result.host} and stored in ${result.storedIn}`, warnings: result.warnings, json: result };
  },
};
