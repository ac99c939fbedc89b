import { plural } from '../../format.mjs';
import { traceVerify } from '../../trace/verify.mjs';
import { REF_DETAILS } from './ref.mjs';

export default {
  name: 'trace verify',
  synopsis: 'trace verify <ref> [--artifact <f> --output <name>]',
  summary: 'check blobs and URI, or that a file matches an output',
  details: `Every blob must be present with its digest and size, the OCI manifest must parse and the URI must
re-derive from the stored execution manifest. With --artifact and --output, the file must hold exactly
that output. Exit 1 on any mismatch, each problem named by its code.

${REF_DETAILS}`,
  options: { artifact: { type: 'string' }, output: { type: 'string' } },
  optionLines: ['  --artifact <file>  a file to compare with an output', '  --output <name>    the output it should match'],
  positionals: [1, 1],
  async run({ values, positionals, home }) {
    const result = traceVerify(positionals[0], { home, artifact: values.artifact, output: values.output });
    const lines = result.problems.map((problem) => `error[${problem.code}]: ${problem.message}`);
    if (result.ok) {
      lines.push(`ok: ${result.uri} (${plural(result.blobs.total, 'blob')})`);
      if (result.artifact) lines.push(`${result.artifact.path} matches output ${JSON.stringify(result.artifact.output)}`);
    }
    return { text: lines.join('\n'), json: result, exitCode: result.ok ? 0 : 1 };
  },
};
