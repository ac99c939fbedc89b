// The wasm core for Node: instantiated synchronously at import, so every other module can call it directly.
// This is the one place that knows how the wasm-bindgen output is laid out.
import { readFileSync } from 'node:fs';
import { initSync } from '../core/ctxpack_core.js';

initSync({ module: readFileSync(new URL('../core/ctxpack_core_bg.wasm', import.meta.url)) });

export * from '../core/ctxpack_core.js';
