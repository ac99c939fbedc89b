/**
 * The one error class of ctxpack: every error the core, the registry client and the hosts throw is an instance.
 * `code` is a stable `CTX_…` string (`errorCodes()` lists them), `hint` says what to do next (the code's default
 * hint when the thrower gives none), `subject` names the entry, path, field or URI.
 */
export class CtxpackError extends Error {
  constructor(code: ErrorCode, message: string, details?: { hint?: string; subject?: string; cause?: unknown });
  readonly name: 'CtxpackError';
  /** e.g. "CTX_NOT_FOUND", "CTX_DIGEST_MISMATCH", "CTX_TARGET_EXISTS" */
  code: ErrorCode;
  /** What to do next. */
  hint: string | undefined;
  /** The entry, path, field or URI concerned. */
  subject: string | undefined;
}
