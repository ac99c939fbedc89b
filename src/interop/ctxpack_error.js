// The one error class of ctxpack. The wasm core constructs it for every error it throws (to_js_error in
// src/interop/mod.rs), wasm-bindgen's glue re-exports it from `ctxpack/core`, and the Node host re-exports that
// same class (lib/errors.mjs), so `error instanceof CtxpackError` holds for core, registry and host errors in
// Node, browsers and workerd alike.

/** The next step for each code when the thrower gives none: the core's error table (src/error.rs), read once. */
let defaultHints = null;
/** `errorCodes` of the first core instantiated (every core has the same table); null until one is. */
let hintsSource = null;

/** Called by each wasm core when it is instantiated (src/interop/errors.rs). */
export function setDefaultHintsSource(source) {
  hintsSource ??= source;
}

function defaultHint(code) {
  if (defaultHints === null) {
    if (hintsSource === null) return undefined;
    defaultHints = new Map(hintsSource().map(({ code, hint }) => [code, hint]));
  }
  return defaultHints.get(code);
}

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
    this.hint = hint ?? defaultHint(code);
    this.subject = subject;
  }
}
