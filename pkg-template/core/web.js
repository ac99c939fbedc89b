// `ctxpack/core` (and, copied beside the lean core, `ctxpack/core/lean`) for browsers and edge runtimes: the
// wasm-bindgen glue, with a default `init()` that says what to do where it cannot work. It loads the wasm from a
// URL next to this module; workerd gives modules no such URL (its `import.meta.url` is not a URL `fetch` can
// load), so there import the .wasm as a module and call `initSync({ module })` — see docs/edge.md.
import glueInit from './ctxpack_core.js';

export * from './ctxpack_core.js';

/** Loads and instantiates the wasm core; `input` as the glue's init takes it (URL, Response, bytes, Module). */
export default async function init(input) {
  if (input === undefined && !moduleUrlWorks()) {
    const error = new Error(
      'this runtime gives modules no URL to load ctxpack_core_bg.wasm from (workerd, Cloudflare Workers): ' +
        'import the .wasm as a module and call initSync({ module }) instead of init()',
    );
    error.name = 'CtxpackError';
    error.code = 'CTX_INVALID_STATE';
    error.hint =
      'import wasmModule from "ctxpack/core/ctxpack_core_bg.wasm" ("ctxpack/core/lean/ctxpack_core_bg.wasm" for the ' +
      'lean core); initSync({ module: wasmModule })';
    throw error;
  }
  return glueInit(input);
}

function moduleUrlWorks() {
  try {
    const url = new URL('ctxpack_core_bg.wasm', import.meta.url);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'file:';
  } catch {
    return false;
  }
}
