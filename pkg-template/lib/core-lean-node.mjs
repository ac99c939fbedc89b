// The lean wasm core (`core/lean`: no context packets, no pack writer) for Node, instantiated at import: a third
// of the full core's compile, for commands that need only what it has (`ctxpack version`). Its CtxpackError is
// its own class, so modules whose errors reach callers use core-node.mjs.
import { readFileSync } from 'node:fs';
import { initSync } from '../core/lean/ctxpack_core.js';

initSync({ module: readFileSync(new URL('../core/lean/ctxpack_core_bg.wasm', import.meta.url)) });

export * from '../core/lean/ctxpack_core.js';
