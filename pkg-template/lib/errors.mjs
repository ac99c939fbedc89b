// Host-level errors. The class is the wasm core's own (src/interop/ctxpack_error.js, exported from
// `ctxpack/core`): core, registry and host errors are all instances of this one CtxpackError. The codes and their
// default hints are the core's one table (src/error.rs, `errorCodes()`): an error thrown here without a hint gets
// its code's.
// Imported from its own module (core/ctxpack_error.js, which both cores' glues re-export), not from a glue or
// core-node.mjs: the class needs no core, so start-up loads and compiles none.
import { CtxpackError } from '../core/ctxpack_error.js';

export { CtxpackError };

/** True for errors from this package, its wasm core and its registry client. */
export function isCtxpackError(error) {
  return error instanceof CtxpackError;
}

/** Wrap a Node system error (ENOENT, EACCES, …) as CTX_IO naming the path; pass ctxpack errors through. */
export function toCtxpackError(error, subject) {
  if (isCtxpackError(error)) return error;
  if (error && typeof error.code === 'string' && typeof error.syscall === 'string') {
    // Node's own message names the call, the path and the reason: "ENOENT: no such file or directory, open 'x'".
    const where = error.path ?? subject;
    return new CtxpackError('CTX_IO', error.message, { subject: where === undefined ? undefined : String(where), cause: error });
  }
  return error;
}
