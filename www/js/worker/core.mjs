// Loading ctxpack/core inside the worker. Packs and execution packs need the lean core (core/lean/: no
// context-packet detectors, a smaller download) when the package has it, else the full one; context packets
// need the full one, loaded only when one is opened.

const loaded = new Map();

/** The module at `url`, initialised once (its default export fetches the .wasm next to it). */
function load(url) {
  let module = loaded.get(url);
  if (!module) {
    module = import(url).then(async (core) => {
      await core.default();
      return core;
    });
    loaded.set(url, module);
    module.catch(() => loaded.delete(url));
  }
  return module;
}

/** @param {string} base the URL of the package's core/ folder */
export async function packCore(base) {
  try {
    return await load(new URL('lean/web.js', base).href);
  } catch {
    return load(new URL('web.js', base).href);
  }
}

export function fullCore(base) {
  return load(new URL('web.js', base).href);
}

/** Which core files this worker loaded (for the page's footer). */
export function loadedCores() {
  return [...loaded.keys()];
}
