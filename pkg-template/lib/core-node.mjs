// The wasm core for Node: instantiated at import (top-level await), so every other module can call it directly.
// This is the one place that knows how the wasm-bindgen output is laid out. The CLI starts compiling the module
// before it loads its own modules (bin/ctxpack.mjs), so the compile overlaps them; modules that need no core
// (errors.mjs takes the CtxpackError class from the glue) never wait for it.
import { readFileSync } from 'node:fs';
import { initSync } from '../core/ctxpack_core.js';

const CORE_WASM_URL = new URL('../core/ctxpack_core_bg.wasm', import.meta.url);
const started = globalThis[Symbol.for('ctxpack.core.compile')];
/** The compiled core, which worker threads are given instead of compiling it again (trace/plan-pool.mjs). */
export const coreModule = await (started ?? WebAssembly.compile(readFileSync(CORE_WASM_URL)));
initSync({ module: coreModule });
// Identity runs on this core once it is loaded (identity.mjs `identityCore`).
globalThis[Symbol.for('ctxpack.core.full')] = true;

export * from '../core/ctxpack_core.js';
