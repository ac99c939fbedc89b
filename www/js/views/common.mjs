// Pieces every view uses: the verification badge, the list of checks, a progress bar, an error panel.
import { formatBytes, h, replace } from '../dom.mjs';

/**
 * The badge: "verified" only for a pack whose every check passed, "failed" only when one failed, "verifying…"
 * meanwhile. Text, not colour alone, carries the state.
 * @param {'verifying' | 'verified' | 'failed' | 'valid' | 'invalid'} state
 */
export function badge(state) {
  const text = { verifying: 'verifying…', verified: 'verified', failed: 'failed', valid: 'valid', invalid: 'invalid' }[state];
  return h('span', { class: `badge badge-${state}`, dataset: { badge: state }, role: 'status' }, text);
}

const MARKS = { passed: '✓', failed: '✗', 'not-reached': '–', pending: '…' };
const STATES = { passed: 'passed', failed: 'failed', 'not-reached': 'not reached', pending: 'checking' };

/** Each check the core made, in order; the failing one with the core's code, message and hint. */
export function checksList(checks) {
  return h(
    'ol',
    { class: 'checks', 'aria-label': 'Checks' },
    checks.map((check) =>
      h(
        'li',
        { class: `check check-${check.state}`, dataset: { check: check.id, state: check.state } },
        h('span', { class: 'mark', 'aria-hidden': 'true' }, MARKS[check.state]),
        h('span', { class: 'check-label' }, check.label),
        h('span', { class: 'visually-hidden' }, `: ${STATES[check.state]}`),
        check.detail ? h('span', { class: 'check-detail' }, check.detail) : null,
        check.error ? errorDetails(check.error) : null,
      ),
    ),
  );
}

function errorDetails(error) {
  return h(
    'div',
    { class: 'check-error' },
    h('p', {}, h('code', {}, error.code), ' ', error.message),
    error.subject ? h('p', {}, 'About: ', h('code', {}, error.subject)) : null,
    error.hint ? h('p', { class: 'hint' }, error.hint) : null,
    error.problems?.length ? h('ul', {}, error.problems.map((problem) => h('li', {}, problem))) : null,
  );
}

/** An error that stopped the view (network, auth, not found): what happened and what to do. */
export function errorPanel(error, title = 'Could not open this') {
  return h(
    'section',
    { class: 'panel error-panel', role: 'alert' },
    h('h2', {}, title),
    h('p', {}, error.code ? h('code', {}, error.code) : null, ' ', error.message),
    error.hint ? h('p', { class: 'hint' }, error.hint) : null,
  );
}

/** A labelled progress bar with a line of text; `update({done, total, files})`. */
export function progressBar(label) {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': label });
  const text = h('span', { class: 'progress-text', 'aria-live': 'off' }, 'starting…');
  const element = h('div', { class: 'progress' }, bar, text);
  return {
    element,
    update({ done, total, files }) {
      if (total) {
        bar.max = total;
        bar.value = Math.min(done, total);
      } else bar.removeAttribute('value');
      const parts = [total ? `${formatBytes(done)} of ${formatBytes(total)}` : formatBytes(done)];
      if (files) parts.push(`${files} files checked`);
      replace(text, parts.join(', '));
    },
    finish(message) {
      bar.max = 1;
      bar.value = 1;
      replace(text, message);
    },
  };
}

/** A section with a heading (h2) and its content. */
export function section(title, ...content) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), content);
}

/** A definition list from [term, value] pairs (values may be nodes); empty values are left out. */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.filter(([, value]) => value !== undefined && value !== null && value !== '').map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
  );
}
