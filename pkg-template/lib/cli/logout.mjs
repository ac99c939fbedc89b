import { logout } from '../registry/login.mjs';

export default {
  name: 'logout',
  synopsis: 'logout <registry>',
  summary: 'remove the stored credentials of a registry, as `docker logout` does',
  details: `Removes them from the registry's credential helper (credHelpers, credsStore) and from "auths" in the Docker
config. Credentials set in CTXPACK_USER/CTXPACK_TOKEN are not touched.`,
  options: {},
  optionLines: [],
  positionals: [1, 1],
  async run({ positionals }) {
    const result = await logout(positionals[0]);
    const text = result.removedFrom ? `removed the credentials of ${result.host} from ${result.removedFrom}` : `not logged in to ${result.host}`;
    return { text, json: result };
  },
};
