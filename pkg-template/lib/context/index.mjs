// Context packets in the JS API (issue 5): validate, redact, budget, hash, build and audit.
export { readContextDocument, writeContextDocument, formatContextDocument } from './documents.mjs';
export { loadContextPolicy } from './policy.mjs';
export { validatePacket, redactPacket, budgetPacket, hashPacket } from './operations.mjs';
export { buildContext } from './build.mjs';
export { cacheGet as getCachedContext, cachePrune as pruneContextCache } from './cache.mjs';
export { auditAppend as appendContextAudit, auditVerify as verifyContextAudit } from './audit.mjs';
