// The CLI of a built package: the bin its package.json names (bin/ctxpack.cjs; builds before it had bin/ctxpack.mjs),
// so a bench can run a baseline build beside this one.
import fs from 'node:fs';
import path from 'node:path';

/** @param {string} packageDir */
export function cliOf(packageDir) {
  const { bin } = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  return path.join(packageDir, bin.ctxpack);
}
