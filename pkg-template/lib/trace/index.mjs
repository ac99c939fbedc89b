// Execution packs (issue 4): the `ctxpack trace` operations as a JS API.
export { tracePack, tracePackAll } from './pack.mjs';
export { traceResolve } from './resolve.mjs';
export { traceShow } from './show.mjs';
export { traceLog } from './log.mjs';
export { traceDiff } from './diff.mjs';
export { traceVerify } from './verify.mjs';
export { traceExport, traceFork } from './export.mjs';
export { traceReplay, registerReplayRunner } from './replay.mjs';
