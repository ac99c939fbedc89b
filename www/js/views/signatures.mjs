// A pack's signatures: for each, the key id (short, whole on hover and when copied), the algorithm, the time it
// was signed, whether it is valid (the core's CTX_* reason when not) and whether its key is trusted; then the
// trusted keys, where the user adds a .pub key (pasted or chosen) or removes one. The worker's core judges.
import { digestCode, h, replace, table } from '../dom.mjs';
import { call } from '../worker-client.mjs';
import { addPageKey, removePageKey, trustedKeys } from '../trusted-keys.mjs';
import { errorPanel, section } from './common.mjs';

const MAX_KEY_BYTES = 16 * 1024;

/** The "Signatures" section of the pack `uri` opened from `source` (a worker source). */
export function signaturesSection(source, uri) {
  const body = h('div', { 'aria-live': 'polite' }, h('p', {}, 'Looking for signatures…'));
  const keysBody = h('div', {});
  const element = section('Signatures', body, keysBody);
  element.dataset.signatures = 'loading';

  async function refresh() {
    const keys = await trustedKeys();
    let result;
    try {
      result = await call('signatures', { source, uri, trustedKeys: keys.map((key) => key.pem) });
    } catch (error) {
      if (error.cancelled) return;
      element.dataset.signatures = 'error';
      replace(body, errorPanel(error, 'Could not read the signatures'));
      return;
    }
    if (!result.carried) {
      element.dataset.signatures = 'not-carried';
      replace(body, h('p', {}, result.reason));
      replace(keysBody);
      return;
    }
    element.dataset.signatures = result.signatures.length ? 'listed' : 'none';
    replace(body, result.signatures.length ? signatureTable(result.signatures) : h('p', {}, 'This pack has no signatures.'));
    replace(keysBody, keysPanel(keys.map((key, index) => ({ ...key, ...result.keys[index] })), refresh));
  }
  refresh();
  return element;
}

function signatureTable(signatures) {
  return table({
    caption: 'Signatures found beside the pack',
    head: ['Key id', 'Algorithm', 'Signed', 'Signature', 'Key'],
    rows: signatures.map((signature) =>
      h(
        'tr',
        { dataset: { keyid: signature.keyid, status: signature.status, trusted: String(signature.trusted) } },
        h('td', {}, signature.keyid ? digestCode(signature.keyid) : h('em', {}, 'unreadable')),
        h('td', {}, signature.algorithm),
        h('td', {}, signature.signedAt ? h('time', { datetime: signature.signedAt }, signature.signedAt) : ''),
        h('td', {}, statusCell(signature)),
        h('td', {}, h('span', { class: `badge badge-${signature.trusted ? 'valid' : 'pending'}` }, signature.trusted ? 'trusted' : 'untrusted')),
      ),
    ),
  });
}

const STATUS_TEXT = { valid: 'valid', invalid: 'invalid', unchecked: 'not checked' };

function statusCell({ status, reason }) {
  const state = status === 'unchecked' ? 'pending' : status;
  return h(
    'div',
    {},
    h('span', { class: `badge badge-${state}` }, STATUS_TEXT[status]),
    status === 'invalid' && reason ? h('p', { class: 'check-error' }, h('code', {}, reason.code), ' ', reason.message) : null,
    status === 'unchecked' ? h('p', { class: 'hint' }, 'Its key is not trusted, so the signature cannot be checked: add the key below to check it.') : null,
  );
}

/** The trusted keys with their ids, and a form to add one (PEM text or a .pub file). */
function keysPanel(keys, refresh) {
  const pemField = h('textarea', { id: 'trust-key-pem', name: 'pem', rows: 4, placeholder: '-----BEGIN PUBLIC KEY-----', spellcheck: 'false' });
  const fileField = h('input', { id: 'trust-key-file', name: 'file', type: 'file', accept: '.pub,.pem,text/plain' });
  const error = h('p', { class: 'error', 'aria-live': 'polite' });
  const add = async (pem, label) => {
    try {
      await call('keyInfo', { pem });
    } catch (failure) {
      if (!failure.cancelled) replace(error, h('code', {}, failure.code), ' ', failure.message);
      return;
    }
    addPageKey(pem, label);
    refresh();
  };
  fileField.addEventListener('change', async () => {
    const file = fileField.files?.[0];
    if (!file) return;
    if (file.size > MAX_KEY_BYTES) return replace(error, `${file.name} is too large to be a public key`);
    return add(await file.text(), file.name);
  });
  const rows = keys.map((key) =>
    h(
      'li',
      { dataset: { trustedKey: key.keyid ?? '' } },
      key.keyid ? digestCode(key.keyid) : h('span', { class: 'error' }, key.error ?? 'unreadable'),
      ' ',
      h('span', { class: 'hint' }, key.from === 'serve' ? `from ctxpack serve (${key.label})` : key.label),
      key.from === 'page'
        ? h('button', { type: 'button', 'aria-label': `Remove trusted key ${key.label}`, onclick: () => (removePageKey(key.pem), refresh()) }, 'Remove')
        : null,
    ),
  );
  return h(
    'details',
    { class: 'trusted-keys', open: true },
    h('summary', {}, `Trusted keys (${keys.length})`),
    rows.length ? h('ul', { class: 'links' }, rows) : h('p', {}, 'No key is trusted yet: signatures are listed but not checked.'),
    h(
      'form',
      {
        class: 'key-form',
        onsubmit: (event) => {
          event.preventDefault();
          if (pemField.value.trim()) add(pemField.value, 'pasted key');
        },
      },
      h('label', { for: 'trust-key-pem' }, 'Public key (PEM, as in a .pub file)'),
      pemField,
      h('button', { type: 'submit' }, 'Trust this key'),
      h('label', { for: 'trust-key-file' }, 'Or choose a .pub file'),
      fileField,
    ),
    error,
    h('p', { class: 'hint' }, 'Keys you add are kept in this browser only.'),
  );
}
