import { formatBytes, plural } from '../format.mjs';
import { exportPack } from '../export-pack.mjs';
import { exportLayout } from '../export-layout.mjs';
import { usageError } from './shared.mjs';

const synopsis = 'export <uri> -o <file> | --oci <dir> <uri>…';
const summary = "write a pantry pack's .tar.gz to a file, or packs to an OCI image layout";
const details = `With -o, the pack's .tar.gz is checked against its digest on the way.
With --oci, the packs are added to an OCI image layout directory (created if needed), which
\`ctxpack import\` reads on another machine (and oras, skopeo or crane can push).`;

export default {
  name: 'export',
  synopsis,
  summary,
  details,
  options: { output: { type: 'string', short: 'o' }, force: { type: 'boolean' }, oci: { type: 'string' } },
  optionLines: [
    '  -o, --output <file>  where to write the pack',
    '  --force              overwrite an existing file',
    '  --oci <dir>          write to this OCI image layout directory instead',
  ],
  positionals: [1, Infinity],
  async run({ values, positionals, home, onProgress }) {
    if (values.oci !== undefined) {
      if (values.output !== undefined) throw usageError('export takes -o or --oci, not both', 'ctxpack export --oci <dir> <uri>…');
      const result = await exportLayout(positionals, values.oci, { home, onProgress });
      return { text: result.path, note: `exported ${plural(result.packs.length, 'pack')} to the OCI layout ${result.path}`, json: result };
    }
    if (values.output === undefined) throw usageError(`export needs --output or --oci: ${synopsis}`, 'run `ctxpack export --help` for the usage');
    if (positionals.length !== 1) throw usageError('export -o writes one pack: give one URI', 'use --oci <dir> to export several');
    const result = exportPack(positionals[0], values.output, { home, force: values.force, onProgress });
    return { text: `exported ${result.uri} to ${result.path} (${formatBytes(result.size)})`, json: result };
  },
};
