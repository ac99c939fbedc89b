// The public keys the inspector trusts when it judges a pack's signatures: the ones the user added in this
// browser (PEM text, kept in localStorage, removable) and, under `ctxpack serve --trust-key`, the server's.
// Only public keys are kept; the core reads and checks every one of them in the worker.
import { serverInfo } from './sources.mjs';

const STORAGE_KEY = 'ctxpack.trustedKeys';

/** @returns {Array<{pem: string, label: string}>} the keys added in this browser */
export function pageKeys() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(stored) ? stored.filter((key) => typeof key?.pem === 'string' && typeof key.label === 'string') : [];
  } catch {
    return [];
  }
}

/** Every trusted key: `from` is 'page' (removable here) or 'serve' (given to `ctxpack serve`). */
export async function trustedKeys() {
  const served = (await serverInfo())?.trustedKeys ?? [];
  return [
    ...served.map((key) => ({ pem: key.pem, label: key.file, from: 'serve' })),
    ...pageKeys().map((key) => ({ ...key, from: 'page' })),
  ];
}

export function addPageKey(pem, label) {
  const keys = pageKeys().filter((key) => key.pem.trim() !== pem.trim());
  localStorage.setItem(STORAGE_KEY, JSON.stringify([...keys, { pem: pem.trim(), label }]));
}

export function removePageKey(pem) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(pageKeys().filter((key) => key.pem !== pem)));
}
