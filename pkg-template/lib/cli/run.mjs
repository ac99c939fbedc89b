import { formatDuration } from '../format.mjs';
import { run } from '../run.mjs';
import {
  CONTRACT_HELP_LINES,
  CONTRACT_OPTIONS,
  REGISTRY_TRANSFER_HELP_LINES,
  REGISTRY_TRANSFER_OPTIONS,
  TRUST_HELP_LINES,
  TRUST_OPTIONS,
  fallbackWarning,
  registryTransferFrom,
  trustFrom,
  usageError,
} from './shared.mjs';

const synopsis = 'run --contract <file> [--push] -- <command…>';
const summary = 'on a hit (pantry, then registry) put the outputs in place and skip the command; on a miss run it and seed';
const details = `The outputs go to the contract's outputs[0].path (relative to the contract file), which must be
absent or empty on a miss (and absent, empty or already holding the pack's files on a hit).
The registry is consulted when one is configured; if it cannot be reached, the command runs (with a warning).
With --push, the pack is then pushed to the registry (unless it came from there), signed first with --sign-key.
With --require-signature, a registry pack without a valid trusted signature is a miss (with a warning).
The contract is the identity, not the command: the command is recorded in the pack's provenance, and a hit
made by a different command is restored with a warning.
The command runs without a shell, its stdout sent to stderr: stdout holds only the URI
(uri=$(ctxpack run …) works), or with --json the result document.
Exit status: 0, or the command's own status when it fails (127 not found, 128+n killed by signal n).`;

const OUTCOMES = {
  pantry: 'hit: outputs restored from the pantry, command skipped',
  registry: 'hit: pack pulled from the registry, outputs restored, command skipped',
  command: 'miss: ran the command and seeded its outputs',
};

export default {
  name: 'run',
  synopsis,
  summary,
  details,
  options: { ...CONTRACT_OPTIONS, ...REGISTRY_TRANSFER_OPTIONS, ...TRUST_OPTIONS, push: { type: 'boolean' }, 'sign-key': { type: 'string' } },
  optionLines: [
    CONTRACT_HELP_LINES,
    REGISTRY_TRANSFER_HELP_LINES,
    '  --push             push the pack to the registry afterwards',
    '  --sign-key <pem>   sign the pack before --push pushes it (default $CTXPACK_SIGN_KEY)',
    TRUST_HELP_LINES,
  ],
  positionals: [0, 0],
  acceptsCommand: true,
  async run({ values, afterTerminator, home, onProgress, onEvent, warn, clearProgress }) {
    if (afterTerminator.length === 0) throw usageError('run needs a command after --', 'ctxpack run --contract c.json -- make all');
    const result = await run({
      contractPath: values.contract,
      followLinks: values['follow-links'],
      cache: !values['no-cache'],
      command: afterTerminator,
      home,
      ...registryTransferFrom(values),
      push: values.push,
      signKey: values['sign-key'],
      ...trustFrom(values),
      // stdout holds only the URI or the JSON document (a hit runs nothing anyway), so the command's goes to stderr.
      stdio: ['inherit', 2, 'inherit'],
      onProgress,
      onEvent,
      onWarning: warn,
      onCommandStart: clearProgress,
    });
    const pushed = result.pushed ? `\npushed to ${result.pushed.reference}` : '';
    return {
      text: result.uri,
      note: `${OUTCOMES[result.source]} in ${formatDuration(result.durationMs)}${pushed}`,
      warnings: result.pushed ? fallbackWarning(result.pushed, result.pushed.registry) : [],
      json: result,
    };
  },
};
