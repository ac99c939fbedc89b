// The checks a verification made, in order, each passed, failed or not reached; the failing one is named
// from the core's CtxpackError code and subject (a layer's digest vs a file's, the URI, the gzip stream, …).

/** A list of checks; `pass(id)` and `fail(error)` move it on, `list()` is what the page shows. */
export class Checks {
  /** @param {Array<{id: string, label: string, detail?: string}>} definitions in the order they are made */
  constructor(definitions) {
    this.items = definitions.map((definition) => ({ ...definition, state: 'pending' }));
  }

  add(definition) {
    this.items.push({ ...definition, state: 'pending' });
  }

  find(id) {
    return this.items.find((item) => item.id === id);
  }

  pass(id, detail) {
    const item = this.find(id);
    if (!item) return;
    item.state = 'passed';
    if (detail !== undefined) item.detail = detail;
  }

  /** Marks the check `id` failed with the error; every check still pending is "not reached". */
  fail(id, error) {
    const item = this.find(id) ?? this.items.find((candidate) => candidate.state === 'pending');
    if (item) {
      item.state = 'failed';
      item.error = plainError(error);
    }
    for (const other of this.items) if (other.state === 'pending') other.state = 'not-reached';
  }

  failed() {
    return this.items.some((item) => item.state === 'failed');
  }

  list() {
    return this.items.map((item) => ({ ...item }));
  }
}

/** Codes that mean "the bytes are not what they claim": the pack failed verification. */
const VERIFICATION_CODES = new Set([
  'CTX_DIGEST_MISMATCH', 'CTX_SIZE_MISMATCH', 'CTX_URI_MISMATCH', 'CTX_GZIP_CORRUPT', 'CTX_TAR_CORRUPT', 'CTX_TRUNCATED',
  'CTX_MANIFEST_INVALID', 'CTX_ENTRY_MISSING', 'CTX_ENTRY_UNEXPECTED', 'CTX_ENTRY_DUPLICATE', 'CTX_LIMIT_EXCEEDED',
  'CTX_OCI_INVALID', 'CTX_PATH_INVALID', 'CTX_PATH_NOT_UTF8', 'CTX_PATH_COLLISION', 'CTX_SYMLINK_ESCAPES',
  'CTX_UNSUPPORTED_ENTRY_TYPE', 'CTX_JSON_INVALID', 'CTX_JSON_DUPLICATE_KEY', 'CTX_JSON_NUMBER_UNREPRESENTABLE',
  'CTX_CONTRACT_INVALID', 'CTX_EXECUTION_INVALID', 'CTX_URI_INVALID',
]);

export function isVerificationFailure(error) {
  return VERIFICATION_CODES.has(error?.code);
}

/** A CtxpackError (or anything thrown) as plain data the page can receive. */
export function plainError(error) {
  if (error === null || typeof error !== 'object') return { code: 'CTX_INTERNAL', message: String(error) };
  const plain = {
    code: typeof error.code === 'string' ? error.code : 'CTX_INTERNAL',
    message: String(error.message ?? error),
    hint: typeof error.hint === 'string' ? error.hint : undefined,
    subject: typeof error.subject === 'string' ? error.subject : undefined,
  };
  if (Array.isArray(error.problems)) plain.problems = error.problems.map((p) => `${p.path}: ${p.message}`);
  return plain;
}

/**
 * Which check of a whole-pack stream (a .tar.gz read from a URL or a file) an error belongs to.
 * @param {{manifestSeen: boolean}} state
 */
export function streamCheckFor(error, { manifestSeen }) {
  const subject = error?.subject ?? '';
  switch (error?.code) {
    case 'CTX_URI_MISMATCH':
      return 'uri';
    case 'CTX_DIGEST_MISMATCH':
    case 'CTX_SIZE_MISMATCH':
      if (subject === 'outputs') return 'tree';
      return manifestSeen ? 'files' : 'manifest';
    case 'CTX_ENTRY_MISSING':
    case 'CTX_ENTRY_UNEXPECTED':
    case 'CTX_ENTRY_DUPLICATE':
      return 'complete';
    case 'CTX_LIMIT_EXCEEDED':
      return 'limits';
    case 'CTX_GZIP_CORRUPT':
    case 'CTX_TAR_CORRUPT':
    case 'CTX_TRUNCATED':
      return 'archive';
    default:
      return manifestSeen ? 'files' : 'manifest';
  }
}

/**
 * Which check of a registry pull an error belongs to.
 * @param {{stage: 'image' | 'open' | 'layers', layer: number, layers: Array<{digest: string}>, manifestJson?: {digest: string}}} state
 */
export function registryCheckFor(error, { stage, layer, layers, manifestJson }) {
  const subject = error?.subject ?? '';
  if (stage === 'image') return 'image';
  if (error?.code === 'CTX_URI_MISMATCH') return 'uri';
  if (subject === 'outputs') return 'tree';
  const blob = /sha256:[0-9a-f]{64}/.exec(subject)?.[0];
  if (blob && manifestJson && blob === manifestJson.digest) return 'manifest';
  if (blob) {
    const index = layers.findIndex((candidate) => candidate.digest === blob);
    if (index !== -1) return `layer-${index}`;
  }
  if (stage === 'open') return error?.code === 'CTX_OCI_INVALID' ? 'image' : 'manifest';
  if (subject.startsWith('artifacts/') && ['CTX_DIGEST_MISMATCH', 'CTX_SIZE_MISMATCH'].includes(error?.code)) return 'files';
  return `layer-${layer}`;
}
