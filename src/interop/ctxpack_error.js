// The one error class of ctxpack. The wasm core constructs it for every error it throws (to_js_error in
// src/interop/mod.rs), wasm-bindgen's glue re-exports it from `ctxpack/core`, and the Node host re-exports that
// same class (lib/errors.mjs), so `error instanceof CtxpackError` holds for core, registry and host errors in
// Node, browsers and workerd alike.

/** The next step for codes only hosts throw, when the thrower gave none (the core always gives one). */
const DEFAULT_HINTS = {
  CTX_NOT_FOUND: 'run `ctxpack ls` to see what the pantry holds, or seed the pack first',
  CTX_AMBIGUOUS: 'give more hex digits of the URI, or the whole ctx://sha256:… URI',
  CTX_TARGET_EXISTS: 'choose another destination, or empty or remove it first',
  CTX_LOCK_TIMEOUT: 'another ctxpack process holds the lock; wait for it, or remove the lock file if that process is gone',
  CTX_COMMAND_FAILED: 'fix the command so it exits with status 0; nothing was stored',
  CTX_USAGE: 'run `ctxpack <command> --help` for the usage',
  CTX_IO: 'check that the path exists and that you may read and write it',
  CTX_INPUT_MISSING: "create the path or correct it; paths are relative to the contract file's directory",
  CTX_UNSUPPORTED_ENTRY_TYPE: 'remove the device, socket or FIFO; packs hold files and symlinks',
  CTX_CONTRACT_INVALID: 'fix the contract field named in the message',
  CTX_PATH_NOT_UTF8: 'rename the file so its name is valid UTF-8',
  CTX_DIGEST_MISMATCH: 'the data is corrupt or was tampered with; fetch or seed it again',
};

export class CtxpackError extends Error {
  /**
   * @param {string} code stable `CTX_…` code
   * @param {string} message what went wrong, naming the thing concerned
   * @param {{hint?: string, subject?: string, cause?: unknown}} [details]
   */
  constructor(code, message, { hint, subject, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CtxpackError';
    this.code = code;
    this.hint = hint ?? DEFAULT_HINTS[code];
    this.subject = subject;
  }
}
