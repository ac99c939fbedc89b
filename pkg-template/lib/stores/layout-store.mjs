// An OCI image layout directory (for export/import through air-gapped machines) as a Store: the pantry's
// code pointed at another directory. Packs and execution packs written to a layout are tagged without a second
// verification (they come from the verified pantry); those read from one are verified by the pantry they go into.
// A layout read from (import) is confined: only regular files really inside it are opened, so a FIFO, a device
// or a symlink out of it is an error, never a hang or a read of some other file.
import fs from 'node:fs';
import path from 'node:path';
import { CtxpackError, toCtxpackError } from '../errors.mjs';
import { Pantry } from '../pantry.mjs';
import { LayoutStore } from './pantry-store.mjs';

/**
 * @param {string} dir
 * @param {{mustExist?: boolean}} [options] mustExist: reading from it (import), so it must already be a layout
 */
export function openLayoutStore(dir, { mustExist = false } = {}) {
  const home = path.resolve(dir);
  if (mustExist) assertLayout(home);
  return new LayoutStore(new Pantry(home, { confined: mustExist }), { label: 'OCI layout' });
}

function assertLayout(home) {
  const markerPath = path.join(home, 'oci-layout');
  let stat;
  try {
    stat = fs.lstatSync(markerPath);
  } catch (error) {
    if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw toCtxpackError(error, markerPath);
  }
  if (stat?.isFile()) return;
  throw new CtxpackError('CTX_NOT_FOUND', `${home} is not an OCI image layout (it has no oci-layout file)`, {
    subject: home,
    hint: 'give the directory written by `ctxpack export --oci <dir>` (or skopeo/oras with an oci: target)',
  });
}
