// `ctxpack trace <command>`: execution packs (issue 4). A command group: main dispatches on the subcommand,
// each of which is an ordinary command module under ./trace/.
import diffCommand from './trace/diff.mjs';
import exportCommand from './trace/export.mjs';
import forkCommand from './trace/fork.mjs';
import logCommand from './trace/log.mjs';
import packCommand from './trace/pack.mjs';
import replayCommand from './trace/replay.mjs';
import showCommand from './trace/show.mjs';
import verifyCommand from './trace/verify.mjs';

const subcommands = [packCommand, showCommand, logCommand, diffCommand, verifyCommand, exportCommand, forkCommand, replayCommand];
const width = Math.max(...subcommands.map((command) => command.synopsis.length));

export default {
  name: 'trace',
  synopsis: 'trace <command> …',
  summary: 'execution packs: pack, show, log, diff, verify, export, fork and replay agent runs',
  details: `Commands:\n${subcommands.map((command) => `  ${command.synopsis.padEnd(width)}  ${command.summary}`).join('\n')}

Run \`ctxpack trace <command> --help\` for a command's options.`,
  options: {},
  positionals: [0, 0],
  subcommands,
};
