// Host-level errors. They have the same shape as the errors the wasm core throws (name "CtxpackError",
// a stable `code`, a `hint` and a `subject`), so callers handle both the same way.

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

/** True for errors from this package and from the wasm core (which are plain Errors with the same shape). */
export function isCtxpackError(error) {
  return error instanceof Error && error.name === 'CtxpackError' && typeof error.code === 'string';
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
