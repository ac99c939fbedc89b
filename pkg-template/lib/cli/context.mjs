// `ctxpack context <command>`: context packets (issue 5), one module per subcommand under ./context/.
import auditCommand from './context/audit.mjs';
import budgetCommand from './context/budget.mjs';
import buildCommand from './context/build.mjs';
import hashCommand from './context/hash.mjs';
import redactCommand from './context/redact.mjs';
import showCommand from './context/show.mjs';
import validateCommand from './context/validate.mjs';
import { commandGroup } from './shared.mjs';

export default commandGroup({
  name: 'context',
  summary: 'context packets for LLMs: build, validate, redact, budget, hash, show, audit',
  subcommands: [buildCommand, validateCommand, redactCommand, budgetCommand, hashCommand, showCommand, auditCommand],
});
