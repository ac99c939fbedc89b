// The identity wasm core (`core/id`: contract plans and resolution, tree digests, SHA-256, and nothing of packs,
// signatures, registries or context packets) for Node, instantiated at import: the least wasm to compile, for
// what needs only identity (`ctxpack id`: identity.mjs). The CLI starts compiling it before it loads the command's
// modules (bin/ctxpack.mjs). Its CtxpackError is the full core's class (the package's snippet re-exports it), so
// errors are one class whichever core threw them.
import { readFileSync } from 'node:fs';
import { initSync } from '../core/id/ctxpack_core.js';

const started = globalThis[Symbol.for('ctxpack.core.id.compile')];
initSync({ module: await (started ?? WebAssembly.compile(readFileSync(new URL('../core/id/ctxpack_core_bg.wasm', import.meta.url)))) });

export * from '../core/id/ctxpack_core.js';
