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
    // The core's version is the package's: scripts/build.mjs ships no core whose version() differs, so printing it
    // compiles no wasm.
    const versions = { version: PACKAGE_VERSION, core: PACKAGE_VERSION, node: process.versions.node };
    return { text: `ctxpack ${versions.version} (core ${versions.core}, node ${versions.node})`, json: versions };
  },
};
