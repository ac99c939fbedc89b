// `ctxpack context <command>`: context packets (issue 5), one module per subcommand under ./context/.
import auditCommand from './context/audit.mjs';
import budgetCommand from './context/budget.mjs';
import buildCommand from './context/build.mjs';
import hashCommand from './context/hash.mjs';
import redactCommand from './context/redact.mjs';
import showCommand from './context/show.mjs';
import validateCommand from './context/validate.mjs';

const subcommands = [buildCommand, validateCommand, redactCommand, budgetCommand, hashCommand, showCommand, auditCommand];
const width = Math.max(...subcommands.map((command) => command.synopsis.length));

export default {
  name: 'context',
  synopsis: 'context <command> …',
  summary: 'context packets for LLMs: build, validate, redact, budget, hash, show, audit',
  details: `Commands:\n${subcommands.map((command) => `  ${command.synopsis.padEnd(width)}  ${command.summary}`).join('\n')}

Run \`ctxpack context <command> --help\` for a command's options.`,
  options: {},
  positionals: [0, 0],
  subcommands,
};
