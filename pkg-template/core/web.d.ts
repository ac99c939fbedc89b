export * from './ctxpack_core.js';
export { initSync } from './ctxpack_core.js';
/** Loads the wasm core next to this module (browsers); where modules have no URL (workerd) it rejects with a
 * CtxpackError saying to use `initSync({ module })`. */
export default function init(input?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module | { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module }): Promise<unknown>;
