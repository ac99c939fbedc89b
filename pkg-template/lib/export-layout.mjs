// export --oci: pantry packs and execution packs into an OCI image layout directory (created if needed; what is
// there already is kept), e.g. to carry them to an air-gapped machine. `oras`, `skopeo` and `crane` read it too.
// A graph copy per artifact (stores/copy.mjs); they come from the verified pantry, so the layout tags them as they are.
import { CtxpackError } from './errors.mjs';
import { openPantry } from './pantry.mjs';
import { copySignatures } from './sign/store.mjs';
import { copyArtifact, describeCopy, transferOptions } from './stores/copy.mjs';
import { openLayoutToWrite } from './stores/layout-store.mjs';

/**
 * @param {string | string[]} uris
 * @param {string} dir
 * @param {{home?: string, concurrency?: number, onProgress?: Function}} [options]
 * @returns {Promise<{path: string, packs: object[]}>}
 */
export async function exportLayout(uris, dir, options = {}) {
  const list = [uris].flat();
  if (list.length === 0) throw new CtxpackError('CTX_USAGE', 'no pack given to export', { hint: 'ctxpack export --oci <dir> <uri>…' });
  const pantry = openPantry(options);
  const layout = openLayoutToWrite(dir);
  const packs = [];
  for (const uri of list) {
    const copied = await copyArtifact(pantry, layout, uri, transferOptions(options, 'export'));
    // Signatures travel with their pack (the layout keeps them as OCI referrers).
    packs.push({ ...describeCopy(copied, {}), signatures: await copySignatures(pantry, layout, copied.manifest.digest) });
  }
  return { path: layout.home, packs };
}
