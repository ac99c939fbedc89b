import * as core from '../core-lean-node.mjs';
import { PACKAGE_VERSION } from '../version.mjs';

const synopsis = 'version';
const summary = 'print the versions of ctxpack, its core and Node';

export default {
  name: 'version',
  synopsis,
  summary,
  options: {},
  positionals: [0, 0],
  async run() {
    const versions = { version: PACKAGE_VERSION, core: core.version(), node: process.versions.node };
    return { text: `ctxpack ${versions.version} (core ${versions.core}, node ${versions.node})`, json: versions };
  },
};
