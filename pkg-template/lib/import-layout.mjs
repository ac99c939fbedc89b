// import: the packs and execution packs of an OCI image layout directory (written by export --oci, skopeo or
// oras) into the pantry, each verified in full before it is indexed. The layout is read confined: only regular
// files really inside it are opened.
import * as core from './core-node.mjs';
import { openPantry } from './pantry.mjs';
import { copySignatures } from './sign/store.mjs';
import { copyArtifact, describeCopy, transferOptions } from './stores/copy.mjs';
import { openLayoutToRead } from './stores/layout-store.mjs';
import { verifying } from './stores/verifying-store.mjs';

/**
 * @param {string} dir
 * @param {{home?: string, uris?: string[], concurrency?: number, onProgress?: Function}} [options] uris: only these
 * @returns {Promise<{path: string, packs: object[]}>}
 */
export async function importLayout(dir, options = {}) {
  const layout = openLayoutToRead(dir);
  const pantry = verifying(openPantry(options));
  const uris = options.uris?.length ? options.uris.map((uri) => core.parseUri(uri)) : layout.entries().map((entry) => entry.uri);
  const packs = [];
  for (const uri of uris) {
    const copied = await copyArtifact(layout, pantry, uri, transferOptions(options, 'import'));
    // Signatures travel with their pack (the layout keeps them as OCI referrers).
    packs.push({ ...describeCopy(copied, {}), signatures: await copySignatures(layout, pantry, copied.manifest.digest) });
  }
  return { path: layout.home, packs };
}
