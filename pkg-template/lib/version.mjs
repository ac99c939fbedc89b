// The npm package's version, recorded in pack provenance and printed by `ctxpack version`.
import fs from 'node:fs';

export const PACKAGE_VERSION = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
