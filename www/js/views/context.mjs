// A context packet: its header, the token budget as a bar, every violation, the redactions by rule (markers
// highlighted in the texts) and each item with its token counts. Whatever a detector still finds is shown
// as its rule, never as the text.
import { h, replace, table } from '../dom.mjs';
import { badge, facts, section } from './common.mjs';

export function renderContext(main, result, { progress }) {
  progress.finish(result.ok ? 'valid under the built-in policy' : `${result.violations.length} violations`);
  const header = result.header ?? {};
  const used = result.items.reduce((sum, item) => sum + (item.tokensEst ?? item.estimate), 0);
  const maxTokens = result.constraints?.max_tokens;
  const maxItems = result.constraints?.max_items;
  const rules = ruleColours(result);
  replace(
    main,
    h(
      'div',
      { class: 'view context-view' },
      h('h1', {}, 'Context packet ', badge(result.ok ? 'valid' : 'invalid')),
      progress.element,
      facts([
        ['Task', header.task_id],
        ['Type', header.task_type],
        ['Privacy', header.privacy],
        ['Packet hash', result.hash ? h('code', {}, result.hash) : undefined],
        ['Remote gate', result.blocked ? 'blocked: a remote model may not receive it' : undefined],
        ['Problem', result.problem?.summary],
      ]),
      section('Budget', budgetBar(used, maxTokens, 'tokens'), maxItems ? budgetBar(result.items.length, maxItems, 'items') : null),
      section(
        'Violations',
        result.violations.length === 0
          ? h('p', {}, 'None: the packet is valid.')
          : h('ul', { class: 'violations' }, result.violations.map((v) => h('li', { dataset: { code: v.code } }, h('code', {}, v.path), ' ', h('strong', {}, v.code), ': ', v.message))),
      ),
      section('Redactions', redactionsTable(result.policy?.redactions_applied ?? [], rules)),
      section('Items', itemsTable(result.items, rules), result.items.map((item) => itemTexts(item, rules))),
    ),
  );
}

function budgetBar(value, max, unit) {
  const id = `budget-${unit}`;
  if (!max) return h('p', {}, `${value.toLocaleString('en')} ${unit} (no limit set)`);
  const share = Math.round((value / max) * 100);
  return h(
    'div',
    { class: 'budget' },
    h('label', { for: id }, `${value.toLocaleString('en')} of ${max.toLocaleString('en')} ${unit} (${share} %)`),
    h('meter', { id, min: 0, max, value, low: Math.round(max * 0.75), high: Math.round(max * 0.9), optimum: 0 }),
  );
}

/** Each rule id gets one of a few highlight styles, the same in the table and in the texts. */
function ruleColours(result) {
  const ids = new Set((result.policy?.redactions_applied ?? []).map((record) => record.rule));
  for (const item of result.items) for (const pieces of Object.values(item.texts)) for (const piece of pieces) if (piece.redacted) ids.add(piece.redacted);
  return new Map([...ids].map((id, index) => [id, `rule-${index % 6}`]));
}

function redactionsTable(records, rules) {
  if (records.length === 0) return h('p', {}, 'No redactions recorded.');
  return table({
    caption: 'Redactions applied',
    head: ['Item', 'Field', 'Action', 'Rule', 'Count', 'Reason'],
    rows: records.map((record) =>
      h(
        'tr',
        {},
        h('td', {}, record.item_name ?? ''),
        h('td', {}, record.field ?? record.path ?? ''),
        h('td', {}, record.action),
        h('td', {}, h('mark', { class: `redacted ${rules.get(record.rule) ?? ''}` }, record.rule)),
        h('td', { class: 'num' }, String(record.count ?? '')),
        h('td', {}, record.reason ?? ''),
      ),
    ),
  });
}

function itemsTable(items, rules) {
  return table({
    caption: `Items (${items.length})`,
    head: ['#', 'Name', 'Type', 'Path', 'Tokens (packet)', 'Tokens (texts, o200k_base)', 'Redactions'],
    rows: items.map((item) => {
      const marks = Object.values(item.texts).flat().filter((piece) => piece.redacted || piece.finding);
      return h(
        'tr',
        { dataset: { item: String(item.index) } },
        h('td', { class: 'num' }, String(item.index)),
        h('td', {}, h('a', { href: `#item-${item.index}`, onclick: (event) => jumpTo(event, item.index) }, item.name ?? '(unnamed)'), item.target ? h('span', { class: 'tag' }, 'target') : null),
        h('td', {}, item.type ?? ''),
        h('td', {}, item.path ? h('code', {}, item.path) : ''),
        h('td', { class: 'num' }, item.tokensEst === undefined ? '—' : item.tokensEst.toLocaleString('en')),
        h('td', { class: 'num' }, item.estimate.toLocaleString('en')),
        h('td', {}, marks.map((piece) => h('mark', { class: `redacted ${piece.finding ? 'finding' : (rules.get(piece.redacted) ?? '')}` }, piece.redacted ?? `unredacted: ${piece.finding}`))),
      );
    }),
  });
}

/** Links inside the page must not change the address (it is the router's). */
function jumpTo(event, index) {
  event.preventDefault();
  const target = document.getElementById(`item-${index}`);
  target?.setAttribute('open', '');
  target?.scrollIntoView();
  target?.querySelector('summary')?.focus();
}

function itemTexts(item, rules) {
  const fields = Object.entries(item.texts);
  if (fields.length === 0) return null;
  return h(
    'details',
    { class: 'item-text', id: `item-${item.index}` },
    h('summary', {}, `${item.name ?? `item ${item.index}`}: text`),
    fields.map(([field, pieces]) => [
      h('h3', {}, field),
      h(
        'pre',
        { tabindex: 0 },
        pieces.map((piece) => {
          if (piece.text !== undefined) return piece.text;
          if (piece.redacted) return h('mark', { class: `redacted ${rules.get(piece.redacted) ?? ''}`, title: `redacted by ${piece.redacted}` }, `[REDACTED:${piece.redacted}]`);
          return h('mark', { class: 'redacted finding', title: `a credential the rule ${piece.finding} still finds (not shown)` }, `[unredacted: ${piece.finding}]`);
        }),
      ),
    ]),
  );
}
