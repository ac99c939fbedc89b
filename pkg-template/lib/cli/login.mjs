import { login } from '../registry/login.mjs';
import { ask, readAll } from './prompt.mjs';
import { usageError } from './shared.mjs';

const synopsis = 'login <registry> [-u <user>] [--password-stdin]';
const summary = 'store credentials for a registry the way `docker login` does';
const details = `<registry> is <host>[:port], or <host>[:port]/<repository> to check the credentials first.
They go to the credential helper the Docker config names (credHelpers, credsStore), else to "auths" in
$DOCKER_CONFIG/config.json or ~/.docker/config.json (mode 0600). Docker Hub's key is
https://index.docker.io/v1/. The password is never shown or logged.`;

export default {
  name: 'login',
  synopsis,
  summary,
  details,
  options: { username: { type: 'string', short: 'u' }, 'password-stdin': { type: 'boolean' }, insecure: { type: 'boolean' } },
  optionLines: [
    '  -u, --username <user>  the user name (asked when not given)',
    '  --password-stdin       read the password or token from stdin',
    '  --insecure             allow plain http:// to a registry that is not on this machine',
  ],
  positionals: [1, 1],
  async run({ values, positionals, streams }) {
    const { stdin, stderr } = streams;
    if (values['password-stdin'] && values.username === undefined) {
      throw usageError('--password-stdin needs --username', 'ctxpack login <registry> -u <user> --password-stdin');
    }
    const username = values.username ?? (await ask('Username: ', { input: stdin, output: stderr }));
    const password = values['password-stdin'] ? await readAll(stdin) : await ask('Password: ', { input: stdin, output: stderr, secret: true });
    const result = await login(positionals[0], { username, password, insecure: values.insecure });
    const checked = result.verified ? 'checked against the registry and ' : '';
    return { text: `login succeeded: ${checked}stored in ${result.storedIn}`, json: result };
  },
};
