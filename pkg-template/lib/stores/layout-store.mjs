// An OCI image layout directory (for export/import through air-gapped machines) as a Store: the pantry's
// code pointed at another directory. Packs and execution packs written to a layout are tagged without a second
// verification (they come from the verified pantry); those read from one are verified by the pantry they go into.
import fs from 'node:fs';
import path from 'node:path';
import { CtxpackError } from '../errors.mjs';
import { Pantry } from '../pantry.mjs';
import { LayoutStore } from './pantry-store.mjs';

/**
 * @param {string} dir
 * @param {{mustExist?: boolean}} [options] mustExist: reading from it (import), so it must already be a layout
 */
export function openLayoutStore(dir, { mustExist = false } = {}) {
  const home = path.resolve(dir);
  if (mustExist && !fs.existsSync(path.join(home, 'oci-layout'))) {
    throw new CtxpackError('CTX_NOT_FOUND', `${home} is not an OCI image layout (it has no oci-layout file)`, {
      subject: home,
      hint: 'give the directory written by `ctxpack export --oci <dir>` (or skopeo/oras with an oci: target)',
    });
  }
  return new LayoutStore(new Pantry(home), { label: 'OCI layout' });
}
