import { plural } from '../../format.mjs';
import { traceLog } from '../../trace/log.mjs';

export default {
  name: 'trace log',
  synopsis: 'trace log [--graph]',
  summary: 'list execution packs, newest first (--graph: lineage)',
  options: { graph: { type: 'boolean' } },
  optionLines: ['  --graph  draw the lineage: forks (packed from `trace fork`) under the pack they came from'],
  positionals: [0, 0],
  async run({ values, home }) {
    const executions = traceLog({ home, graph: values.graph });
    const lines = values.graph ? drawForest(executions) : executions.map(summary);
    return { text: lines.join('\n'), json: { executions } };
  },
};

function summary(entry) {
  if (entry.problem) return `${entry.uri}  DAMAGED: ${entry.problem}`;
  return `${entry.uri}  ${entry.created ?? '-'}  ${entry.model}  ${plural(entry.steps, 'step')}`;
}

/**
 * ASCII lineage, parents above their children:
 *   * ctx://sha256:aa…  …
 *   `-- * ctx://sha256:bb…  …
 */
function drawForest(roots) {
  const lines = [];
  const visit = (node, prefix, connector, childPrefix) => {
    lines.push(`${prefix}${connector}* ${summary(node)}`);
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      visit(child, prefix + childPrefix, last ? '`-- ' : '|-- ', last ? '    ' : '|   ');
    });
  };
  for (const root of roots) visit(root, '', '', '');
  return lines;
}
