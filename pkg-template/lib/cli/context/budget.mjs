import { budgetPacket } from '../../context/operations.mjs';
import { plural } from '../../format.mjs';
import {
  OUTPUT_HELP_LINES,
  OUTPUT_OPTIONS,
  TOKENIZER_HELP_LINES,
  TOKENIZER_OPTIONS,
  emitDocument,
  loadTokenizer,
  masked,
  positiveInteger,
} from './shared.mjs';

export default {
  name: 'context budget',
  synopsis: 'context budget <packet> [--max-tokens <n>] [--max-items <n>]',
  summary: 'count tokens per item and trim to max_tokens / max_items by priority',
  details: `The target item is always kept; then symbols before signatures, code, snippets, tests,
dependencies and summaries; then higher priority; then document order. What is dropped, and why, is
recorded in provenance.build_stats.dropped.`,
  options: { 'max-tokens': { type: 'string' }, 'max-items': { type: 'string' }, ...TOKENIZER_OPTIONS, ...OUTPUT_OPTIONS },
  optionLines: [
    '  --max-tokens <n>   override constraints.max_tokens',
    '  --max-items <n>    override constraints.max_items',
    ...TOKENIZER_HELP_LINES,
    ...OUTPUT_HELP_LINES,
  ],
  positionals: [1, 1],
  async run({ values, positionals, home, json }) {
    const result = await budgetPacket(positionals[0], {
      home,
      maxTokens: positiveInteger(values, 'max-tokens'),
      maxItems: positiveInteger(values, 'max-items'),
      tokenizer: await loadTokenizer(values),
    });
    const dropped = result.dropped.map((item) => `  dropped ${item.item_name} (${item.reason}, ${item.tokens_est} tokens)`);
    const note = [`budget: ${result.tokensTotal} tokens in ${plural(result.packet.context.length, 'item')}`, ...dropped.map(masked)].join('\n');
    return { text: emitDocument(result.packet, values, json), json: result, note };
  },
};
