import { listFiles } from '../cat.mjs';
import { formatBytes } from '../format.mjs';
import { list } from '../pantry-housekeeping.mjs';
import { LIMIT_HELP_LINES, LIMIT_OPTIONS, REGISTRY_HELP_LINES, REGISTRY_OPTIONS, connectionFrom, limitsFrom } from './shared.mjs';

const synopsis = 'ls [<uri>] [--registry <ref>]';
const summary = "list the packs in the pantry, or a pack's files";
const details = `Without <uri>, lists the pantry's packs. With <uri>, lists that pack's files (type, size in bytes,
path; a symlink with its target) from its verified manifest: the pantry's copy, else the registry's (no layer is
downloaded).`;

export default {
  name: 'ls',
  synopsis,
  summary,
  details,
  options: { ...REGISTRY_OPTIONS, ...LIMIT_OPTIONS },
  optionLines: [REGISTRY_HELP_LINES, LIMIT_HELP_LINES],
  positionals: [0, 1],
  async run({ values, positionals, home, onEvent }) {
    if (positionals.length === 0) {
      const packs = list({ home });
      const lines = packs.map((pack) =>
        pack.problem ? `${pack.uri}  DAMAGED: ${pack.problem}` : `${pack.uri}  ${pack.created}  ${formatBytes(pack.size)}`,
      );
      return { text: lines.join('\n'), json: { packs } };
    }
    const listed = await listFiles(positionals[0], {
      home,
      registry: values.registry,
      ...connectionFrom(values),
      limits: limitsFrom(values),
      onEvent,
    });
    const width = Math.max(0, ...listed.files.map((file) => String(file.size ?? 0).length));
    const lines = listed.files.map((file) =>
      file.type === 'symlink'
        ? `symlink  ${'-'.padStart(width)}  ${file.path} -> ${file.target}`
        : `${file.executable ? 'exec   ' : 'file   '}  ${String(file.size).padStart(width)}  ${file.path}`,
    );
    return { text: lines.join('\n'), json: listed };
  },
};
