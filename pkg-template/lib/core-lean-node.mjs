// The lean wasm core (`core/lean`: no context packets, no pack writer) for Node, instantiated at import: a third
// of the full core's compile, for what needs only what it has (identity in `ctxpack id`: identity.mjs). The
// CLI starts compiling it before it loads the command's modules (bin/ctxpack.mjs). Its CtxpackError is the full
// core's class (the package's lean snippet re-exports it), so errors are one class whichever core threw them.
import { readFileSync } from 'node:fs';
import { initSync } from '../core/lean/ctxpack_core.js';

const started = globalThis[Symbol.for('ctxpack.core.lean.compile')];
initSync({ module: await (started ?? WebAssembly.compile(readFileSync(new URL('../core/lean/ctxpack_core_bg.wasm', import.meta.url)))) });

export * from '../core/lean/ctxpack_core.js';
