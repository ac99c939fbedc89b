// ctxpack's JS API: the same operations as the CLI, on real files. The wasm core alone is `ctxpack/core`.
export { CtxpackError, isCtxpackError } from './errors.mjs';
export { computeIdentity } from './identity.mjs';
export { seed } from './seed.mjs';
export { inspect, verify, unpack } from './read.mjs';
export { materialize } from './unpacked.mjs';
export { list, remove, gc } from './pantry-housekeeping.mjs';
export { exportPack } from './export-pack.mjs';
export { fsck } from './fsck.mjs';
export { run } from './run.mjs';
export { openPantry, defaultHome, MEDIA_TYPES } from './pantry.mjs';
export { PACKAGE_VERSION as version } from './version.mjs';
export { push, pull, copy, resolve } from './transfer.mjs';
export { keygen, sign, verifySignatures } from './sign/index.mjs';
export { exportLayout } from './export-layout.mjs';
export { importLayout } from './import-layout.mjs';
export { cat, listFiles } from './cat.mjs';
export { login, logout } from './registry/login.mjs';
export { serve } from './serve.mjs';
export {
  tracePack,
  tracePackAll,
  traceResolve,
  traceShow,
  traceLog,
  traceDiff,
  traceVerify,
  traceExport,
  traceFork,
  traceReplay,
  registerReplayRunner,
} from './trace/index.mjs';
export {
  buildContext,
  validatePacket,
  redactPacket,
  budgetPacket,
  hashPacket,
  loadContextPolicy,
  readContextDocument,
  writeContextDocument,
  formatContextDocument,
  getCachedContext,
  pruneContextCache,
  appendContextAudit,
  verifyContextAudit,
} from './context/index.mjs';
