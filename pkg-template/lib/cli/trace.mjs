// `ctxpack trace <command>`: execution packs (issue 4), one module per subcommand under ./trace/.
import diffCommand from './trace/diff.mjs';
import exportCommand from './trace/export.mjs';
import forkCommand from './trace/fork.mjs';
import logCommand from './trace/log.mjs';
import packCommand from './trace/pack.mjs';
import replayCommand from './trace/replay.mjs';
import showCommand from './trace/show.mjs';
import verifyCommand from './trace/verify.mjs';
import { commandGroup } from './shared.mjs';

export default commandGroup({
  name: 'trace',
  summary: 'execution packs: pack, show, log, diff, verify, export, fork and replay agent runs',
  subcommands: [packCommand, showCommand, logCommand, diffCommand, verifyCommand, exportCommand, forkCommand, replayCommand],
});
